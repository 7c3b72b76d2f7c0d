import { AnnotationMetadataEntryType, Testing, TerraformStack } from 'cdktf';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import * as fs from 'fs';
import {
  DEAD_LETTER_PCOLLECTION_REGEX,
  PubSubToBigQueryMonitoring,
  PubSubToBigQueryMonitoringProps,
} from '../../../pipelines/pubsub-to-bigquery/monitoring';
import { DEFAULT_DOCS_URL, headingAnchor } from '../../../platform/pipeline';
import { fromRoot } from '../../../platform/paths';

const README = fs.readFileSync(fromRoot('pipelines', 'pubsub-to-bigquery', 'monitoring', 'README.md'), 'utf8');
const RUNBOOK_FILE = fs.readFileSync(fromRoot('docs', 'runbooks', 'pubsub-to-bigquery.md'), 'utf8');
/** The runbook's sections by GitHub anchor: "## <title>" up to the next heading. */
const RUNBOOK = new Map(
  RUNBOOK_FILE.split(/^## /m)
    .slice(1)
    .map((section) => [headingAnchor(section.split('\n')[0]), section] as const),
);
const RUNBOOK_URL = `${DEFAULT_DOCS_URL}/runbooks/pubsub-to-bigquery.md`;

const base: PubSubToBigQueryMonitoringProps = {
  projectId: 'acme-data',
  pipelineName: 'orders-pipeline',
  topicName: 'orders-pipeline',
  subscriptionName: 'orders-pipeline-dataflow',
  jobName: 'orders-pipeline',
  datasetId: 'orders_pipeline',
  deadLetterTableId: 'orders_dead_letter',
  notificationEmails: ['oncall@example.com', 'data@example.com'],
  labels: { team: 'data-platform' },
};

type Policy = {
  display_name: string;
  severity: string;
  notification_channels: string[];
  documentation: { content: string };
  conditions: {
    condition_threshold?: Record<string, any>;
    condition_absent?: Record<string, any>;
    condition_prometheus_query_language?: Record<string, any>;
  }[];
};

function synth(props: Partial<PubSubToBigQueryMonitoringProps> = {}) {
  const json = Testing.synthScope((scope) => {
    new PubSubToBigQueryMonitoring(scope, 'Monitoring', { ...base, ...props });
  });
  const resources = JSON.parse(json).resource;
  const policies = Object.values(resources.google_monitoring_alert_policy) as Policy[];
  const policy = (title: string) => {
    const found = policies.find((p) => p.display_name === `orders-pipeline: ${title}`);
    if (!found) throw new Error(`no alert policy "${title}"`);
    return {
      ...found,
      threshold: found.conditions[0].condition_threshold!,
      absent: found.conditions[0].condition_absent,
      promql: found.conditions[0].condition_prometheus_query_language,
    };
  };
  return { json, resources, policies, policy };
}

describe('PubSubToBigQueryMonitoring', () => {
  const { json, resources, policies, policy } = synth();

  test('snapshot', () => {
    expect(json).toMatchSnapshot();
  });

  test('one e-mail notification channel per configured address, and every alert notifies all of them', () => {
    expect(json).toHaveResourceWithProperties(MonitoringNotificationChannel, {
      type: 'email',
      labels: { email_address: 'oncall@example.com' },
    });
    const channels = Object.keys(resources.google_monitoring_notification_channel).map(
      (key) => `\${google_monitoring_notification_channel.${key}.id}`,
    );
    expect(channels).toHaveLength(2);
    expect(policies).toHaveLength(7);
    for (const p of policies) expect(p.notification_channels.sort()).toEqual(channels.sort());
  });

  test.each([
    [
      'Lag: oldest unacknowledged message',
      'pubsub_subscription',
      'resource.label.subscription_id = "orders-pipeline-dataflow"',
      'pubsub.googleapis.com/subscription/oldest_unacked_message_age',
      600,
      '300s',
    ],
    [
      'Subscription backlog too large',
      'pubsub_subscription',
      'resource.label.subscription_id = "orders-pipeline-dataflow"',
      'pubsub.googleapis.com/subscription/num_undelivered_messages',
      10_000,
      '300s',
    ],
    [
      'Job failed',
      'dataflow_job',
      'resource.label.job_name = "orders-pipeline"',
      'dataflow.googleapis.com/job/is_failed',
      0,
      '0s',
    ],
    [
      'Lag: system lag',
      'dataflow_job',
      'resource.label.job_name = "orders-pipeline"',
      'dataflow.googleapis.com/job/system_lag',
      300,
      '300s',
    ],
    [
      'Lag: data freshness',
      'dataflow_job',
      'resource.label.job_name = "orders-pipeline"',
      'dataflow.googleapis.com/job/data_watermark_age',
      900,
      '300s',
    ],
  ])(
    'alert "%s" watches %s (%s) metric %s above %d for %s',
    (title, resourceType, selector, metric, threshold, duration) => {
      const { threshold: condition, documentation } = policy(title);
      expect(condition.filter).toContain(`resource.type = "${resourceType}"`);
      expect(condition.filter).toContain(selector);
      expect(condition.filter).toContain(`metric.type = "${metric}"`);
      expect(condition).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: threshold, duration });
      expect(documentation.content).toContain(`Threshold: ${threshold}.`);
      expect(documentation.content).toContain(
        `Runbook: ${RUNBOOK_URL}#${headingAnchor(title)}`,
      );
    },
  );

  test('"no data": fires when nothing was published to the topic for an hour', () => {
    const { absent, threshold, documentation } = policy('No data');
    expect(threshold).toBeUndefined();
    expect(absent).toEqual({
      filter:
        'resource.type = "pubsub_topic" AND resource.label.topic_id = "orders-pipeline"' +
        ' AND metric.type = "pubsub.googleapis.com/topic/send_message_operation_count"',
      duration: '3600s',
      aggregations: [{ alignment_period: '300s', per_series_aligner: 'ALIGN_SUM' }],
      trigger: { count: 1 },
    });
    expect(documentation.content).toContain('Fires after 3600s.');
  });

  test("dead letters: records the template's dead-letter step gained in the last hour, from Dataflow, not BigQuery", () => {
    const { promql, threshold, documentation } = policy('Rejected records');
    expect(threshold).toBeUndefined();
    const selector =
      'dataflow_googleapis_com:job_element_count{monitored_resource="dataflow_job",job_name="orders-pipeline",' +
      `pcollection=~"${DEAD_LETTER_PCOLLECTION_REGEX}"}`;
    expect(promql).toEqual({
      query: `sum((${selector} - ${selector} offset 1h) or (${selector} unless ${selector} offset 1h)) > 0`,
      duration: '0s',
      evaluation_interval: '60s',
      disable_metric_validation: true,
    });
    // Nothing watches the BigQuery storage metric any more (hours late, may miss Storage Write API rows).
    expect(json).not.toContain('uploaded_row_count');
    expect(documentation.content).toContain('written to orders_pipeline.orders_dead_letter instead of the main table');
    expect(documentation.content).toContain('Threshold: 0.');
  });

  test.each([
    ['WriteFailedRecords/FailedRecordToTableRow.out0', true],
    ['WriteFailedRecords2/FailedRecordToTableRow.out0', true],
    ['WriteFailedRecords/FailedRecordToTableRow/ParMultiDo(FailedPubsubMessageToTableRow).out0', true],
    ['WriteFailedRecords2/FailedRecordToTableRow/ParMultiDo(FailedStringToTableRow).out0', true],
    ['WriteSuccessfulRecords/StorageApiLoads/Convert.out0', false],
    ['WriteFailedRecords/WriteFailedRecordsToBigQuery/StorageApiLoads/Convert.out0', false],
    ['ConvertMessageToTableRow/JsonToTableRow.out0', false],
  ])('the dead-letter PCollection pattern (full match, as PromQL =~) on %s: %s', (pcollection, matches) => {
    expect(new RegExp(`^(?:${DEAD_LETTER_PCOLLECTION_REGEX})$`).test(pcollection)).toBe(matches);
  });

  test('gauges use their maximum per minute', () => {
    expect(policy('Lag: system lag').threshold.aggregations).toEqual([
      { alignment_period: '60s', per_series_aligner: 'ALIGN_MAX' },
    ]);
  });

  test('every alert links its own runbook section, which says what it means, what to check and what to do', () => {
    expect(policies).toHaveLength(7);
    for (const p of policies) {
      const title = p.display_name.replace('orders-pipeline: ', '');
      const anchor = headingAnchor(title);
      expect(p.documentation.content.endsWith(`Runbook: ${RUNBOOK_URL}#${anchor}`)).toBe(true);
      expect([title, RUNBOOK.has(anchor)]).toEqual([title, true]);
      for (const part of ['_Means_', '_Check_', '_Do_']) expect(RUNBOOK.get(anchor)).toContain(part);
      // and the threshold is stated: in the alert, and in the README's table of defaults
      expect(p.documentation.content).toMatch(/(Threshold: \d+|Fires after \d+s)\./);
    }
  });

  test('runbook links start with the configured docs location (docsUrl)', () => {
    const { policy: at } = synth({ docsUrl: 'https://docs.example.com/stream-foundry/docs' });
    expect(at('Job failed').documentation.content).toMatch(/Runbook: https:\/\/docs\.example\.com\/stream-foundry\/docs\/runbooks\/pubsub-to-bigquery\.md#job-failed$/);
  });

  test("the README documents each alert's default threshold and its gcp.alerts key", () => {
    for (const [key, value] of [
      ['noDataMinutes', '60 min'],
      ['oldestUnackedMessageAgeSeconds', '600 s'],
      ['undeliveredMessages', '10 000'],
      ['systemLagSeconds', '300 s'],
      ['dataFreshnessSeconds', '900 s'],
      ['deadLetterRowsPerHour', '> 0'],
    ]) {
      const row = README.split('\n').find((line) => line.includes(`(\`${key}\`)`));
      expect([key, row]).toEqual([key, expect.stringContaining(value)]);
    }
  });

  test('job failure is critical, backlog a warning; policies carry the cost labels', () => {
    expect(policy('Job failed').severity).toBe('CRITICAL');
    expect(policy('Subscription backlog too large').severity).toBe('WARNING');
    expect(json).toHaveResourceWithProperties(MonitoringAlertPolicy, { user_labels: { team: 'data-platform' } });
  });

  test('a dashboard charts every alerted metric with its threshold', () => {
    expect(json).toHaveResource(MonitoringDashboard);
    const dashboard = JSON.parse((Object.values(resources.google_monitoring_dashboard)[0] as any).dashboard_json);
    expect(dashboard.displayName).toBe('orders-pipeline (Pub/Sub → Dataflow → BigQuery)');
    expect(dashboard.mosaicLayout.tiles).toHaveLength(7);
    const queries = dashboard.mosaicLayout.tiles.map((t: any) => {
      const query = t.widget.xyChart.dataSets[0].timeSeriesQuery;
      return query.prometheusQuery ?? query.timeSeriesFilter.filter;
    });
    const conditions = policies.map(
      (p) =>
        p.conditions[0].condition_threshold?.filter ??
        p.conditions[0].condition_absent?.filter ??
        // the chart shows the PromQL value the alert compares with its threshold
        p.conditions[0].condition_prometheus_query_language!.query.replace(/ > \d+$/, ''),
    );
    expect(queries.sort()).toEqual(conditions.sort());
  });
});

