import { Annotations } from 'cdktf';
import { Construct } from 'constructs';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import { buildAlertPolicies, buildEmailChannels } from './alerts';
import { ByAlert, pipelineConditions } from './conditions';
import { buildDashboard } from './dashboard';
import { NOTIFICATION_CHANNEL_ID, PubSubToBigQueryMonitoringProps } from './props';

export { DEAD_LETTER_PCOLLECTION_REGEX } from './conditions';
export { dataFreshnessSelector } from './conditions';
export type { BaseAlert, ByAlert, PipelineAlert } from './conditions';
export { RUNBOOK } from './props';
export type { FreshnessSlo, PubSubToBigQueryMonitoringProps, PubSubToBigQueryThresholds } from './props';

/**
 * Alert policies, e-mail notification channels and a dashboard for a Pub/Sub → Dataflow → BigQuery pipeline
 * (see README.md for thresholds and the runbook).
 *
 *   Pub/Sub topic ───────── messages published (none for N minutes) ───┐
 *   Pub/Sub subscription ── oldest unacked age, undelivered messages ─┤
 *   Dataflow job ────────── failed, system lag, data freshness ───────┼─▶ alert policies ─▶ e-mail channels
 *   Dataflow job ────────── records routed to the dead-letter table ──┤
 *   Dataflow job ────────── p95 data freshness over the window (SLO) ─┘
 */
export class PubSubToBigQueryMonitoring extends Construct {
  public readonly notificationChannels: MonitoringNotificationChannel[];
  /** Alert policies by purpose (`freshnessSlo` only with the `freshness` prop). */
  public readonly alerts: ByAlert<MonitoringAlertPolicy>;
  public readonly dashboard: MonitoringDashboard;

  constructor(scope: Construct, id: string, props: PubSubToBigQueryMonitoringProps) {
    super(scope, id);
    const existing = props.existingNotificationChannels ?? [];
    const invalid = existing.filter((channel) => !NOTIFICATION_CHANNEL_ID.test(channel));
    if (invalid.length > 0) {
      throw new Error(
        `${this.node.path}: existingNotificationChannels must be ids "projects/PROJECT/notificationChannels/ID", got ${JSON.stringify(invalid)}`,
      );
    }
    if (existing.length === 0 && !props.notificationEmails?.length) {
      // Shown by `cdktf synth` (npm run synth:gcp), as the AWS apps warn about an alarm topic nobody reads.
      Annotations.of(this).addWarning(
        `Alert policies of ${props.pipelineName} notify no one: set "alarmEmails" (or "gcp.notificationChannels") in cdk.json or with -c.`,
      );
    }
    const conditions = pipelineConditions(props);
    this.notificationChannels = buildEmailChannels(this, props);
    const channels = [...this.notificationChannels.map((c) => c.id), ...existing];
    this.alerts = buildAlertPolicies(this, props, conditions, channels);
    this.dashboard = buildDashboard(this, props, conditions);
  }
}
