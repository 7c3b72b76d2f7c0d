"""AWS Glue entry script of the Kinesis -> Delta Lake stream (job type gluestreaming, --datalake-formats delta).

Arguments: see stream_foundry_delta/args.py and jobs/spark-delta/README.md. The package stream_foundry_delta is
shipped beside this script with --extra-py-files.
"""

from __future__ import annotations

import json
import logging
import sys

from pyspark.sql import SparkSession

from stream_foundry_delta.args import parse_stream_args
from stream_foundry_delta.pipeline import StreamConfig, run, start_stream
from stream_foundry_delta.sources import glue_kinesis, spark_kinesis


def read_text(spark: SparkSession, path: str) -> str:
    """A whole small text file from S3 (or any Hadoop path), read through Spark so no extra client is needed."""
    return spark.read.text(path, wholetext=True).first()["value"]


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = parse_stream_args(argv)
    if args.source_adapter == "glue-kinesis":
        from awsglue.context import GlueContext  # only in the Glue runtime
        from pyspark.context import SparkContext

        glue_context = GlueContext(SparkContext.getOrCreate())
        spark = glue_context.spark_session
        raw = glue_kinesis(glue_context, args.stream_arn, starting_position=args.starting_position.upper())
    else:
        spark = SparkSession.builder.getOrCreate()
        raw = spark_kinesis(
            spark,
            args.stream_name,
            endpoint_url=args.kinesis_endpoint,
            region=args.region,
            starting_position=args.starting_position.upper(),
        )
    config = StreamConfig(
        source=args.source,
        schema=json.loads(read_text(spark, args.schema_path)),
        event_time_field=args.event_time_field,
        id_field=args.id_field,
        table_path=args.table_path,
        error_path=args.error_path,
        checkpoint_location=args.checkpoint_location,
        trigger_interval=args.trigger_interval,
        watermark_delay=args.watermark_delay,
        query_name=f"{args.source}-to-delta",
    )
    run(start_stream(spark, raw, config))


if __name__ == "__main__":
    main(sys.argv[1:])
