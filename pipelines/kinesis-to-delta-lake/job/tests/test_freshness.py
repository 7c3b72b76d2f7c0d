"""The freshness canary at this exit (freshness.py): the contract copy, receipt keys and bodies byte for byte as
platform/freshness/contract.ts writes them, the arguments, a receipt failure that is logged and never raised; then in
the running job (real Spark, Delta, kinesalite, s3rver): canaries kept out of the events table, the error table and the
delivery stream, one receipt per canary after the commit, business events older than the canaries not dropped as late,
and with processing rules a canary the rules would filter still measured."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import REPO, S3RVER_KEYS, SCHEMAS, click, delta_ids, delta_rows, run_job_in_thread, s3rver, wait_for
from stream_foundry_delta.args import parse_stream_args
from stream_foundry_delta.contract import ARGUMENTS, CANARY
from stream_foundry_delta.freshness import (CANARY_ID_TIME_DIGITS, Canary, ReceiptWriter, canary_id, canary_published_at,
                                            receipt_body, receipt_key, receipts_bucket, s3_client)
from stream_foundry_delta.kinesalite import REGION

pytestmark = pytest.mark.timeout(900)

PLATFORM = json.loads((REPO / "platform" / "freshness" / "contract.json").read_text())
BUCKET = "lake"


# --- the contract ------------------------------------------------------------------------------------------------------

def test_the_contract_copy_equals_the_platform_contract():
    assert CANARY == {"idPrefix": PLATFORM["canaryIdPrefix"], "receiptsPrefix": PLATFORM["receiptsPrefix"]}
    assert CANARY_ID_TIME_DIGITS == PLATFORM["canaryIdTimeDigits"]
    assert ARGUMENTS["freshnessReceiptsPath"] == "--freshness-receipts-path"


def test_canary_ids_are_recognised_by_the_id_alone():
    published = 1796409717754
    assert canary_id(published) == "00000000-0000-4000-8000-01a2425cf3fa"
    assert canary_published_at(canary_id(published)) == published
    assert canary_published_at(canary_id(0)) == 0
    for other in ["00000000-0000-4000-8000-01A2425CF3FA",  # upper case: not what canaryId writes
                  "00000000-0000-4000-8000-01a2425cf3f",  # 11 digits
                  "00000000-0000-4000-8000-01a2425cf3faa",  # 13
                  "10000000-0000-4000-8000-01a2425cf3fa",
                  " 00000000-0000-4000-8000-01a2425cf3fa",
                  str(uuid.uuid4()), None, 1796409717754]:
        assert canary_published_at(other) is None, other


def typescript_receipts(cases: list[tuple[str, int, int]]) -> list[list[str]]:
    """[canaryId, receiptKey, receiptBody] of each (source, published ms, committed ms), by contract.ts itself."""
    script = """
