"""Job arguments, named as AWS Glue passes them (``--name value``); those the construct sets by their names in
``contract.json``. Glue adds its own (``--JOB_NAME``, ``--JOB_RUN_ID``, ``--TempDir``, ...); unknown arguments are
ignored, missing required ones fail with their names.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Sequence

from .contract import ARGUMENTS
from .delivery import parse_stream_arn
from .freshness import receipts_bucket

_DURATION = re.compile(r"^\s*\d+(\.\d+)?\s+(millisecond|second|minute|hour|day)s?\s*$")


def duration(value: str) -> str:
    """A Spark interval such as ``5 seconds`` or ``10 minutes``."""
    if not _DURATION.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration like '5 seconds' or '10 minutes'")
    return value.strip()


# The arguments the construct sets are named in contract.json (ARGUMENTS, read by the construct too); the others are
# Glue's own (JOB_NAME) or for local runs.
STREAM_ARGUMENTS = {
    # field of StreamArgs: (option, required, default, help)
    "source": (ARGUMENTS["source"], True, None, "source name, as in cdk.json 'sources' (e.g. clickstream)"),
    # In Glue the schema ships inside the job's package (--extra-py-files), so reading it sends no S3 request
    # (Glue 5.1's S3A would LIST before a GET); a local run may name a file instead.
    "schema_resource": (ARGUMENTS["schemaResource"], False, None, "file name of the source's JSON Schema in the package's schemas/ directory"),
    "schema_path": ("--schema-path", False, None, "the source's JSON Schema as a local file (local runs; not an s3:// path)"),
    "event_time_field": (ARGUMENTS["eventTimeField"], True, None, "top-level date-time property used as event time (e.g. occurred_at)"),
    "id_field": (ARGUMENTS["idField"], False, "event_id", "top-level property that identifies an event; duplicates share it"),
    "table_path": (ARGUMENTS["tablePath"], True, None, "Delta table of valid events, partitioned by event_date (s3://processed/...)"),
    "error_path": (ARGUMENTS["errorPath"], True, None, "Delta table of malformed records with the reason (s3://errors/...)"),
    "checkpoint_location": (ARGUMENTS["checkpointLocation"], True, None, "Structured Streaming checkpoint (s3://.../checkpoints/<source>/)"),
    "trigger_interval": (ARGUMENTS["triggerInterval"], False, "5 seconds", "micro-batch trigger interval"),
    "watermark_delay": (ARGUMENTS["watermarkDelay"], False, "10 minutes", "how late (event time) a duplicate may arrive and still be dropped"),
    "stream_arn": (ARGUMENTS["streamArn"], False, None, "Kinesis stream ARN (source adapter glue-kinesis)"),
    "stream_name": ("--stream-name", False, None, "Kinesis stream name (source adapter spark-kinesis)"),
    "region_arg": ("--region", False, None, "AWS region of the stream (spark-kinesis)"),
    "kinesis_endpoint": ("--kinesis-endpoint", False, None, "Kinesis endpoint URL of the source (spark-kinesis) and the delivery stream (a local emulator)"),
    "starting_position": (ARGUMENTS["startingPosition"], False, "TRIM_HORIZON", "where a fresh checkpoint starts reading: TRIM_HORIZON or LATEST"),
    "source_adapter": (ARGUMENTS["sourceAdapter"], False, "glue-kinesis", "glue-kinesis (in AWS Glue) or spark-kinesis (Spark's connector)"),
    "JOB_NAME": ("--JOB_NAME", False, None, "set by Glue: the job's name, the dimension of the metrics the job publishes"),
    "metrics": (ARGUMENTS["metrics"], False, "true", "publish the job's CloudWatch metrics (true/false)"),
    # Table upkeep runs inside the stream, between micro-batches, on the same driver: one writer per Delta table.
    "upkeep_interval_minutes": (ARGUMENTS["upkeepIntervalMinutes"], False, "60", "run OPTIMIZE/VACUUM every N minutes between micro-batches (0: never)"),
    "optimize_days": (ARGUMENTS["optimizeDays"], False, "2", "OPTIMIZE only partitions of the last N days (0: the whole table)"),
    "vacuum_retention_hours": (ARGUMENTS["vacuumRetentionHours"], False, "168", "VACUUM removes unreferenced files older than this"),
    "log_retention": (ARGUMENTS["logRetention"], False, "interval 7 days", "delta.logRetentionDuration"),
    "deleted_file_retention": (ARGUMENTS["deletedFileRetention"], False, "interval 7 days", "delta.deletedFileRetentionDuration"),
    "vacuum_mode": (ARGUMENTS["vacuumMode"], False, "FULL", "FULL (lists the directory, also removes files of failed writes) or LITE"),
    # Processing rules (docs/processing-rules.md): the document synth wrote, shipped in the package like the schema.
    "processing_resource": (ARGUMENTS["processingResource"], False, None, "file name of the source's processing document in the package's schemas/ directory"),
    "processing_path": ("--processing-path", False, None, "the source's processing document as a local file (local runs)"),
    "aggregates_path": (ARGUMENTS["aggregatesPath"], False, None, "Delta table of the rules' aggregates (with a processing document that aggregates)"),
    "hash_key_secret": (ARGUMENTS["hashKeySecret"], False, None, "Secrets Manager secret ARN of the hash key of 'mask ... with: hash' (read once at start)"),
    # Customer delivery: every event of the events table, as JSON, to a Kinesis stream customers read.
    "delivery_stream_arn": (ARGUMENTS["deliveryStreamArn"], False, None, "Kinesis stream ARN the events table's events are delivered to (none: no delivery)"),
    "delivery_partition_key_field": (ARGUMENTS["deliveryPartitionKeyField"], False, None, "field whose value is a delivered record's partition key (the source's partitionKeyField; the event id when it is not a column of the events table)"),
    # Freshness canary (freshness.py): receipts of the canaries the job committed, under <bucket>/_freshness/.
    "freshness_receipts_path": (ARGUMENTS["freshnessReceiptsPath"], False, None, "s3://<bucket>/ where the freshness canaries' receipts go (none: canaries are still kept out of the tables, no receipt is written)"),
    "s3_endpoint": ("--s3-endpoint", False, None, "S3 endpoint URL of the receipts' client (a local emulator; the Delta tables are not written through it)"),
}

_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$")


def _parser(spec: dict) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    for field, (option, required, default, help_text) in spec.items():
        kind = duration if field in ("trigger_interval", "watermark_delay") else str
        parser.add_argument(option, dest=field, required=required, default=default, help=help_text, type=kind)
    return parser


@dataclass(frozen=True)
class StreamArgs:
    source: str
    schema_resource: str | None
    schema_path: str | None
    event_time_field: str
    id_field: str
    table_path: str
    error_path: str
    checkpoint_location: str
    trigger_interval: str
    watermark_delay: str
    stream_arn: str | None
    stream_name: str | None
    region_arg: str | None
    kinesis_endpoint: str | None
    starting_position: str
    source_adapter: str
    JOB_NAME: str | None
    metrics: str
    upkeep_interval_minutes: str
    optimize_days: str
    vacuum_retention_hours: str
    log_retention: str
    deleted_file_retention: str
    vacuum_mode: str
    processing_resource: str | None
    processing_path: str | None
    aggregates_path: str | None
    hash_key_secret: str | None
    delivery_stream_arn: str | None
    delivery_partition_key_field: str | None
    freshness_receipts_path: str | None
    s3_endpoint: str | None

    @property
    def region(self) -> str | None:
        """The stream's region: from --stream-arn (arn:aws:kinesis:<region>:...), else --region."""
        if self.stream_arn and self.stream_arn.count(":") >= 5:
            return self.stream_arn.split(":")[3]
        return self.region_arg


