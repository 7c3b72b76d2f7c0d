import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PipelineMonitoring, SECTION } from '../../../platform/pipeline-monitoring';
import { CdcAlarmProps } from './props';
import { CdcReplication } from './replication';

/** The pipeline's runbook, docs/runbooks/<RUNBOOK>.md: what each alarm means and what to do, one section per alarm. */
export const RUNBOOK = 'rds-cdc-to-s3';

/** Our namespace for the metrics the task's log yields (full-load errors). */
export const CDC_METRICS_NAMESPACE = 'StreamFoundry/RdsCdc';

const dms = (metricName: string, dimensionsMap: Record<string, string>, statistic = 'Maximum') =>
  new Metric({ namespace: 'AWS/DMS', metricName, dimensionsMap, statistic, period: Duration.minutes(5) });

function alarm(threshold: number, comparisonOperator: ComparisonOperator, runbookLink: string, description: string, periods = 1) {
  return {
    threshold,
    comparisonOperator,
    evaluationPeriods: periods,
    datapointsToAlarm: periods,
    treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
    additionalDescription: description,
    runbookLink,
  };
}

/**
 * Alarms and dashboard widgets for one CDC pipeline: source and target CDC latency, task failed or stopped (DMS events
 * through EventBridge rules, counted by AWS/Events MatchedEvents), no changes applied for `noDataMinutes`, full-load
 * errors (the task log), replication instance CPU, memory and storage. Thresholds and what to do: the runbook.
 */
