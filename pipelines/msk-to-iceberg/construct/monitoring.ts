import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import JOB_CONTRACT from '../job/src/main/resources/stream-foundry-contract.json';
import { PipelineMonitoring, SECTION } from '../../../platform/pipeline-monitoring';

/** The pipeline's runbook, docs/runbooks/<RUNBOOK>.md: what each alarm means and what to do, one section per alarm. */
export const RUNBOOK = 'msk-to-iceberg';

export interface SourceMonitoringProps {
  readonly source: string;
  readonly applicationName: string;
  readonly clusterName: string;
  readonly topic: string;
  readonly consumerGroup: string;
  readonly errorBucketName: string;
  /** S3 request-metrics filter on the job's error prefix. */
  readonly errorMetricsFilterId: string;
  readonly maxOffsetLag: number;
  readonly maxTimeLagSeconds: number;
  readonly maxCheckpointDurationMs: number;
  readonly maxDowntimeSeconds: number;
  readonly noDataMinutes?: number;
}

const above = (threshold: number, runbookLink: string, description: string, missing = TreatMissingData.NOT_BREACHING) => ({
  threshold,
  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
  treatMissingDataOverride: missing,
  additionalDescription: description,
  runbookLink,
});

/**
 * Rates of the job's own meters (one-minute averages, registered under the `kinesisanalytics` group: JobMetrics.java)
 * are at least 1/60 per event in the sample that covers it; below this, no event was read.
 */
const NO_EVENTS_RATE = 0.01;

/**
 * One source's alarms: the application down, restarting, failing or slow checkpoints (Managed Flink), consumer lag in
 * records and in time (MSK, for the application's group), records the job rejected to the error location (its own
 * `eventsMalformedPerSecond`), and no records read by the job for `noDataMinutes` once records flowed (its own
 * `eventsInPerSecond`).
 */
export function monitorSource(monitoring: PipelineMonitoring, p: SourceMonitoringProps): void {
  const facade = monitoring.facade;
  const runbook = monitoring.runbook(RUNBOOK);
  facade.addLargeHeader(`${p.source}: MSK topic ${p.topic} -> Managed Flink ${p.applicationName} -> Iceberg`);
  facade.monitorKinesisDataAnalytics({
    application: p.applicationName,
    alarmFriendlyName: `${p.source}-flink`,
    humanReadableName: `${p.source} Flink application`,
    // No metrics at all means the application is not running: downtime treats missing data as breaching.
    addDowntimeAlarm: { Critical: { maxDowntimeInMillis: p.maxDowntimeSeconds * 1000, runbookLink: runbook('application-down') } },
    addFullRestartRateAlarm: { Critical: { maxErrorRate: 0, treatMissingDataOverride: TreatMissingData.NOT_BREACHING, runbookLink: runbook('application-restarts') } },
    addCheckpointFailureRateAlarm: { Warning: { maxErrorRate: 0, treatMissingDataOverride: TreatMissingData.NOT_BREACHING, runbookLink: runbook('checkpoint-failures') } },
  });

  const kafka = (metricName: string) =>
    new Metric({
      namespace: 'AWS/Kafka',
      metricName,
      dimensionsMap: { 'Cluster Name': p.clusterName, 'Consumer Group': p.consumerGroup, Topic: p.topic },
      statistic: 'Maximum',
      period: Duration.minutes(5),
    });
  // Managed Flink's metrics, and the job's own: what the job registers under the `kinesisanalytics` metric group lands
  // here too, with the Application dimension ("Use custom metrics with Amazon Managed Service for Apache Flink").
  const flink = (metricName: string, statistic: string) =>
    new Metric({ namespace: 'AWS/KinesisAnalytics', metricName, dimensionsMap: { Application: p.applicationName }, statistic, period: Duration.minutes(5) });
  const errorPuts = new Metric({
    namespace: 'AWS/S3',
    metricName: 'PutRequests',
    dimensionsMap: { BucketName: p.errorBucketName, FilterId: p.errorMetricsFilterId },
    statistic: 'Sum',
    period: Duration.minutes(5),
  });

  facade.monitorCustom({
    alarmFriendlyName: `${p.source}-pipeline`,
    humanReadableName: `${p.source} lag, checkpoints, errors`,
    metricGroups: [
      {
        title: `${p.source}: consumer lag (records)`,
        metrics: [{ metric: kafka('MaxOffsetLag'), alarmFriendlyName: `${p.source}-offset-lag`, addAlarm: { Critical: above(p.maxOffsetLag, runbook(SECTION.lag('records-behind')), 'The application is falling behind its topic.') } }],
      },
      {
        title: `${p.source}: consumer lag (time)`,
        metrics: [
          {
            metric: kafka('EstimatedMaxTimeLag'),
            alarmFriendlyName: `${p.source}-time-lag`,
            addAlarm: { Critical: above(p.maxTimeLagSeconds, runbook(SECTION.lag('time-behind')), 'Events wait too long before the application reads them.') },
          },
        ],
      },
      {
        title: `${p.source}: checkpoint duration (each checkpoint is an Iceberg commit)`,
        metrics: [
          {
            metric: flink('lastCheckpointDuration', 'Maximum'),
            alarmFriendlyName: `${p.source}-checkpoint-duration`,
            addAlarm: { Warning: above(p.maxCheckpointDurationMs, runbook('slow-checkpoints'), 'Checkpoints (and so Iceberg commits) take too long.') },
          },
        ],
      },
      {
        title: `${p.source}: events the job read and rejected (per second), error-location uploads`,
        metrics: [
          flink(JOB_CONTRACT.metrics.eventsInPerSecond, 'Average'),
          {
            metric: flink(JOB_CONTRACT.metrics.eventsMalformedPerSecond, 'Maximum'),
            alarmFriendlyName: `${p.source}-rejected-records`,
            addAlarm: { Warning: above(0, runbook(SECTION.rejectedRecords), 'The job rejected malformed records to its error location.') },
          },
          errorPuts,
        ],
      },
    ],
  });
  // Missing data (the job reports nothing: not running) counts as silence, as for every no-data alarm; the downtime
  // alarm says why. A running job reports a rate of 0 when idle.
  monitoring.addNoDataAlarm({
    metric: flink(JOB_CONTRACT.metrics.eventsInPerSecond, 'Sum'),
    name: `${p.source}-flink-no-data`,
    noDataMinutes: p.noDataMinutes,
    threshold: NO_EVENTS_RATE,
    description: `The ${p.source} job read no records`,
    runbookLink: runbook(SECTION.noData),
  });
}
