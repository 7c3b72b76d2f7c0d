"""Table upkeep while the stream keeps writing: compaction (OPTIMIZE), cleanup (VACUUM) and log retention.

A commit every few seconds leaves many small files and a long transaction log. The upkeep runs inside the streaming
job, between micro-batches, on the same driver (``Upkeep.run_if_due``, called at the end of a micro-batch): Delta's
storage documentation says concurrent writes to S3 must come from a single Spark driver unless a multi-cluster log
store is configured (S3's default log store cannot make two drivers' commits of the same version exclusive, so one
would be silently lost), so one driver makes every commit of these tables, one after the other.

* OPTIMIZE (bin-packing) only removes files it rewrote and commits with ``dataChange=false``. It is limited to recent partitions (``optimize_days``): older ones are compact
  already and rewriting them would only cost.
* VACUUM deletes files no longer referenced by the table and older than the retention (7 days by default). The
  retention must exceed the longest-running write and any reader's query, or a FULL vacuum could delete files a
  running transaction is about to commit; Delta refuses a retention under ``delta.deletedFileRetentionDuration``
  unless its safety check is switched off, which this module never does.
* Log retention: ``delta.logRetentionDuration`` (how long commit history is kept; checkpoints every
  ``delta.checkpointInterval`` commits let Delta clean older log entries) and
  ``delta.deletedFileRetentionDuration`` (the VACUUM floor). They are set only when they differ (a property
  change is a metadata commit).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaintenanceResult:
    path: str
    properties_changed: dict[str, str]
    files_removed: int
    files_added: int
    files_vacuumed: int


def _quote(path: str) -> str:
    return "delta.`" + path.replace("`", "``") + "`"


def set_retention(spark: SparkSession, path: str, properties: dict[str, str]) -> dict[str, str]:
    """Set table properties that differ from the wanted values; returns what changed."""
    from delta.tables import DeltaTable

    current = DeltaTable.forPath(spark, path).detail().first()["properties"] or {}
    changed = {k: v for k, v in properties.items() if current.get(k) != v}
    if changed:
        assignments = ", ".join(f"'{k}' = '{v}'" for k, v in changed.items())
        spark.sql(f"ALTER TABLE {_quote(path)} SET TBLPROPERTIES ({assignments})")
    return changed


def maintain(
    spark: SparkSession,
    path: str,
    *,
    optimize_days: int = 2,
    vacuum_retention_hours: float = 168.0,
    log_retention: str = "interval 7 days",
    deleted_file_retention: str = "interval 7 days",
    vacuum_mode: str = "FULL",
) -> MaintenanceResult:
    """``vacuum_mode``: ``FULL`` lists the table's directory and also removes files of failed writes; ``LITE``
    (Delta 3.3) deletes only files the log says were removed, so it never lists the directory and never touches a
    file a running write has not committed yet. Delta rounds the retention to whole hours."""
    mode = vacuum_mode.upper()
    if mode not in ("FULL", "LITE"):
        raise ValueError(f"vacuum_mode must be FULL or LITE, got {vacuum_mode!r}")
    from delta.tables import DeltaTable

    changed = set_retention(
        spark,
        path,
        {"delta.logRetentionDuration": log_retention, "delta.deletedFileRetentionDuration": deleted_file_retention},
    )
    table = DeltaTable.forPath(spark, path)
    detail = table.detail().first()
    optimizer = table.optimize()
    partitions = list(detail["partitionColumns"] or [])
    if optimize_days > 0 and len(partitions) == 1:
        optimizer = optimizer.where(f"`{partitions[0]}` >= date_sub(current_date(), {int(optimize_days)})")
    metrics: Any = optimizer.executeCompaction().first()["metrics"]
    # VACUUM records its START and END (with numDeletedFiles) as commits; on S3 Delta would not by default.
    spark.conf.set("spark.databricks.delta.vacuum.logging.enabled", "true")
    spark.sql(f"VACUUM {_quote(path)} {mode} RETAIN {float(vacuum_retention_hours):g} HOURS")
    vacuum_end = (
        DeltaTable.forPath(spark, path).history(20).filter("operation = 'VACUUM END'").orderBy("version", ascending=False)
        .select("operationMetrics").first()
    )
    deleted = int((vacuum_end["operationMetrics"] or {}).get("numDeletedFiles", 0)) if vacuum_end else 0
    result = MaintenanceResult(
        path=path,
        properties_changed=changed,
        files_removed=int(metrics["numFilesRemoved"]),
        files_added=int(metrics["numFilesAdded"]),
        files_vacuumed=deleted,
    )
    log.info("maintained %s: %s", path, result)
    return result


@dataclass
class Upkeep:
    """Runs ``maintain`` on the job's tables every ``interval_s`` seconds, from the batch function (so never while
    a micro-batch writes). A failed upkeep is logged and reported, never fails the stream: the next one retries."""

    paths: Sequence[str]
    interval_s: float
    optimize_days: int = 2
    vacuum_retention_hours: float = 168.0
    log_retention: str = "interval 7 days"
    deleted_file_retention: str = "interval 7 days"
    vacuum_mode: str = "FULL"
    clock: Callable[[], float] = time.monotonic
    last_run: float = field(default=-1.0)

    def run_if_due(self, spark: SparkSession) -> bool | None:
        """None when not due; True when it ran; False when it failed."""
        now = self.clock()
        if self.last_run < 0:
            self.last_run = now  # the first upkeep one interval after the start
        if self.interval_s <= 0 or now - self.last_run < self.interval_s:
            return None
        self.last_run = now
        try:
            for path in self.paths:
                maintain(spark, path, optimize_days=self.optimize_days,
                         vacuum_retention_hours=self.vacuum_retention_hours, log_retention=self.log_retention,
                         deleted_file_retention=self.deleted_file_retention, vacuum_mode=self.vacuum_mode)
            return True
        except Exception:  # noqa: BLE001 - the stream goes on; the UpkeepFailed metric alarms
            log.exception("table upkeep failed; the stream goes on and retries in %s s", self.interval_s)
            return False
