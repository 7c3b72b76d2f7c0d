"""A local Kinesis (kinesalite, the project's npm devDependency) for the tests and the latency bench."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Iterable

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


def _die_with_parent() -> None:
    """Linux: the emulator gets SIGTERM when the process that started it dies, even if it is killed."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Kinesalite:
    """Runs ``node_modules/kinesalite`` on a free loopback port; ``client()`` is a boto3 Kinesis client for it."""

    def __init__(self, process: subprocess.Popen, port: int):
        self.process = process
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, repo: Path, timeout: float = 20.0) -> "Kinesalite":
        cli = repo / "node_modules" / "kinesalite" / "cli.js"
        if not cli.exists():
            raise RuntimeError(f"{cli} is missing: run `npm ci` in {repo} first (kinesalite is a devDependency)")
        port = _free_port()
        process = subprocess.Popen(
            ["node", str(cli), "--port", str(port), "--createStreamMs", "0", "--deleteStreamMs", "0",
             "--updateStreamMs", "0", "--shardLimit", "1000"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"kinesalite exited: {process.stderr.read().decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return cls(process, port)
            except OSError:
                time.sleep(0.1)
        process.kill()
        raise RuntimeError(f"kinesalite did not listen on port {port} within {timeout}s")

    def __enter__(self) -> "Kinesalite":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def client(self):
        import boto3

        return boto3.client("kinesis", endpoint_url=self.endpoint, region_name=REGION, **CREDENTIALS)

    def create_stream(self, name: str, shards: int = 2) -> None:
        client = self.client()
        client.create_stream(StreamName=name, ShardCount=shards)
        client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})

    def put(self, name: str, records: Iterable[bytes | str], partition_key: str | None = None) -> list[str]:
        """Put records in order (one PutRecords call per 500); returns their sequence numbers."""
        client = self.client()
        batch: list[dict] = []
        sequence_numbers: list[str] = []

        def flush() -> None:
            if batch:
                response = client.put_records(StreamName=name, Records=batch)
                if response.get("FailedRecordCount"):
                    raise RuntimeError(f"kinesalite rejected {response['FailedRecordCount']} records")
                sequence_numbers.extend(r["SequenceNumber"] for r in response["Records"])
                batch.clear()

        for index, record in enumerate(records):
            data = record.encode() if isinstance(record, str) else record
            batch.append({"Data": data, "PartitionKey": partition_key or str(index)})
            if len(batch) == 500:
                flush()
        flush()
        return sequence_numbers

    def read(self, name: str) -> list[dict]:
        """Every record in the stream, read as a consumer reads it: each shard from ``TRIM_HORIZON``
        (``GetShardIterator``), then ``GetRecords`` until the shard is caught up. Records in shard order, each with
        ``Data`` (bytes), ``PartitionKey``, ``SequenceNumber`` and ``ShardId``."""
        client = self.client()
        records: list[dict] = []
        for shard in client.describe_stream(StreamName=name)["StreamDescription"]["Shards"]:
            iterator = client.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"],
                                                 ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator:
                response = client.get_records(ShardIterator=iterator, Limit=10000)
                records.extend({**record, "ShardId": shard["ShardId"]} for record in response["Records"])
                if not response["Records"] and not response.get("MillisBehindLatest"):
                    break
                iterator = response.get("NextShardIterator")
        return records

    def spark_options(self) -> dict[str, str]:
        """Options for ``sources.spark_kinesis`` against this emulator."""
        return {
            "awsAccessKeyId": CREDENTIALS["aws_access_key_id"],
            "awsSecretKey": CREDENTIALS["aws_secret_access_key"],
            "awsUseInstanceProfile": "false",
        }
