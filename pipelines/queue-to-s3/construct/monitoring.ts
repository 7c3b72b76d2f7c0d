import { Duration, Stack } from 'aws-cdk-lib';
import { ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { PipelineMonitoring, SECTION } from '../../../platform/pipeline-monitoring';
import { freshnessMetric } from '../../../platform/freshness';

/** The pipeline's runbook, docs/runbooks/<RUNBOOK>.md: what each alarm means and what to do, one section per alarm. */
export const RUNBOOK = 'queue-to-s3';

export interface ConsumerMonitoringProps {
  readonly topic: sns.ITopic;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly clusterName: string;
  readonly namespace: string;
  /** The Deployment and its Service. */
  readonly name: string;
  /** The data source: its freshness canaries are subtracted from the no-data alarm's count. */
  readonly source: string;
  readonly minReplicas: number;
  readonly noDataMinutes?: number;
  readonly maxMessageAge: Duration;
}

/** A Container Insights metric of the consumer's pods (the amazon-cloudwatch-observability add-on publishes them). */
export function containerInsightsMetric(metricName: string, dimensions: Record<string, string>, statistic: string): Metric {
  return new Metric({ namespace: 'ContainerInsights', metricName, dimensionsMap: dimensions, statistic, period: Duration.minutes(5) });
}

/**
 * Alarms and dashboard widgets: dead-letter queue not empty, oldest message too old (the consumer falls behind), no
 * message published for `noDataMinutes` (once messages flowed), consumer errors (container restarts: crashes, failed
 * liveness probes, out of memory; and messages received but not deleted: failed writes) and no running consumer pod
 * while messages wait. Thresholds and what to do: the runbook.
 */
export function monitorQueueToS3(monitoring: PipelineMonitoring, props: ConsumerMonitoringProps): void {
  const facade = monitoring.facade;
  const runbook = monitoring.runbook(RUNBOOK);
  facade.addLargeHeader(`SNS → SQS → EKS consumer → S3 (${props.name})`);
  facade.monitorSnsTopic({ topic: props.topic, alarmFriendlyName: `${props.name}-topic`, humanReadableName: 'Topic' });
  facade.monitorSqsQueueWithDlq({
    queue: props.queue,
    deadLetterQueue: props.deadLetterQueue,
    alarmFriendlyName: `${props.name}-queue`,
    humanReadableName: 'Queue',
    addQueueMaxMessageAgeAlarm: {
      Warning: { maxAgeInSeconds: props.maxMessageAge.toSeconds(), runbookLink: runbook(SECTION.lag('oldest-message-age')) },
    },
    addDeadLetterQueueMaxSizeAlarm: { Critical: { maxMessageCount: 0, runbookLink: runbook(SECTION.deadLetterQueue) } },
  });
  monitoring.addNoDataAlarm({
    metric: props.topic.metricNumberOfMessagesPublished(),
    // The topic counts the freshness canary's messages too: less those committed, it counts the publishers'.
    canaries: freshnessMetric(Stack.of(props.topic).stackName, props.source),
    name: `${props.name}-no-data`,
    noDataMinutes: props.noDataMinutes,
    description: 'No message was published to the topic',
    runbookLink: runbook(SECTION.noData),
  });

  const pods = { ClusterName: props.clusterName, Namespace: props.namespace };
  // Already a rate: the CloudWatch agent publishes, per pod and sample, the restarts since its previous sample of that pod
  // (current sum of the containers' restartCount minus the previous one, 0 when it fell), not the cumulative count:
  // PodStore.addStatus in awscontainerinsightreceiver (amazon-contributing/opentelemetry-collector-contrib, the agent's
  // source; upstream is the same). The Sum over 5 minutes is the restarts in those 5 minutes; RATE() or DIFF() on it
  // would alarm on a change in the restart rate instead.
  const restarts = containerInsightsMetric('pod_number_of_container_restarts', { ...pods, PodName: props.name }, 'Sum');
  const running = containerInsightsMetric('service_number_of_running_pods', { ...pods, Service: props.name }, 'Minimum');
  const visible = props.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) });
  // Messages wait (or the consumer should always run) and no pod runs: nothing consumes. Missing pod data counts as 0.
  const starved = new MathExpression({
    expression: `IF(FILL(running, 0) < 1 AND (visible > 0 OR ${props.minReplicas} >= 1), 1, 0)`,
    usingMetrics: { running, visible },
    period: Duration.minutes(5),
    label: 'No running consumer pod (1 = nothing consumes)',
  });
  // Received but not deleted: batches that failed to reach S3 (the messages come back after the visibility timeout).
  const received = props.queue.metricNumberOfMessagesReceived({ statistic: 'Sum', period: Duration.minutes(5) });
  const deleted = props.queue.metricNumberOfMessagesDeleted({ statistic: 'Sum', period: Duration.minutes(5) });
  const undeleted = new MathExpression({
    expression: 'IF(received > 0, 100 * MAX([received - deleted, 0]) / received, 0)',
    usingMetrics: { received, deleted },
    period: Duration.minutes(5),
    label: 'Received but not deleted (%)',
  });
  facade.monitorCustom({
    alarmFriendlyName: `${props.name}-processing`,
    humanReadableName: 'Consumer processing',
    metricGroups: [
      {
        title: 'Messages received and deleted; % not deleted',
        metrics: [
          received,
          deleted,
          {
            metric: undeleted,
            alarmFriendlyName: `${props.name}-undeleted`,
            addAlarm: {
              Warning: {
                threshold: 20,
                comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                evaluationPeriods: 3,
                datapointsToAlarm: 3,
                additionalDescription: 'For 15 minutes over 20% of the messages received were not deleted: the consumer fails to write its batches.',
                runbookLink: runbook('consumer-errors'),
              },
            },
          },
        ],
      },
    ],
  });
  facade.monitorCustom({
    alarmFriendlyName: `${props.name}-pods`,
    humanReadableName: 'Consumer pods',
    metricGroups: [
      {
        title: 'Consumer pods: running, container restarts',
        metrics: [
          running,
          {
            metric: restarts,
            alarmFriendlyName: `${props.name}-consumer-errors`,
            addAlarm: {
              Critical: {
                threshold: 0,
                comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                additionalDescription: 'A consumer container restarted: it crashed, ran out of memory or failed its liveness probe.',
                runbookLink: runbook('consumer-errors'),
              },
            },
          },
          {
            metric: starved,
            alarmFriendlyName: `${props.name}-no-healthy-pods`,
            addAlarm: {
              Critical: {
                threshold: 1,
                comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treatMissingDataOverride: TreatMissingData.BREACHING,
                evaluationPeriods: 2,
                datapointsToAlarm: 2,
                additionalDescription: 'No consumer pod has been running for 10 minutes while messages wait.',
                runbookLink: runbook('no-healthy-pods'),
              },
            },
          },
        ],
      },
    ],
  });
}
