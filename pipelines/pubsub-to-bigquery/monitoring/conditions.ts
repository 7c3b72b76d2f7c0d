import { PubSubToBigQueryMonitoringProps, thresholdsWithDefaults } from './props';

/**
 * What the dead-letter alert counts: the output of the template's `FailedRecordToTableRow` step inside its two
 * `WriteFailedRecords` transforms (the second is uniquified by Beam as "WriteFailedRecords2"), i.e. every record on its
 * way to the dead-letter table (DataflowTemplates PubSubToBigQuery.java and v2/common ErrorConverters.java). Dataflow
 * names PCollections "<transform path>.out<n>" (Runner v2 inserts the DoFn, e.g. "/ParMultiDo(...)").
 */
export const DEAD_LETTER_PCOLLECTION_REGEX = 'WriteFailedRecords[0-9]*/FailedRecordToTableRow(/.*)?[.]out[0-9]*';

/** The alerts every pipeline has. */
export type BaseAlert =
  | 'noData'
  | 'oldestUnackedMessageAge'
  | 'undeliveredMessages'
  | 'jobFailed'
  | 'systemLag'
  | 'dataFreshness'
  | 'deadLetterRows';

/** Every alert; `freshnessSlo` only with the `freshness` prop. */
export type PipelineAlert = BaseAlert | 'freshnessSlo';

/** Per alert, something; the freshness SLO's only when it is configured. */
export type ByAlert<T> = Record<BaseAlert, T> & Partial<Record<'freshnessSlo', T>>;

export interface Condition {
  readonly key: string;
  /** Alert title; also the heading of its section in docs/runbooks/pubsub-to-bigquery.md, which the alert links. */
  readonly title: string;
  /** Monitoring filter of the metric (unless `promql`). */
  readonly filter?: string;
  readonly threshold: number;
  /** How long the condition must hold before the alert opens. */
  readonly duration: string;
  /** Alignment period of the filter, or evaluation interval of the PromQL condition. */
  readonly alignmentPeriod: string;
  /** Per-series aligner of the filter (unless `promql`). */
  readonly aligner?: 'ALIGN_MAX' | 'ALIGN_SUM';
  readonly severity: 'CRITICAL' | 'ERROR' | 'WARNING';
  readonly runbook: string;
  /** Fire when the metric has no data for `duration` instead of when it crosses `threshold`. */
  readonly absent?: boolean;
  /** A PromQL condition: `value` is charted on the dashboard, `value > threshold` fires the alert. */
  readonly promql?: { readonly value: string };
}

/**
 * The alert table: per alert, what it watches, when it fires, how severe it is and what it means. The alert policies
 * (alerts.ts) and the dashboard's charts (dashboard.ts) are both built from it, in this order.
 */
