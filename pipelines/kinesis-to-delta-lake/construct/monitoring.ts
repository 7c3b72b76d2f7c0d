import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { JOB_DIMENSION, METRIC, METRICS_NAMESPACE, MetricName, RESTARTER_SERVICE } from '../handlers/glue-streaming-job/contract';
import { PipelineMonitoring, SECTION } from '../../../platform/pipeline-monitoring';
import { JOB_CONTRACT, JobContract } from './job-code';

/** The pipeline's runbook, docs/runbooks/<RUNBOOK>.md: what each alarm means and what to do, one section per alarm. */
export const RUNBOOK = 'kinesis-to-delta-lake';

/** A Glue streaming metric of the job (all runs), as Glue publishes it with `--enable-metrics`. */
export function glueStreamingMetric(jobName: string, metricName: string, statistic: string, type: 'count' | 'gauge'): Metric {
  return new Metric({ namespace: 'Glue', metricName, dimensionsMap: { JobName: jobName, JobRunId: 'ALL', Type: type }, statistic, period: Duration.minutes(5) });
}

/**
 * A metric the job publishes itself (pipelines/kinesis-to-delta-lake/job/src/stream_foundry_delta/metrics.py; names in JOB_CONTRACT),
 * per job (all runs). Glue's `glue.driver.streaming.*` metrics are documented for Glue's own `forEachBatch`, which
 * the job does not use, so the alarms do not depend on them.
 */
export function jobMetric(jobName: string, name: keyof JobContract['metrics']['names'], statistic: string): Metric {
  const { namespace, dimension, names } = JOB_CONTRACT.metrics;
  return new Metric({ namespace, metricName: names[name], dimensionsMap: { [dimension]: jobName }, statistic, period: Duration.minutes(5) });
}

/** A restarter metric (Powertools EMF): dimensions `service` and `JobName`. */
export function restarterMetric(jobName: string, metricName: MetricName, statistic = 'Sum'): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: RESTARTER_SERVICE, [JOB_DIMENSION]: jobName }, statistic, period: Duration.minutes(5) });
}

/** Runs of a rule: how EventBridge counts the job-state events it matched. */
const ruleTriggered = (rule: events.IRule) =>
  new Metric({ namespace: 'AWS/Events', metricName: 'TriggeredRules', dimensionsMap: { RuleName: rule.ruleName }, statistic: 'Sum', period: Duration.minutes(5) });

function alarm(runbookLink: string, threshold: number, comparisonOperator: ComparisonOperator, treatMissingData: TreatMissingData, description: string, periods = 1) {
  return {
    threshold,
    comparisonOperator,
    treatMissingDataOverride: treatMissingData,
    evaluationPeriods: periods,
    datapointsToAlarm: periods,
    additionalDescription: description,
    runbookLink,
  };
}

export interface MonitoredPipeline {
  readonly source: string;
  readonly stream: kinesis.IStream;
  readonly jobName: string;
  readonly triggerInterval: Duration;
  readonly jobFailedRule: events.IRule;
  readonly restarter: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** The lake bucket and the request-metrics filter counting writes of rejected records (only for a bucket we own). */
  readonly errorWrites?: { bucket: s3.IBucket; filterId: string };
  readonly maxIteratorAge: Duration;
  readonly noDataMinutes?: number;
}

/**
 * Alarms on what the platform requirements name for this pipeline: broker lag (iterator age), write throttling,
 * job failure, micro-batches slower than the trigger interval, no records consumed, records rejected to the error
 * table; and on the machinery that keeps the job running (not running, restarts exhausted, restarter faults and
 * dead letters, upkeep failures). The job's throughput, rejects, batch time and upkeep come from the metrics the job
 * publishes itself (jobMetric). Thresholds and what to do: the runbook, one section per alarm.
 */
