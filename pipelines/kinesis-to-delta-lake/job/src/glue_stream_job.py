"""AWS Glue entry script of the Kinesis -> Delta Lake stream (job type gluestreaming, --datalake-formats delta).

Arguments: see stream_foundry_delta/args.py and pipelines/kinesis-to-delta-lake/job/README.md. The package stream_foundry_delta is
shipped beside this script with --extra-py-files, with the source's JSON Schema inside it (contract.json).
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from stream_foundry_delta.args import StreamArgs, parse_stream_args
from stream_foundry_delta.contract import packaged_schema
from stream_foundry_delta.maintenance import Upkeep
from stream_foundry_delta.pipeline import StreamConfig, event_schema


@dataclass(frozen=True)
class Startup:
    args: StreamArgs
    config: StreamConfig
    upkeep: Upkeep | None


def startup(argv: list[str]) -> Startup:
    """Everything the job decides before Spark starts: arguments, the source's schema (from the job's package, no
    S3 request), the table's columns, the upkeep. Fails with the argument's name when something is wrong."""
    args = parse_stream_args(argv)
    schema = packaged_schema(args.schema_resource) if args.schema_resource else json.loads(
        Path(args.schema_path).read_text())
    config = StreamConfig(
        source=args.source,
        schema=schema,
        event_time_field=args.event_time_field,
        id_field=args.id_field,
        table_path=args.table_path,
        error_path=args.error_path,
        checkpoint_location=args.checkpoint_location,
        trigger_interval=args.trigger_interval,
        watermark_delay=args.watermark_delay,
        query_name=f"{args.source}-to-delta",
    )
    event_schema(config)  # the schema's columns, checked now rather than in the first micro-batch
    interval_s = float(args.upkeep_interval_minutes) * 60
    upkeep = Upkeep(
        paths=[args.table_path, args.error_path],
        interval_s=interval_s,
        optimize_days=int(args.optimize_days),
        vacuum_retention_hours=float(args.vacuum_retention_hours),
        log_retention=args.log_retention,
        deleted_file_retention=args.deleted_file_retention,
        vacuum_mode=args.vacuum_mode.upper(),
    ) if interval_s > 0 else None
    return Startup(args, config, upkeep)


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from pyspark.sql import SparkSession

    from stream_foundry_delta.metrics import BatchMetrics, cloudwatch_client
    from stream_foundry_delta.pipeline import run, start_stream
    from stream_foundry_delta.sources import glue_kinesis, spark_kinesis

    start = startup(argv)
    args = start.args
    if args.source_adapter == "glue-kinesis":
        from awsglue.context import GlueContext  # only in the Glue runtime
        from pyspark.context import SparkContext

        glue_context = GlueContext(SparkContext.getOrCreate())
        spark = glue_context.spark_session
        raw = glue_kinesis(glue_context, args.stream_arn, event_schema(start.config),
                           starting_position=args.starting_position)
    else:
        spark = SparkSession.builder.getOrCreate()
        raw = spark_kinesis(
            spark,
            args.stream_name,
            endpoint_url=args.kinesis_endpoint,
            region=args.region,
            starting_position=args.starting_position.upper(),
        )
    metrics = None
    if args.metrics.lower() == "true" and args.JOB_NAME:
        metrics = BatchMetrics(args.JOB_NAME, lambda: cloudwatch_client(args.region))
    run(start_stream(spark, raw, start.config, upkeep=start.upkeep, metrics=metrics))


if __name__ == "__main__":
    main(sys.argv[1:])
