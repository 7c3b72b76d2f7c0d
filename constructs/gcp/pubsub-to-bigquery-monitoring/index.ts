import { Construct } from 'constructs';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';

/**
 * Alert policies, e-mail notification channels and a dashboard for a Pub/Sub → Dataflow → BigQuery pipeline
 * (see README.md for thresholds and the runbook).
 *
 *   Pub/Sub topic ───────── messages published (none for N minutes) ───┐
 *   Pub/Sub subscription ── oldest unacked age, undelivered messages ─┤
 *   Dataflow job ────────── failed, system lag, data freshness ───────┼─▶ alert policies ─▶ e-mail channels
 *   Dataflow job ────────── records routed to the dead-letter table ──┘
 */

/**
 * What the dead-letter alert counts: the output of the template's `FailedRecordToTableRow` step inside its two
 * `WriteFailedRecords` transforms (the second is uniquified by Beam as "WriteFailedRecords2"), i.e. every record on its
 * way to the dead-letter table (DataflowTemplates PubSubToBigQuery.java and v2/common ErrorConverters.java). Dataflow
 * names PCollections "<transform path>.out<n>" (Runner v2 inserts the DoFn, e.g. "/ParMultiDo(...)").
 */
export const DEAD_LETTER_PCOLLECTION_REGEX = 'WriteFailedRecords[0-9]*/FailedRecordToTableRow(/.*)?[.]out[0-9]*';

export interface PubSubToBigQueryThresholds {
  /** @default 600 */
  readonly oldestUnackedMessageAgeSeconds?: number;
  /** @default 10000 */
  readonly undeliveredMessages?: number;
  /** @default 300 */
  readonly systemLagSeconds?: number;
  /** @default 900 */
  readonly dataFreshnessSeconds?: number;
  /** Records routed to the dead-letter table in the last hour above which the alert fires. @default 0 (any record) */
  readonly deadLetterRowsPerHour?: number;
  /** Minutes without a single message published to the topic before the "no data" alert fires. @default 60 */
  readonly noDataMinutes?: number;
}

export interface PubSubToBigQueryMonitoringProps {
  readonly projectId: string;
  /** Name of the topic publishers send to (watched for silence). */
  readonly topicName: string;
  /** Name of the Pub/Sub subscription the job reads. */
  readonly subscriptionName: string;
  /** Name of the Dataflow job. */
  readonly jobName: string;
  /** Dataset and dead-letter table: named in the dead-letter alert, whose runbook queries the table. */
  readonly datasetId: string;
  readonly deadLetterTableId: string;
  /** Shown in alert titles and the dashboard name. */
  readonly pipelineName: string;
  /** Addresses notified of every alert; each becomes an e-mail notification channel. @default none */
  readonly notificationEmails?: string[];
  /** Channels you already have (ids "projects/P/notificationChannels/N"), notified as well. @default none */
  readonly existingNotificationChannels?: string[];
  readonly thresholds?: PubSubToBigQueryThresholds;
  /** User labels on alert policies and channels (cost tags). */
  readonly labels?: Record<string, string>;
  /**
   * Where this README (or a copy of its runbook) lives: every alert links `<runbookUrl>#<its section>`.
   * @default the README's path in this repository
   */
  readonly runbookUrl?: string;
}

