package dev.streamfoundry.flink;

import org.apache.flink.metrics.MetricGroup;

/**
 * The job's own metrics and where they are registered. Managed Service for Apache Flink sends a job's own metrics to
 * CloudWatch only when they are registered under the {@value #GROUP} metric group ("Use custom metrics with Amazon
 * Managed Service for Apache Flink"); they then appear in {@code AWS/KinesisAnalytics} with the {@code Application}
 * dimension. The names are in {@code stream-foundry-contract.json}, which the construct's alarms read.
 */
public final class JobMetrics {
    public static final String GROUP = "kinesisanalytics";

    /** Every record read from Kafka (valid or not): a counter and its per-second rate over a minute. */
    public static final String EVENTS_IN = "eventsIn";
    public static final String EVENTS_IN_PER_SECOND = "eventsInPerSecond";
    public static final String EVENTS_VALID = "eventsValid";
    /** Records written to the error location: a counter and its per-second rate over a minute. */
    public static final String EVENTS_MALFORMED = "eventsMalformed";
    public static final String EVENTS_MALFORMED_PER_SECOND = "eventsMalformedPerSecond";
    public static final String DUPLICATES_DROPPED = "duplicatesDropped";

    /** Seconds a rate is averaged over: a minute, so each event shows in at least one of CloudWatch's one-minute samples. */
    public static final int RATE_SECONDS = 60;

    private JobMetrics() {
    }

    /** The group an operator registers its metrics in, so that they reach CloudWatch. */
    public static MetricGroup of(MetricGroup operatorGroup) {
        return operatorGroup.addGroup(GROUP);
    }
}
