"""Job arguments as AWS Glue passes them."""

from __future__ import annotations

import json
import re

import pytest

from conftest import REPO, SCHEMAS

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


# --- customer delivery: the delivery stream's arguments ---------------------------------------------------------

DELIVERY_ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/clickstream-delivery"


def test_delivery_arguments(tmp_path):
    import glue_stream_job

    assert (ARGUMENTS["deliveryStreamArn"], ARGUMENTS["deliveryPartitionKeyField"]) == (
        "--delivery-stream-arn", "--delivery-partition-key-field")
    args = parse_stream_args(STREAM + ["--delivery-stream-arn", DELIVERY_ARN, "--delivery-partition-key-field", "user_id"])
    assert (args.delivery_stream_arn, args.delivery_partition_key_field) == (DELIVERY_ARN, "user_id")
    plain = parse_stream_args(STREAM)
    assert (plain.delivery_stream_arn, plain.delivery_partition_key_field) == (None, None)
    assert glue_stream_job.startup(local_argv(tmp_path, None)).config.delivery is None

    # What the job then addresses: the stream by name and region (from the ARN), the local endpoint when given.
    start = glue_stream_job.startup(local_argv(tmp_path, None, "--delivery-stream-arn", DELIVERY_ARN,
                                               "--delivery-partition-key-field", "user_id",
                                               "--kinesis-endpoint", "http://127.0.0.1:4567"))
    target = start.config.delivery
    assert (target.stream_arn, target.stream_name, target.region) == (DELIVERY_ARN, "clickstream-delivery", "eu-west-1")
    assert (target.partition_key_field, target.endpoint_url) == ("user_id", "http://127.0.0.1:4567")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--delivery-stream-arn", "clickstream-delivery"], "--delivery-stream-arn takes a Kinesis stream ARN"),
        (["--delivery-stream-arn", "arn:aws:kinesis:eu-west-1:123456789012:deliverystream/x"],
         "--delivery-stream-arn takes a Kinesis stream ARN"),
        (["--delivery-stream-arn", "arn:aws:kinesis:eu-west-1:12345:stream/x"], "--delivery-stream-arn takes a Kinesis stream ARN"),
        (["--delivery-partition-key-field", "user_id"], "--delivery-partition-key-field needs --delivery-stream-arn"),
        (["--delivery-stream-arn", DELIVERY_ARN, "--delivery-partition-key-field", " "],
         "--delivery-partition-key-field is empty"),
    ],
)
def test_bad_delivery_arguments_fail_with_their_names(extra, message):
    with pytest.raises(SystemExit, match=re.escape(message)):
        parse_stream_args(STREAM + extra)


# --- processing rules (docs/processing-rules.md): the arguments, and what startup() decides from them -------------

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:clickstream-hash-key-AbCdEf"


def test_processing_arguments():
    args = parse_stream_args(STREAM + ["--processing-resource", "clickstream.processing.json", "--aggregates-path",
                                       "s3://processed/clickstream_aggregates/", "--hash-key-secret", SECRET])
    assert (args.processing_resource, args.processing_path) == ("clickstream.processing.json", None)
    assert (args.aggregates_path, args.hash_key_secret) == ("s3://processed/clickstream_aggregates/", SECRET)
    plain = parse_stream_args(STREAM)
    assert (plain.processing_resource, plain.processing_path, plain.aggregates_path, plain.hash_key_secret) == (
        None, None, None, None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--processing-resource", "a.json", "--processing-path", "/tmp/a.json"], "give at most one of --processing-resource"),
        (["--processing-path", "s3://assets/a.json"], "--processing-path takes a local file"),
        (["--aggregates-path", "s3://processed/agg/"], "--aggregates-path needs a processing document"),
        (["--hash-key-secret", SECRET], "--hash-key-secret needs a processing document"),
        (["--processing-resource", "a.json", "--hash-key-secret", "clickstream-hash-key"],
         "--hash-key-secret takes a Secrets Manager secret ARN"),
    ],
)
def test_bad_processing_arguments_fail_with_their_names(extra, message):
    with pytest.raises(SystemExit, match=message):
        parse_stream_args(STREAM + extra)


CASE = json.loads((REPO / "test" / "rules" / "clickstream.cases.json").read_text())


def document(**overrides) -> dict:
    doc = {"source": "clickstream", "idField": CASE["idField"], "eventTimeField": CASE["eventTimeField"],
           "rules": CASE["rules"], "outputSchema": CASE["outputSchema"], "aggregateSchema": CASE["aggregateSchema"]}
    return {**doc, **overrides}


