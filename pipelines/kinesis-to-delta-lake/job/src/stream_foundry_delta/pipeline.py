"""The streaming job itself: raw Kinesis records in, a deduplicated Delta table and an error table out.

Everything here is independent of where the records come from: a source adapter (``sources.py``) hands over a
streaming DataFrame with the columns of ``RAW_COLUMNS`` and ``start_stream`` does the rest.

    raw record --check (JSON Schema)--> valid:   from_json -> watermark on event time -> dropDuplicatesWithinWatermark(id)
                                    \\-> invalid: reason, raw text                    -> (passes the same operator, keyed
                                                                                         by its Kinesis sequence number)
    foreachBatch: valid rows -> Delta table (partitioned by event_date), invalid rows -> Delta error table,
                  both idempotent per micro-batch (txnAppId/txnVersion), so a replayed batch is never written twice;
                  then, when due, the table upkeep (OPTIMIZE, VACUUM) on the same driver, and the job's metrics.

With a processing document (docs/processing-rules.md, ``StreamConfig.processing``) the check also runs the source's
rules on the parsed event (rules.py): a kept event continues as its transformed row (the table has the document's
output schema), a filtered one is counted and not written, one a rule cannot evaluate goes to the error table with
the rule's reason. The aggregates are a second query on the same driver (``start_aggregates``): the events table
read as a Delta stream -> watermark on the event time -> tumbling windows -> the aggregates table, append mode.

With a delivery stream (``StreamConfig.delivery``), a third query on the same driver (``start_delivery``) reads the
events table as a Delta stream too and puts each committed event, as one JSON object with the table's event columns,
to a Kinesis stream customers read (delivery.py): only events that reached the table, at least once.

Freshness canaries (freshness.py: an event whose source id is the canary prefix + 12 hex digits) are recognised in the
check, before the rules, and kept out of the events table (so out of the aggregates and the delivery stream, which
read it); once the micro-batch has committed the events table (an empty, idempotent commit when the batch held no
business event), the job writes one receipt per canary (``StreamConfig.receipts``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.streaming import StreamingQuery

from .delivery import DeliveryTarget, partition_writer
from .freshness import CANARY_ID_PATTERN, Canary, ReceiptWriter, canary_published_at
from .maintenance import Upkeep
from .metrics import BatchMetrics
from .rules import aggregate, compile_rules, row_encoder, uses_hash
from .schema import SchemaError, compile_checker, compile_parser, spark_schema

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
    #: The processing document (rules, outputSchema, aggregateSchema), or None: no rules.
    processing: Mapping[str, Any] | None = None
    #: The key of ``mask ... with: hash`` (kept out of the repr, which may be logged).
    hash_key: bytes | None = field(default=None, repr=False)
    #: The aggregates Delta table (with a processing document that has an ``aggregate`` section).
    aggregates_path: str | None = None
    #: The Kinesis stream the events table's events are delivered to (``start_delivery``), or None: no delivery.
    delivery: DeliveryTarget | None = None
    #: Where the receipts of committed freshness canaries go, or None: canaries are still dropped, no receipt.
    receipts: ReceiptWriter | None = field(default=None, compare=False)

    @property
    def table_json_schema(self) -> Mapping[str, Any]:
        """The events table's JSON Schema: the document's output schema with rules, else the source's."""
        return self.processing["outputSchema"] if self.processing else self.schema

    @property
    def aggregate_spec(self) -> Mapping[str, Any] | None:
        return ((self.processing or {}).get("rules") or {}).get("aggregate") or None

    @property
    def app_id(self) -> str:
        """Stable id of this stream for Delta's idempotent writes: the same checkpoint means the same writer."""
        digest = hashlib.sha256(f"{self.source}|{self.checkpoint_location}".encode()).hexdigest()[:16]
        return f"stream-foundry-{self.source}-{digest}"


def source_schema(config: StreamConfig) -> T.StructType:
    """The columns of the source's events as they arrive (what Glue's Kinesis source parses)."""
    return spark_schema(config.schema)


