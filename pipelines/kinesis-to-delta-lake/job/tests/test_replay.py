"""A replay over data the job already processed is harmless: `npm run replay` (scripts/replay.ts, run as a user runs
it) republishes a raw-zone window that holds events already in the Delta table plus events the job never got; the
table ends with every event id once and the new ones added.

The raw zone lives in s3rver (the project's npm devDependency, started with node), laid out as Firehose writes it:
``<name>/dt=YYYY-MM-DD/hour=HH/<file>.gz``, GZIP, one record per line. The replayed events are within the job's
watermark, so it is the dedup state, not the late-event drop, that removes the copies (asserted: nothing dropped by
the watermark). Past the watermark, a replay restores nothing (late events are dropped): README.md, "Replay".
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import REPO, click, clickstream_schema, delta_ids, delta_rows, wait_for
from stream_foundry_delta.kinesalite import REGION, _die_with_parent
from stream_foundry_delta.pipeline import StreamConfig, dropped_by_watermark, start_stream
from stream_foundry_delta.sources import spark_kinesis

pytestmark = pytest.mark.timeout(600)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
BUCKET = "raw-zone"
#: s3rver's own key pair (kinesalite accepts any).
S3RVER_KEYS = {"aws_access_key_id": "S3RVER", "aws_secret_access_key": "S3RVER"}

#: Starts s3rver on a free port of 127.0.0.1 with the bucket, and prints the port.
S3RVER = """
const S3rver = require('s3rver');
new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[1], configureBuckets: [{ name: process.argv[2] }] })
  .run()
  .then(({ port }) => console.log(port), (err) => { console.error(err); process.exit(1); });
"""


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def s3rver(tmp_path):
    (tmp_path / "s3rver").mkdir()
    process = subprocess.Popen(
        ["node", "-e", S3RVER, str(tmp_path / "s3rver"), BUCKET],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_die_with_parent,
    )
    port = process.stdout.readline().strip()
    if not port.isdigit():
        process.kill()
        raise RuntimeError(f"s3rver did not start: {process.stderr.read()}")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(5)


def write_raw_zone(endpoint: str, objects: dict[str, list[str]]) -> None:
    import boto3
    from botocore.config import Config

    # s3rver knows neither virtual-host addressing nor the flexible checksums boto3 sends by default.
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **S3RVER_KEYS,
                      config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required"))
    for key, lines in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress("".join(f"{line}\n" for line in lines).encode()))


def test_replay_of_processed_events_adds_only_the_new_ones(spark, kinesis, workdir, s3rver):
    stream = f"replay-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(stream, shards=2)
    cfg = StreamConfig(
        source="clickstream",
        schema=clickstream_schema(),
        event_time_field="occurred_at",
        id_field="event_id",
        table_path=str(workdir / "processed"),
        error_path=str(workdir / "errors"),
        checkpoint_location=str(workdir / "checkpoint"),
        trigger_interval="1 second",
        watermark_delay="10 minutes",
        query_name="test-replay",
    )
    processed = [click(iso(T0 + timedelta(seconds=i)), user_id=f"u-{i % 4}") for i in range(20)]
    missed = [click(iso(T0 + timedelta(seconds=30 + i)), user_id=f"u-{i % 4}") for i in range(5)]
    kinesis.put(stream, [json.dumps(e) for e in processed])

    query = start_stream(spark, spark_kinesis(spark, stream, endpoint_url=kinesis.endpoint, region=REGION,
                                              options=kinesis.spark_options()), cfg)
    try:
        # The first micro-batch (Spark plans the query, Delta and the state store start) takes most of the test's time.
        wait_for(lambda: len(delta_ids(spark, cfg.table_path)) >= 20, 300, "the processed events", interval=0.5)

        # The raw zone as Firehose archived the stream (arrival hours 09 and 10), plus what the broker never
        # delivered to the job: the events it missed. Hour 11 is outside the window.
        line = json.dumps
        write_raw_zone(s3rver, {
            "clickstream/dt=2026-11-20/hour=09/raw-1.gz": [line(e) for e in processed[:12]],
            "clickstream/dt=2026-11-20/hour=10/raw-2.gz": [line(e) for e in processed[12:] + missed[:3]],
            "clickstream/dt=2026-11-20/hour=10/raw-3.gz": [line(e) for e in missed[3:]],
            "clickstream/dt=2026-11-20/hour=11/raw-4.gz": [line(click(iso(T0)))],
        })
        replay = subprocess.run(
            ["npx", "tsx", "scripts/replay.ts", "--source", "clickstream", "--bucket-url", f"s3://{BUCKET}/clickstream/",
             "--stream", stream, "--from", "2026-11-20T09:00Z", "--to", "2026-11-20T11:00Z"],
            cwd=REPO, capture_output=True, text=True, timeout=60,
            env={**os.environ, "AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER", "AWS_REGION": REGION,
                 "AWS_ENDPOINT_URL_S3": s3rver, "AWS_ENDPOINT_URL_KINESIS": kinesis.endpoint},
        )
        assert replay.returncode == 0, replay.stderr
        assert replay.stdout.strip() == (
            "replay clickstream [2026-11-20T09:00Z, 2026-11-20T11:00Z): 3 objects, 25 records, 25 published, 0 failed"
        )

        expected = {e["event_id"] for e in processed + missed}
        wait_for(lambda: set(delta_ids(spark, cfg.table_path)) >= expected, 180, "the missed events", interval=0.5)
        # Every replayed copy shares its partition key, so its shard, with a missed event sent after it (the writer
        # keeps each key's file order): once the missed events are in the table, every copy went through a batch.
        assert query.exception() is None
        dropped = sum(dropped_by_watermark(p) for p in query.recentProgress)
    finally:
        query.stop()

    ids = Counter(row["event_id"] for row in delta_rows(spark, cfg.table_path))
    assert set(ids) == expected
    assert max(ids.values()) == 1, f"written twice: {[k for k, c in ids.items() if c > 1]}"
    assert dropped == 0, "the copies were removed by the dedup state, not dropped as late"
    assert delta_rows(spark, cfg.error_path) == []