def local_argv(tmp_path, doc: dict | None, *extra: str) -> list[str]:
    argv = [a for a in STREAM if a not in ("--schema-resource", "clickstream.schema.json")]
    argv += ["--schema-path", str(SCHEMAS / "clickstream.schema.json")]
    if doc is not None:
        path = tmp_path / "clickstream.processing.json"
        path.write_text(json.dumps(doc))
        argv += ["--processing-path", str(path)]
    return argv + list(extra)


class StubSecretsManager:
    def __init__(self, answer: dict):
        self.answer, self.calls = answer, []

    def get_secret_value(self, **request):
        self.calls.append(request)
        return self.answer


def test_startup_with_rules_reads_the_hash_key_once_from_the_secret(tmp_path, monkeypatch):
    import glue_stream_job

    monkeypatch.delenv(glue_stream_job.HASH_KEY_ENV, raising=False)
    start = glue_stream_job.startup(local_argv(tmp_path, document(), "--aggregates-path", "s3://p/agg/",
                                               "--hash-key-secret", SECRET))
    assert start.config.processing["rules"] == CASE["rules"] and start.config.aggregates_path == "s3://p/agg/"
    assert start.hashing_rules == ("pseudonymise-user",) and start.config.hash_key is None  # no AWS call yet
    assert "s3://p/agg/" in start.upkeep.paths
    assert "dwell_ms" in glue_stream_job.event_schema(start.config).fieldNames()
    assert "duration_ms" in glue_stream_job.source_schema(start.config).fieldNames()
    client, regions = StubSecretsManager({"SecretString": "k\u00e9y"}), []
    key = glue_stream_job.hash_key(start, lambda region: regions.append(region) or client)
    assert key == "k\u00e9y".encode() and client.calls == [{"SecretId": SECRET}] and regions == ["eu-west-1"]
    assert "k\u00e9y" not in repr(glue_stream_job.replace(start.config, hash_key=key)), "the key is never in a repr"


def test_startup_with_rules_locally_takes_the_key_from_the_environment(tmp_path, monkeypatch):
    import glue_stream_job

    monkeypatch.setenv(glue_stream_job.HASH_KEY_ENV, "local-key")
    start = glue_stream_job.startup(local_argv(tmp_path, document(), "--aggregates-path", "/tmp/agg"))
    assert glue_stream_job.hash_key(start, lambda region: pytest.fail("no AWS request")) == b"local-key"
    no_hash = document(rules={**CASE["rules"], "transform": [t for t in CASE["rules"]["transform"] if t.get("with") != "hash"]})
    start = glue_stream_job.startup(local_argv(tmp_path, no_hash, "--aggregates-path", "/tmp/agg"))
    assert glue_stream_job.hash_key(start, lambda region: pytest.fail("no AWS request")) is None


@pytest.mark.parametrize(
    ("doc", "extra", "env", "message"),
    [
        (document(), ["--aggregates-path", "/tmp/agg"], None, "rule(s) pseudonymise-user mask with a hash: --hash-key-secret"),
        (document(), [], "k", "the rules aggregate, so --aggregates-path"),
        (document(rules={k: v for k, v in CASE["rules"].items() if k != "aggregate"}), ["--aggregates-path", "/tmp/agg"],
         "k", "has no aggregate section"),
        (document(idField="user_id"), ["--aggregates-path", "/tmp/agg"], "k", "processing document's idField is 'user_id'"),
        (document(rules={"transform": [{"name": "x", "cast": "nope", "to": "string"}]}), [], "k",
         "--processing-path: rule x: field nope is not in the schema"),
        ([1], [], "k", "the processing document must be a JSON object"),
    ],
)
def test_bad_processing_documents_fail_at_startup(tmp_path, monkeypatch, doc, extra, env, message):
    import glue_stream_job

    if env:
        monkeypatch.setenv(glue_stream_job.HASH_KEY_ENV, env)
    else:
        monkeypatch.delenv(glue_stream_job.HASH_KEY_ENV, raising=False)
    with pytest.raises(SystemExit, match=re.escape(message)):
        glue_stream_job.startup(local_argv(tmp_path, doc, *extra))


def test_an_unreadable_secret_stops_the_job_with_the_argument(tmp_path, monkeypatch):
    import glue_stream_job

    monkeypatch.delenv(glue_stream_job.HASH_KEY_ENV, raising=False)
    start = glue_stream_job.startup(local_argv(tmp_path, document(), "--aggregates-path", "/a", "--hash-key-secret", SECRET))

    class Denied:
        def get_secret_value(self, **_):
            raise RuntimeError("AccessDeniedException")

    with pytest.raises(SystemExit, match="--hash-key-secret arn:aws:secretsmanager:.*AccessDeniedException"):
        glue_stream_job.hash_key(start, lambda region: Denied())
