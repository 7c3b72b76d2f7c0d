"""The job's CloudWatch metrics: the request shape (namespace, dimension, names from contract.json) and that a
CloudWatch failure never fails a batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream_foundry_delta.metrics import BatchMetrics

CONTRACT = json.loads((Path(__file__).parents[1] / "src/stream_foundry_delta/contract.json").read_text())


class StubCloudWatch:
    """Checks each request as CloudWatch's PutMetricData API would (at most 1000 datums, a value or a statistic
    set, not both), then records it."""

    def __init__(self, fail: bool = False):
        self.requests, self.fail = [], fail

    def put_metric_data(self, **request):
        assert set(request) == {"Namespace", "MetricData"} and 0 < len(request["MetricData"]) <= 1000
        for datum in request["MetricData"]:
            assert ("Value" in datum) != ("StatisticValues" in datum), datum
        if self.fail:
            raise RuntimeError("AccessDenied: not authorized to perform cloudwatch:PutMetricData")
        self.requests.append(request)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_one_request_per_minute_with_the_contract_names():
    client, clock = StubCloudWatch(), Clock()
    metrics = BatchMetrics("stack-Pipeline-clickstream", lambda: client, clock=clock)
    metrics.record(events=10, rejected=1, duration_ms=900)
    clock.now = 30
    metrics.record(events=5, rejected=0, duration_ms=1100, upkeep_failed=True, canaries=2)
    assert client.requests == []
    clock.now = 61
    metrics.record(events=0, rejected=0, duration_ms=200)
    [request] = client.requests
    names = CONTRACT["metrics"]["names"]
    assert request["Namespace"] == CONTRACT["metrics"]["namespace"]
    data = {d["MetricName"]: d for d in request["MetricData"]}
    assert all(d["Dimensions"] == [{"Name": "JobName", "Value": "stack-Pipeline-clickstream"}] for d in data.values())
    assert data[names["eventsIn"]]["Value"] == 15 and data[names["eventsRejected"]]["Value"] == 1
    assert data[names["canaries"]]["Value"] == 2
    assert data[names["batches"]]["Value"] == 3 and data[names["upkeepFailed"]]["Value"] == 1
    assert data[names["batchDurationMs"]]["StatisticValues"] == {"SampleCount": 3, "Sum": 2200, "Minimum": 200,
                                                                 "Maximum": 1100}


@pytest.mark.parametrize("factory_fails", [False, True])
def test_a_cloudwatch_failure_is_logged_never_raised(factory_fails, caplog):
    def factory():
        if factory_fails:
            raise RuntimeError("no credentials")
        return StubCloudWatch(fail=True)

    metrics = BatchMetrics("job", factory, flush_every_s=0)
    metrics.record(events=1, rejected=0, duration_ms=5)  # flushes, fails, returns
    assert "could not publish the job's metrics" in caplog.text
    assert metrics.events == 0


def test_filtered_and_late_events_are_counted_with_the_contract_names():
    client, clock = StubCloudWatch(), Clock()
    metrics = BatchMetrics("job", lambda: client, clock=clock)
    metrics.record(events=10, rejected=1, filtered=3, duration_ms=900)
    metrics.record_late(2)  # from the driver's main thread (pipeline.run), between batches
    clock.now = 61
    metrics.record(events=4, rejected=0, filtered=1, duration_ms=100)
    names = CONTRACT["metrics"]["names"]
    data = {d["MetricName"]: d["Value"] for d in client.requests[0]["MetricData"] if "Value" in d}
    assert (data[names["eventsFiltered"]], data[names["eventsLate"]], data[names["eventsIn"]]) == (4, 2, 14)
    assert (names["eventsFiltered"], names["eventsLate"]) == ("EventsFiltered", "EventsLate")


def test_delivered_events_are_counted_with_the_contract_name_from_either_querys_thread():
    client, clock = StubCloudWatch(), Clock()
    metrics = BatchMetrics("job", lambda: client, clock=clock)
    metrics.record(events=10, rejected=0, duration_ms=100)
    metrics.record_delivered(7)  # the delivery query's batch thread
    clock.now = 61
    metrics.record_delivered(3)  # a minute passed: this call publishes, once
    metrics.record(events=0, rejected=0, duration_ms=100)
    [request] = client.requests
    names = CONTRACT["metrics"]["names"]
    assert names["eventsDelivered"] == "EventsDelivered"
    data = {d["MetricName"]: d["Value"] for d in request["MetricData"] if "Value" in d}
    assert (data["EventsDelivered"], data[names["eventsIn"]], data[names["batches"]]) == (10, 10, 1)
    assert metrics.delivered == 0 and metrics.batches == 1