export function pipelineConditions(props: PubSubToBigQueryMonitoringProps): ByAlert<Condition> {
  const t = thresholdsWithDefaults(props.thresholds);
  const subscription = `resource.type = "pubsub_subscription" AND resource.label.subscription_id = "${props.subscriptionName}"`;
  const job = `resource.type = "dataflow_job" AND resource.label.job_name = "${props.jobName}"`;
  const noDataSeconds = t.noDataMinutes * 60;
  const conditions: ByAlert<Condition> = {
    noData: {
      key: 'no-data',
      title: 'No data',
      filter:
        `resource.type = "pubsub_topic" AND resource.label.topic_id = "${props.topicName}"` +
        ` AND metric.type = "pubsub.googleapis.com/topic/send_message_operation_count"`,
      threshold: noDataSeconds,
      duration: `${noDataSeconds}s`,
      alignmentPeriod: '300s',
      aligner: 'ALIGN_SUM',
      severity: 'WARNING',
      runbook: 'No publisher has sent a single message to the topic: the source went quiet or cannot publish.',
      absent: true,
    },
    oldestUnackedMessageAge: {
      key: 'oldest-unacked-message-age',
      title: 'Lag: oldest unacknowledged message',
      filter: `${subscription} AND metric.type = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"`,
      threshold: t.oldestUnackedMessageAgeSeconds,
      duration: '300s',
      alignmentPeriod: '60s',
      aligner: 'ALIGN_MAX',
      severity: 'ERROR',
      runbook: 'Dataflow is not consuming the subscription fast enough, or not at all.',
    },
    undeliveredMessages: {
      key: 'undelivered-messages',
      title: 'Subscription backlog too large',
      filter: `${subscription} AND metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages"`,
      threshold: t.undeliveredMessages,
      duration: '300s',
      alignmentPeriod: '60s',
      aligner: 'ALIGN_MAX',
      severity: 'WARNING',
      runbook: 'More messages are waiting than the job usually holds: traffic spike or a slow or stopped job.',
    },
    jobFailed: {
      key: 'job-failed',
      title: 'Job failed',
      filter: `${job} AND metric.type = "dataflow.googleapis.com/job/is_failed"`,
      threshold: 0,
      duration: '0s',
      alignmentPeriod: '60s',
      aligner: 'ALIGN_MAX',
      severity: 'CRITICAL',
      runbook: 'The streaming job stopped: nothing reaches BigQuery until it is replaced.',
    },
    systemLag: {
      key: 'system-lag',
      title: 'Lag: system lag',
      filter: `${job} AND metric.type = "dataflow.googleapis.com/job/system_lag"`,
      threshold: t.systemLagSeconds,
      duration: '300s',
      alignmentPeriod: '60s',
      aligner: 'ALIGN_MAX',
      severity: 'ERROR',
      runbook: 'Elements wait too long inside the pipeline: workers are saturated or BigQuery writes are slow.',
    },
    dataFreshness: {
      key: 'data-freshness',
      title: 'Lag: data freshness',
      filter: `${job} AND metric.type = "dataflow.googleapis.com/job/data_watermark_age"`,
      threshold: t.dataFreshnessSeconds,
      duration: '300s',
      alignmentPeriod: '60s',
      aligner: 'ALIGN_MAX',
      severity: 'ERROR',
      runbook: 'The newest fully processed event time trails real time: the table is behind.',
    },
    // Not BigQuery's storage/uploaded_row_count: it is documented to appear up to ~6 hours late and may not count
    // Storage Write API rows. Not a log-based metric either: the template logs nothing per dead-letter record.
    // Dataflow's element count of the template's dead-letter step is sampled every minute (visible within 4).
    deadLetterRows: {
      key: 'dead-letter-rows',
      title: 'Rejected records',
      threshold: t.deadLetterRowsPerHour,
      duration: '0s',
      alignmentPeriod: '60s',
      severity: 'WARNING',
      runbook:
        `Records failed (invalid JSON, a UDF error, or rejected by BigQuery) and were written to ` +
        `${props.datasetId}.${props.deadLetterTableId} instead of the main table.`,
      // element_count is a GAUGE (elements so far, per job run), so the hourly increase needs PromQL: the
      // filter-based aligners that compute a delta accept only DELTA and CUMULATIVE metrics.
      promql: {
        value: `sum(${gainedOver(
          `dataflow_googleapis_com:job_element_count{monitored_resource="dataflow_job",job_name="${props.jobName}",pcollection=~"${DEAD_LETTER_PCOLLECTION_REGEX}"}`,
          '1h',
        )})`,
      },
    },
  };
  if (props.freshness) conditions.freshnessSlo = freshnessSlo(props.jobName, props.freshness);
  return conditions;
}

/** Dataflow's data freshness of the job, the metric the freshness SLO is on (PromQL name of job/data_watermark_age). */
export function dataFreshnessSelector(jobName: string): string {
  return `dataflow_googleapis_com:job_data_watermark_age{monitored_resource="dataflow_job",job_name="${jobName}"}`;
}

/**
 * The freshness SLO: the 95th percentile of Dataflow's data freshness over the window, above the target.
 *
 * What it measures: `job/data_watermark_age`, Dataflow's "data freshness", is now minus the job's data watermark, the
 * event time up to which Dataflow has processed everything, all stages included, so also the BigQuery write step
 * (rows the exactly-once Storage Write API path buffers until its next commit hold the watermark back: Beam's
 * GroupIntoBatches sets its timer's output timestamp to the oldest buffered element). The template reads
 * Pub/Sub without a timestamp attribute, so event time is the message's publish time: the metric is "seconds since
 * the oldest message that has not yet gone all the way through", i.e. publish → Dataflow done. It is Dataflow's view:
 * it does not observe BigQuery making the rows visible to queries (it cannot tell a committed-but-not-yet-queryable
 * row from a queryable one); the triggering frequency (`storageWriteApiTriggeringFrequencySeconds`) is inside it.
 *
 * A gauge sampled every minute: the p95 over time needs PromQL's quantile_over_time (the filter-based percentile
 * aligners accept only distribution-valued metrics). max() over the job's series: an in-place update or a replaced
 * job of the same name briefly has two.
 */
function freshnessSlo(jobName: string, slo: { targetSeconds: number; windowMinutes: number }): Condition {
  return {
    key: 'freshness-slo',
    title: 'Freshness',
    threshold: slo.targetSeconds,
    duration: '0s',
    alignmentPeriod: '60s',
    severity: 'ERROR',
    runbook:
      `The 95th percentile of Dataflow's data freshness (dataflow.googleapis.com/job/data_watermark_age: seconds from ` +
      `a message's publish time until Dataflow has processed it, BigQuery write included) over the last ` +
      `${slo.windowMinutes} minutes is above the freshness target, in seconds.`,
    promql: {
      value: `max(quantile_over_time(0.95, ${dataFreshnessSelector(jobName)}[${slo.windowMinutes}m]))`,
    },
  };
}

/**
 * Records a PromQL selector's gauge gained over `window`: the difference to its value `window` ago, or its whole value
 * for a series that did not exist then (a job started, updated or replaced within the window).
 */
function gainedOver(selector: string, window: string): string {
  return `(${selector} - ${selector} offset ${window}) or (${selector} unless ${selector} offset ${window})`;
}