export function monitorKinesisToDeltaLake(monitoring: PipelineMonitoring, p: MonitoredPipeline): void {
  const facade = monitoring.facade;
  const runbook = monitoring.runbook(RUNBOOK);
  const name = p.source;
  facade.addLargeHeader(`Kinesis -> Delta Lake: ${name}`);
  facade.monitorKinesisDataStream({
    streamName: p.stream.streamName,
    alarmFriendlyName: `${name}-stream`,
    humanReadableName: `${name} stream`,
    addIteratorMaxAgeAlarm: { Critical: { maxAgeInMillis: p.maxIteratorAge.toMilliseconds(), runbookLink: runbook(SECTION.lag('iterator-age')) } },
    addPutRecordsThrottledAlarm: { Warning: { maxRecordsThrottledThreshold: 0, runbookLink: runbook('write-throttled') } },
  });

  const job = (name: keyof JobContract['metrics']['names'], statistic: string) => jobMetric(p.jobName, name, statistic);
  const triggerMs = p.triggerInterval.toMilliseconds();
  facade.monitorCustom({
    alarmFriendlyName: `${name}-job`,
    humanReadableName: `${name} streaming job`,
    metricGroups: [
      {
        title: `${name}: events in, rejected, micro-batch duration (published by the job)`,
        metrics: [
          job('eventsIn', 'Sum'),
          job('eventsRejected', 'Sum'),
          {
            metric: job('batchDurationMs', 'Average'),
            alarmFriendlyName: `${name}-batch-slow`,
            addAlarm: {
              Warning: alarm(runbook('batch-slow'), triggerMs, ComparisonOperator.GREATER_THAN_THRESHOLD, TreatMissingData.NOT_BREACHING, `Micro-batches take longer than the ${p.triggerInterval.toSeconds()} s trigger interval (15 minutes on average): the job falls behind.`, 3),
            },
          },
        ],
      },
      {
        title: `${name}: job runs`,
        metrics: [
          {
            metric: ruleTriggered(p.jobFailedRule),
            alarmFriendlyName: `${name}-job-failed`,
            addAlarm: { Critical: alarm(runbook('job-failed'), 0, ComparisonOperator.GREATER_THAN_THRESHOLD, TreatMissingData.NOT_BREACHING, 'A run of the streaming job failed, timed out or errored; the restarter starts a new one from the checkpoint.') },
          },
          {
            metric: restarterMetric(p.jobName, METRIC.jobRunning, 'Maximum'),
            alarmFriendlyName: `${name}-job-not-running`,
            addAlarm: { Critical: alarm(runbook('job-not-running'), 1, ComparisonOperator.LESS_THAN_THRESHOLD, TreatMissingData.BREACHING, 'The streaming job has had no starting or running run for 15 minutes (or the restarter stopped checking).', 3) },
          },
          {
            metric: restarterMetric(p.jobName, METRIC.restartsExhausted),
            alarmFriendlyName: `${name}-restarts-exhausted`,
            addAlarm: { Critical: alarm(runbook('restarts-exhausted'), 0, ComparisonOperator.GREATER_THAN_THRESHOLD, TreatMissingData.NOT_BREACHING, 'The job keeps failing: the restarter reached its hourly limit and no longer restarts it.') },
          },
          restarterMetric(p.jobName, METRIC.restartsStarted),
          {
            metric: job('upkeepFailed', 'Sum'),
            alarmFriendlyName: `${name}-upkeep-failed`,
            addAlarm: { Warning: alarm(runbook('upkeep-failed'), 0, ComparisonOperator.GREATER_THAN_THRESHOLD, TreatMissingData.NOT_BREACHING, 'The table upkeep (OPTIMIZE/VACUUM) the job runs between micro-batches failed; the stream goes on and retries it at the next interval.') },
          },
        ],
      },
      ...(p.errorWrites
        ? [
            {
              title: `${name}: rejected records written`,
              metrics: [
                {
                  metric: new Metric({
                    namespace: 'AWS/S3',
                    metricName: 'PutRequests',
                    dimensionsMap: { BucketName: p.errorWrites.bucket.bucketName, FilterId: p.errorWrites.filterId },
                    statistic: 'Sum',
                    period: Duration.minutes(5),
                  }),
                  alarmFriendlyName: `${name}-rejected-records`,
                  addAlarm: { Warning: alarm(runbook(SECTION.rejectedRecords), 0, ComparisonOperator.GREATER_THAN_THRESHOLD, TreatMissingData.NOT_BREACHING, 'The job wrote records that failed the schema to the error table.') },
                },
              ],
            },
          ]
        : []),
    ],
  });
  monitoring.addNoDataAlarm({
    metric: job('eventsIn', 'Sum'),
    name: `${name}-job-no-data`,
    noDataMinutes: p.noDataMinutes,
    description: `The ${name} streaming job consumed no records`,
    runbookLink: runbook(SECTION.noData),
  });
  facade.monitorLambdaFunction({
    lambdaFunction: p.restarter,
    alarmFriendlyName: `${name}-restarter`,
    humanReadableName: `${name} job restarter`,
    addFaultCountAlarm: { Warning: { maxErrorCount: 0, runbookLink: runbook('restarter-faults') } },
  });
  facade.monitorSqsQueue({
    queue: p.deadLetterQueue,
    alarmFriendlyName: `${name}-restarter-dlq`,
    humanReadableName: `${name} restarter dead-letter queue`,
    addQueueMaxSizeAlarm: { Critical: { maxMessageCount: 0, runbookLink: runbook(SECTION.deadLetterQueue) } },
  });
}
