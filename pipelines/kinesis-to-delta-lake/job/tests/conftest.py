"""Shared fixtures: one local SparkSession (Delta + the Spark Kinesis connector) and one kinesalite for the whole
run; helpers to feed a Kinesis stream and to wait for the Delta table."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pytest

JOB_DIR = Path(__file__).resolve().parents[1]
REPO = JOB_DIR.parents[2]
SCHEMAS = REPO / "schemas"
sys.path.insert(0, str(JOB_DIR / "src"))
# The Kinesis connector's AWS SDK (in the JVM, which inherits this environment) finds kinesalite's dummy credentials
# in the environment, and never asks an instance-metadata endpoint for any.
os.environ.update({"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_EC2_METADATA_DISABLED": "true"})
# Spark's Python workers import the job's package too.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(JOB_DIR / "src"), os.environ.get("PYTHONPATH")]))

from stream_foundry_delta.kinesalite import Kinesalite  # noqa: E402


@pytest.fixture(scope="session")
def kinesis() -> Iterable[Kinesalite]:
    with Kinesalite.start(REPO) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from stream_foundry_delta.session import local_session

    session = local_session(
        "spark-delta-tests",
        warehouse=str(tmp_path_factory.mktemp("warehouse")),
        conf={
            "spark.sql.streaming.minBatchesToRetain": "5",
            # no extra micro-batches just to advance the watermark: fewer Spark jobs on a small shared machine
            "spark.sql.streaming.noDataMicroBatches.enabled": "false",
        },
    )
    yield session
    session.stop()


@pytest.fixture
def workdir(tmp_path) -> Path:
    return tmp_path


def clickstream_schema() -> dict:
    return json.loads((SCHEMAS / "clickstream.schema.json").read_text())


def click(event_time: str, event_id: str | None = None, **extra) -> dict:
    event = {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": "click",
        "occurred_at": event_time,
        "user_id": "u-1",
        "session_id": "s-1",
    }
    event.update(extra)
    return event


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def delta_rows(spark, path: str) -> list:
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return []
    return spark.read.format("delta").load(path).collect()


_SEEN: dict[tuple[str, str], tuple[int, list]] = {}


def delta_ids(spark, path: str, column: str = "event_id") -> list:
    """The column's values in the table's latest version. Polled often, so Spark reads the table only when a new
    commit appeared in _delta_log (listing a directory costs nothing; a Spark job costs seconds here)."""
    log = Path(path) / "_delta_log"
    commits = [int(p.stem) for p in log.glob("*.json")] if log.is_dir() else []
    if not commits:
        return []
    version = max(commits)
    cached = _SEEN.get((path, column))
    if cached is None or cached[0] != version:
        values = [row[0] for row in spark.read.format("delta").load(path).select(column).collect()]
        _SEEN[(path, column)] = cached = (version, values)
    return cached[1]


#: s3rver's own key pair (it refuses any other access key id; kinesalite accepts any).
S3RVER_KEYS = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER"}

_S3RVER = """
const S3rver = require('s3rver');
new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[1], configureBuckets: [{ name: process.argv[2] }] })
  .run()
  .then(({ port }) => console.log(port), (err) => { console.error(err); process.exit(1); });
"""


@contextlib.contextmanager
def s3rver(directory: Path, bucket: str) -> Iterator[str]:
    """s3rver (the project's npm devDependency) on a free port of 127.0.0.1 with ``bucket``; yields its endpoint."""
    from stream_foundry_delta.kinesalite import _die_with_parent

    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(["node", "-e", _S3RVER, str(directory), bucket], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=_die_with_parent)
    port = process.stdout.readline().strip()
    if not port.isdigit():
        process.kill()
        raise RuntimeError(f"s3rver did not start: {process.stderr.read()}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(5)


def run_job_in_thread(argv: list[str]) -> tuple[threading.Thread, list[BaseException]]:
    """The job's entry script (``glue_stream_job.main``) with ``argv``, in a daemon thread, as Glue runs it; what it
    raises is collected in the returned list, for the test to assert on."""
    import glue_stream_job

    failure: list[BaseException] = []

    def job() -> None:
        try:
            glue_stream_job.main(argv)
        except BaseException as err:  # noqa: BLE001 - asserted by the caller
            failure.append(err)

    runner = threading.Thread(target=job, daemon=True)
    runner.start()
    return runner, failure
