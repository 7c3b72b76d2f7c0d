"""The freshness canary at this pipeline's exit (platform/freshness/contract.ts and README).

A canary event is an ordinary, schema-valid event of the source whose id field holds ``CANARY_ID_PREFIX`` followed by
its publish time in epoch milliseconds as 12 lower-case hex digits. The job recognises it by that id alone (before
the processing rules, which could filter or rewrite it), keeps it out of the events table, the aggregates and the
delivery stream (both read the events table), counts it as an event read, and once the micro-batch that held it has
committed the events table, writes a RECEIPT object per canary to the bucket of ``--freshness-receipts-path``:

    <bucket>/_freshness/<source>/<canary id>/<committed epoch ms>.json
    {"source":...,"id":...,"publishedAt":"<ISO>","committedAt":"<ISO>","freshnessSeconds":<number>}

exactly as ``receiptKey``/``receiptBody`` of contract.ts (the reporter reads only the key; tests compare both with the
TypeScript functions' output). A receipt that cannot be written is logged, never raised: it is a measurement, and
failing the micro-batch for it would stop business data (a permanent failure, such as a missing permission, in a
restart loop) for the sake of a missing data point, which the Freshness alarm sees anyway.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from .contract import CANARY

log = logging.getLogger(__name__)

#: The copy of platform/freshness/contract.json's canaryIdPrefix and receiptsPrefix (contract.json "canary").
CANARY_ID_PREFIX: str = CANARY["idPrefix"]
RECEIPTS_PREFIX: str = CANARY["receiptsPrefix"]
#: platform/freshness/contract.json canaryIdTimeDigits (tests/test_freshness.py compares them).
CANARY_ID_TIME_DIGITS = 12
#: A canary id, as a Java regular expression for Spark's ``rlike`` and as a Python one.
CANARY_ID_PATTERN = f"^{re.escape(CANARY_ID_PREFIX)}[0-9a-f]{{{CANARY_ID_TIME_DIGITS}}}$"
_CANARY_ID = re.compile(CANARY_ID_PATTERN)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def canary_published_at(event_id: Any) -> int | None:
    """The publish time (epoch ms) a canary id carries, or None when ``event_id`` is not a canary id."""
    if not isinstance(event_id, str) or not _CANARY_ID.match(event_id):
        return None
    return int(event_id[-CANARY_ID_TIME_DIGITS:], 16)


def canary_id(published_at_ms: int) -> str:
    """The canary id of an event published at ``published_at_ms`` (contract.ts ``canaryId``)."""
    return CANARY_ID_PREFIX + format(int(published_at_ms), "x").rjust(CANARY_ID_TIME_DIGITS, "0")


def receipt_key(source: str, event_id: str, committed_at_ms: int) -> str:
    """contract.ts ``receiptKey``: ``_freshness/<source>/<id>/<committed epoch ms>.json``."""
    return f"{RECEIPTS_PREFIX}{source}/{event_id}/{int(committed_at_ms)}.json"


def _iso(epoch_ms: int) -> str:
    """JavaScript's ``new Date(ms).toISOString()``: UTC, milliseconds, ``Z``."""
    moment = _EPOCH + timedelta(milliseconds=epoch_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def receipt_body(source: str, event_id: str, published_at_ms: int, committed_at_ms: int) -> str:
    """contract.ts ``receiptBody``, byte for byte: ``JSON.stringify`` writes a whole number without ``.0`` and no
    spaces; a difference of whole milliseconds divided by 1000 is printed alike by both languages otherwise."""
    seconds = (committed_at_ms - published_at_ms) / 1000
    return json.dumps(
        {
            "source": source,
            "id": event_id,
            "publishedAt": _iso(published_at_ms),
            "committedAt": _iso(committed_at_ms),
            "freshnessSeconds": int(seconds) if seconds.is_integer() else seconds,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


_S3_ROOT = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/?$")


def receipts_bucket(url: str) -> str:
    """``s3://<bucket>/`` (the bucket's root: the reporter finds receipts by their key's ``_freshness/`` prefix) ->
    the bucket name; ValueError for anything else."""
    match = _S3_ROOT.match(url or "")
    if not match:
        raise ValueError(f"not the root of an S3 bucket (s3://<bucket>/): {url!r}")
    return match.group(1)


def s3_client(region: str | None, endpoint_url: str | None = None) -> Any:
    """An S3 client with short timeouts and few retries: a slow S3 must not hold a micro-batch for a measurement.
    With an endpoint (a local emulator, s3rver): path-style addressing, and checksums only where S3 requires them
    (s3rver knows neither virtual hosts nor boto3's default flexible checksums)."""
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {"connect_timeout": 2, "read_timeout": 5, "retries": {"max_attempts": 3, "mode": "standard"}}
    if endpoint_url:
        options.update(s3={"addressing_style": "path"}, request_checksum_calculation="when_required")
    # Its own session: boto3's default session is not safe to build clients from in several threads.
    return boto3.session.Session().client("s3", region_name=region, endpoint_url=endpoint_url, config=Config(**options))


@dataclass(frozen=True)
class Canary:
    """A canary event the micro-batch held: its id and the publish time it carries."""

    id: str
    published_at_ms: int


class ReceiptWriter:
    """Writes the receipts of a micro-batch's canaries (``PutObject``, one per canary, from the driver). Failures are
    logged and counted (``failed``), never raised (module docstring)."""

    def __init__(self, bucket: str, client_factory: Callable[[], Any]) -> None:
        self.bucket = bucket
        self._client_factory = client_factory
        self._client: Any = None
        self.written = 0
        self.failed = 0

    @classmethod
    def for_url(cls, url: str, *, region: str | None, endpoint_url: str | None = None) -> "ReceiptWriter":
        bucket = receipts_bucket(url)
        return cls(bucket, lambda: s3_client(region, endpoint_url))

    def write(self, source: str, canaries: Iterable[Canary], committed_at_ms: int) -> int:
        """One receipt per canary, committed at ``committed_at_ms``; returns how many were written."""
        written = 0
        for canary in canaries:
            key = receipt_key(source, canary.id, committed_at_ms)
            try:
                body = receipt_body(source, canary.id, canary.published_at_ms, committed_at_ms)
                if self._client is None:
                    self._client = self._client_factory()
                self._client.put_object(Bucket=self.bucket, Key=key, Body=body.encode("utf-8"),
                                        ContentType="application/json")
                written += 1
            except Exception as err:  # noqa: BLE001 - a receipt is a measurement: it never fails the batch
                self.failed += 1
                log.warning("freshness receipt s3://%s/%s not written (%s): %s", self.bucket, key,
                            type(err).__name__, err)
        self.written += written
        if written:
            log.info("freshness: %s receipt(s) for %s committed at %s", written, source, committed_at_ms)
        return written