describe('PubSubToBigQueryMonitoring options', () => {
  test('thresholds come from props', () => {
    const { policy } = synth({
      thresholds: {
        oldestUnackedMessageAgeSeconds: 120,
        undeliveredMessages: 50,
        systemLagSeconds: 60,
        dataFreshnessSeconds: 180,
        deadLetterRowsPerHour: 25,
        noDataMinutes: 15,
      },
    });
    expect(policy('No data').absent?.duration).toBe('900s');
    expect(policy('Lag: oldest unacknowledged message').threshold.threshold_value).toBe(120);
    expect(policy('Subscription backlog too large').threshold.threshold_value).toBe(50);
    expect(policy('Lag: system lag').threshold.threshold_value).toBe(60);
    expect(policy('Lag: data freshness').threshold.threshold_value).toBe(180);
    expect(policy('Rejected records').promql?.query).toMatch(/\) > 25$/);
  });

  test('existing channels are notified; without e-mails no channel is created', () => {
    const channel = 'projects/acme-data/notificationChannels/42';
    const { resources, policies } = synth({ notificationEmails: [], existingNotificationChannels: [channel] });
    expect(resources.google_monitoring_notification_channel).toBeUndefined();
    for (const p of policies) expect(p.notification_channels).toEqual([channel]);
  });

  test('with neither e-mails nor existing channels, synth warns that the alerts notify no one', () => {
    const warnings = (props: Partial<PubSubToBigQueryMonitoringProps>) => {
      const stack = new TerraformStack(Testing.app(), 'stack');
      const monitoring = new PubSubToBigQueryMonitoring(stack, 'Monitoring', { ...base, ...props });
      Testing.synth(stack);
      return monitoring.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => m.data);
    };
    expect(warnings({ notificationEmails: [] })).toEqual([
      'Alert policies of orders-pipeline notify no one: set "alarmEmails" (or "gcp.notificationChannels") in cdk.json or with -c.',
    ]);
    expect(warnings({})).toEqual([]);
    expect(warnings({ notificationEmails: [], existingNotificationChannels: ['projects/acme/notificationChannels/1'] })).toEqual(
      [],
    );
  });

  test('freshness adds the SLO alert: p95 of job/data_watermark_age over the window, its runbook section, a chart', () => {
    const { policies, policy, resources } = synth({ freshness: { targetSeconds: 10, windowMinutes: 15 } });
    expect(policies).toHaveLength(8);
    const slo = policy('Freshness');
    expect(slo.promql).toEqual({
      query:
        'max(quantile_over_time(0.95, dataflow_googleapis_com:job_data_watermark_age{monitored_resource="dataflow_job",job_name="orders-pipeline"}[15m])) > 10',
      duration: '0s',
      evaluation_interval: '60s',
      disable_metric_validation: true,
    });
    expect(slo.notification_channels).toEqual(policy('Job failed').notification_channels);
    expect(slo.documentation.content.endsWith(`Threshold: 10. Runbook: ${RUNBOOK_URL}#freshness`)).toBe(true);
    for (const part of ['_Means_', '_Check_', '_Do_']) expect(RUNBOOK.get('freshness')).toContain(part);
    const dashboard = JSON.parse((Object.values(resources.google_monitoring_dashboard)[0] as any).dashboard_json);
    expect(dashboard.mosaicLayout.tiles.map((t: any) => t.widget.title)).toContain('Freshness');
    // without the prop: none (the seven pipeline alerts only)
    expect(synth().policies.map((p) => p.display_name)).not.toContain('orders-pipeline: Freshness');
  });

  test('an existing channel that is not a channel id fails synth, naming it', () => {
    expect(() => synth({ existingNotificationChannels: ['oncall-pager'] })).toThrow(
      'existingNotificationChannels must be ids "projects/PROJECT/notificationChannels/ID", got ["oncall-pager"]',
    );
  });
});
