"""Source adapters: the only code that knows where records come from. Each returns a streaming DataFrame with the
columns ``pipeline.RAW_COLUMNS``: ``data`` (binary), ``arrival_time``, ``sequence_number``, ``partition_key``.

* ``spark_kinesis``: Spark's Kinesis connector (format ``kinesis``, Maven Central
  ``com.qubole.spark:spark-sql-kinesis_2.12:1.2.0_spark-3.0``). Runs against Kinesis and against kinesalite (the
  tests and the bench use it that way).
* ``glue_kinesis``: AWS Glue's own Kinesis source (``glueContext.create_data_frame.from_options``), for the Glue
  streaming job. Runs only inside AWS Glue.

Both start from the oldest record (``TRIM_HORIZON``) on a fresh checkpoint; after that the checkpoint decides.
"""

from __future__ import annotations

from typing import Any, Mapping

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

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


def glue_kinesis(
    glue_context: Any,
    stream_arn: str,
    *,
    starting_position: str = TRIM_HORIZON,
    options: Mapping[str, str] | None = None,
) -> DataFrame:  # pragma: no cover - needs the AWS Glue runtime
    """Kinesis through AWS Glue's streaming source. ``startingPosition`` defaults to ``latest`` in Glue, so it is
    always set here. Glue's source yields the record payload as ``data`` when no schema inference is asked for."""
    connection_options = {
        "streamARN": stream_arn,
        "startingPosition": starting_position,
        "inferSchema": "false",
        "classification": "json",
        "addRecordTimestamp": "true",
        "emitConsumerLagMetrics": "true",
        **(options or {}),
    }
    df = glue_context.create_data_frame.from_options(
        connection_type="kinesis", connection_options=connection_options, transformation_ctx="kinesis_source"
    )
    data = F.col("data") if "data" in df.columns else F.col(df.columns[0])
    arrival = F.col("approximateArrivalTimestamp") if "approximateArrivalTimestamp" in df.columns else (
        F.col("__src_timestamp") if "__src_timestamp" in df.columns else F.current_timestamp())
    # Without Kinesis metadata columns, a record is identified by its content and arrival time.
    sequence = F.col("sequenceNumber") if "sequenceNumber" in df.columns else F.sha2(
        F.concat_ws("|", data.cast("string"), arrival.cast("string")), 256)
    partition_key = F.col("partitionKey") if "partitionKey" in df.columns else F.lit(None)
    return df.select(
        data.cast("binary").alias("data"),
        arrival.cast("timestamp").alias("arrival_time"),
        sequence.cast("string").alias("sequence_number"),
        partition_key.cast("string").alias("partition_key"),
    )
