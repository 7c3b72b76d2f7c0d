"""Customer delivery in the running job: events produced to a source stream in kinesalite -> the job (Spark's Kinesis
connector) -> the Delta table AND the delivery stream, read back by a sample consumer (GetShardIterator TRIM_HORIZON +
GetRecords on every shard): exactly the table's events, each payload the table row's event columns, valid against
the table's JSON Schema; with processing rules, filtered events absent and masked fields masked."""

from __future__ import annotations

import json
from dataclasses import replace
import threading
import time
import uuid
from datetime import date, datetime
from typing import Any

import pytest

from conftest import SCHEMAS, click, delta_ids, delta_rows, run_job_in_thread, wait_for
from stream_foundry_delta.delivery import DeliveryTarget
from stream_foundry_delta.kinesalite import REGION
from stream_foundry_delta.pipeline import (META_COLUMNS, delivery_checkpoint, ensure_tables, event_schema, start_delivery,
                                           start_stream, table_version)
from stream_foundry_delta.schema import compile_validator
from test_rules_cases import same
from test_rules_stream import CASE, processing_document
from test_stream import config, source

pytestmark = pytest.mark.timeout(900)



def arn(stream: str) -> str:
    return f"arn:aws:kinesis:{REGION}:000000000000:stream/{stream}"


def delivered(kinesis, stream: str) -> list[dict]:
    """The delivery stream as a customer reads it: (partition key, parsed payload) per record, every shard."""
    return [{"key": r["PartitionKey"], "event": json.loads(r["Data"])} for r in kinesis.read(stream)]


