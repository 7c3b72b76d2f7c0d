"""The delivery stream's Kinesis side (delivery.py), no Spark: PutRecords chunks within Kinesis's limits, failed
entries retried (exactly those) with backoff, and a loud failure when the attempts run out."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from stream_foundry_delta import delivery
from stream_foundry_delta.delivery import (DeliveryError, DeliveryTarget, backoff, chunks, parse_stream_arn,
                                           partition_writer, put_chunk, put_records)

STREAM = "clickstream-delivery"


def record(i: int, size: int = 40) -> dict:
    return {"Data": json.dumps({"event_id": f"e{i}", "pad": "x" * size}).encode(), "PartitionKey": f"user-{i % 7}"}


class FakeKinesis:
    """Answers PutRecords as Kinesis does, after checking the request as Kinesis would (StreamName, 1-500 records,
    at most 5 MiB with the partition keys, a 1-256 character partition key per record). ``failures`` scripts the
    answers: per call, {index in that call's Records: ErrorCode}, or an exception for the whole call."""

    def __init__(self, failures: list | None = None):
        self.failures = list(failures or [])
        self.calls: list[list[dict]] = []
        self.stored: list[dict] = []

    def put_records(self, **request):
        assert set(request) == {"StreamName", "Records"} and request["StreamName"] == STREAM
        records = request["Records"]
        assert 1 <= len(records) <= 500
        assert sum(len(r["Data"]) + len(r["PartitionKey"].encode()) for r in records) <= 5 * 1024 * 1024
        assert all(1 <= len(r["PartitionKey"]) <= 256 and isinstance(r["Data"], bytes) for r in records)
        self.calls.append(list(records))
        script = self.failures.pop(0) if self.failures else {}
        if isinstance(script, Exception):
            raise script
        results = []
        for index, rec in enumerate(records):
            if index in script:
                message = "Internal Service Failure" if script[index] == "InternalFailure" else "Rate exceeded for shard"
                results.append({"ErrorCode": script[index], "ErrorMessage": message})
            else:
                self.stored.append(rec)
                results.append({"SequenceNumber": str(len(self.stored)), "ShardId": "shardId-000000000000"})
        return {"FailedRecordCount": len(script), "Records": results}


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutRecords")


def test_a_partial_failure_retries_exactly_the_failed_entries():
    records = [record(i) for i in range(6)]
    kinesis = FakeKinesis([{1: "ProvisionedThroughputExceededException", 4: "InternalFailure"},
                           {1: "ProvisionedThroughputExceededException"}])
    waits: list[float] = []
    assert put_chunk(kinesis, STREAM, records, sleep=waits.append, rand=lambda: 1.0) == 6
    assert kinesis.calls == [records, [records[1], records[4]], [records[4]]]
    assert sorted(kinesis.stored, key=records.index) == records, "every record stored once"
    assert waits == [0.1, 0.2], "exponential backoff (full jitter: rand() times the cap)"


def test_exhausted_attempts_raise_and_name_what_failed():
    records = [record(i) for i in range(3)]
    kinesis = FakeKinesis([{0: "ProvisionedThroughputExceededException", 2: "InternalFailure"}]
                          + [{0: "ProvisionedThroughputExceededException"}] * 10)
    waits: list[float] = []
    with pytest.raises(DeliveryError, match=r"1 of 3 records still failing after 4 attempts "
                                            r"\(\{'ProvisionedThroughputExceededException': 1\}\)"):
        put_chunk(kinesis, STREAM, records, attempts=4, sleep=waits.append, rand=lambda: 0.5)
    assert kinesis.calls == [records, [records[0], records[2]], [records[0]], [records[0]]] and len(waits) == 3
    assert kinesis.stored == [records[1], records[2]], "what Kinesis accepted stays accepted; records[0] is not"


def test_backoff_is_exponential_capped_and_jittered():
    assert [backoff(n, rand=lambda: 1.0) for n in range(1, 10)] == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]
    assert backoff(3, rand=lambda: 0.25) == 0.1
    assert sum(backoff(n, rand=lambda: 1.0) for n in range(1, delivery.ATTEMPTS)) < 12, "bounded: ~11 s in all"


def test_a_throttled_call_is_retried_whole_and_a_refused_one_raises_at_once():
    records = [record(i) for i in range(2)]
    kinesis = FakeKinesis([client_error("ProvisionedThroughputExceededException"), client_error("KMSThrottlingException")])
    assert put_chunk(kinesis, STREAM, records, sleep=lambda s: None) == 2
    assert kinesis.calls == [records] * 3
    refused = FakeKinesis([client_error("ResourceNotFoundException")])
    with pytest.raises(DeliveryError, match="refused 2 records: ClientError.*ResourceNotFoundException"):
        put_chunk(refused, STREAM, records, sleep=lambda s: pytest.fail("no retry"))
    assert len(refused.calls) == 1


def test_chunks_keep_to_500_records_and_5_mib():
    assert [len(c) for c in chunks(record(i) for i in range(1201))] == [500, 500, 201]
    big = [record(i, size=2 * 1024 * 1024) for i in range(5)]  # 2 MiB each: two per call
    assert [len(c) for c in chunks(big)] == [2, 2, 1]
    kinesis = FakeKinesis()
    assert put_records(kinesis, STREAM, (record(i) for i in range(1201)), sleep=lambda s: None) == 1201
    assert len(kinesis.stored) == 1201 and [len(c) for c in kinesis.calls] == [500, 500, 201]


class Counter:
    def __init__(self):
        self.value = 0

    def add(self, n):
        self.value += n


def test_partition_writer_puts_a_partition_with_the_workers_client(monkeypatch):
    kinesis = FakeKinesis([{0: "InternalFailure"}])
    monkeypatch.setattr(delivery, "kinesis_client", lambda target: kinesis)
    monkeypatch.setattr(delivery.time, "sleep", lambda s: None)
    target = DeliveryTarget(f"arn:aws:kinesis:eu-west-1:123456789012:stream/{STREAM}", "user_id")
    counter = Counter()
    write = partition_writer(target, counter)
    write(iter([("u-1", '{"event_id":"a"}'), ("u-2", '{"event_id":"b"}')]))
    write(iter([]))  # an empty partition makes no request
    assert [r["PartitionKey"] for r in kinesis.stored] == ["u-2", "u-1"] and counter.value == 2
    assert len(kinesis.calls) == 2


def test_the_stream_is_named_by_its_arn():
    assert parse_stream_arn("arn:aws:kinesis:eu-west-1:123456789012:stream/clickstream-delivery") == (
        "eu-west-1", "clickstream-delivery")
    assert parse_stream_arn("arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/a.b_c-1")[1] == "a.b_c-1"
    target = DeliveryTarget("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s", endpoint_url="http://127.0.0.1:1")
    assert (target.region, target.stream_name) == ("cn-north-1", "s")
    for bad in ["clickstream-delivery", "arn:aws:kinesis:eu-west-1:1234:stream/s",
                "arn:aws:sqs:eu-west-1:123456789012:stream/s", "arn:aws:kinesis:eu-west-1:123456789012:stream/",
                "arn:aws:kinesis:eu-west-1:123456789012:stream/s/consumer/c:1"]:
        with pytest.raises(ValueError, match="not a Kinesis stream ARN"):
            DeliveryTarget(bad)
