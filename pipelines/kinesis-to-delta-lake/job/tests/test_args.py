"""Job arguments as AWS Glue passes them."""

from __future__ import annotations

import pytest

from stream_foundry_delta.args import STREAM_ARGUMENTS, parse_stream_args
from stream_foundry_delta.contract import ARGUMENTS

GLUE_ARGS = ["script.py", "--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--JOB_NAME", "clickstream-to-delta",
             "--TempDir", "s3://tmp/", "--job-bookmark-option", "job-bookmark-disable"][1:]
STREAM = ["--source", "clickstream", "--schema-resource", "clickstream.schema.json",
          "--event-time-field", "occurred_at", "--table-path", "s3://processed/clickstream/",
          "--error-path", "s3://errors/spark-delta/clickstream/", "--checkpoint-location", "s3://ckpt/clickstream/",
          "--stream-arn", "arn:aws:kinesis:eu-west-1:123456789012:stream/clickstream"]


def test_defaults_and_glue_arguments_are_ignored():
    args = parse_stream_args(GLUE_ARGS + STREAM)
    assert (args.trigger_interval, args.watermark_delay, args.id_field) == ("5 seconds", "10 minutes", "event_id")
    assert (args.source_adapter, args.starting_position) == ("glue-kinesis", "TRIM_HORIZON")
    assert args.stream_arn.endswith("stream/clickstream")
    assert (args.JOB_NAME, args.region) == ("clickstream-to-delta", "eu-west-1")
    assert (args.upkeep_interval_minutes, args.optimize_days, args.vacuum_retention_hours, args.vacuum_mode) == (
        "60", "2", "168", "FULL")
    assert (args.log_retention, args.deleted_file_retention) == ("interval 7 days", "interval 7 days")


def test_overrides():
    args = parse_stream_args(STREAM + ["--trigger-interval", "2 seconds", "--watermark-delay", "1 hour",
                                       "--id-field", "order_id"])
    assert (args.trigger_interval, args.watermark_delay, args.id_field) == ("2 seconds", "1 hour", "order_id")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (STREAM[2:], "the following arguments are required: --source"),
        (STREAM + ["--trigger-interval", "5s"], "'5s' is not a duration"),
        ([a for a in STREAM if not a.startswith(("--stream-arn", "arn:"))], "--stream-arn is required"),
        (STREAM + ["--starting-position", "AT_TIMESTAMP"], "--starting-position must be TRIM_HORIZON or LATEST"),
        (STREAM + ["--source-adapter", "kafka"], "--source-adapter must be glue-kinesis or spark-kinesis"),
        (STREAM + ["--schema-path", "/tmp/x.json"], "give exactly one of --schema-resource"),
        ([a for a in STREAM if a not in ("--schema-resource", "clickstream.schema.json")]
         + ["--schema-path", "s3://assets/x.json"], "--schema-path takes a local file"),
        (STREAM + ["--vacuum-mode", "QUICK"], "--vacuum-mode must be FULL or LITE"),
    ],
)
def test_bad_arguments_fail_with_their_names(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_stream_args(argv)
    assert message in f"{exit_info.value} {capsys.readouterr().err}"


def test_every_argument_of_the_contract_is_parsed():
    """contract.json names the arguments the construct sets: the job parses each of them (a name the job does not
    know would be silently ignored by Glue's argument passing)."""
    options = {option for option, *_ in STREAM_ARGUMENTS.values()}
    assert set(ARGUMENTS.values()) <= options
    assert all(option.startswith("--") for option in ARGUMENTS.values())
