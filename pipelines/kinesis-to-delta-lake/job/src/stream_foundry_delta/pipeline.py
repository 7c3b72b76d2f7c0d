"""The streaming job itself: raw Kinesis records in, a deduplicated Delta table and an error table out.

Everything here is independent of where the records come from: a source adapter (``sources.py``) hands over a
streaming DataFrame with the columns of ``RAW_COLUMNS`` and ``start_stream`` does the rest.

    raw record --check (JSON Schema)--> valid:   from_json -> watermark on event time -> dropDuplicatesWithinWatermark(id)
                                    \\-> invalid: reason, raw text                    -> (passes the same operator, keyed
                                                                                         by its Kinesis sequence number)
    foreachBatch: valid rows -> Delta table (partitioned by event_date), invalid rows -> Delta error table,
                  both idempotent per micro-batch (txnAppId/txnVersion), so a replayed batch is never written twice;
                  then, when due, the table upkeep (OPTIMIZE, VACUUM) on the same driver, and the job's metrics.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Mapping

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.streaming import StreamingQuery

from .maintenance import Upkeep
from .metrics import BatchMetrics
from .schema import SchemaError, compile_checker, spark_schema

log = logging.getLogger(__name__)

#: What a source adapter hands over: the record bytes and where the record came from.
RAW_COLUMNS = ("data", "arrival_time", "sequence_number", "partition_key")

#: Columns the job adds to every event row; a source schema may not use these names.
EVENT_DATE = "event_date"
META_COLUMNS = ("kinesis_arrival_time", "kinesis_sequence_number", "ingested_at", EVENT_DATE)

#: The error table's columns.
ERROR_SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType()),
        T.StructField("reason", T.StringType()),
        T.StructField("raw", T.StringType()),
        T.StructField("raw_base64", T.StringType()),
        T.StructField("kinesis_arrival_time", T.TimestampType()),
        T.StructField("kinesis_sequence_number", T.StringType()),
        T.StructField("kinesis_partition_key", T.StringType()),
        T.StructField("ingested_at", T.TimestampType()),
        T.StructField("error_date", T.DateType()),
    ]
)

#: Table properties set when the job creates a table (the upkeep keeps them up to date).
DEFAULT_TABLE_PROPERTIES = {
    "delta.logRetentionDuration": "interval 7 days",
    "delta.deletedFileRetentionDuration": "interval 7 days",
    "delta.checkpointInterval": "100",
}


@dataclass(frozen=True)
class StreamConfig:
    """One source's stream: what to parse, where to write. Job arguments map onto these fields (see args.py)."""

    source: str
    schema: Mapping[str, Any]
    event_time_field: str
    table_path: str
    error_path: str
    checkpoint_location: str
    id_field: str = "event_id"
    trigger_interval: str = "5 seconds"
    watermark_delay: str = "10 minutes"
    query_name: str | None = None

    @property
    def app_id(self) -> str:
        """Stable id of this stream for Delta's idempotent writes: the same checkpoint means the same writer."""
        digest = hashlib.sha256(f"{self.source}|{self.checkpoint_location}".encode()).hexdigest()[:16]
        return f"stream-foundry-{self.source}-{digest}"


def event_schema(config: StreamConfig) -> T.StructType:
    """The table's event columns, checked against what the job needs from them."""
    struct = spark_schema(config.schema)
    names = struct.fieldNames()
    for field in (config.id_field, config.event_time_field):
        if field not in names:
            raise SchemaError(f"{config.source}: field {field!r} is not a top-level property of the schema")
    if struct[config.event_time_field].dataType != T.TimestampType():
        raise SchemaError(
            f"{config.source}: event-time field {config.event_time_field!r} must be a string with format date-time"
        )
    if struct[config.id_field].dataType not in (T.StringType(), T.LongType()):
        raise SchemaError(f"{config.source}: id field {config.id_field!r} must be a string or an integer")
    if config.id_field not in config.schema.get("required", []) or config.event_time_field not in config.schema.get(
        "required", []
    ):
        raise SchemaError(f"{config.source}: the id and event-time fields must be listed in 'required'")
    clash = sorted(set(names) & set(META_COLUMNS))
    if clash:
        raise SchemaError(f"{config.source}: properties {clash} clash with the columns the job adds")
    return struct


def table_schema(config: StreamConfig) -> T.StructType:
    struct = event_schema(config)
    return T.StructType(
        list(struct.fields)
        + [
            T.StructField("kinesis_arrival_time", T.TimestampType()),
            T.StructField("kinesis_sequence_number", T.StringType()),
            T.StructField("ingested_at", T.TimestampType()),
            T.StructField(EVENT_DATE, T.DateType()),
        ]
    )