interface Condition {
  readonly key: string;
  /** Alert title; also the runbook heading (README.md "### <title>") the alert links to. */
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

/** GitHub's anchor for a Markdown heading: the runbook link of an alert points at its own section. */
export function runbookAnchor(title: string): string {
  return title
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/**
 * Records a PromQL selector's gauge gained over `window`: the difference to its value `window` ago, or its whole value
 * for a series that did not exist then (a job started, updated or replaced within the window).
 */
function gainedOver(selector: string, window: string): string {
  return `(${selector} - ${selector} offset ${window}) or (${selector} unless ${selector} offset ${window})`;
}

export type PipelineAlert =
  | 'noData'
  | 'oldestUnackedMessageAge'
  | 'undeliveredMessages'
  | 'jobFailed'
  | 'systemLag'
  | 'dataFreshness'
  | 'deadLetterRows';

export class PubSubToBigQueryMonitoring extends Construct {
  public readonly notificationChannels: MonitoringNotificationChannel[];
  /** Alert policies by purpose. */
  public readonly alerts: Record<PipelineAlert, MonitoringAlertPolicy>;
  public readonly dashboard: MonitoringDashboard;

  constructor(scope: Construct, id: string, props: PubSubToBigQueryMonitoringProps) {
    super(scope, id);
    const project = props.projectId;
    const t = props.thresholds ?? {};
    const labels = props.labels ?? {};
    const runbook = props.runbookUrl ?? 'constructs/gcp/pubsub-to-bigquery-monitoring/README.md';

    this.notificationChannels = (props.notificationEmails ?? []).map(
      (email, i) =>
        new MonitoringNotificationChannel(this, `Email${i}`, {
          project,
          displayName: `${props.pipelineName} alerts: ${email}`,
          type: 'email',
          labels: { email_address: email },
          userLabels: labels,
        }),
    );
    const channels = [...this.notificationChannels.map((c) => c.id), ...(props.existingNotificationChannels ?? [])];

    const subscription = `resource.type = "pubsub_subscription" AND resource.label.subscription_id = "${props.subscriptionName}"`;
    const job = `resource.type = "dataflow_job" AND resource.label.job_name = "${props.jobName}"`;
    const noDataSeconds = (t.noDataMinutes ?? 60) * 60;
    const conditions: Record<PipelineAlert, Condition> = {
      noData: {
        key: 'no-data',
        title: 'no events published',
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
        title: 'oldest unacknowledged message too old',
        filter: `${subscription} AND metric.type = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"`,
        threshold: t.oldestUnackedMessageAgeSeconds ?? 600,
        duration: '300s',
        alignmentPeriod: '60s',
        aligner: 'ALIGN_MAX',
        severity: 'ERROR',
        runbook: 'Dataflow is not consuming the subscription fast enough, or not at all.',
      },
      undeliveredMessages: {
        key: 'undelivered-messages',
        title: 'subscription backlog too large',
        filter: `${subscription} AND metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages"`,
        threshold: t.undeliveredMessages ?? 10_000,
        duration: '300s',
        alignmentPeriod: '60s',
        aligner: 'ALIGN_MAX',
        severity: 'WARNING',
        runbook: 'More messages are waiting than the job usually holds: traffic spike or a slow or stopped job.',
      },
      jobFailed: {
        key: 'job-failed',
        title: 'Dataflow job failed',
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
        title: 'Dataflow system lag too high',
        filter: `${job} AND metric.type = "dataflow.googleapis.com/job/system_lag"`,
        threshold: t.systemLagSeconds ?? 300,
        duration: '300s',
        alignmentPeriod: '60s',
        aligner: 'ALIGN_MAX',
        severity: 'ERROR',
        runbook: 'Elements wait too long inside the pipeline: workers are saturated or BigQuery writes are slow.',
      },
      dataFreshness: {
        key: 'data-freshness',
        title: 'BigQuery data is stale (data watermark age)',
        filter: `${job} AND metric.type = "dataflow.googleapis.com/job/data_watermark_age"`,
        threshold: t.dataFreshnessSeconds ?? 900,
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
        title: 'records sent to the dead-letter table',
        threshold: t.deadLetterRowsPerHour ?? 0,
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

    this.alerts = Object.fromEntries(
      Object.entries(conditions).map(([name, c]) => [
        name,
        new MonitoringAlertPolicy(this, c.key, {
          project,
          displayName: `${props.pipelineName}: ${c.title}`,
          combiner: 'OR',
          severity: c.severity,
          conditions: [
            c.promql
              ? {
                  displayName: c.title,
                  conditionPrometheusQueryLanguage: {
                    query: `${c.promql.value} > ${c.threshold}`,
                    duration: c.duration,
                    evaluationInterval: c.alignmentPeriod,
                    // Its time series exist only once the job has run: a first deploy creates the policy before.
                    disableMetricValidation: true,
                  },
                }
              : c.absent
              ? {
                  displayName: c.title,
                  conditionAbsent: {
                    filter: c.filter!,
                    duration: c.duration,
                    aggregations: [{ alignmentPeriod: c.alignmentPeriod, perSeriesAligner: c.aligner! }],
                    trigger: { count: 1 },
                  },
                }
              : {
                  displayName: c.title,
                  conditionThreshold: {
                    filter: c.filter!,
                    comparison: 'COMPARISON_GT',
                    thresholdValue: c.threshold,
                    duration: c.duration,
                    aggregations: [{ alignmentPeriod: c.alignmentPeriod, perSeriesAligner: c.aligner! }],
                    trigger: { count: 1 },
                  },
                },
          ],
          notificationChannels: channels,
          documentation: {
            subject: `${props.pipelineName}: ${c.title}`,
            mimeType: 'text/markdown',
            content: `${c.runbook} ${c.absent ? 'Fires after' : 'Threshold:'} ${
              c.absent ? c.duration : c.threshold
            }. Runbook: ${runbook}#${runbookAnchor(c.title)}`,
          },
          alertStrategy: { autoClose: '86400s' },
          userLabels: labels,
        }),
      ]),
    ) as PubSubToBigQueryMonitoring['alerts'];

    this.dashboard = new MonitoringDashboard(this, 'Dashboard', {
      project,
      dashboardJson: JSON.stringify({
        displayName: `${props.pipelineName} (Pub/Sub → Dataflow → BigQuery)`,
        mosaicLayout: {
          columns: 12,
          tiles: Object.values(conditions).map((c, i) => ({
            xPos: (i % 2) * 6,
            yPos: Math.floor(i / 2) * 4,
            width: 6,
            height: 4,
            widget: {
              title: c.title,
              xyChart: {
                dataSets: [
                  {
                    plotType: 'LINE',
                    timeSeriesQuery: c.promql
                      ? { prometheusQuery: c.promql.value }
                      : {
                          timeSeriesFilter: {
                            filter: c.filter!,
                            aggregation: { alignmentPeriod: c.alignmentPeriod, perSeriesAligner: c.aligner! },
                          },
                        },
                  },
                ],
                thresholds: c.absent ? [] : [{ value: c.threshold, label: 'alert threshold' }],
              },
            },
          })),
        },
      }),
    });
  }
}
