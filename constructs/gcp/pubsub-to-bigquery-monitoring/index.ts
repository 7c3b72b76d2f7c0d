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
 *   BigQuery dead-letter ── rows written per hour ────────────────────┘
 */

export interface PubSubToBigQueryThresholds {
  /** @default 600 */
  readonly oldestUnackedMessageAgeSeconds?: number;
  /** @default 10000 */
  readonly undeliveredMessages?: number;
  /** @default 300 */
  readonly systemLagSeconds?: number;
  /** @default 900 */
  readonly dataFreshnessSeconds?: number;
  /** Dead-letter rows per hour above which the alert fires. @default 0 (any row) */
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
  /** Where the runbook lives, linked from every alert. @default the construct README */
  readonly runbookUrl?: string;
}

interface Condition {
  readonly key: string;
  readonly title: string;
  readonly filter: string;
  readonly threshold: number;
  /** How long the condition must hold before the alert opens. */
  readonly duration: string;
  readonly alignmentPeriod: string;
  readonly aligner: 'ALIGN_MAX' | 'ALIGN_SUM';
  readonly severity: 'CRITICAL' | 'ERROR' | 'WARNING';
  readonly runbook: string;
  /** Fire when the metric has no data for `duration` instead of when it crosses `threshold`. */
  readonly absent?: boolean;
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
    const runbook = props.runbookUrl ?? 'constructs/gcp/pubsub-to-bigquery-monitoring/README.md#runbook';

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
      deadLetterRows: {
        key: 'dead-letter-rows',
        title: 'rows written to the dead-letter table',
        filter:
          `resource.type = "bigquery_dataset" AND resource.label.dataset_id = "${props.datasetId}"` +
          ` AND metric.type = "bigquery.googleapis.com/storage/uploaded_row_count"` +
          ` AND metric.label.table = "${props.deadLetterTableId}"`,
        threshold: t.deadLetterRowsPerHour ?? 0,
        duration: '0s',
        alignmentPeriod: '3600s',
        aligner: 'ALIGN_SUM',
        severity: 'WARNING',
        runbook: 'Messages failed to parse or were rejected by BigQuery and were written to the dead-letter table.',
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
            c.absent
              ? {
                  displayName: c.title,
                  conditionAbsent: {
                    filter: c.filter,
                    duration: c.duration,
                    aggregations: [{ alignmentPeriod: c.alignmentPeriod, perSeriesAligner: c.aligner }],
                    trigger: { count: 1 },
                  },
                }
              : {
                  displayName: c.title,
                  conditionThreshold: {
                    filter: c.filter,
                    comparison: 'COMPARISON_GT',
                    thresholdValue: c.threshold,
                    duration: c.duration,
                    aggregations: [{ alignmentPeriod: c.alignmentPeriod, perSeriesAligner: c.aligner }],
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
            }. Runbook: ${runbook} ("${c.title}").`,
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
                    timeSeriesQuery: {
                      timeSeriesFilter: {
                        filter: c.filter,
                        aggregation: { alignmentPeriod: c.alignmentPeriod, perSeriesAligner: c.aligner },
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
