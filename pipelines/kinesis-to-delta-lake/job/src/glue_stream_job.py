"""AWS Glue entry script of the Kinesis -> Delta Lake stream (job type gluestreaming, --datalake-formats delta).

Arguments: see stream_foundry_delta/args.py and pipelines/kinesis-to-delta-lake/job/README.md. The package stream_foundry_delta is
shipped beside this script with --extra-py-files, with the source's JSON Schema inside it (contract.json).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from stream_foundry_delta.args import StreamArgs, parse_stream_args
from stream_foundry_delta.contract import packaged_schema
from stream_foundry_delta.delivery import DeliveryTarget
from stream_foundry_delta.freshness import ReceiptWriter
from stream_foundry_delta.maintenance import Upkeep
from stream_foundry_delta.pipeline import StreamConfig, event_schema, source_schema
from stream_foundry_delta.rules import RulesError, uses_hash
from stream_foundry_delta.schema import SchemaError

#: Where a local run (tests, LocalJob) may take the hash key from instead of Secrets Manager.
HASH_KEY_ENV = "STREAM_FOUNDRY_HASH_KEY"


@dataclass(frozen=True)
class Startup:
    args: StreamArgs
    config: StreamConfig
    upkeep: Upkeep | None
    #: Rules that mask with the keyed hash: the key is read (``hash_key``) before the stream starts.
    hashing_rules: tuple[str, ...] = ()


def _local_json(path: str, option: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise SystemExit(f"{option} {path!r}: {err}") from err
    except ValueError as err:
        raise SystemExit(f"{option} {path!r}: not valid JSON ({err})") from err


def startup(argv: list[str]) -> Startup:
    """Everything the job decides before Spark starts: arguments, the source's schema and processing document (from
    the job's package, no S3 request), the table's columns, the upkeep. Fails with the argument's name when something
    is wrong. Makes no AWS request (the hash key is read by ``hash_key``, in ``main``)."""
    args = parse_stream_args(argv)
    schema = packaged_schema(args.schema_resource) if args.schema_resource else _local_json(args.schema_path,
                                                                                            "--schema-path")
    processing = None
    if args.processing_resource:
        processing = packaged_schema(args.processing_resource, "--processing-resource")
    elif args.processing_path:
        processing = _local_json(args.processing_path, "--processing-path")
    option = "--processing-resource" if args.processing_resource else "--processing-path"
    if processing is not None and not isinstance(processing, dict):
        raise SystemExit(f"{option}: the processing document must be a JSON object")
    aggregates = ((processing or {}).get("rules") or {}).get("aggregate")
    if aggregates and not args.aggregates_path:
        raise SystemExit(f"{option}: the rules aggregate, so --aggregates-path (the aggregates Delta table) is required")
    if args.aggregates_path and processing is not None and not aggregates:
        raise SystemExit(f"--aggregates-path is given but the processing document ({option}) has no aggregate section")
    hashing = tuple(uses_hash(processing["rules"])) if processing and isinstance(processing.get("rules"), dict) else ()
    if hashing and not args.hash_key_secret and not os.environ.get(HASH_KEY_ENV):
        raise SystemExit(f"rule(s) {', '.join(hashing)} mask with a hash: --hash-key-secret (a Secrets Manager "
                         f"secret ARN) is required (locally, the environment variable {HASH_KEY_ENV})")
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
        processing=processing,
        aggregates_path=args.aggregates_path,
        # the client addresses the stream by the name and region in its ARN; --kinesis-endpoint only in local runs
        delivery=DeliveryTarget(args.delivery_stream_arn, args.delivery_partition_key_field, args.kinesis_endpoint)
        if args.delivery_stream_arn else None,
        # the freshness canaries' receipts (no request until a canary is committed); --s3-endpoint only in local runs
        receipts=ReceiptWriter.for_url(args.freshness_receipts_path, region=args.region, endpoint_url=args.s3_endpoint)
        if args.freshness_receipts_path else None,
    )
    if processing is None:
        event_schema(config)  # the schema's columns, checked now rather than in the first micro-batch
    else:
        try:
            event_schema(config)  # ... and the rules against the schema
        except (SchemaError, RulesError) as err:
            raise SystemExit(f"{option}: {err}") from err
    interval_s = float(args.upkeep_interval_minutes) * 60
    upkeep = Upkeep(
        paths=[args.table_path, args.error_path] + ([args.aggregates_path] if aggregates else []),
        interval_s=interval_s,
        optimize_days=int(args.optimize_days),
        vacuum_retention_hours=float(args.vacuum_retention_hours),
        log_retention=args.log_retention,
        deleted_file_retention=args.deleted_file_retention,
        vacuum_mode=args.vacuum_mode.upper(),
    ) if interval_s > 0 else None
    return Startup(args, config, upkeep, hashing)


def secrets_manager_client(region: str | None) -> Any:
    import boto3

    return boto3.client("secretsmanager", region_name=region)


def hash_key(start: Startup, client_factory: Callable[[str | None], Any] = secrets_manager_client) -> bytes | None:
    """The key of ``mask ... with: hash``, read once: ``GetSecretValue`` of ``--hash-key-secret`` (the secret's
    string as UTF-8, or its binary), else locally ``STREAM_FOUNDRY_HASH_KEY``. None when no rule hashes (then no
    request is made)."""
    if not start.hashing_rules:
        return None
    arn = start.args.hash_key_secret
    if arn:
        region = arn.split(":")[3]
        try:
            secret = client_factory(region).get_secret_value(SecretId=arn)
        except Exception as err:  # noqa: BLE001 - any failure stops the job with the argument's name
            raise SystemExit(f"--hash-key-secret {arn}: cannot read the hash key ({type(err).__name__}: {err})") from err
        key = secret["SecretString"].encode("utf-8") if secret.get("SecretString") is not None else secret.get(
            "SecretBinary")
    else:
        key = os.environ[HASH_KEY_ENV].encode("utf-8")
    if not key:
        raise SystemExit(f"--hash-key-secret {arn or HASH_KEY_ENV}: the hash key is empty")
    return bytes(key)


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from pyspark.sql import SparkSession

    from stream_foundry_delta.metrics import BatchMetrics, cloudwatch_client
    from stream_foundry_delta.pipeline import ensure_tables, run, start_aggregates, start_delivery, start_stream, table_version
    from stream_foundry_delta.sources import glue_kinesis, spark_kinesis

    start = startup(argv)
    start = replace(start, config=replace(start.config, hash_key=hash_key(start)))
    args = start.args
    if args.source_adapter == "glue-kinesis":
        from awsglue.context import GlueContext  # only in the Glue runtime
        from pyspark.context import SparkContext

        glue_context = GlueContext(SparkContext.getOrCreate())
        spark = glue_context.spark_session
        raw = glue_kinesis(glue_context, args.stream_arn, source_schema(start.config),
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
    # Where a new delivery checkpoint starts: the table as it is before this run commits anything (start_delivery).
    delivery_from = None
    if start.config.delivery:
        ensure_tables(spark, start.config)
        delivery_from = table_version(spark, start.config.table_path)
    query = start_stream(spark, raw, start.config, upkeep=start.upkeep, metrics=metrics)
    aggregates = start_aggregates(spark, start.config) if start.config.aggregate_spec else None
    delivery = start_delivery(spark, start.config, starting_version=delivery_from, metrics=metrics) if start.config.delivery else None
    run(query, aggregates=aggregates, delivery=delivery, metrics=metrics)


if __name__ == "__main__":
    main(sys.argv[1:])
