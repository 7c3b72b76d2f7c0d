"""The Glue entry script itself, with the Spark Kinesis adapter against kinesalite (Glue's adapter needs AWS)."""

from __future__ import annotations

import json
import threading
import uuid

import pytest

from conftest import SCHEMAS, click, delta_ids, wait_for

pytestmark = pytest.mark.timeout(900)


def test_glue_stream_job_main_runs_the_stream_from_its_arguments(spark, kinesis, workdir):
    import glue_stream_job

    stream = f"entry-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(stream, shards=1)
    events = [click(f"2026-11-20T10:00:0{i}Z") for i in range(5)]
    kinesis.put(stream, [json.dumps(e) for e in events] + ["not json"])
    table, errors = str(workdir / "table"), str(workdir / "errors")
    argv = ["--JOB_NAME", "clickstream-to-delta", "--source", "clickstream",
            "--schema-path", str(SCHEMAS / "clickstream.schema.json"), "--event-time-field", "occurred_at",
            "--table-path", table, "--error-path", errors, "--checkpoint-location", str(workdir / "checkpoint"),
            "--trigger-interval", "1 second", "--source-adapter", "spark-kinesis", "--stream-name", stream,
            "--region", "us-east-1", "--kinesis-endpoint", kinesis.endpoint, "--metrics", "false"]
    failure: list[BaseException] = []

    def run() -> None:
        try:
            glue_stream_job.main(argv)
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            failure.append(err)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:
        wait_for(lambda: len(delta_ids(spark, table)) >= 5 and len(delta_ids(spark, errors, "reason")) >= 1, 300,
                 "the entry script's output")
    finally:
        for query in spark.streams.active:
            if query.name == "clickstream-to-delta":
                query.stop()
        runner.join(60)
    assert not failure, failure
    assert sorted(delta_ids(spark, table)) == sorted(e["event_id"] for e in events)
    assert delta_ids(spark, errors, "reason")[0].startswith("not JSON")
