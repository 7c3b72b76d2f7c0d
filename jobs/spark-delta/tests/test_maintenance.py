"""Table upkeep against a table the stream is writing: no stop, no conflict, nothing lost."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import click, delta_ids, wait_for
from stream_foundry_delta.maintenance import maintain, set_retention
from stream_foundry_delta.pipeline import start_stream
from test_stream import T0, config, iso, source

pytestmark = pytest.mark.timeout(900)


def test_optimize_and_vacuum_while_the_stream_writes(spark, kinesis, workdir):
    stream = f"maint-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(stream, shards=2)
    cfg = config(workdir, "maintenance")
    sent: list[str] = []
    stop = threading.Event()

    def produce() -> None:
        i = 0
        while not stop.is_set():
            batch = [click(iso(T0 + timedelta(seconds=i + j))) for j in range(5)]
            i += 5
            kinesis.put(stream, [json.dumps(e) for e in batch])
            sent.extend(e["event_id"] for e in batch)
            time.sleep(0.5)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    query = start_stream(spark, source(spark, kinesis, stream), cfg)
    try:
        from delta.tables import DeltaTable

        log = Path(cfg.table_path) / "_delta_log"
        wait_for(lambda: len(list(log.glob("*.json"))) >= 5, 300, "four stream commits after the table's creation")

        # LITE deletes only files the log marks as removed, never an uncommitted file of the running stream, so
        # a zero retention is safe against the writer; Delta's safety check (which maintain() never disables)
        # is turned off here, in the test only, to see the compacted files go without waiting the 7 days.
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
        try:
            result = maintain(spark, cfg.table_path, optimize_days=0, vacuum_retention_hours=0, vacuum_mode="LITE",
                              log_retention="interval 2 days", deleted_file_retention="interval 1 days")
        finally:
            spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "true")
        assert result.properties_changed == {"delta.logRetentionDuration": "interval 2 days",
                                             "delta.deletedFileRetentionDuration": "interval 1 days"}
        assert result.files_removed >= 4 and result.files_added >= 1, "small files compacted"
        assert result.files_vacuumed >= result.files_removed, "the compacted files are deleted"
        assert set_retention(spark, cfg.table_path, {"delta.logRetentionDuration": "interval 2 days"}) == {}, \
            "properties are only written when they differ"
        time.sleep(3)  # the stream goes on writing after the upkeep
        assert query.isActive and query.exception() is None, "the stream kept running"
    finally:
        stop.set()
        producer.join(10)
    try:
        wait_for(lambda: set(delta_ids(spark, cfg.table_path)) >= set(sent), 300, "every event sent")
    finally:
        query.stop()
    ids = Counter(delta_ids(spark, cfg.table_path))
    assert set(ids) == set(sent) and max(ids.values()) == 1
    operations = {row["operation"] for row in DeltaTable.forPath(spark, cfg.table_path).history().collect()}
    assert {"OPTIMIZE", "VACUUM START", "VACUUM END", "SET TBLPROPERTIES", "WRITE"} <= operations, operations
    detail = DeltaTable.forPath(spark, cfg.table_path).detail().first()
    assert detail["properties"]["delta.logRetentionDuration"] == "interval 2 days"
