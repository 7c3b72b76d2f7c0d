"""Source adapters: the only code that knows where records come from. Each returns a streaming DataFrame with the
columns ``pipeline.RAW_COLUMNS``: ``data`` (binary), ``arrival_time``, ``sequence_number``, ``partition_key``.

* ``spark_kinesis``: Spark's Kinesis connector (format ``kinesis``, Maven Central
  ``com.qubole.spark:spark-sql-kinesis_2.12:1.2.0_spark-3.0``). Runs against Kinesis and against kinesalite (the
  tests and the bench use it that way).
* ``glue_kinesis``: AWS Glue's own Kinesis source (``glueContext.create_data_frame.from_options``), for the Glue
  streaming job, with the explicit schema Glue requires; ``from_glue_columns`` maps its documented output (the
  schema's columns and ``__src_timestamp``) onto the same columns. Only ``create_data_frame`` itself needs Glue:
  the tests run the options and the mapping.

Both start from the oldest record (``TRIM_HORIZON``) on a fresh checkpoint; after that the checkpoint decides.
"""

from __future__ import annotations

from typing import Any, Mapping

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

#: Maven coordinates of the Spark Kinesis connector (self-contained, shaded AWS SDK).
SPARK_KINESIS_PACKAGE = "com.qubole.spark:spark-sql-kinesis_2.12:1.2.0_spark-3.0"

TRIM_HORIZON = "TRIM_HORIZON"


def _raw(df: DataFrame, data: str, arrival: str, sequence: str, partition_key: str) -> DataFrame:
    return df.select(
        F.col(data).cast("binary").alias("data"),
        F.col(arrival).cast("timestamp").alias("arrival_time"),
        F.col(sequence).cast("string").alias("sequence_number"),
        F.col(partition_key).cast("string").alias("partition_key"),
    )


def spark_kinesis(
    spark: SparkSession,
    stream_name: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    starting_position: str = TRIM_HORIZON,
    options: Mapping[str, str] | None = None,
) -> DataFrame:
    """Kinesis through Spark's connector. Credentials: the default AWS chain, or ``awsAccessKeyId`` /
    ``awsSecretKey`` / ``awsSTSRoleARN`` in ``options``. Against kinesalite the JVM needs ``AWS_CBOR_DISABLE=true``
    (kinesalite answers GetRecords in JSON); see session.py."""
    reader = (
        spark.readStream.format("kinesis")
        .option("streamName", stream_name)
        .option("startingPosition", starting_position)
        # the AWS default credential chain (environment, profile, container, instance), not the instance only
        .option("awsUseInstanceProfile", "false")
    )
    if endpoint_url:
        reader = reader.option("endpointUrl", endpoint_url)
    if region:
        reader = reader.option("regionName", region)
    for key, value in (options or {}).items():
        reader = reader.option(key, value)
    return _raw(reader.load(), "data", "approximateArrivalTimestamp", "sequenceNumber", "partitionKey")


#: The column Spark's JSON parser fills with the whole record when it cannot parse it into the schema (PERMISSIVE
#: mode, ``spark.sql.columnNameOfCorruptRecord``). Glue does not document it for its Kinesis source; if Glue leaves it
#: empty, a malformed record arrives as all-null columns and fails the schema check as "missing required property".
CORRUPT_RECORD = "_corrupt_record"
#: The column ``addRecordTimestamp=true`` adds: when the stream received the record (AWS Glue Kinesis connection
#: options, "addRecordTimestamp", Glue 4.0 and later).
GLUE_RECORD_TIMESTAMP = "__src_timestamp"


def ddl(schema: T.StructType) -> str:
    """A StructType in Spark's DDL form (`a` STRING, `b` ARRAY<STRING>): what Glue's ``schema`` option takes for
    ``classification`` json."""
    return ", ".join(f"`{field.name.replace('`', '``')}` {field.dataType.simpleString()}" for field in schema.fields)


def glue_connection_options(stream_arn: str, event_schema: T.StructType, *, starting_position: str = TRIM_HORIZON,
                            options: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Kinesis connection options, as the AWS Glue developer guide documents them ("Kinesis connection
    parameters"): ``streamARN``; ``classification`` json; ``inferSchema`` false with the ``schema`` it then
    requires ("Required when inferSchema set to false", DDL format); ``startingPosition`` in the documented lower
    case (Glue's default is ``latest``, which would skip what producers wrote before the first run);
    ``addRecordTimestamp`` for the arrival time."""
    wanted = T.StructType(list(event_schema.fields) + [T.StructField(CORRUPT_RECORD, T.StringType())])
    return {
        "streamARN": stream_arn,
        "classification": "json",
        "inferSchema": "false",
        "schema": ddl(wanted),
        "startingPosition": starting_position.lower(),
        "addRecordTimestamp": "true",
        "emitConsumerLagMetrics": "true",
        **(options or {}),
    }


def from_glue_columns(df: DataFrame, event_schema: T.StructType) -> DataFrame:
    """Glue's Kinesis source returns the payload already parsed: one column per field of ``schema`` plus
    ``__src_timestamp``; no record bytes, sequence number or partition key. This turns that into ``RAW_COLUMNS``,
    so the rest of the job is the code the local tests run: ``data`` is the record as Spark could not parse it
    (``_corrupt_record``), else the parsed fields written back as JSON (which the schema check then validates:
    types, formats, enums, required fields; properties the schema does not declare are already gone here, so
    ``additionalProperties: false`` is enforced by the landing zone, not on this path). Without a sequence number
    an invalid record is identified by its content and arrival time."""
    missing = [name for name in event_schema.fieldNames() + [GLUE_RECORD_TIMESTAMP] if name not in df.columns]
    if missing:
        raise ValueError(f"Glue's Kinesis source returned {df.columns}; missing {missing}")
    fields = F.to_json(F.struct(*[F.col(f"`{name}`") for name in event_schema.fieldNames()]))
    corrupt = F.col(CORRUPT_RECORD) if CORRUPT_RECORD in df.columns else F.lit(None).cast("string")
    data = F.coalesce(corrupt, fields)
    arrival = F.col(GLUE_RECORD_TIMESTAMP)
    if isinstance(df.schema[GLUE_RECORD_TIMESTAMP].dataType, (T.LongType, T.IntegerType, T.DoubleType)):
        arrival = F.timestamp_millis(arrival.cast("long"))  # epoch milliseconds, as Kinesis reports arrival
    return df.select(
        data.cast("binary").alias("data"),
        arrival.cast("timestamp").alias("arrival_time"),
        F.sha2(F.concat_ws("|", data, arrival.cast("string")), 256).alias("sequence_number"),
        F.lit(None).cast("string").alias("partition_key"),
    )


def glue_kinesis(glue_context: Any, stream_arn: str, event_schema: T.StructType, *,
                 starting_position: str = TRIM_HORIZON, options: Mapping[str, str] | None = None) -> DataFrame:
    """Kinesis through AWS Glue's streaming source (only inside AWS Glue), as ``RAW_COLUMNS``."""
    df = glue_context.create_data_frame.from_options(
        connection_type="kinesis",
        connection_options=glue_connection_options(stream_arn, event_schema, starting_position=starting_position,
                                                   options=options),
        transformation_ctx="kinesis_source",
    )
    return from_glue_columns(df, event_schema)