_CHECKERS: dict[str, Any] = {}


def _checker(schema_json: str):
    """One compiled checker per schema per Python worker (compiled on first use, not pickled)."""
    checker = _CHECKERS.get(schema_json)
    if checker is None:
        checker = _CHECKERS[schema_json] = compile_checker(json.loads(schema_json))
    return checker


CHECK_TYPE = T.StructType(
    [
        T.StructField("reason", T.StringType()),
        T.StructField("json", T.StringType()),
        T.StructField("text", T.StringType()),
    ]
)


def check_column(schema: Mapping[str, Any], data: Column) -> Column:
    """A struct column ``(reason, json, text)``: ``reason`` null for a valid record, ``json`` its canonical text
    for ``from_json``, ``text`` the record as received when it is UTF-8."""
    schema_json = json.dumps(schema, sort_keys=True)

    @F.udf(returnType=CHECK_TYPE)
    def check(raw: bytes | bytearray | str | None) -> tuple[str | None, str | None, str | None]:
        if isinstance(raw, (bytes, bytearray)):
            try:
                raw = bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                raw = bytes(raw)
        reason, canonical = _checker(schema_json)(raw)
        return reason, canonical, raw if isinstance(raw, str) else None

    return check(data)


def classify(raw: DataFrame, config: StreamConfig) -> DataFrame:
    """Raw records -> one row per record with ``valid``, the parsed event columns, and the error columns.

    Valid rows carry their id and event time as the dedup key and watermark column. Invalid rows carry their
    Kinesis sequence number as the key (so each is kept, exactly once) and no event time (so they neither move
    the watermark nor count as late)."""
    struct = event_schema(config)
    checked = raw.withColumn("_check", check_column(config.schema, F.col("data")))
    parsed = checked.withColumn("_event", F.from_json(F.col("_check.json"), struct, {"mode": "PERMISSIVE"}))
    valid = F.col("_check.reason").isNull()
    id_value = F.col(f"_event.{config.id_field}").cast("string")
    columns = [F.col(f"_event.{name}").alias(name) for name in struct.fieldNames()]
    return parsed.select(
        valid.alias("_valid"),
        F.when(valid, F.concat(F.lit("id:"), id_value)).otherwise(
            F.concat(F.lit("invalid:"), F.col("sequence_number"))
        ).alias("_dedup_key"),
        F.when(valid, F.col(f"_event.{config.event_time_field}")).alias("_dedup_time"),
        *columns,
        F.col("_check.reason").alias("_reason"),
        F.col("_check.text").alias("_text"),
        F.col("data").alias("_data"),
        F.col("arrival_time").alias("kinesis_arrival_time"),
        F.col("sequence_number").alias("kinesis_sequence_number"),
        F.col("partition_key").alias("_partition_key"),
    )


def deduplicate(rows: DataFrame, config: StreamConfig) -> DataFrame:
    """Drop repeated event ids within the watermark (event time minus ``watermark_delay``).

    Events whose event time is older than the watermark when they arrive are dropped by Spark's operator; they
    are counted in the query progress (``stateOperators[].numRowsDroppedByWatermark``), which the job logs."""
    return rows.withWatermark("_dedup_time", config.watermark_delay).dropDuplicatesWithinWatermark(["_dedup_key"])


#: Delta conflicts a blind append can meet (a concurrent property change, protocol upgrade): safe to retry, because
#: the write is idempotent per (txnAppId, txnVersion).
RETRYABLE = ("MetadataChangedException", "ProtocolChangedException", "ConcurrentAppendException",
             "ConcurrentTransactionException", "ConcurrentModificationException")
WRITE_ATTEMPTS = 5


def _write_delta(df: DataFrame, path: str, app_id: str, batch_id: int, partition: str) -> None:
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            (
                df.write.format("delta")
                .mode("append")
                .partitionBy(partition)
                .option("txnAppId", app_id)
                .option("txnVersion", batch_id)
                .option("mergeSchema", "true")
                .save(path)
            )
            return
        except Exception as err:  # noqa: BLE001 - Delta's conflicts arrive as Py4J/captured exceptions
            text = f"{type(err).__name__}: {err}"
            if attempt == WRITE_ATTEMPTS or not any(name in text for name in RETRYABLE):
                raise
            log.warning("batch %s: concurrent Delta commit on %s, retrying (%s)", batch_id, path, text[:200])
            time.sleep(0.2 * attempt)


