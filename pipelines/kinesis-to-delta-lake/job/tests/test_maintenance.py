"""Table upkeep inside the stream: OPTIMIZE and VACUUM run between micro-batches on the stream's own driver, while
a producer keeps writing. Every row arrives exactly once, and every commit of the table was made by that one
writer in sequence (each commit read the version just before it: no two writers raced for a version)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from conftest import click, delta_ids, wait_for
from stream_foundry_delta.maintenance import Upkeep, set_retention
from stream_foundry_delta.pipeline import start_stream
from test_stream import T0, config, iso, source

pytestmark = pytest.mark.timeout(900)


def test_upkeep_runs_between_batches_of_the_stream_and_loses_nothing(spark, kinesis, workdir):
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
            kinesis.put(stream, [json.dumps(e) for e in batch] + (["not json"] if i % 50 == 0 else []))
            sent.extend(e["event_id"] for e in batch)
            time.sleep(0.5)

    # LITE deletes only files the log marks as removed, so a zero retention cannot touch an uncommitted file;
    # Delta's safety check (which the job never disables) is off here, in the test only, to see the files go.
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    upkeep = Upkeep(paths=[cfg.table_path, cfg.error_path], interval_s=6, optimize_days=0, vacuum_retention_hours=0,
                    vacuum_mode="LITE", log_retention="interval 2 days", deleted_file_retention="interval 1 days")
    runs: list[bool | None] = []
    run_if_due = upkeep.run_if_due
    upkeep.run_if_due = lambda s: runs.append(run_if_due(s)) or runs[-1]  # type: ignore[method-assign]

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    query = start_stream(spark, source(spark, kinesis, stream), cfg, upkeep=upkeep)
    try:
        wait_for(lambda: runs.count(True) >= 1, 400, "an upkeep between micro-batches")
        upkeeps = len(runs)
        wait_for(lambda: len(runs) >= upkeeps + 2, 200, "more micro-batches after the upkeep")
        assert query.isActive and query.exception() is None, "the stream kept running"
    finally:
        stop.set()
        producer.join(10)
    try:
        wait_for(lambda: set(delta_ids(spark, cfg.table_path)) >= set(sent), 300, "every event sent")
        finished = list(runs)  # stopping the query interrupts whatever runs then
    finally:
        query.stop()
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "true")
    assert False not in finished, "no upkeep failed"
    ids = Counter(delta_ids(spark, cfg.table_path))
    assert set(ids) == set(sent) and max(ids.values()) == 1, "none lost, none duplicated"

    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, cfg.table_path).history().orderBy("version").collect()
    operations = [row["operation"] for row in history]
    assert {"OPTIMIZE", "VACUUM START", "VACUUM END", "SET TBLPROPERTIES", "WRITE"} <= set(operations), operations
    assert operations.index("OPTIMIZE") < max(i for i, op in enumerate(operations) if op == "WRITE"), \
        "the stream wrote after an upkeep"
    racing = [(row["version"], row["operation"], row["readVersion"]) for row in history
              if row["version"] > 0 and row["readVersion"] is not None and row["readVersion"] != row["version"] - 1]
    assert racing == [], f"commits that did not build on the previous version (another writer): {racing}"
    compacted = [row["operationMetrics"] for row in history if row["operation"] == "OPTIMIZE"]
    assert any(int(m["numRemovedFiles"]) >= 2 for m in compacted), compacted
    assert set_retention(spark, cfg.table_path, {"delta.logRetentionDuration": "interval 2 days"}) == {}, \
        "properties are only written when they differ"