def event_schema(config: StreamConfig) -> T.StructType:
    """The table's event columns (the source's schema, or the output schema of its rules), checked against what the
    job needs from them."""
    if config.processing:
        check_processing(config)
    table = config.table_json_schema
    struct = spark_schema(table)
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
    if config.id_field not in table.get("required", []) or config.event_time_field not in table.get("required", []):
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


def check_processing(config: StreamConfig) -> None:
    """The processing document agrees with the job's settings, and its rules compile against the source schema."""
    document = config.processing or {}
    for member in ("rules", "outputSchema"):
        if not isinstance(document.get(member), Mapping):
            raise SchemaError(f"{config.source}: the processing document has no '{member}' object")
    for member, value in (("idField", config.id_field), ("eventTimeField", config.event_time_field),
                          ("source", config.source)):
        if document.get(member) not in (None, value):
            raise SchemaError(f"{config.source}: the processing document's {member} is {document.get(member)!r}, "
                              f"the job's is {value!r}")
    if config.aggregate_spec and not isinstance(document.get("aggregateSchema"), Mapping):
        raise SchemaError(f"{config.source}: the processing document has an aggregate section but no aggregateSchema")
    # Compiles the rules for their shape only: the hash key may be read later (glue_stream_job.hash_key).
    compile_rules(document["rules"], config.hash_key or b"shape-check", config.schema)


_CHECKERS: dict[str, Any] = {}


def _checker(schema_json: str):
    """One compiled checker per schema per Python worker (compiled on first use, not pickled)."""
    checker = _CHECKERS.get(schema_json)
    if checker is None:
        checker = _CHECKERS[schema_json] = compile_checker(json.loads(schema_json))
    return checker


def _processor(schema_json: str, document_json: str, hash_key: bytes | None, id_field: str):
    """``raw -> (reason, filtered, canonical JSON, canary id)``: the schema check, then (unless the source's id is a
    freshness canary's: not business data, and rules could filter or rewrite it) the rules. One per worker."""
    cache_key = hashlib.sha256(b"|".join([schema_json.encode(), document_json.encode(), hash_key or b"",
                                          id_field.encode()])).hexdigest()
    processor = _CHECKERS.get(cache_key)
    if processor is None:
        schema, document = json.loads(schema_json), json.loads(document_json)
        parse = compile_parser(schema)
        rules = compile_rules(document["rules"], hash_key, schema)
        encode = row_encoder(document["outputSchema"])

        def processor(raw: str | bytes | None) -> tuple[str | None, str | None, str | None, str | None]:
            reason, value = parse(raw)
            if reason is not None:
                return reason, None, None, None
            if isinstance(value, dict) and canary_published_at(value.get(id_field)) is not None:
                return None, None, None, value[id_field]
            result = rules(value)
            if result.row is None:
                return result.error, result.filtered, None, None
            return None, None, encode(result.row), None
        _CHECKERS[cache_key] = processor
    return processor


CHECK_TYPE = T.StructType(
    [
        T.StructField("reason", T.StringType()),
        T.StructField("json", T.StringType()),
        T.StructField("text", T.StringType()),
        T.StructField("filtered", T.StringType()),
        T.StructField("canary", T.StringType()),
    ]
)


def check_column(schema: Mapping[str, Any], data: Column, processing: Mapping[str, Any] | None = None,
                 hash_key: bytes | None = None, id_field: str = "event_id") -> Column:
    """A struct column ``(reason, json, text, filtered, canary)``: ``reason`` null for a valid record, ``json`` its
    canonical text for ``from_json`` (after the rules, with a processing document), ``text`` the record as received
    when it is UTF-8, ``filtered`` the name of the filter that removed it, ``canary`` (with a processing document
    only: without one, ``classify`` reads the id column) the id of a freshness canary, which skips the rules."""
    schema_json = json.dumps(schema, sort_keys=True)
    document_json = json.dumps(processing, sort_keys=True) if processing else None

    @F.udf(returnType=CHECK_TYPE)
    def check(raw: bytes | bytearray | str | None) -> tuple[str | None, str | None, str | None, str | None, str | None]:
        if isinstance(raw, (bytes, bytearray)):
            try:
                raw = bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                raw = bytes(raw)
        text = raw if isinstance(raw, str) else None
        if document_json is None:
            reason, canonical = _checker(schema_json)(raw)
            return reason, canonical, text, None, None
        reason, filtered, canonical, canary = _processor(schema_json, document_json, hash_key, id_field)(raw)
        return reason, canonical, text, filtered, canary

    return check(data)