def batch_writer(config: StreamConfig, *, upkeep: Upkeep | None = None, metrics: BatchMetrics | None = None):
    """The foreachBatch function: valid rows to the table, invalid rows to the error table; then the upkeep when
    due (same driver, between batches: the tables have one writer) and the batch's metrics."""
    struct = event_schema(config)
    app_id = config.app_id

    def write(batch: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        counts = write_batch(batch, batch_id)
        upkeep_ok = upkeep.run_if_due(batch.sparkSession) if upkeep else None
        if metrics:
            metrics.record(events=counts.get(True, 0) + counts.get(False, 0), rejected=counts.get(False, 0),
                           duration_ms=(time.monotonic() - started) * 1000, upkeep_failed=upkeep_ok is False)

    def write_batch(batch: DataFrame, batch_id: int) -> dict:
        batch = batch.withColumn("ingested_at", F.current_timestamp()).persist()
        try:
            events = batch.filter("_valid").select(
                *struct.fieldNames(),
                "kinesis_arrival_time",
                "kinesis_sequence_number",
                "ingested_at",
                F.to_date(F.col(config.event_time_field)).alias(EVENT_DATE),
            )
            errors = batch.filter("NOT _valid").select(
                F.lit(config.source).alias("source"),
                F.col("_reason").alias("reason"),
                F.col("_text").alias("raw"),
                F.base64("_data").alias("raw_base64"),
                "kinesis_arrival_time",
                "kinesis_sequence_number",
                F.col("_partition_key").alias("kinesis_partition_key"),
                "ingested_at",
                F.to_date(F.coalesce("kinesis_arrival_time", "ingested_at")).alias("error_date"),
            )
            # One pass over the micro-batch fills the cache and says which tables get a commit: an empty side
            # (no errors, the usual case) costs no Delta transaction.
            counts = {row["_valid"]: row["count"] for row in batch.groupBy("_valid").count().collect()}
            if counts.get(True):
                _write_delta(events, config.table_path, app_id, batch_id, EVENT_DATE)
            if counts.get(False):
                _write_delta(errors, config.error_path, f"{app_id}-errors", batch_id, "error_date")
            return counts
        finally:
            batch.unpersist()

    return write


def ensure_tables(spark: SparkSession, config: StreamConfig, properties: Mapping[str, str] | None = None) -> None:
    """Create the event and error tables (partitioned, with retention properties) if they do not exist yet."""
    from delta.tables import DeltaTable

    props = {**DEFAULT_TABLE_PROPERTIES, **(properties or {})}
    for path, schema, partition in (
        (config.table_path, table_schema(config), EVENT_DATE),
        (config.error_path, ERROR_SCHEMA, "error_date"),
    ):
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema).partitionedBy(partition)
        for key, value in props.items():
            builder = builder.property(key, value)
        builder.execute()


def start_stream(spark: SparkSession, raw: DataFrame, config: StreamConfig, *, upkeep: Upkeep | None = None,
                 metrics: BatchMetrics | None = None) -> StreamingQuery:
    """Start the query; returns at once (call ``awaitTermination`` to block)."""
    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"the source adapter must provide columns {RAW_COLUMNS}; missing {missing}")
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # event_date is the UTC date of the event time
    ensure_tables(spark, config)
    rows = deduplicate(classify(raw, config), config)
    writer = (
        rows.writeStream.foreachBatch(batch_writer(config, upkeep=upkeep, metrics=metrics))
        .option("checkpointLocation", config.checkpoint_location)
        .trigger(processingTime=config.trigger_interval)
    )
    if config.query_name:
        writer = writer.queryName(config.query_name)
    query = writer.start()
    log.info("started stream %s (trigger %s, watermark %s) -> %s", config.source, config.trigger_interval,
             config.watermark_delay, config.table_path)
    return query


def run(query: StreamingQuery, report_every_s: float = 60.0) -> None:
    """Block until the query stops; log each interval's progress (rows, batch duration, late rows dropped).
    A failed query raises here, which fails the job run (the stack restarts it from the checkpoint)."""
    while not query.awaitTermination(report_every_s):
        progress = query.lastProgress
        if progress:
            log.info(
                "batch %s: %s rows in %s ms, %s late rows dropped by the watermark",
                progress.get("batchId"),
                progress.get("numInputRows"),
                progress.get("durationMs", {}).get("triggerExecution"),
                dropped_by_watermark(progress),
            )


def dropped_by_watermark(progress: Mapping[str, Any] | None) -> int:
    """Late events dropped in one micro-batch, from a query progress (``query.lastProgress``)."""
    if not progress:
        return 0
    return sum(int(op.get("numRowsDroppedByWatermark", 0)) for op in progress.get("stateOperators", []))