def as_payload(value: Any) -> Any:
    """A table value as the payload writes it: timestamps RFC 3339 UTC with microseconds, dates ISO, nulls left
    out."""
    if isinstance(value, dict):
        return {k: as_payload(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [as_payload(v) for v in value]
    if isinstance(value, datetime):  # the table's timestamps come back naive, in the session's zone (UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def table_events(spark, cfg) -> dict[str, dict]:
    """The events table's rows by id: their event columns (no job columns), as the payload should carry them."""
    columns = event_schema(cfg).fieldNames()
    rows = {}
    for row in delta_rows(spark, cfg.table_path):
        values = row.asDict(recursive=True)
        assert set(META_COLUMNS) <= set(values)
        rows[values[cfg.id_field]] = as_payload({k: values[k] for k in columns})
    return rows


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_job_delivers_the_tables_events_and_a_failed_delivery_fails_the_job_and_replays(spark, kinesis, workdir):
    """Through the Glue entry script with the arguments the construct sets (--delivery-stream-arn,
    --delivery-partition-key-field; --kinesis-endpoint as locally): every valid event once, with user_id as the
    partition key; invalid records and duplicates not delivered. Then the delivery stream goes away: the delivery
    query fails, run() fails the job; the restarted job delivers the batch that failed."""
    import glue_stream_job

    name = uuid.uuid4().hex[:8]
    source_stream, delivery_stream = f"deliver-src-{name}", f"deliver-out-{name}"
    kinesis.create_stream(source_stream, shards=2)
    kinesis.create_stream(delivery_stream, shards=2)
    page = {"url": "https://shop.example.com/p/1", "referrer": None, "title": "Boots"}
    valid = [
        click("2026-11-20T10:00:00Z", user_id=f"u-{i % 4}", page=page, device={"os": "ios", "screen_width": 390},
              tags=["a", f"t{i}"], duration_ms=1000 + i, is_bot=False)
        for i in range(6)
    ] + [click(f"2026-11-20T10:00:0{i}.{i}5+02:00", user_id=f"u-{i % 4}") for i in range(6)]  # offsets, no options
    invalid = ["not json", json.dumps(click("2026-11-20T10:00:00Z", event_type="hover")),
               json.dumps(click("2026-11-20T10:00:00Z", colour="blue"))]
    duplicates = [dict(valid[0], user_id="redelivered"), valid[3]]
    kinesis.put(source_stream, [json.dumps(e) for e in valid] + invalid + [json.dumps(e) for e in duplicates])

    table, errors = str(workdir / "table"), str(workdir / "errors")
    argv = ["--JOB_NAME", "clickstream-to-delta", "--source", "clickstream",
            "--schema-path", str(SCHEMAS / "clickstream.schema.json"), "--event-time-field", "occurred_at",
            "--table-path", table, "--error-path", errors, "--checkpoint-location", str(workdir / "checkpoint"),
            "--trigger-interval", "1 second", "--source-adapter", "spark-kinesis", "--stream-name", source_stream,
            "--region", REGION, "--kinesis-endpoint", kinesis.endpoint, "--metrics", "false",
            "--delivery-stream-arn", arn(delivery_stream), "--delivery-partition-key-field", "user_id"]
    cfg = glue_stream_job.startup(argv).config

    def start_job() -> tuple[threading.Thread, list[BaseException]]:
        return run_job_in_thread(argv)

    def stop_job(runner: threading.Thread) -> None:
        for query in spark.streams.active:
            if query.name == "clickstream-to-delta":
                query.stop()  # run() then stops the delivery query
        runner.join(60)

    runner, failure = start_job()
    try:
        wait_for(lambda: len(delta_ids(spark, table)) >= len(valid), 300, "the valid events in the table")
        wait_for(lambda: len(kinesis.read(delivery_stream)) >= len(valid), 120, "the events in the delivery stream")
        time.sleep(3)  # a few more triggers: nothing else may arrive
        records = delivered(kinesis, delivery_stream)
        assert runner.is_alive() and not failure, failure
        names = {q.name for q in spark.streams.active}
        assert {"clickstream-to-delta", "clickstream-to-delta-delivery"} <= names

        rows = table_events(spark, cfg)
        assert sorted(rows) == sorted(e["event_id"] for e in valid), "the table: each valid event once"
        got = {r["event"]["event_id"]: r for r in records}
        assert len(records) == len(got) == len(rows), "each event delivered once, duplicates and invalid ones never"
        assert set(got) == set(rows)
        check = compile_validator(cfg.table_json_schema)
        for event_id, row in rows.items():
            record = got[event_id]
            assert record["event"] == row, f"{event_id}: the payload is the table row's event columns"
            assert record["key"] == row["user_id"], "the partition key is the configured field's value"
            assert check(json.dumps(record["event"])) is None, check(json.dumps(record["event"]))
            assert not set(record["event"]) & set(META_COLUMNS)
        first = got[valid[0]["event_id"]]["event"]
        assert first == {**{k: v for k, v in valid[0].items() if k != "page"}, "user_id": first["user_id"],
                         "occurred_at": "2026-11-20T10:00:00.000000Z", "page": {"url": page["url"], "title": "Boots"}}
        assert first["user_id"] in ("u-0", "redelivered"), "one of the same-batch copies"
        offset = got[valid[7]["event_id"]]["event"]["occurred_at"]
        assert offset == "2026-11-20T08:00:01.150000Z" and instant(offset) == instant(valid[7]["occurred_at"])

        # The delivery stream is gone: the next batch cannot be delivered, the delivery query fails, run() stops the
        # events query and raises, so the job run fails (and the stack restarts it).
        kinesis.client().delete_stream(StreamName=delivery_stream)
        late = click("2026-11-20T10:00:30Z", user_id="u-late")
        kinesis.put(source_stream, [json.dumps(late)])
        runner.join(240)
        assert not runner.is_alive(), "the job stopped"
        assert len(failure) == 1 and isinstance(failure[0], RuntimeError), failure
        assert "the delivery query stopped" in str(failure[0]) and "ResourceNotFoundException" in str(failure[0])
        assert not [q for q in spark.streams.active if q.name.startswith("clickstream-to-delta")]
        assert late["event_id"] in delta_ids(spark, table), "the event reached the table before delivery failed"

        # The restarted run repeats the failed delivery batch from its checkpoint (at least once: nothing dropped).
        kinesis.create_stream(delivery_stream, shards=1)
        runner, failure = start_job()
        wait_for(lambda: len(kinesis.read(delivery_stream)) >= 1, 240, "the replayed delivery batch")
        time.sleep(3)
        replayed = delivered(kinesis, delivery_stream)
        assert [r["event"]["event_id"] for r in replayed] == [late["event_id"]], "exactly the batch that failed"
        assert replayed[0]["key"] == "u-late" and not failure
    finally:
        stop_job(runner)
    assert not runner.is_alive() and not failure, failure
    assert not [q for q in spark.streams.active if q.name.startswith("clickstream-to-delta")], "run() stopped both"


def test_with_rules_filtered_events_are_not_delivered_and_masked_fields_arrive_masked(spark, kinesis, workdir):
    """The clickstream case's rules: kept events delivered as the output schema's rows (user_id hashed, session_id
    masked, duration_ms renamed), filtered and rejected events not delivered. The configured partition key field
    (duration_ms) is renamed by the rules, so the event id is the key."""
    name = uuid.uuid4().hex[:8]
    source_stream, delivery_stream = f"rules-src-{name}", f"rules-out-{name}"
    kinesis.create_stream(source_stream, shards=1)
    kinesis.create_stream(delivery_stream, shards=2)
    cfg = config(workdir, "delivery-rules", processing=processing_document(CASE), hash_key=CASE["hashKey"].encode(),
                 delivery=DeliveryTarget(arn(delivery_stream), "duration_ms", kinesis.endpoint))
    kinesis.put(source_stream, [json.dumps(e) for e in CASE["events"]] + ["not json"])
    kept = [r["row"] for r in CASE["expected"]["results"] if "row" in r]
    kept_ids = {r["event_id"] for r in kept}

    query = start_stream(spark, source(spark, kinesis, source_stream), cfg)
    delivery = start_delivery(spark, cfg)
    try:
        wait_for(lambda: len(delta_ids(spark, cfg.table_path)) >= len(kept_ids), 300, "the kept events")
        wait_for(lambda: len(kinesis.read(delivery_stream)) >= len(kept_ids), 120, "their delivery")
        time.sleep(3)
        records = delivered(kinesis, delivery_stream)
        assert query.exception() is None and delivery.exception() is None
    finally:
        delivery.stop()
        query.stop()

    rows = table_events(spark, cfg)
    got = {r["event"]["event_id"]: r for r in records}
    assert len(records) == len(got) and set(got) == set(rows) == kept_ids, "the kept events, once each"
    filtered = {"00000000-0000-4000-b000-000000000003", "00000000-0000-4000-b000-000000000004"}
    rejected = {"00000000-0000-4000-b000-000000000006", "00000000-0000-4000-b000-000000000007"}
    assert not (filtered | rejected) & set(got), "filtered and rejected events are not delivered"
    check = compile_validator(cfg.table_json_schema)
    for expected in kept:
        record = got[expected["event_id"]]
        event = record["event"]
        assert event == rows[expected["event_id"]], "the payload is the table row's event columns"
        assert instant(event["occurred_at"]) == instant(expected["occurred_at"])
        assert same({k: v for k, v in event.items() if k != "occurred_at"},
                    {k: v for k, v in expected.items() if k != "occurred_at"}), event
        assert record["key"] == expected["event_id"], "duration_ms is no column of the table: the event id is the key"
        assert check(json.dumps(event)) is None, check(json.dumps(event))
        assert set(event) <= set(CASE["outputSchema"]["properties"]) and "duration_ms" not in event
    first = got["00000000-0000-4000-b000-000000000001"]["event"]
    assert first["user_id"] == "de887e459694250e507c9ca2bdf61119e2629d2b97053baaed40a261bb7fc4cc", "hashed"
    assert first["session_id"] == "**9001" and first["dwell_ms"] == 5120 and first["device"]["screen_width"] == "1440"


def test_delivery_turned_on_later_starts_at_the_tables_current_version_not_its_history(spark, kinesis, workdir):
    """A table with history (two earlier batches, no delivery), then delivery is turned on as the entry script does it
    (ensure_tables, table_version before the events query, start_delivery from there): the new events are delivered,
    the first batch of history is not (at most the last commit before the switch is, at least once). A second
    delivery stream has a checkpoint of its own."""
    name = uuid.uuid4().hex[:8]
    source_stream, delivery_stream = f"later-src-{name}", f"later-out-{name}"
    kinesis.create_stream(source_stream, shards=1)
    kinesis.create_stream(delivery_stream, shards=1)
    plain = config(workdir, "delivery-later")
    history_1 = [click(f"2026-11-20T10:00:{i:02d}Z") for i in range(10)]
    history_2 = [click(f"2026-11-20T10:01:{i:02d}Z") for i in range(10)]
    query = start_stream(spark, source(spark, kinesis, source_stream), plain)
    try:
        kinesis.put(source_stream, [json.dumps(e) for e in history_1])
        wait_for(lambda: len(delta_ids(spark, plain.table_path)) >= 10, 300, "the first batch of history")
        kinesis.put(source_stream, [json.dumps(e) for e in history_2])
        wait_for(lambda: len(delta_ids(spark, plain.table_path)) >= 20, 120, "the second batch of history")
    finally:
        query.stop()

    cfg = replace(plain, delivery=DeliveryTarget(arn(delivery_stream), "user_id", kinesis.endpoint))
    ensure_tables(spark, cfg)
    version = table_version(spark, cfg.table_path)
    assert version >= 2, "creation and at least two commits of history"
    new = [click(f"2026-11-20T10:02:{i:02d}Z") for i in range(10)]
    query = start_stream(spark, source(spark, kinesis, source_stream), cfg)
    delivery = start_delivery(spark, cfg, starting_version=version)
    try:
        kinesis.put(source_stream, [json.dumps(e) for e in new])
        wait_for(lambda: len(delta_ids(spark, cfg.table_path)) >= 30, 300, "the new events")
        new_ids = {e["event_id"] for e in new}
        wait_for(lambda: new_ids <= {r["event"]["event_id"] for r in delivered(kinesis, delivery_stream)}, 120, "their delivery")
        assert query.exception() is None and delivery.exception() is None
    finally:
        delivery.stop()
        query.stop()
    got = {r["event"]["event_id"] for r in delivered(kinesis, delivery_stream)}
    assert not got & {e["event_id"] for e in history_1}, "history before the switch's version is not delivered"
    assert got - new_ids <= {e["event_id"] for e in history_2}, "at most the last commit before the switch, again"
    other = replace(cfg, delivery=DeliveryTarget(arn(f"other-{name}"), None, kinesis.endpoint))
    assert delivery_checkpoint(other) != delivery_checkpoint(cfg)
    assert delivery_checkpoint(cfg).startswith(cfg.checkpoint_location.rstrip("/") + "/delivery-")
