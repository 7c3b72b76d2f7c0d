"""Pipeline 2's engine for `npm run demo`: the Glue entry script (glue_stream_job.main) with the arguments the demo
passes (the construct's, with local endpoints, as tests/test_entry_script.py runs it), on a local SparkSession with
Delta (stream_foundry_delta.session.local_session, as the tests' conftest.py builds it).

Talks to the demo over stdin/stdout, one JSON object a line; lines on stdout starting with "@@" are the protocol,
everything Spark and the job log goes to stderr. Commands: {"cmd": "status"} -> rows read from Kinesis so far,
table versions and row counts; {"cmd": "report"} -> the tables' content; {"cmd": "stop"} -> stops the query and exits.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
JOB_SRC = REPO / "pipelines" / "kinesis-to-delta-lake" / "job" / "src"
sys.path.insert(0, str(JOB_SRC))
# Spark's Python workers import the job's package too.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(JOB_SRC), os.environ.get("PYTHONPATH")]))
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def send(message: dict) -> None:
    sys.stdout.write("@@" + json.dumps(message, default=str) + "\n")
    sys.stdout.flush()


def table_files(path: str) -> list[str]:
    root = Path(path)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.parquet")) if root.is_dir() else []


def main() -> None:
    job_argv = json.loads(sys.argv[1])
    opts = dict(zip(job_argv[::2], job_argv[1::2]))
    table, errors = opts["--table-path"], opts["--error-path"]

    from stream_foundry_delta.session import local_session

    spark = local_session(
        "stream-foundry-demo",
        warehouse=sys.argv[2],
        conf={"spark.sql.streaming.noDataMicroBatches.enabled": "false"},
    )
    import glue_stream_job

    failure: list[BaseException] = []

    def job() -> None:
        try:
            glue_stream_job.main(job_argv)
        except BaseException as err:  # noqa: BLE001 - reported to the demo
            failure.append(err)

    runner = threading.Thread(target=job, daemon=True)
    runner.start()

    from delta.tables import DeltaTable

    def rows(path: str):
        return spark.read.format("delta").load(path) if DeltaTable.isDeltaTable(spark, path) else None

    def version(path: str) -> int:
        log = Path(path) / "_delta_log"
        commits = [int(p.stem) for p in log.glob("*.json")] if log.is_dir() else []
        return max(commits) if commits else -1

    counted: dict[int, int] = {}
    for line in sys.stdin:
        command = json.loads(line)["cmd"]
        if failure:
            send({"failed": repr(failure[0])})
            break
        if command == "status":
            for query in spark.streams.active:
                for item in query.recentProgress:
                    counted[item["batchId"]] = item.get("numInputRows", 0)
            send({"running": bool(spark.streams.active), "inputRows": sum(counted.values()), "batches": len(counted),
                  "tableVersion": version(table), "errorsVersion": version(errors)})
        elif command == "report":
            events, errs = rows(table), rows(errors)
            send({
                "ids": [r[0] for r in events.select(opts.get("--id-field", "event_id")).collect()] if events else [],
                "sample": [json.loads(r) for r in events.limit(5).toJSON().collect()] if events else [],
                "errors": [json.loads(r) for r in errs.toJSON().collect()] if errs else [],
                "tableFiles": table_files(table),
                "history": [json.loads(r) for r in DeltaTable.forPath(spark, table).history().select(
                    "version", "timestamp", "operation").toJSON().collect()] if events else [],
            })
        elif command == "stop":
            break
    for query in spark.streams.active:
        query.stop()
    runner.join(60)
    spark.stop()
    send({"stopped": True})


if __name__ == "__main__":
    main()
