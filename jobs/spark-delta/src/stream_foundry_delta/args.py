"""Job arguments, named as AWS Glue passes them (``--name value``). Glue adds its own (``--JOB_NAME``,
``--JOB_RUN_ID``, ``--TempDir``, ...); unknown arguments are ignored, missing required ones fail with their names.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Sequence

import re

_DURATION = re.compile(r"^\s*\d+(\.\d+)?\s+(millisecond|second|minute|hour|day)s?\s*$")


def duration(value: str) -> str:
    """A Spark interval such as ``5 seconds`` or ``10 minutes``."""
    if not _DURATION.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration like '5 seconds' or '10 minutes'")
    return value.strip()


STREAM_ARGUMENTS = {
    # name: (required, default, help)
    "source": (True, None, "source name, as in cdk.json 'sources' (e.g. clickstream)"),
    "schema-path": (True, None, "the source's JSON Schema: s3://.../<source>.schema.json or a local path"),
    "event-time-field": (True, None, "top-level date-time property used as event time (e.g. occurred_at)"),
    "id-field": (False, "event_id", "top-level property that identifies an event; duplicates share it"),
    "table-path": (True, None, "Delta table of valid events, partitioned by event_date (s3://processed/...)"),
    "error-path": (True, None, "Delta table of malformed records with the reason (s3://errors/...)"),
    "checkpoint-location": (True, None, "Structured Streaming checkpoint (s3://.../checkpoints/<source>/)"),
    "trigger-interval": (False, "5 seconds", "micro-batch trigger interval"),
    "watermark-delay": (False, "10 minutes", "how late (event time) a duplicate may arrive and still be dropped"),
    "stream-arn": (False, None, "Kinesis stream ARN (source adapter glue-kinesis)"),
    "stream-name": (False, None, "Kinesis stream name (source adapter spark-kinesis)"),
    "region": (False, None, "AWS region of the stream (spark-kinesis)"),
    "kinesis-endpoint": (False, None, "Kinesis endpoint URL (spark-kinesis; a local emulator)"),
    "starting-position": (False, "TRIM_HORIZON", "where a fresh checkpoint starts reading: TRIM_HORIZON or LATEST"),
    "source-adapter": (False, "glue-kinesis", "glue-kinesis (in AWS Glue) or spark-kinesis (Spark's connector)"),
}

MAINTENANCE_ARGUMENTS = {
    "table-paths": (True, None, "comma-separated Delta tables to maintain (events and errors)"),
    "optimize-days": (False, "2", "OPTIMIZE only partitions of the last N days (0: the whole table)"),
    "vacuum-retention-hours": (False, "168", "VACUUM removes unreferenced files older than this"),
    "log-retention": (False, "interval 7 days", "delta.logRetentionDuration"),
    "deleted-file-retention": (False, "interval 7 days", "delta.deletedFileRetentionDuration"),
    "vacuum-mode": (False, "FULL", "FULL (lists the directory, also removes files of failed writes) or LITE"),
}


def _parser(spec: dict) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    for name, (required, default, help_text) in spec.items():
        kind = duration if name in ("trigger-interval", "watermark-delay") else str
        parser.add_argument(f"--{name}", required=required, default=default, help=help_text, type=kind)
    return parser


@dataclass(frozen=True)
class StreamArgs:
    source: str
    schema_path: str
    event_time_field: str
    id_field: str
    table_path: str
    error_path: str
    checkpoint_location: str
    trigger_interval: str
    watermark_delay: str
    stream_arn: str | None
    stream_name: str | None
    region: str | None
    kinesis_endpoint: str | None
    starting_position: str
    source_adapter: str


def parse_stream_args(argv: Sequence[str]) -> StreamArgs:
    ns, _unknown = _parser(STREAM_ARGUMENTS).parse_known_args(list(argv))
    args = StreamArgs(**{k: v for k, v in vars(ns).items()})
    if args.source_adapter not in ("glue-kinesis", "spark-kinesis"):
        raise SystemExit(f"--source-adapter must be glue-kinesis or spark-kinesis, got {args.source_adapter!r}")
    if args.source_adapter == "glue-kinesis" and not args.stream_arn:
        raise SystemExit("--stream-arn is required with --source-adapter glue-kinesis")
    if args.source_adapter == "spark-kinesis" and not args.stream_name:
        raise SystemExit("--stream-name is required with --source-adapter spark-kinesis")
    if args.starting_position.upper() not in ("TRIM_HORIZON", "LATEST"):
        raise SystemExit(f"--starting-position must be TRIM_HORIZON or LATEST, got {args.starting_position!r}")
    return args


@dataclass(frozen=True)
class MaintenanceArgs:
    table_paths: str
    optimize_days: str
    vacuum_retention_hours: str
    log_retention: str
    deleted_file_retention: str
    vacuum_mode: str


def parse_maintenance_args(argv: Sequence[str]) -> MaintenanceArgs:
    ns, _unknown = _parser(MAINTENANCE_ARGUMENTS).parse_known_args(list(argv))
    return MaintenanceArgs(**vars(ns))
