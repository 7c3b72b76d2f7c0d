"""Customer delivery: the events that reached the events table, one JSON object per event, put to a Kinesis stream
that customers read (the third query, ``pipeline.start_delivery``, runs the Spark side; this module is the Kinesis
side, which runs on the executors).

* ``DeliveryTarget``: the delivery stream (its ARN, as the construct passes it), the field whose value is the
  partition key, and the endpoint for local runs. The client addresses the stream by NAME and region, both parsed
  from the ARN: kinesalite, the local Kinesis, accepts no ``StreamARN`` parameter, and the name is as exact.
* ``put_records``: every record, in ``PutRecords`` calls of at most 500 records and 5 MiB (data + partition keys:
  the limit every stream has; streams with a raised maximum record size allow more, which this does not rely on).
  A call Kinesis partly accepts (``FailedRecordCount`` > 0, an ``ErrorCode`` per failed entry:
  ``ProvisionedThroughputExceededException`` or ``InternalFailure``) is retried with the failed entries only, with
  exponential backoff and full jitter, at most ``attempts`` times; a whole call refused with a throttling or
  transient error is retried the same way (botocore's own retries come first). When the attempts run out it raises
  ``DeliveryError``: the task fails, the micro-batch fails, the query and the job fail, and the restarted run
  repeats the batch from the checkpoint. At least once: nothing is dropped silently.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

log = logging.getLogger(__name__)

#: PutRecords: "Each PutRecords request can support up to 500 records", and 5 MiB for the whole request including
#: partition keys (the limit of a stream with the default 1 MiB maximum record size).
MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
#: A partition key is 1 to 256 Unicode characters.
MAX_PARTITION_KEY_CHARS = 256

#: Attempts per PutRecords chunk (the first call included), and the backoff between them: full jitter, a random
#: wait in [0, min(MAX_DELAY_S, BASE_DELAY_S * 2^(attempt-1))). Eight attempts wait at most ~11 s in all: a shard
#: throttled for longer than that is not a transient condition, and the job's restart (from the checkpoint) is the
#: next, slower retry.
ATTEMPTS = 8
BASE_DELAY_S = 0.1
MAX_DELAY_S = 5.0

#: Errors of a whole PutRecords call that are worth another attempt after botocore's own retries: throttling and
#: Kinesis's or KMS's transient failures. Anything else (access denied, stream not found, validation) raises at once.
RETRYABLE_CALL_ERRORS = frozenset({
    "ProvisionedThroughputExceededException", "LimitExceededException", "InternalFailureException",
    "InternalFailure", "ServiceUnavailable", "KMSThrottlingException",
})

_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):stream/([A-Za-z0-9_.-]{1,128})$")


class DeliveryError(RuntimeError):
    """Records Kinesis did not accept after every attempt (or a call it refused outright)."""


def parse_stream_arn(arn: str) -> tuple[str, str]:
    """``arn:aws:kinesis:<region>:<account>:stream/<name>`` -> (region, name); ValueError otherwise."""
    match = _STREAM_ARN.match(arn or "")
    if not match:
        raise ValueError(f"not a Kinesis stream ARN (arn:aws:kinesis:<region>:<12-digit account>:stream/<name>): {arn!r}")
    return match.group(1), match.group(3)


@dataclass(frozen=True)
class DeliveryTarget:
    """Where the delivery query puts the events."""

    stream_arn: str
    #: The source's partitionKeyField: its value is the record's partition key when it is a column of the events
    #: table (else the event id is).
    partition_key_field: str | None = None
    #: A Kinesis endpoint URL (local runs: kinesalite); None: the region's.
    endpoint_url: str | None = None

    def __post_init__(self) -> None:
        parse_stream_arn(self.stream_arn)

    @property
    def region(self) -> str:
        return parse_stream_arn(self.stream_arn)[0]

    @property
    def stream_name(self) -> str:
        return parse_stream_arn(self.stream_arn)[1]


_CLIENTS: dict[tuple[str, str | None], Any] = {}


def kinesis_client(target: DeliveryTarget) -> Any:
    """A Kinesis client for the target, one per Python worker process (a worker runs one task at a time and is
    reused across tasks and micro-batches, so a client, with its connection pool, is built once per worker, not per
    partition). Credentials: the default chain (the job role on Glue's executors). botocore's standard retries
    cover connection errors and whole-call throttling; ``put_records`` retries failed entries."""
    key = (target.region, target.endpoint_url)
    client = _CLIENTS.get(key)
    if client is None:
        import boto3
        from botocore.config import Config

        # Its own session: boto3's default session is not safe to build clients from in several threads.
        client = _CLIENTS[key] = boto3.session.Session().client(
            "kinesis", region_name=target.region, endpoint_url=target.endpoint_url,
            config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}))
    return client


def _size(record: dict) -> int:
    return len(record["Data"]) + len(record["PartitionKey"].encode("utf-8"))


def chunks(records: Iterable[dict]) -> Iterator[list[dict]]:
    """Consecutive chunks of at most MAX_RECORDS_PER_CALL records and MAX_BYTES_PER_CALL bytes (a single larger
    record goes alone, and Kinesis decides). Lazy: a partition is never held in memory whole."""
    chunk: list[dict] = []
    size = 0
    for record in records:
        record_size = _size(record)
        if chunk and (len(chunk) == MAX_RECORDS_PER_CALL or size + record_size > MAX_BYTES_PER_CALL):
            yield chunk
            chunk, size = [], 0
        chunk.append(record)
        size += record_size
    if chunk:
        yield chunk


def backoff(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1, 2, ...): full jitter on an exponential cap."""
    return rand() * min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))


