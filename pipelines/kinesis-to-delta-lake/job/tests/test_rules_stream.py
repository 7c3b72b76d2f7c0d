"""Processing rules in the running job: the clickstream case's rules and events (test/rules/clickstream.cases.json)
through kinesalite, the events query and the aggregates query, read back from the Delta tables."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest

from conftest import REPO, delta_ids, delta_rows, wait_for
from stream_foundry_delta.metrics import BatchMetrics
from stream_foundry_delta.pipeline import dropped_by_watermark, start_aggregates, start_stream
from test_rules_cases import load, same, window_text
from test_stream import config, source

pytestmark = pytest.mark.timeout(900)

CASE = load(REPO / "test" / "rules" / "clickstream.cases.json")


def processing_document(case: dict) -> dict:
    """The document synth writes (docs/processing-rules.md, "what a job receives"), from the case's members."""
    return {"source": "clickstream", "idField": case["idField"], "eventTimeField": case["eventTimeField"],
            "rules": case["rules"], "outputSchema": case["outputSchema"], "aggregateSchema": case["aggregateSchema"]}


def event(event_id: str, occurred_at: str, **extra) -> dict:
    return {"event_id": event_id, "event_type": "page_view", "occurred_at": occurred_at, "user_id": "u-9",
            "session_id": "s-9", "page": {"url": "https://shop.example.com/"}, "device": {"os": "web"}, **extra}


def test_rules_filter_transform_reject_and_aggregate_in_the_stream(spark, kinesis, workdir):
    stream = f"rules-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(stream, shards=1)
    cfg = config(workdir, "rules", processing=processing_document(CASE), hash_key=CASE["hashKey"].encode(),
                 aggregates_path=str(workdir / "aggregates" / "rules"))
    metrics = BatchMetrics("test", lambda: None, flush_every_s=1e9)
    kinesis.put(stream, [json.dumps(e) for e in CASE["events"]] + ["not json"])

    # As in AWS Glue (Spark's default): a micro-batch without data runs when the watermark passed a window's end, so
    # a final window is written without waiting for more data. The shared session switches it off for speed; a
    # query reads the setting when its thread starts, so it stays on until both queries stop.
    spark.conf.set("spark.sql.streaming.noDataMicroBatches.enabled", "true")
    query = start_stream(spark, source(spark, kinesis, stream), cfg, metrics=metrics)
    aggregates = start_aggregates(spark, cfg)
    try:
        kept = [r["row"] for r in CASE["expected"]["results"] if "row" in r]
        wait_for(lambda: len(delta_ids(spark, cfg.table_path)) >= len({r["event_id"] for r in kept}), 300,
                 "the kept events")
        wait_for(lambda: len(delta_ids(spark, cfg.error_path, "reason")) >= 3, 120, "the rejected events")
        assert delta_rows(spark, cfg.aggregates_path) == [], "no window is final before the watermark passes it"

        # A later event moves the aggregates' watermark (30 s) past both windows: they are written, once.
        kinesis.put(stream, [json.dumps(event(str(uuid.uuid4()), "2026-11-20T09:18:00Z"))])
        try:
            wait_for(lambda: len(delta_ids(spark, cfg.aggregates_path, "event_type")) >= 4, 120, "the final windows")
        except AssertionError as err:
            raise AssertionError(f"{err}; events {sorted(delta_ids(spark, cfg.table_path, 'occurred_at'))}, aggregates "
                                 f"query: {aggregates.recentProgress[-3:]}, {aggregates.exception()}") from None
        # An event for a window already final: in the events table, not in the aggregates (late, and counted).
        late_id = str(uuid.uuid4())
        kinesis.put(stream, [json.dumps(event(late_id, "2026-11-20T09:15:30Z")),
                             json.dumps(event(str(uuid.uuid4()), "2026-11-20T09:18:01Z"))])
        wait_for(lambda: late_id in delta_ids(spark, cfg.table_path), 240, "the late event in the events table")
        wait_for(lambda: sum(dropped_by_watermark(p) for p in aggregates.recentProgress) >= 1, 120,
                 "the aggregates query to drop the late event")
        assert query.exception() is None and aggregates.exception() is None
    finally:
        aggregates.stop()
        query.stop()
        spark.conf.set("spark.sql.streaming.noDataMicroBatches.enabled", "false")

    rows = {row["event_id"]: row.asDict(recursive=True) for row in delta_rows(spark, cfg.table_path)}
    assert len(delta_rows(spark, cfg.table_path)) == len(rows), "each event once (the duplicate dropped)"
    for expected in kept:
        row = rows[expected["event_id"]]
        got = {k: v for k, v in row.items() if k in CASE["outputSchema"]["properties"]}
        # a timestamp column (UTC) in the table
        assert got.pop("occurred_at") == datetime.fromisoformat(expected["occurred_at"].replace("Z", "+00:00")).replace(
            tzinfo=None)
        assert same(got, {k: v for k, v in expected.items() if k != "occurred_at"}), f"{expected['event_id']}: {got}"
    first = rows["00000000-0000-4000-b000-000000000001"]
    assert first["device"]["screen_width"] == "1440" and first["dwell_ms"] == 5120 and first["is_purchase"] is False
    assert str(first["event_date"]) == "2026-11-20" and first["kinesis_sequence_number"]
    table_columns = set(spark.read.format("delta").load(cfg.table_path).columns)
    assert {"tags", "duration_ms"}.isdisjoint(table_columns) and {"dwell_ms", "is_purchase", "page_key"} <= table_columns
    filtered = {"00000000-0000-4000-b000-000000000003", "00000000-0000-4000-b000-000000000004"}
    assert filtered.isdisjoint(rows), "filtered events are not written"

    reasons = sorted(row["reason"] for row in delta_rows(spark, cfg.error_path))
    # The case gives event 6 (is_bot "no") to the rules directly, as schema drift; in the job the source schema
    # check stops it first. The rule's own error is event 7's.
    assert reasons == ["$.is_bot: expected boolean, got string", "not JSON: Expecting value: line 1 column 1 (char 0)",
                       "rule page-key: field page.url is missing"]
    errors = {row["reason"]: row for row in delta_rows(spark, cfg.error_path)}
    assert json.loads(errors["rule page-key: field page.url is missing"]["raw"])["event_id"].endswith("0007")

    aggregates_rows = [row.asDict() for row in delta_rows(spark, cfg.aggregates_path)]
    got = sorted(({**r, "window_start": window_text(r["window_start"]), "window_end": window_text(r["window_end"])}
                  for r in aggregates_rows), key=lambda r: (r["window_start"], r["event_type"]))
    assert same(got, CASE["expected"]["aggregates"]), got
    assert (metrics.filtered, metrics.rejected) == (2, 3)
    assert metrics.events == len(CASE["events"]) + 1 + 3 - 1  # + not json + 3 later, - the duplicate
