package dev.streamfoundry.flink;

import org.apache.flink.metrics.MetricGroup;

/**
 * The job's own metrics and where they are registered. Managed Service for Apache Flink sends a job's own metrics to
 * CloudWatch only when they are registered under the {@code kinesisanalytics} metric group ("Use custom metrics with Amazon
 * Managed Service for Apache Flink"); they then appear in {@code AWS/KinesisAnalytics} with the {@code Application}
 * dimension. The group and the names are read from {@code stream-foundry-contract.json} ({@link JobContract}), which
 * the construct's alarms read too.
 */
public final class JobMetrics {
    public static final String GROUP = JobContract.value("metricGroup");

    /** Every record read from Kafka (valid or not), freshness canaries excepted: a counter and its per-second rate over a minute. */
    public static final String EVENTS_IN = JobContract.metric("eventsIn");
    public static final String EVENTS_IN_PER_SECOND = JobContract.metric("eventsInPerSecond");
    public static final String EVENTS_VALID = JobContract.metric("eventsValid");
    /** Records written to the error location: a counter and its per-second rate over a minute. */
    public static final String EVENTS_MALFORMED = JobContract.metric("eventsMalformed");
    public static final String EVENTS_MALFORMED_PER_SECOND = JobContract.metric("eventsMalformedPerSecond");
    public static final String DUPLICATES_DROPPED = JobContract.metric("duplicatesDropped");
    /** Valid events a filter rule removed (docs/processing-rules.md): counted, not errors. */
    public static final String EVENTS_FILTERED = JobContract.metric("eventsFiltered");
    /** Events that arrived after their aggregate window was final: in the events table, not in the aggregates. */
    public static final String EVENTS_LATE = JobContract.metric("eventsLate");
    /** Freshness canary events read (platform/freshness): not in {@link #EVENTS_IN} or {@link #EVENTS_VALID}, never written. */
    public static final String CANARIES = JobContract.metric("canaries");
    /** Freshness receipts that could not be written (logged; the data is committed, only the measurement is lost). */
    public static final String FRESHNESS_RECEIPT_FAILURES = JobContract.metric("freshnessReceiptFailures");

    /** Seconds a rate is averaged over: a minute, so each event shows in at least one of CloudWatch's one-minute samples. */
    public static final int RATE_SECONDS = 60;

    private JobMetrics() {
    }

    /** The group an operator registers its metrics in, so that they reach CloudWatch. */
    public static MetricGroup of(MetricGroup operatorGroup) {
        return operatorGroup.addGroup(GROUP);
    }
}
