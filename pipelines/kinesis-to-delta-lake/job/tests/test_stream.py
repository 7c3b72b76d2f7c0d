"""The job's real code on local Spark + Delta, fed from kinesalite through the Spark Kinesis connector."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from conftest import click, clickstream_schema, delta_ids, delta_rows, wait_for
from stream_foundry_delta.pipeline import StreamConfig, dropped_by_watermark, start_stream
from stream_foundry_delta.sources import spark_kinesis

pytestmark = pytest.mark.timeout(900)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def config(workdir, name: str, **overrides) -> StreamConfig:
    values = dict(
        source="clickstream",
        schema=clickstream_schema(),
        event_time_field="occurred_at",
        id_field="event_id",
        table_path=str(workdir / "processed" / name),
        error_path=str(workdir / "errors" / name),
        checkpoint_location=str(workdir / "checkpoints" / name),
        trigger_interval="1 second",
        watermark_delay="10 minutes",
        query_name=f"test-{name}",
    )
    values.update(overrides)
    return StreamConfig(**values)


def source(spark, kinesis, stream: str):
    return spark_kinesis(spark, stream, endpoint_url=kinesis.endpoint, region="us-east-1",
                         options=kinesis.spark_options())


def event_ids(spark, cfg: StreamConfig) -> list[str]:
    return delta_ids(spark, cfg.table_path)


def test_end_to_end_valid_malformed_duplicated_late(spark, kinesis, workdir):
    stream = f"e2e-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(stream, shards=2)
    cfg = config(workdir, "e2e")

    # Written before the job ever runs: must not be skipped (the job starts from TRIM_HORIZON).
    valid = [click(iso(T0 + timedelta(seconds=i)), tags=[f"t{i}"]) for i in range(20)]
    duplicates = [dict(valid[i], user_id="redelivered") for i in (0, 3, 3, 7)]
    malformed = {
        "not json": "this is not json",
        "truncated": '{"event_id": "x", ',
        "missing required": json.dumps({k: v for k, v in click(iso(T0)).items() if k != "session_id"}),
        "bad enum": json.dumps(click(iso(T0), event_type="hover")),
        "wrong type": json.dumps(click(iso(T0), duration_ms="slow")),
        "extra property": json.dumps(click(iso(T0), colour="blue")),
        "bad date-time": json.dumps(click("2026-13-01T00:00:00Z")),
        "array top level": "[1, 2, 3]",
    }
    records = [json.dumps(e) for e in valid[:10]] + list(malformed.values()) + [json.dumps(e) for e in duplicates]
    records += [json.dumps(e) for e in valid[10:]]
    records.append(b"\xff\xfe not utf-8")
    kinesis.put(stream, records)

    query = start_stream(spark, source(spark, kinesis, stream), cfg)
    try:
        wait_for(lambda: len(event_ids(spark, cfg)) >= 20, 300, "the first 20 valid events")
        # Late but within the watermark (10 minutes behind the newest event time): written. Also a replay of an
        # event already written (a duplicate across micro-batches) and a duplicate of a late event.
        late = [click(iso(T0 - timedelta(minutes=5) + timedelta(seconds=i))) for i in range(3)]
        replay = dict(valid[5], user_id="replayed-later")
        kinesis.put(stream, [json.dumps(e) for e in late] + [json.dumps(replay), json.dumps(late[1])])
        wait_for(lambda: len(event_ids(spark, cfg)) >= 23, 240, "the late events")
        # Later than the watermark (2 hours behind): Spark's dedup operator drops it and counts it.
        too_late = click(iso(T0 - timedelta(hours=2)))
        kinesis.put(stream, [json.dumps(too_late), json.dumps(click(iso(T0 + timedelta(seconds=30))))])
        wait_for(lambda: len(event_ids(spark, cfg)) >= 24, 240, "the event after the too-late one")
        dropped = 0
        for progress in query.recentProgress:
            dropped += dropped_by_watermark(progress)
        time.sleep(2)  # one more trigger: nothing else may arrive
        assert query.exception() is None
    finally:
        query.stop()

    rows = delta_rows(spark, cfg.table_path)
    ids = Counter(row["event_id"] for row in rows)
    wanted = {e["event_id"] for e in valid + late}
    assert wanted <= set(ids), "every valid event is in the table"
    assert all(count == 1 for count in ids.values()), f"duplicates: {[k for k, c in ids.items() if c > 1]}"
    assert too_late["event_id"] not in ids and dropped == 1, "the event behind the watermark was dropped, and counted"
    assert len(ids) == len(wanted) + 1  # + the on-time event sent after the too-late one

    by_id = {row["event_id"]: row for row in rows}
    assert by_id[valid[5]["event_id"]]["user_id"] == "u-1", "across micro-batches the first delivery wins"
    # Within one micro-batch (and across shards) Kinesis gives no order: one of the copies is kept.
    assert {by_id[valid[i]["event_id"]]["user_id"] for i in (0, 3, 7)} <= {"u-1", "redelivered"}
    first = by_id[valid[0]["event_id"]]
    assert first["occurred_at"] == T0.replace(tzinfo=None)
    assert str(first["event_date"]) == "2026-11-20"
    assert first["tags"] == ["t0"] and first["kinesis_sequence_number"] and first["kinesis_arrival_time"]

    errors = delta_rows(spark, cfg.error_path)
    assert len(errors) == len(malformed) + 1
    reasons = {row["raw"]: row["reason"] for row in errors if row["raw"] is not None}
    assert reasons[malformed["not json"]].startswith("not JSON")
    assert reasons[malformed["missing required"]] == "$: missing required property 'session_id'"
    assert "is not one of page_view" in reasons[malformed["bad enum"]]
    assert reasons[malformed["wrong type"]] == "$.duration_ms: expected integer, got string"
    assert reasons[malformed["extra property"]] == "$: unexpected property 'colour'"
    assert "is not a valid date-time" in reasons[malformed["bad date-time"]]
    assert reasons[malformed["array top level"]] == "$: expected object, got array"
    binary = [row for row in errors if row["raw"] is None]
    assert len(binary) == 1 and binary[0]["reason"].startswith("not UTF-8") and binary[0]["raw_base64"]
    assert all(row["source"] == "clickstream" and row["kinesis_sequence_number"] for row in errors)
    assert {str(row["error_date"]) for row in errors} == {datetime.now(timezone.utc).date().isoformat()}


def test_restart_from_checkpoint_loses_and_duplicates_nothing(spark, kinesis, workdir):
    stream = f"restart-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(stream, shards=2)
    cfg = config(workdir, "restart")
    sent: list[dict] = []
    stop_producing = threading.Event()

    def produce() -> None:
        i = 0
        while not stop_producing.is_set():
            batch = [click(iso(T0 + timedelta(milliseconds=100 * (i + j)))) for j in range(10)]
            i += 10
            # a producer retry now and then: the same event again
            records = [json.dumps(e) for e in batch] + [json.dumps(batch[0])]
            kinesis.put(stream, records)
            sent.extend(batch)
            time.sleep(0.25)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        query = start_stream(spark, source(spark, kinesis, stream), cfg)
        wait_for(lambda: len(event_ids(spark, cfg)) >= 30, 300, "the first batches")
        query.stop()  # mid-stream: the producer keeps writing while the job is down
        written_before_restart = len(event_ids(spark, cfg))
        time.sleep(1.5)
        query = start_stream(spark, source(spark, kinesis, stream), cfg)
        wait_for(lambda: len(event_ids(spark, cfg)) > written_before_restart + 30, 240, "batches after the restart")
    finally:
        stop_producing.set()
        producer.join(10)
    try:
        expected = {e["event_id"] for e in sent}
        wait_for(lambda: set(event_ids(spark, cfg)) >= expected, 240, "every event sent")
        time.sleep(2)
        assert query.exception() is None
    finally:
        query.stop()
    ids = Counter(event_ids(spark, cfg))
    assert set(ids) == expected, "no loss"
    assert max(ids.values()) == 1, "no duplicates"
    assert delta_rows(spark, cfg.error_path) == []
