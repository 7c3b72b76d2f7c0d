"""The job's own CloudWatch metrics, published from the driver (Glue documents its ``glue.driver.streaming.*``
metrics for its own ``forEachBatch``, which this job does not use; these do not depend on it).

Per minute (at the end of the first micro-batch after a minute has passed), one ``PutMetricData`` request in the
contract's namespace, dimension ``JobName``: ``EventsIn`` (records read, freshness canaries excepted, so the no-data
alarm still sees silent publishers), ``Canaries`` (freshness canaries read), ``EventsRejected`` (records written to
the error table), ``EventsFiltered`` (records a processing rule's filter removed: counted, not written),
``EventsLate`` (events written to the events table too late for their aggregate window, so not counted in the
aggregates; from the aggregates query's progress), ``EventsDelivered`` (events the delivery query put to the delivery
stream, counted when Kinesis accepted them; ``pipeline.start_delivery``), ``Batches`` (micro-batches of the events
query completed), ``BatchDurationMs`` (statistic set: min/max/sum/count of the time each micro-batch spent in the
job's batch function, where its whole plan runs) and ``UpkeepFailed``. The request goes out from whichever query's
batch finds the minute passed (the events query's or the delivery query's). Nothing is published while no batch
runs: the no-data alarm treats that silence as breaching.

A CloudWatch failure never fails a batch: it is logged, and the counts of that minute are dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from .contract import METRICS

log = logging.getLogger(__name__)

NAMES: dict[str, str] = METRICS["names"]


def cloudwatch_client(region: str | None) -> Any:
    """A CloudWatch client with short timeouts and few retries: a slow CloudWatch must not hold a micro-batch."""
    import boto3
    from botocore.config import Config

    return boto3.client("cloudwatch", region_name=region,
                        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}))


class BatchMetrics:
    def __init__(self, job_name: str, client_factory: Callable[[], Any], *, flush_every_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.job_name = job_name
        self._client_factory = client_factory
        self._client: Any = None
        self._flush_every_s = flush_every_s
        self._clock = clock
        self._last_flush = clock()
        # record (the batch thread), record_delivered (the delivery query's batch thread) and record_late (the
        # driver's main thread) may run at once
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.events = self.canaries = self.rejected = self.filtered = self.late = self.delivered = self.batches = 0
        self.upkeep_failed = 0
        self.durations: list[float] = []

    def record(self, *, events: int, rejected: int, duration_ms: float, upkeep_failed: bool = False,
               filtered: int = 0, canaries: int = 0) -> None:
        with self._lock:
            self.events += events
            self.canaries += canaries
            self.rejected += rejected
            self.filtered += filtered
            self.batches += 1
            self.upkeep_failed += int(upkeep_failed)
            self.durations.append(duration_ms)
        self._flush_if_due()

    def record_delivered(self, delivered: int) -> None:
        """Events a delivery micro-batch put to the delivery stream (the delivery query's batch thread)."""
        with self._lock:
            self.delivered += delivered
        self._flush_if_due()

    def record_late(self, late: int) -> None:
        """Events too late for their aggregate window; published with the next flush."""
        with self._lock:
            self.late += late

    def request(self) -> dict[str, Any]:
        """The PutMetricData request for what was recorded since the last flush."""
        dimensions = [{"Name": METRICS["dimension"], "Value": self.job_name}]

        def count(name: str, value: int) -> dict[str, Any]:
            return {"MetricName": NAMES[name], "Dimensions": dimensions, "Value": float(value), "Unit": "Count"}

        data = [count("eventsIn", self.events), count("canaries", self.canaries), count("eventsRejected", self.rejected),
                count("eventsFiltered", self.filtered), count("eventsLate", self.late),
                count("eventsDelivered", self.delivered),
                count("batches", self.batches), count("upkeepFailed", self.upkeep_failed)]
        if self.durations:
            data.append({
                "MetricName": NAMES["batchDurationMs"], "Dimensions": dimensions, "Unit": "Milliseconds",
                "StatisticValues": {"SampleCount": float(len(self.durations)), "Sum": float(sum(self.durations)),
                                    "Minimum": float(min(self.durations)), "Maximum": float(max(self.durations))},
            })
        return {"Namespace": METRICS["namespace"], "MetricData": data}

    def _flush_if_due(self) -> None:
        with self._lock:
            if self._clock() - self._last_flush < self._flush_every_s:
                return
            request = self._take()
        self._send(request)

    def _take(self) -> dict[str, Any]:
        """The request for what was recorded, and a fresh minute (call with the lock held: two threads that find
        the minute passed at once publish it once)."""
        request = self.request()
        self._last_flush = self._clock()
        self._reset()
        return request

    def flush(self) -> None:
        with self._lock:
            request = self._take()
        self._send(request)

    def _send(self, request: dict[str, Any]) -> None:
        try:
            if self._client is None:
                self._client = self._client_factory()
            self._client.put_metric_data(**request)
        except Exception as err:  # noqa: BLE001 - metrics must never fail the stream
            log.warning("could not publish the job's metrics to CloudWatch (%s): %s", type(err).__name__, err)