def _error_code(err: Exception) -> str | None:
    response = getattr(err, "response", None)
    return (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None


def put_chunk(client: Any, stream_name: str, records: list[dict], *, attempts: int = ATTEMPTS,
              sleep: Callable[[float], None] = time.sleep, rand: Callable[[], float] = random.random) -> int:
    """One chunk (<= 500 records, <= 5 MiB) to the stream; retries exactly the entries Kinesis failed. Returns the
    number of records put; raises DeliveryError when some are still failing after ``attempts`` calls."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    pending = list(records)
    for attempt in range(1, attempts + 1):
        try:
            response = client.put_records(StreamName=stream_name, Records=pending)
        except Exception as err:  # noqa: BLE001 - botocore's ClientError, and what its retries gave up on
            code = _error_code(err)
            if code not in RETRYABLE_CALL_ERRORS:
                raise DeliveryError(f"PutRecords to {stream_name} refused {len(pending)} records: "
                                    f"{type(err).__name__}: {err}") from err
            failures = Counter({code: len(pending)})
        else:
            results = response.get("Records") or []
            if len(results) != len(pending):
                raise DeliveryError(f"PutRecords to {stream_name} answered {len(results)} results for "
                                    f"{len(pending)} records")
            failed = [(record, result) for record, result in zip(pending, results) if result.get("ErrorCode")]
            if not failed:
                return len(records)
            failures = Counter(result["ErrorCode"] for _, result in failed)
            pending = [record for record, _ in failed]
        if attempt == attempts:
            break
        wait = backoff(attempt, rand)
        log.warning("PutRecords to %s: %s of %s records failed (%s), attempt %s of %s, retrying those in %.2f s",
                    stream_name, len(pending), len(records), dict(failures), attempt, attempts, wait)
        sleep(wait)
    raise DeliveryError(f"PutRecords to {stream_name}: {len(pending)} of {len(records)} records still failing after "
                        f"{attempts} attempts ({dict(failures)}); the micro-batch fails and is repeated from the "
                        f"checkpoint when the job restarts")


def put_records(client: Any, stream_name: str, records: Iterable[dict], **retry: Any) -> int:
    """Every record to the stream, chunk by chunk (``put_chunk``); returns how many were put."""
    return sum(put_chunk(client, stream_name, chunk, **retry) for chunk in chunks(records))


def partition_writer(target: DeliveryTarget, counter: Any = None) -> Callable[[Iterable[Any]], None]:
    """The ``foreachPartition`` function: rows ``(partition_key, payload)`` -> PutRecords from the executor that
    holds the partition; adds the number put to ``counter`` (a Spark accumulator: a failed task's additions are
    discarded, a retried task counts once)."""

    def write(rows: Iterable[Any]) -> None:
        records = ({"Data": row[1].encode("utf-8"), "PartitionKey": row[0]} for row in rows)
        # the client is built only for a partition that has rows (a no-op partition makes no request)
        first = next(records, None)
        if first is None:
            return

        def all_records() -> Iterator[dict]:
            yield first
            yield from records

        put = put_records(kinesis_client(target), target.stream_name, all_records())
        if counter is not None:
            counter.add(put)

    return write