import { canaryId, receiptBody, receiptKey } from './platform/freshness/contract.ts';
const cases: [string, number, number][] = JSON.parse(process.argv[1]);
console.log(JSON.stringify(cases.map(([source, publishedAtMs, committedAtMs]) => {
  const id = canaryId(publishedAtMs);
  return [id, receiptKey({ source, id, committedAtMs }), receiptBody({ source, id, publishedAtMs, committedAtMs })];
})));
"""
    done = subprocess.run([str(REPO / "node_modules" / ".bin" / "tsx"), "-e", script, json.dumps(cases)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_receipt_key_and_body_are_those_of_contract_ts():
    published = 1796409717754
    cases = [("clickstream", published, published + d) for d in (0, 1, 999, 1000, 2234, 10_000, 61_001, 3_600_000,
                                                                  86_400_123, -250, -3000)]
    # Up to the last millisecond of year 9999 (beyond it JavaScript writes extended years, Python's datetime stops:
    # such a receipt is logged as not written, below).
    cases += [("orders", 0, 1), ("page-views_2", 1, 1796409717754), ("clickstream", 253402300799000, 253402300799999)]
    for (source, p, c), (ts_id, ts_key, ts_body) in zip(cases, typescript_receipts(cases)):
        assert canary_id(p) == ts_id
        assert receipt_key(source, ts_id, c) == ts_key
        assert receipt_body(source, ts_id, p, c) == ts_body, (p, c)


def test_receipt_path_argument():
    stream = ["--source", "clickstream", "--schema-resource", "clickstream.schema.json", "--event-time-field",
              "occurred_at", "--table-path", "s3://lake/clickstream/events/", "--error-path",
              "s3://lake/clickstream/errors/", "--checkpoint-location", "s3://lake/clickstream/checkpoint/",
              "--stream-arn", "arn:aws:kinesis:eu-west-1:123456789012:stream/clickstream"]
    assert parse_stream_args(stream).freshness_receipts_path is None
    args = parse_stream_args(stream + ["--freshness-receipts-path", "s3://my-lake-bucket-1a2b/"])
    assert (args.freshness_receipts_path, args.s3_endpoint) == ("s3://my-lake-bucket-1a2b/", None)
    assert receipts_bucket("s3://my-lake-bucket-1a2b/") == receipts_bucket("s3://my-lake-bucket-1a2b") == "my-lake-bucket-1a2b"
    for bad in ["s3://lake/clickstream/", "lake", "s3a://lake/", "s3://", "https://lake.s3.amazonaws.com/"]:
        with pytest.raises(SystemExit, match=re.escape("--freshness-receipts-path takes the root of an S3 bucket")):
            parse_stream_args(stream + ["--freshness-receipts-path", bad])
    with pytest.raises(SystemExit, match=re.escape("--s3-endpoint is the endpoint of the freshness receipts' S3 client")):
        parse_stream_args(stream + ["--s3-endpoint", "http://127.0.0.1:4568"])


class RefusingS3:
    """Answers PutObject as S3 does for a role without s3:PutObject on the key."""

    def __init__(self):
        self.calls = 0

    def put_object(self, **request):
        from botocore.exceptions import ClientError

        self.calls += 1
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutObject")


def test_a_receipt_that_cannot_be_written_is_logged_never_raised(caplog):
    client = RefusingS3()
    writer = ReceiptWriter("lake", lambda: client)
    canaries = [Canary(canary_id(1_000), 1_000), Canary(canary_id(2_000), 2_000)]
    caplog.set_level(logging.WARNING, logger="stream_foundry_delta.freshness")
    assert writer.write("clickstream", canaries, 5_000) == 0
    assert (client.calls, writer.failed, writer.written) == (2, 2, 0)
    assert f"s3://lake/_freshness/clickstream/{canary_id(1_000)}/5000.json not written (ClientError)" in caplog.text

    beyond_year_9999 = Canary(canary_id(2**48 - 1), 2**48 - 1)
    assert writer.write("clickstream", [beyond_year_9999], 2**48 - 1) == 0 and writer.failed == 3
    assert "(OverflowError)" in caplog.text

    failing_factory = ReceiptWriter("lake", lambda: (_ for _ in ()).throw(RuntimeError("no credentials")))
    assert failing_factory.write("clickstream", canaries[:1], 5_000) == 0 and failing_factory.failed == 1


# --- in the running job ------------------------------------------------------------------------------------------------

def now_ms() -> int:
    return int(time.time() * 1000)


def canary_event(published_ms: int, **extra) -> dict:
    """What platform/freshness/canary.ts publishes: a valid event with the canary id and the publish time."""
    moment = datetime.fromtimestamp(published_ms / 1000, tz=timezone.utc)
    return click(moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"), canary_id(published_ms), **extra)


def receipts(endpoint: str, source: str) -> dict[str, tuple[str, str]]:
    """The receipts in the bucket: canary id -> (key, body)."""
    client = s3_client(REGION, endpoint)
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=f"{CANARY['receiptsPrefix']}{source}/").get("Contents", [])
    found: dict[str, tuple[str, str]] = {}
    for item in listed:
        key = item["Key"]
        event_id = key.split("/")[2]
        assert event_id not in found, f"two receipts for {event_id}: {found[event_id][0]}, {key}"
        found[event_id] = (key, client.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode())
    return found


def check_receipt(source: str, event: dict, receipt: tuple[str, str], observed_ms: int, table: str) -> None:
    """Key and body as contract.ts writes them; committed after the canary was published and after a commit of the
    events table, before we saw it; freshness plausible on this machine."""
    key, body = receipt
    published = canary_published_at(event["event_id"])
    match = re.fullmatch(rf"_freshness/{source}/{event['event_id']}/(\d+)\.json", key)
    assert match, key
    committed = int(match.group(1))
    assert body == receipt_body(source, event["event_id"], published, committed)
    assert published < committed <= observed_ms and 0 < json.loads(body)["freshnessSeconds"] < 600
    commits = [json.loads(line)["commitInfo"]["timestamp"]
               for path in sorted((Path(table) / "_delta_log").glob("*.json"))
               for line in path.read_text().splitlines() if '"commitInfo"' in line]
    assert any(published <= t <= committed for t in commits), "the receipt follows a commit of the events table"


def test_the_job_keeps_canaries_out_and_writes_their_receipts(spark, kinesis, workdir, monkeypatch):
    """Through the Glue entry script with the arguments the construct sets (--freshness-receipts-path s3://<bucket>/,
    a delivery stream; --s3-endpoint and --kinesis-endpoint as locally)."""
    from test_delivery_stream import arn

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3RVER_KEYS["AWS_ACCESS_KEY_ID"])  # the receipts' client (driver)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3RVER_KEYS["AWS_SECRET_ACCESS_KEY"])
    name = uuid.uuid4().hex[:8]
    source_stream, delivery_stream = f"canary-src-{name}", f"canary-out-{name}"
    kinesis.create_stream(source_stream, shards=2)
    kinesis.create_stream(delivery_stream, shards=1)
    old = [click(f"2026-11-20T10:00:0{i}Z", user_id=f"u-{i}") for i in range(6)]
    first = canary_event(now_ms())
    kinesis.put(source_stream, [json.dumps(e) for e in old[:3]] + [json.dumps(first)] + [json.dumps(old[3])])

    table, errors = str(workdir / "table"), str(workdir / "errors")
    with s3rver(workdir / "s3rver", BUCKET) as endpoint:
        argv = ["--JOB_NAME", "clickstream-to-delta", "--source", "clickstream",
                "--schema-path", str(SCHEMAS / "clickstream.schema.json"), "--event-time-field", "occurred_at",
                "--table-path", table, "--error-path", errors, "--checkpoint-location", str(workdir / "checkpoint"),
                "--trigger-interval", "1 second", "--source-adapter", "spark-kinesis", "--stream-name", source_stream,
                "--region", REGION, "--kinesis-endpoint", kinesis.endpoint, "--metrics", "false",
                "--delivery-stream-arn", arn(delivery_stream),
                "--freshness-receipts-path", f"s3://{BUCKET}/", "--s3-endpoint", endpoint]
        runner, failure = run_job_in_thread(argv)
        try:
            wait_for(lambda: first["event_id"] in receipts(endpoint, "clickstream"), 300, "the first canary's receipt")
            seen_first = now_ms()
            assert sorted(delta_ids(spark, table)) == sorted(e["event_id"] for e in old[:4])
            # A batch of canaries only (the same one twice, as a redelivery): still a commit, one receipt.
            second = canary_event(now_ms())
            kinesis.put(source_stream, [json.dumps(second), json.dumps(second)])
            wait_for(lambda: second["event_id"] in receipts(endpoint, "clickstream"), 120, "the second canary's receipt")
            seen_second = now_ms()
            # Business events two weeks older than the canaries: not late, since canaries never move the watermark.
            kinesis.put(source_stream, [json.dumps(e) for e in old[4:]])
            wait_for(lambda: len(delta_ids(spark, table)) >= len(old), 120, "the older business events")
            wait_for(lambda: len(kinesis.read(delivery_stream)) >= len(old), 120, "the delivered events")
            time.sleep(3)  # a few more triggers: nothing else may arrive
            assert runner.is_alive() and not failure, failure
            found = receipts(endpoint, "clickstream")
        finally:
            for query in spark.streams.active:
                if query.name == "clickstream-to-delta":
                    query.stop()  # run() then stops the delivery query
            runner.join(60)

    assert sorted(delta_ids(spark, table)) == sorted(e["event_id"] for e in old), "business events only, each once"
    assert delta_rows(spark, errors) == []
    delivered = sorted(json.loads(r["Data"])["event_id"] for r in kinesis.read(delivery_stream))
    assert delivered == sorted(e["event_id"] for e in old), "canaries are not delivered"
    assert set(found) == {first["event_id"], second["event_id"]}, found
    check_receipt("clickstream", first, found[first["event_id"]], seen_first, table)
    check_receipt("clickstream", second, found[second["event_id"]], seen_second, table)


def test_with_rules_a_canary_skips_them_and_is_measured(spark, kinesis, workdir, monkeypatch):
    """A canary the rules would filter (an Android bot) is still recognised by its id: not filtered, not written,
    counted as a canary (not in EventsIn), and its receipt written; the business events go through the rules as before."""
    from stream_foundry_delta.metrics import BatchMetrics
    from stream_foundry_delta.pipeline import start_stream
    from test_rules_stream import CASE, processing_document
    from test_stream import config, source

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3RVER_KEYS["AWS_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3RVER_KEYS["AWS_SECRET_ACCESS_KEY"])
    stream = f"canary-rules-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(stream, shards=1)
    business = [e for e in CASE["events"] if e["event_id"].endswith(("0001", "0002"))]
    canary = canary_event(now_ms(), is_bot=True, device={"os": "android"})
    kinesis.put(stream, [json.dumps(business[0]), json.dumps(canary), json.dumps(business[1])])

    with s3rver(workdir / "s3rver", BUCKET) as endpoint:
        cfg = config(workdir, "canary-rules", processing=processing_document(CASE), hash_key=CASE["hashKey"].encode(),
                     receipts=ReceiptWriter.for_url(f"s3://{BUCKET}/", region=REGION, endpoint_url=endpoint))
        metrics = BatchMetrics("test", lambda: None, flush_every_s=1e9)
        query = start_stream(spark, source(spark, kinesis, stream), cfg, metrics=metrics)
        try:
            wait_for(lambda: canary["event_id"] in receipts(endpoint, "clickstream"), 300, "the canary's receipt")
            seen = now_ms()
            assert query.exception() is None
            found = receipts(endpoint, "clickstream")
        finally:
            query.stop()

    rows = {row["event_id"]: row for row in delta_rows(spark, cfg.table_path)}
    assert set(rows) == {e["event_id"] for e in business}, "the business events, through the rules"
    assert all(row["user_id"] != e["user_id"] for e in business for row in [rows[e["event_id"]]]), "hashed by the rules"
    assert delta_rows(spark, cfg.error_path) == []
    # EventsIn counts what publishers sent (the no-data alarm's metric); the canary is counted apart, not filtered.
    assert (metrics.events, metrics.canaries, metrics.filtered, metrics.rejected) == (2, 1, 0, 0)
    check_receipt("clickstream", canary, found[canary["event_id"]], seen, cfg.table_path)
    assert cfg.receipts.failed == 0 and cfg.receipts.written == 1