export function monitorCdcReplication(
  scope: Construct,
  monitoring: PipelineMonitoring,
  replication: CdcReplication,
  alarms: CdcAlarmProps,
  replicationStorageGiB: number,
): void {
  const facade = monitoring.facade;
  const runbook = monitoring.runbook(RUNBOOK);
  // CloudWatch's DMS dimensions: ReplicationInstanceIdentifier is the instance's identifier (its name), while
  // ReplicationTaskIdentifier is the task's resource identifier, the end of its ARN, not its name (DMS User Guide,
  // "AWS DMS metrics"; prometheus-community/yet-another-cloudwatch-exporter#492 reads the instance identifier from the API
  // because the ARNs do not carry it). The task's ResourceIdentifier is set, so both are known at synth.
  const task = { ReplicationInstanceIdentifier: replication.instanceIdentifier, ReplicationTaskIdentifier: replication.taskResourceIdentifier };
  const instance = { ReplicationInstanceIdentifier: replication.instanceIdentifier };
  const latency = alarms.cdcLatencySeconds ?? 300;

  // Task state changes from DMS (EventBridge, DMS 3.4.5+); each rule's MatchedEvents is the alarm's metric.
  const rule = (id: string, eventTypes: string[]) =>
    new events.Rule(scope, id, {
      description: `DMS events ${eventTypes.join(', ')} of task ${replication.taskIdentifier}`,
      eventPattern: { source: ['aws.dms'], resources: [replication.task.ref], detail: { eventType: eventTypes } },
    });
  const failed = rule('TaskFailedEvents', ['REPLICATION_TASK_FAILED']);
  const stopped = rule('TaskStoppedEvents', ['REPLICATION_TASK_STOPPED']);
  const matched = (r: events.Rule) =>
    new Metric({ namespace: 'AWS/Events', metricName: 'MatchedEvents', dimensionsMap: { RuleName: r.ruleName }, statistic: 'Sum', period: Duration.minutes(5) });

  // Full-load errors: error lines (`]E:`) of the unload and load components in the task log.
  for (const component of ['SOURCE_UNLOAD', 'TARGET_LOAD']) {
    new logs.MetricFilter(scope, `FullLoadErrors-${component}`, {
      logGroup: replication.taskLogGroup,
      filterPattern: logs.FilterPattern.allTerms(`[${component}`, ']E:'),
      metricNamespace: CDC_METRICS_NAMESPACE,
      metricName: 'FullLoadErrors',
      metricValue: '1',
    });
  }
  const fullLoadErrors = new Metric({
    namespace: CDC_METRICS_NAMESPACE,
    metricName: 'FullLoadErrors',
    statistic: 'Sum',
    period: Duration.minutes(5),
  });

  facade.addLargeHeader(`RDS change data capture: ${replication.taskIdentifier}`);
  facade.monitorCustom({
    alarmFriendlyName: 'cdc-task',
    humanReadableName: 'DMS CDC task',
    metricGroups: [
      {
        title: 'CDC latency (seconds)',
        metrics: [
          {
            metric: dms('CDCLatencySource', task),
            alarmFriendlyName: 'cdc-lag-source',
            addAlarm: {
              Warning: alarm(latency, ComparisonOperator.GREATER_THAN_THRESHOLD, runbook(SECTION.lag('source')), 'Changes wait too long to be read from the source database.', 3),
            },
          },
          {
            metric: dms('CDCLatencyTarget', task),
            alarmFriendlyName: 'cdc-lag-target',
            addAlarm: {
              Warning: alarm(latency, ComparisonOperator.GREATER_THAN_THRESHOLD, runbook(SECTION.lag('target')), 'Changes wait too long to be written to S3.', 3),
            },
          },
        ],
      },
      {
        title: 'Changes (rows/s) and full load',
        metrics: [
          dms('CDCThroughputRowsSource', task, 'Average'),
          dms('CDCThroughputRowsTarget', task, 'Average'),
          dms('FullLoadThroughputRowsTarget', task, 'Average'),
          {
            metric: fullLoadErrors,
            alarmFriendlyName: 'full-load-errors',
            addAlarm: { Critical: alarm(0, ComparisonOperator.GREATER_THAN_THRESHOLD, runbook('full-load-errors'), 'The full load logged errors (tables may be suspended).') },
          },
        ],
      },
      {
        title: 'Task state events',
        metrics: [
          {
            metric: matched(failed),
            alarmFriendlyName: 'task-failed',
            addAlarm: { Critical: alarm(0, ComparisonOperator.GREATER_THAN_THRESHOLD, runbook('task-failed'), 'The DMS task failed: replication has stopped.') },
          },
          {
            metric: matched(stopped),
            alarmFriendlyName: 'task-stopped',
            addAlarm: {
              Warning: alarm(0, ComparisonOperator.GREATER_THAN_THRESHOLD, runbook('task-stopped'), 'The DMS task stopped (a deployment restarts it; anything else needs a look).'),
            },
          },
        ],
      },
    ],
  });
  facade.monitorCustom({
    alarmFriendlyName: 'replication-instance',
    humanReadableName: 'DMS replication instance',
    metricGroups: [
      {
        title: 'CPU (%)',
        metrics: [
          {
            metric: dms('CPUUtilization', instance, 'Average'),
            alarmFriendlyName: 'instance-cpu',
            addAlarm: {
              Warning: alarm(alarms.maxCpuPercent ?? 80, ComparisonOperator.GREATER_THAN_THRESHOLD, runbook('instance-cpu'), 'The replication instance is CPU-bound.', 3),
            },
          },
        ],
      },
      {
        title: 'Freeable memory and free storage (bytes)',
        metrics: [
          {
            metric: dms('FreeableMemory', instance, 'Minimum'),
            alarmFriendlyName: 'instance-memory',
            addAlarm: {
              Warning: alarm(
                (alarms.minFreeableMemoryMiB ?? 256) * 1024 ** 2,
                ComparisonOperator.LESS_THAN_THRESHOLD,
                runbook('instance-memory'),
                'The replication instance is short of memory: changes spill to disk.',
                3,
              ),
            },
          },
          {
            metric: dms('FreeStorageSpace', instance, 'Minimum'),
            alarmFriendlyName: 'instance-storage',
            addAlarm: {
              Warning: alarm(
                (alarms.minFreeStorageGiB ?? Math.max(1, Math.round(replicationStorageGiB * 0.2))) * 1024 ** 3,
                ComparisonOperator.LESS_THAN_THRESHOLD,
                runbook('instance-storage'),
                'The replication instance storage (swap, cached changes, logs) is filling up.',
              ),
            },
          },
        ],
      },
    ],
  });
  monitoring.addNoDataAlarm({
    metric: dms('CDCThroughputRowsTarget', task, 'Sum'),
    name: 'cdc-no-data',
    noDataMinutes: alarms.noDataMinutes,
    // A rate: one change in a minute sums to ~0.017 rows/s; anything above zero is a change applied.
    threshold: 0.001,
    description: 'No change was applied to S3',
    runbookLink: runbook(SECTION.noData),
  });
}
