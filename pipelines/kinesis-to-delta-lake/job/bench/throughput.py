"""Throughput bench: events per second per core through the job's own code, processing rules off and on.

The broker is left out on purpose (kinesalite, a single Node.js process, serves far fewer records per second than
the job processes): the raw records are written once as Parquet files with the source adapter's columns
(``RAW_COLUMNS``) and read as a stream, one file per micro-batch, so each batch runs exactly the job's plan: the
schema check (and the rules), deduplication, the Delta writes. Rules on: the clickstream case's rules
(test/rules/clickstream.cases.json), with its aggregates query running beside the events query, as in the job.

    events/s per core = events / sum of the micro-batches' durations (triggerExecution) / cores (local[N])

    .venv/bin/python pipelines/kinesis-to-delta-lake/job/bench/throughput.py [--events 100000] [--files 5] [--cores 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

JOB_DIR = Path(__file__).resolve().parents[1]
REPO = JOB_DIR.parents[2]
sys.path.insert(0, str(JOB_DIR / "src"))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(JOB_DIR / "src"), os.environ.get("PYTHONPATH")]))

from stream_foundry_delta.pipeline import StreamConfig, start_aggregates, start_stream  # noqa: E402
from stream_foundry_delta.session import local_session  # noqa: E402

CASE = REPO / "test" / "rules" / "clickstream.cases.json"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def processing_document() -> tuple[dict, bytes]:
    case = json.loads(CASE.read_text())
    return ({"source": "clickstream", "idField": case["idField"], "eventTimeField": case["eventTimeField"],
             "rules": case["rules"], "outputSchema": case["outputSchema"], "aggregateSchema": case["aggregateSchema"]},
            case["hashKey"].encode())


def clickstream_event(i: int, rng: random.Random) -> dict:
    """A valid clickstream event, every optional member used now and then; with the case's rules about 1 in 10 is
    filtered (a bot or an Android device) and the rest kept."""
    event = {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "event_type": rng.choice(["page_view", "click", "add_to_cart", "purchase", "search"]),
        "occurred_at": (T0 + timedelta(milliseconds=20 * i)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "user_id": f"u-{rng.randrange(5000)}",
        "session_id": f"s-{rng.randrange(20000)}",
        "page": {"url": f"https://shop.example.com/p/{rng.randrange(1000)}", "title": "Product"},
        "device": {"os": rng.choice(["web", "ios", "web", "ios", "android"]) if rng.random() < 0.25 else "web",
                   "screen_width": rng.choice([390, 412, 1440])},
        "tags": ["a", "b"],
        "duration_ms": rng.randrange(10_000),
    }
    if rng.random() < 0.05:
        event["is_bot"] = True
    return event


def write_raw(spark, path: Path, events: int, files: int) -> None:
    rng = random.Random(17)
    per_file = events // files
    for f in range(files):
        rows = [(json.dumps(clickstream_event(f * per_file + i, rng)).encode(), T0 + timedelta(seconds=f),
                 f"{f:04d}{i:012d}", "pk") for i in range(per_file)]
        (spark.createDataFrame(rows, "data binary, arrival_time timestamp, sequence_number string, partition_key string")
         .coalesce(1).write.mode("overwrite").parquet(str(path / f"part={f:04d}")))


def run(spark, raw_dir: Path, work: Path, rules: bool, files: int) -> dict:
    schema = json.loads((REPO / "schemas" / "clickstream.schema.json").read_text())
    document, key = processing_document() if rules else (None, None)
    name = "on" if rules else "off"
    config = StreamConfig(
        source="clickstream", schema=schema, event_time_field="occurred_at",
        table_path=str(work / name / "events"), error_path=str(work / name / "errors"),
        checkpoint_location=str(work / name / "checkpoint"), trigger_interval="0 seconds",
        query_name=f"throughput-{name}", processing=document, hash_key=key,
        aggregates_path=str(work / name / "aggregates") if rules else None,
    )
    raw = (spark.readStream.schema("data binary, arrival_time timestamp, sequence_number string, partition_key string")
           .option("maxFilesPerTrigger", 1).option("recursiveFileLookup", "true").parquet(str(raw_dir)))
    started = time.monotonic()
    query = start_stream(spark, raw, config)
    aggregates = start_aggregates(spark, config) if rules else None
    try:
        while True:
            done = [p for p in query.recentProgress if p.get("numInputRows")]
            if len(done) >= files:
                break
            if query.exception():
                raise RuntimeError(query.exception())
            time.sleep(1)
    finally:
        if aggregates:
            aggregates.stop()
        query.stop()
    wall = time.monotonic() - started
    batches = [p for p in query.recentProgress if p.get("numInputRows")]
    # the first micro-batch also compiles the plan and warms the Python workers: reported, not counted
    steady = batches[1:]
    rows = sum(p["numInputRows"] for p in steady)
    seconds = sum(p["durationMs"]["triggerExecution"] for p in steady) / 1000
    return {"rules": name, "batches": len(steady), "events": rows, "seconds": seconds, "wall": wall,
            "first_batch_s": batches[0]["durationMs"]["triggerExecution"] / 1000,
            "written": spark.read.format("delta").load(config.table_path).count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=5, help="micro-batches (the first one is a warm-up)")
    parser.add_argument("--cores", type=int, default=2, help="local[N]")
    parser.add_argument("--order", default="off,on", help="which runs, in order (off,on)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="spark-delta-throughput-"))
    spark = local_session("spark-delta-throughput", master=f"local[{args.cores}]", extra_packages=(),
                          conf={"spark.sql.shuffle.partitions": str(args.cores)})
    write_raw(spark, work / "raw", args.events, args.files)
    results = [run(spark, work / "raw", work, mode == "on", args.files) for mode in args.order.split(",")]
    spark.stop()
    load = os.getloadavg()
    for r in results:
        rate = r["events"] / r["seconds"]
        print(f"rules {r['rules']:>3}: {r['events']} events in {r['batches']} micro-batches, {r['seconds']:.1f} s of "
              f"batch time -> {rate:,.0f} events/s, {rate / args.cores:,.0f} events/s per core "
              f"(first batch {r['first_batch_s']:.1f} s, not counted; {r['written']} rows written)")
    print(f"machine: {os.cpu_count()} cores (local[{args.cores}]), load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f} (1/5/15 min)")


if __name__ == "__main__":
    main()
