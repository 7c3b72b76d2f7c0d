import { Construct } from 'constructs';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import { ByAlert, Condition } from './conditions';
import { PubSubToBigQueryMonitoringProps, RUNBOOK } from './props';
import { DEFAULT_DOCS_URL, headingAnchor, runbookUrl } from '../../../platform/pipeline/runbook';

/** One e-mail notification channel per address of `notificationEmails`. */
export function buildEmailChannels(
  scope: Construct,
  props: PubSubToBigQueryMonitoringProps,
): MonitoringNotificationChannel[] {
  return (props.notificationEmails ?? []).map(
    (email, i) =>
      new MonitoringNotificationChannel(scope, `Email${i}`, {
        project: props.projectId,
        displayName: `${props.pipelineName} alerts: ${email}`,
        type: 'email',
        labels: { email_address: email },
        userLabels: props.labels ?? {},
      }),
  );
}

/**
 * One alert policy per condition, notifying `channels`; its documentation says what the alert means, its threshold
 * and links the alert's runbook section.
 */
export function buildAlertPolicies(
  scope: Construct,
  props: PubSubToBigQueryMonitoringProps,
  conditions: ByAlert<Condition>,
  channels: string[],
): ByAlert<MonitoringAlertPolicy> {
  const docsUrl = props.docsUrl ?? DEFAULT_DOCS_URL;
  return Object.fromEntries(
    Object.entries(conditions).map(([name, c]) => [
      name,
      new MonitoringAlertPolicy(scope, c.key, {
        project: props.projectId,
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
          }. Runbook: ${runbookUrl(docsUrl, RUNBOOK, headingAnchor(c.title))}`,
        },
        alertStrategy: { autoClose: '86400s' },
        userLabels: props.labels ?? {},
      }),
    ]),
  ) as ByAlert<MonitoringAlertPolicy>;
}
