import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { METRIC, METRICS_NAMESPACE, MetricName, SOURCE_DIMENSION, VALIDATOR_SERVICE } from '../validator/contract';
import { PipelineMonitoring, SECTION } from '../../pipeline-monitoring';

/** The landing zone's runbook, docs/runbooks/<RUNBOOK>.md: what each alarm means and what to do, one section per alarm. */
export const RUNBOOK = 'landing-zone';

/** A validator metric (Powertools EMF), as the handler publishes it: dimensions `service` and `Source`. */
export function validatorMetric(source: string, metricName: MetricName, period = Duration.minutes(5)): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: VALIDATOR_SERVICE, [SOURCE_DIMENSION]: source },
    statistic: 'Sum',
    period,
  });
}

/** A count alarm that fires on the first event in 5 minutes (or above `threshold`); no events is fine. */
function countAlarm(threshold: number, runbookLink: string, description: string) {
  return {
    threshold,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
    additionalDescription: description,
    runbookLink,
  };
}

/**
 * Alarms on what the platform requirements name, per source: no data, invalid events, quarantined files, publish
 * retries, validator faults, throttles and duration; once: the dead-letter queue. Thresholds and what to do are in
 * the runbook, one section per alarm.
 */
export function monitorLandingZone(
  monitoring: PipelineMonitoring,
  title: string,
  validators: Record<string, lambda.IFunction>,
  deadLetterQueue: sqs.IQueue,
  noDataMinutes: number | undefined,
): void {
  const facade = monitoring.facade;
  const runbook = monitoring.runbook(RUNBOOK);
  facade.addLargeHeader(`Landing zone ${title}`);
  for (const [name, validator] of Object.entries(validators)) {
    facade.monitorLambdaFunction({
      lambdaFunction: validator,
      alarmFriendlyName: `${name}-validator`,
      humanReadableName: `${name} validator`,
      addFaultCountAlarm: { Critical: { maxErrorCount: 0, runbookLink: runbook('validator-faults') } },
      addThrottlesCountAlarm: { Critical: { maxErrorCount: 0, runbookLink: runbook('validator-throttles') } },
      // The validator's "batch duration": a file that takes most of the 15 minutes will soon time out.
      addMaxLatencyAlarm: { Warning: { maxLatencyPercentageOfTimeout: 80, runbookLink: runbook('validator-slow') } },
    });
    const metric = (metricName: MetricName) => validatorMetric(name, metricName);
    facade.monitorCustom({
      alarmFriendlyName: `${name}-events`,
      humanReadableName: `${name} events`,
      metricGroups: [
        {
          title: `${name}: events read, published, invalid`,
          metrics: [
            metric(METRIC.eventsRead),
            metric(METRIC.eventsPublished),
            {
              metric: metric(METRIC.eventsInvalid),
              alarmFriendlyName: `${name}-rejected-records`,
              addAlarm: { Warning: countAlarm(0, runbook(SECTION.rejectedRecords), 'Events failed validation and were written to the error bucket.') },
            },
            {
              metric: metric(METRIC.objectsQuarantined),
              alarmFriendlyName: `${name}-quarantined-files`,
              addAlarm: { Critical: countAlarm(0, runbook('quarantined-files'), 'A landed file could not be read at all and was quarantined whole.') },
            },
            {
              metric: metric(METRIC.publishRetries),
              alarmFriendlyName: `${name}-publish-retries`,
              addAlarm: { Warning: countAlarm(100, runbook('publish-retries'), 'The target is throttling or failing writes: check its capacity.') },
            },
          ],
        },
      ],
    });
    monitoring.addNoDataAlarm({
      metric: metric(METRIC.eventsRead),
      name: `${name}-no-data`,
      noDataMinutes,
      description: `No ${name} events were read`,
      runbookLink: runbook(SECTION.noData),
    });
  }
  facade.monitorSqsQueue({
    queue: deadLetterQueue,
    alarmFriendlyName: 'landing-dlq',
    humanReadableName: 'Landing zone dead-letter queue',
    addQueueMaxSizeAlarm: { Critical: { maxMessageCount: 0, runbookLink: runbook(SECTION.deadLetterQueue) } },
  });
}