def parse_stream_args(argv: Sequence[str]) -> StreamArgs:
    ns, _unknown = _parser(STREAM_ARGUMENTS).parse_known_args(list(argv))
    args = StreamArgs(**vars(ns))
    if bool(args.schema_resource) == bool(args.schema_path):
        raise SystemExit("give exactly one of --schema-resource (the package's schemas/<file>) or --schema-path (a local file)")
    if args.schema_path and "://" in args.schema_path:
        raise SystemExit(f"--schema-path takes a local file, got {args.schema_path!r}: in Glue the schema ships in the job's package (--schema-resource)")
    if args.vacuum_mode.upper() not in ("FULL", "LITE"):
        raise SystemExit(f"--vacuum-mode must be FULL or LITE, got {args.vacuum_mode!r}")
    if args.source_adapter not in ("glue-kinesis", "spark-kinesis"):
        raise SystemExit(f"--source-adapter must be glue-kinesis or spark-kinesis, got {args.source_adapter!r}")
    if args.source_adapter == "glue-kinesis" and not args.stream_arn:
        raise SystemExit("--stream-arn is required with --source-adapter glue-kinesis")
    if args.source_adapter == "spark-kinesis" and not args.stream_name:
        raise SystemExit("--stream-name is required with --source-adapter spark-kinesis")
    if args.processing_resource and args.processing_path:
        raise SystemExit("give at most one of --processing-resource (the package's schemas/<file>) or --processing-path (a local file)")
    if args.processing_path and "://" in args.processing_path:
        raise SystemExit(f"--processing-path takes a local file, got {args.processing_path!r}: in Glue the document ships in the job's package (--processing-resource)")
    has_processing = bool(args.processing_resource or args.processing_path)
    if args.aggregates_path and not has_processing:
        raise SystemExit("--aggregates-path needs a processing document (--processing-resource or --processing-path) with an aggregate section")
    if args.hash_key_secret and not has_processing:
        raise SystemExit("--hash-key-secret needs a processing document (--processing-resource or --processing-path)")
    if args.hash_key_secret and not _SECRET_ARN.match(args.hash_key_secret):
        raise SystemExit(f"--hash-key-secret takes a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>), got {args.hash_key_secret!r}")
    if args.delivery_stream_arn is not None:
        try:
            parse_stream_arn(args.delivery_stream_arn)
        except ValueError:
            raise SystemExit(f"--delivery-stream-arn takes a Kinesis stream ARN (arn:aws:kinesis:<region>:<12-digit account>:stream/<name>), got {args.delivery_stream_arn!r}") from None
    if args.delivery_partition_key_field is not None and not args.delivery_stream_arn:
        raise SystemExit("--delivery-partition-key-field needs --delivery-stream-arn (the stream the events are delivered to)")
    if args.delivery_partition_key_field is not None and not args.delivery_partition_key_field.strip():
        raise SystemExit("--delivery-partition-key-field is empty: give a top-level field name, or leave it out (the event id is the key)")
    if args.freshness_receipts_path is not None:
        try:
            receipts_bucket(args.freshness_receipts_path)
        except ValueError:
            raise SystemExit(f"--freshness-receipts-path takes the root of an S3 bucket (s3://<bucket>/; receipts go under "
                             f"_freshness/), got {args.freshness_receipts_path!r}") from None
    if args.s3_endpoint is not None and not args.freshness_receipts_path:
        raise SystemExit("--s3-endpoint is the endpoint of the freshness receipts' S3 client: it needs --freshness-receipts-path")
    if args.starting_position.upper() not in ("TRIM_HORIZON", "LATEST"):
        raise SystemExit(f"--starting-position must be TRIM_HORIZON or LATEST, got {args.starting_position!r}")
    return args