def classify(raw: DataFrame, config: StreamConfig) -> DataFrame:
    """Raw records -> one row per record with ``valid``, the parsed event columns, and the error columns.

    Valid rows carry their id and event time as the dedup key and watermark column. Invalid rows (and, with rules,
    filtered ones: counted, not written) carry their Kinesis sequence number as the key (so each is kept, exactly
    once) and no event time (so they neither move the watermark nor count as late). A freshness canary (``_canary``:
    its id; ``_valid`` false) is keyed by its id (copies within the watermark's state dropped) with no event time: a
    canary published now must not move the watermark past a source's older business events."""
    struct = event_schema(config)
    checked = raw.withColumn("_check", check_column(config.schema, F.col("data"), config.processing, config.hash_key,
                                                    config.id_field))
    parsed = checked.withColumn("_event", F.from_json(F.col("_check.json"), struct, {"mode": "PERMISSIVE"}))
    id_value = F.col(f"_event.{config.id_field}").cast("string")
    # Without rules the parsed id is the source's; with rules the check names the canary before the rules ran.
    candidate = F.col("_check.canary") if config.processing else F.when(F.col("_check.reason").isNull(), id_value)
    canary = F.when(candidate.rlike(CANARY_ID_PATTERN), candidate)
    valid = F.col("_check.reason").isNull() & F.col("_check.filtered").isNull() & canary.isNull()
    columns = [F.col(f"_event.{name}").alias(name) for name in struct.fieldNames()]
    return parsed.select(
        valid.alias("_valid"),
        F.when(valid, F.concat(F.lit("id:"), id_value)).when(canary.isNotNull(), F.concat(F.lit("canary:"), canary))
        .otherwise(F.concat(F.lit("invalid:"), F.col("sequence_number"))).alias("_dedup_key"),
        F.when(valid, F.col(f"_event.{config.event_time_field}")).alias("_dedup_time"),
        *columns,
        F.col("_check.reason").alias("_reason"),
        F.col("_check.filtered").alias("_filtered"),
        canary.alias("_canary"),
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


#: What a micro-batch row is (column ``_kind`` in the batch function).
EVENT, ERROR, FILTERED, CANARY = "event", "error", "filtered", "canary"

#: Delta conflicts a blind append can meet (a concurrent property change, protocol upgrade): safe to retry, because
#: the write is idempotent per (txnAppId, txnVersion).
RETRYABLE = ("MetadataChangedException", "ProtocolChangedException", "ConcurrentAppendException",
             "ConcurrentTransactionException", "ConcurrentModificationException")
WRITE_ATTEMPTS = 5


def _write_delta(df: DataFrame, path: str, app_id: str, batch_id: int, partition: str | None) -> None:
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            writer = df.write.format("delta").mode("append")
            if partition:
                writer = writer.partitionBy(partition)
            (
                writer
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
    """The foreachBatch function: valid rows to the table, invalid rows to the error table, the receipts of the
    freshness canaries once the table is committed; then the upkeep when due (same driver, between batches: the
    tables have one writer) and the batch's metrics (canaries counted apart from the events read)."""
    struct = event_schema(config)
    app_id = config.app_id

    def write(batch: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        counts, canaries, committed_at_ms = write_batch(batch, batch_id)
        if canaries and config.receipts:
            config.receipts.write(config.source, canaries, committed_at_ms)
        upkeep_ok = upkeep.run_if_due(batch.sparkSession) if upkeep else None
        if metrics:
            metrics.record(events=sum(n for kind, n in counts.items() if kind != CANARY), canaries=counts.get(CANARY, 0),
                           rejected=counts.get(ERROR, 0), filtered=counts.get(FILTERED, 0),
                           duration_ms=(time.monotonic() - started) * 1000, upkeep_failed=upkeep_ok is False)

    def write_batch(batch: DataFrame, batch_id: int) -> tuple[dict, list[Canary], int]:
        """Counts per kind, the batch's canaries, and when the events table was committed (epoch ms)."""
        batch = batch.withColumn("ingested_at", F.current_timestamp()).withColumn(
            "_kind", F.when(F.col("_valid"), F.lit(EVENT)).when(F.col("_canary").isNotNull(), F.lit(CANARY))
            .when(F.col("_filtered").isNotNull(), F.lit(FILTERED)).otherwise(F.lit(ERROR))).persist()
        try:
            events = batch.filter("_valid").select(
                *struct.fieldNames(),
                "kinesis_arrival_time",
                "kinesis_sequence_number",
                "ingested_at",
                F.to_date(F.col(config.event_time_field)).alias(EVENT_DATE),
            )
            errors = batch.filter(F.col("_kind") == ERROR).select(
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
            # One pass over the micro-batch fills the cache, says which tables get a commit (an empty side, no errors
            # being the usual case, costs no Delta transaction) and names the canaries (a few per batch at most).
            # Filtered rows are only counted.
            counts: dict = {}
            canaries: list[Canary] = []
            for row in batch.groupBy("_kind", "_canary").count().collect():
                counts[row["_kind"]] = counts.get(row["_kind"], 0) + row["count"]
                if row["_kind"] == CANARY:
                    canaries.append(Canary(row["_canary"], canary_published_at(row["_canary"])))
            # A canary measures the commit a business event waits for: a batch holding only canaries makes the
            # events table's commit anyway (empty, and idempotent like every other: txnAppId/txnVersion).
            if counts.get(EVENT) or canaries:
                _write_delta(events, config.table_path, app_id, batch_id, EVENT_DATE)
            committed_at_ms = int(time.time() * 1000)
            if counts.get(ERROR):
                _write_delta(errors, config.error_path, f"{app_id}-errors", batch_id, "error_date")
            return counts, canaries, committed_at_ms
        finally:
            batch.unpersist()

    return write


def _lacks(have: T.DataType, wanted: T.DataType) -> bool:
    """Whether ``wanted`` has a field, at any depth, that ``have`` does not."""
    if isinstance(wanted, T.StructType) and isinstance(have, T.StructType):
        present = {f.name: f.dataType for f in have.fields}
        return any(f.name not in present or _lacks(present[f.name], f.dataType) for f in wanted.fields)
    if isinstance(wanted, T.ArrayType) and isinstance(have, T.ArrayType):
        return _lacks(have.elementType, wanted.elementType)
    return False


def add_new_columns(spark: SparkSession, path: str, schema: T.StructType, partition: str | None) -> bool:
    """Give an existing table the columns a new schema version added (an empty append with ``mergeSchema``: a
    metadata-only commit, the one the first write would make), before any query of the run reads the table. The
    Delta sources of the aggregates and delivery queries then start on the new schema; a column added by a write
    while they run stops them (DELTA_SCHEMA_CHANGED...) and fails the run. True when columns were added."""
    if not _lacks(spark.read.format("delta").load(path).schema, schema):
        return False
    writer = spark.createDataFrame([], schema).write.format("delta").mode("append").option("mergeSchema", "true")
    (writer.partitionBy(partition) if partition else writer).save(path)
    log.info("added the schema's new columns to %s", path)
    return True


def ensure_tables(spark: SparkSession, config: StreamConfig, properties: Mapping[str, str] | None = None) -> None:
    """Create the event and error tables (partitioned, with retention properties) if they do not exist yet; give an
    existing events table the columns of a new schema version (``add_new_columns``)."""
    from delta.tables import DeltaTable

    props = {**DEFAULT_TABLE_PROPERTIES, **(properties or {})}
    tables = [(config.table_path, table_schema(config), EVENT_DATE), (config.error_path, ERROR_SCHEMA, "error_date")]
    if config.aggregate_spec and config.aggregates_path:
        tables.append((config.aggregates_path, aggregates_schema(config), None))
    for path, schema, partition in tables:
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
        if partition:
            builder = builder.partitionedBy(partition)
        for key, value in props.items():
            builder = builder.property(key, value)
        builder.execute()
    add_new_columns(spark, config.table_path, table_schema(config), EVENT_DATE)


def aggregates_schema(config: StreamConfig) -> T.StructType:
    """The aggregates table's columns (the document's aggregateSchema): window_start, window_end, the group-by
    columns, the measures. Not partitioned: one row per window and group is small."""
    return spark_schema({k: v for k, v in config.processing["aggregateSchema"].items() if k != "required"})


def aggregates_writer(config: StreamConfig):
    """The aggregates query's foreachBatch: the windows that became final in this batch, appended idempotently
    (txnAppId/txnVersion, like the other tables); a batch that finalized no window costs no commit."""
    app_id = f"{config.app_id}-aggregates"
    columns = aggregates_schema(config).fieldNames()

    def write(batch: DataFrame, batch_id: int) -> None:
        batch = batch.select(*columns).persist()
        try:
            if batch.count():
                _write_delta(batch, config.aggregates_path, app_id, batch_id, None)
        finally:
            batch.unpersist()

    return write


def aggregates_checkpoint(config: StreamConfig) -> str:
    """The aggregates query's own checkpoint, under the job's checkpoint location, one per aggregate definition and
    table: Spark cannot restore a streaming aggregation's state into other windows, keys or measures, so a changed
    ``aggregate`` section starts a fresh query (which reads the events table from its start: a backfill under the
    new definition) instead of failing the job at every restart."""
    definition = json.dumps({"spec": config.aggregate_spec, "path": config.aggregates_path}, sort_keys=True)
    return config.checkpoint_location.rstrip("/") + "/aggregates-" + hashlib.sha256(definition.encode()).hexdigest()[:12]


def start_aggregates(spark: SparkSession, config: StreamConfig) -> StreamingQuery:
    """The second query: the events table as a Delta stream (only data changes: OPTIMIZE's commits are skipped by
    Delta's source) -> watermark ``watermarkSeconds`` on the event time -> tumbling windows -> the aggregates table,
    append mode: a window's rows are written once, when the watermark passes its end."""
    spec = config.aggregate_spec
    if not spec or not config.aggregates_path:
        raise ValueError("aggregates need a processing document with an aggregate section and an aggregates path")
    events = spark.readStream.format("delta").load(config.table_path)
    rows = aggregate(events, spec, config.event_time_field, streaming=True)
    writer = (
        rows.writeStream.outputMode("append").foreachBatch(aggregates_writer(config))
        .option("checkpointLocation", aggregates_checkpoint(config))
        .trigger(processingTime=config.trigger_interval)
    )
    if config.query_name:
        writer = writer.queryName(f"{config.query_name}-aggregates")
    query = writer.start()
    log.info("started aggregates of %s (window %s s, watermark %s s) -> %s", config.source, spec["windowSeconds"],
             spec.get("watermarkSeconds", 60), config.aggregates_path)
    return query


#: How a delivered event writes its values: timestamps as RFC 3339 date-times in UTC with microseconds (JSON Schema's
#: ``date-time``: ``2026-11-20T09:15:02.120000Z``; ``XXX`` writes ``Z`` for UTC), dates as ``yyyy-MM-dd``, whatever
#: the session's time zone; a null field is left out (the JSON Schema may not allow null where it allows absence).
PAYLOAD_JSON_OPTIONS = {
    "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "dateFormat": "yyyy-MM-dd",
    "timeZone": "UTC",
    "ignoreNullFields": "true",
}


def delivery_partition_key_field(config: StreamConfig) -> str:
    """The column whose value is a delivered record's partition key: the configured field (the source's
    partitionKeyField) when it is a column of the events table, else the event id (e.g. when the rules renamed or
    dropped the field)."""
    field = config.delivery.partition_key_field if config.delivery else None
    return field if field and field in event_schema(config).fieldNames() else config.id_field


def delivery_rows(events: DataFrame, config: StreamConfig) -> DataFrame:
    """Rows of the events table -> ``(partition_key, payload)``: the payload is one JSON object of exactly the table's
    event columns (``event_schema``; not the job's columns ``META_COLUMNS``), encoded by Spark's JSON writer on the
    executors (PAYLOAD_JSON_OPTIONS); the partition key is the key field's value, or the event id when that is null or
    empty, cut to Kinesis's 256 characters (a key of neither falls back to a hash of the payload: never empty)."""
    struct = event_schema(config)
    # A column the table does not have yet (a new optional property, before the first write that adds it) is null.
    columns = [F.col(f"`{f.name}`") if f.name in events.columns else F.lit(None).cast(f.dataType).alias(f.name)
               for f in struct.fields]
    payload = F.to_json(F.struct(*columns), PAYLOAD_JSON_OPTIONS)

    def text(name: str) -> Column:
        value = F.col(f"`{name}`").cast("string")
        return F.when(F.length(value) > 0, value)

    key = F.coalesce(text(delivery_partition_key_field(config)), text(config.id_field), F.sha2(payload, 256))
    return events.select(F.substring(key, 1, 256).alias("partition_key"), payload.alias("payload"))


def delivery_writer(config: StreamConfig, metrics: BatchMetrics | None = None):
    """The delivery query's foreachBatch: every event of the micro-batch to the delivery stream.

    The puts run on the executors (``foreachPartition``), each partition from the executor that read it, with the
    Python worker's own Kinesis client: nothing is collected to the driver, so a micro-batch of any size (the first
    one reads the whole table) fits, and the throughput grows with the workers (each shard takes 1 MiB/s or 1,000
    records/s; a partition puts its chunks one after the other). The count of records Kinesis accepted comes back in
    an accumulator (a failed task's count is discarded). A partition whose records still fail after the retries
    fails its task, the batch and the query (``run`` then fails the job); the restarted run repeats the batch from
    the checkpoint: at least once."""
    target = config.delivery

    def write(batch: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        delivered = batch.sparkSession.sparkContext.accumulator(0)
        delivery_rows(batch, config).foreachPartition(partition_writer(target, delivered))
        log.info("delivery batch %s: %s events to %s in %.0f ms", batch_id, delivered.value, target.stream_name,
                 (time.monotonic() - started) * 1000)
        if metrics:
            metrics.record_delivered(delivered.value)

    return write


def delivery_checkpoint(config: StreamConfig) -> str:
    """The delivery query's own checkpoint, under the job's checkpoint location: which versions of the events table
    it delivered, one per delivery stream. A new stream (delivery turned off and on again: the stack retains the old
    stream and creates another) starts a fresh checkpoint, so it does not receive the backlog of the time without."""
    digest = hashlib.sha256(config.delivery.stream_arn.encode()).hexdigest()[:12]
    return config.checkpoint_location.rstrip("/") + "/delivery-" + digest


def table_version(spark: SparkSession, path: str) -> int:
    """The latest version of the Delta table at ``path``."""
    from delta.tables import DeltaTable

    return int(DeltaTable.forPath(spark, path).history(1).select("version").first()[0])


def start_delivery(spark: SparkSession, config: StreamConfig, *, starting_version: int | None = None,
                   metrics: BatchMetrics | None = None) -> StreamingQuery:
    """The third query: the events table as a Delta stream -> each event to the delivery stream (``delivery_writer``).

    Only committed events are read, so only events that reached the table are delivered (invalid, filtered and
    duplicate records never are). Delta's source skips commits without data changes (``dataChange=false``: the
    upkeep's OPTIMIZE; VACUUM and property changes add no files); the job never deletes or rewrites rows with
    ``dataChange=true`` (its writes are appends, maintenance.py), so ``skipChangeCommits`` is not set: a manual
    DELETE/UPDATE on the table stops this query (and the aggregates query) instead of being silently skipped, which
    would leave delivered events that no longer exist in the table unnoticed.

    A fresh checkpoint (delivery newly turned on) starts at ``starting_version``: the job passes the table's version
    read before its events query started, so customers get every event committed from then on (that version's own
    commit too, at worst a batch from before: at least once) and not the table's history, as the Flink job does. An
    existing checkpoint resumes where it stopped (Delta ignores the option then). None: the whole table."""
    if config.delivery is None:
        raise ValueError("delivery needs a delivery stream (StreamConfig.delivery)")
    key_field = delivery_partition_key_field(config)
    if config.delivery.partition_key_field and key_field != config.delivery.partition_key_field:
        log.warning("delivery partition key field %r is not a column of the events table: the event id (%s) is the "
                    "partition key", config.delivery.partition_key_field, config.id_field)
    reader = spark.readStream.format("delta")
    if starting_version is not None:
        reader = reader.option("startingVersion", str(starting_version))
    events = reader.load(config.table_path)
    writer = (
        events.writeStream.foreachBatch(delivery_writer(config, metrics))
        .option("checkpointLocation", delivery_checkpoint(config))
        .trigger(processingTime=config.trigger_interval)
    )
    if config.query_name:
        writer = writer.queryName(f"{config.query_name}-delivery")
    query = writer.start()
    log.info("started delivery of %s -> Kinesis stream %s (partition key %s)", config.table_path,
             config.delivery.stream_name, key_field)
    return query


def start_stream(spark: SparkSession, raw: DataFrame, config: StreamConfig, *, upkeep: Upkeep | None = None,
                 metrics: BatchMetrics | None = None) -> StreamingQuery:
    """Start the query; returns at once (call ``awaitTermination`` to block)."""
    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"the source adapter must provide columns {RAW_COLUMNS}; missing {missing}")
    if config.processing and uses_hash(config.processing["rules"]) and not config.hash_key:
        raise ValueError(f"rules {uses_hash(config.processing['rules'])} mask with a hash: the config needs a hash_key")
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


def run(query: StreamingQuery, report_every_s: float = 60.0, *, aggregates: StreamingQuery | None = None,
        delivery: StreamingQuery | None = None, metrics: BatchMetrics | None = None,
        poll_every_s: float = 5.0) -> None:
    """Block until the events query stops; log each interval's progress (rows, batch duration, late rows dropped).
    The job's queries live and die together: a failed events query raises here, which fails the job run (the stack
    restarts it from the checkpoints); so does a stopped companion query (aggregates, delivery: checked every
    ``poll_every_s``), which stops the others first; and when the events query ends, the companions are stopped.
    Events too late for their aggregate window (dropped by the aggregates query's watermark) are logged and counted
    in the metrics (``EventsLate``)."""
    companions = {name: q for name, q in (("aggregates", aggregates), ("delivery", delivery)) if q is not None}
    counted_batch = -1
    last_report = time.monotonic()
    try:
        while not query.awaitTermination(min(poll_every_s, report_every_s)):
            fail_if_stopped(companions)
            if time.monotonic() - last_report < report_every_s:
                continue
            last_report = time.monotonic()
            progress = query.lastProgress
            if progress:
                log.info(
                    "batch %s: %s rows in %s ms, %s late rows dropped by the watermark",
                    progress.get("batchId"),
                    progress.get("numInputRows"),
                    progress.get("durationMs", {}).get("triggerExecution"),
                    dropped_by_watermark(progress),
                )
            if aggregates is not None:
                late = 0
                for item in aggregates.recentProgress:
                    if item.get("batchId", -1) > counted_batch:
                        late += dropped_by_watermark(item)
                        counted_batch = item["batchId"]
                if late:
                    log.info("%s events too late for their aggregate window (in the events table, not counted)", late)
                    if metrics:
                        metrics.record_late(late)
    finally:
        for companion in [query, *companions.values()]:
            if companion.isActive:
                companion.stop()


def fail_if_stopped(companions: Mapping[str, StreamingQuery]) -> None:
    """Raise (naming the query and its error) when one of the companion queries is no longer active: the caller
    (``run``) then stops the others, and the job run fails."""
    for name, companion in companions.items():
        if not companion.isActive:
            raise RuntimeError(f"the {name} query stopped: {companion.exception()}")


def dropped_by_watermark(progress: Mapping[str, Any] | None) -> int:
    """Late events dropped in one micro-batch, from a query progress (``query.lastProgress``)."""
    if not progress:
        return 0
    return sum(int(op.get("numRowsDroppedByWatermark", 0)) for op in progress.get("stateOperators", []))
