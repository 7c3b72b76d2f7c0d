import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import * as path from 'path';
import { CanaryEntrance, CanaryTarget } from './canary';
import { canaryTemplate } from './template';
import { FreshnessSettings } from './config';
import { FRESHNESS_METRIC, RECEIPTS_PREFIX } from './contract';
import { ENV as REPORTER_ENV } from './handlers/reporter/env';
import { acknowledgeBucketNotificationsHandler } from '../compliance';
import { skipCheckov } from '../compliance/checkov';
import { DataSource } from '../data-source';
import { alphanumeric } from '../names';
import { BundledFunction, functionRole } from '../functions';
import { PipelineMonitoring, SECTION } from '../pipeline-monitoring';

export { FRESHNESS_METRIC, RECEIPTS_PREFIX } from './contract';
export { canaryTemplate } from './template';
export type { FreshnessSettings } from './config';

/** Props of `Freshness`: the `freshness` settings, the monitoring its alarms join, the runbook they link. */
export interface FreshnessProps {
  /** The `freshness` settings: canary interval, SLO target and window. */
  readonly settings: FreshnessSettings;
  /** The stack's monitoring: the SLO alarms and widgets go there. */
  readonly monitoring: PipelineMonitoring;
  /** The pipeline's runbook (docs/runbooks/<runbook>.md): its "Lag: freshness" section explains the SLO alarm. */
  readonly runbook: string;
  /** How long the canary's and reporter's logs are kept. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** What happens to the log groups when the stack is destroyed. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** How long receipts and canary files are kept: they are measurements, read within minutes. */
const KEEP = Duration.days(7);

/**
 * End-to-end freshness of one pipeline stack (platform/freshness/README.md):
 *
 * ```text
 *   schedule (every intervalMinutes) -> canary function -> the pipeline's entrance (landing bucket / SNS topic)
 *     -> ... the pipeline ... -> its exit commits, drops the canary, writes s3://<output>/_freshness/<source>/<id>/<ms>.json
 *     -> S3 notification -> reporter function -> StreamFoundry/Freshness Freshness {service, Pipeline, Source}
 *     -> SLO alarm per source: p95 over windowMinutes > targetSeconds
 * ```
 *
 * With `settings.enabled` false, no canary, reporter or alarm is built; the outputs `npm run verify` reads stay (the
 * exits write receipts either way).
 */
export class Freshness extends Construct {
  private readonly settings: FreshnessSettings;
  private readonly monitoring: PipelineMonitoring;
  private readonly runbookLink: string;
  private readonly logging: { retention: logs.RetentionDays; removalPolicy: RemovalPolicy };
  /** The scheduled canary and the reporter: only with `settings.enabled`, once needed. */
  private canaryFunction?: BundledFunction;
  private reporterFunction?: BundledFunction;
  private readonly watched = new Set<s3.IBucket>();

  constructor(scope: Construct, id: string, props: FreshnessProps) {
    super(scope, id);
    this.settings = props.settings;
    this.monitoring = props.monitoring;
    this.runbookLink = props.monitoring.runbook(props.runbook)(SECTION.lag('freshness'));
    this.logging = { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN };
  }

  /** The scheduled canary function, built with the first canary (a stack whose canary is its own, pipeline 3, has none). */
  private get canary(): BundledFunction | undefined {
    if (!this.settings.enabled) return undefined;
    this.canaryFunction ??= this.function('Canary', 'canary', `Freshness canary of ${Stack.of(this).stackName}: publishes one marked event per source into the pipeline`);
    return this.canaryFunction;
  }

  /** The reporter function, built with the first receipts bucket. */
  private get reporter(): BundledFunction | undefined {
    if (!this.settings.enabled) return undefined;
    this.reporterFunction ??= this.function('Reporter', 'reporter', `Freshness reporter of ${Stack.of(this).stackName}: publishes the Freshness metric of each receipt (EMF)`, {
      [REPORTER_ENV.pipeline]: Stack.of(this).stackName,
    });
    return this.reporterFunction;
  }

  private function(id: string, handler: string, description: string, environment?: Record<string, string>): BundledFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, this.logging);
    const fn = new BundledFunction(this, id, {
      description,
      entry: path.join(__dirname, 'handlers', handler, 'index.ts'),
      role: functionRole(this, `${id}Role`, description, logGroup),
      logGroup,
      timeout: Duration.seconds(30),
      environment,
    });
    skipCheckov(fn, 'CKV_AWS_116', 'A measurement, not data: a failed invocation (after Lambda\'s retries) is one missing Freshness value, which the SLO alarm sees; the next canary replaces it.');
    return fn;
  }

  /**
   * A canary for `source` through `entrance` every `intervalMinutes`, and its SLO alarm. The stack output
   * `Freshness<source>Entrance` tells `npm run verify` where to publish (`s3://<landing>/` or the topic ARN).
   */
  addCanary(source: Pick<DataSource, 'name' | 'schemaFile' | 'idField' | 'eventTimeField'>, entrance: { landingBucket: s3.IBucket } | { topic: sns.ITopic }): void {
    const to: CanaryEntrance = 'landingBucket' in entrance ? { kind: 'landing', bucket: entrance.landingBucket.bucketName } : { kind: 'topic', topicArn: entrance.topic.topicArn };
    new CfnOutput(this, `${alphanumeric(source.name)}Entrance`, {
      key: `Freshness${alphanumeric(source.name)}Entrance`,
      value: to.kind === 'landing' ? `s3://${to.bucket}/` : to.topicArn,
      description: `Where the freshness canary of ${source.name} publishes (npm run verify)`,
    });
    const canary = this.canary;
    if (!canary) return;
    const target: CanaryTarget = { source: source.name, template: canaryTemplate(source), idField: source.idField, eventTimeField: source.eventTimeField, entrance: to };
    if ('landingBucket' in entrance) {
      const bucket = entrance.landingBucket;
      const objects = bucket.arnForObjects(`${source.name}/_canary/*`);
      canary.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] }));
      // A one-line object is one PUT: SSE-KMS needs GenerateDataKey only (Decrypt is for multipart uploads).
      bucket.encryptionKey?.grant(canary, 'kms:GenerateDataKey');
      const policy = canary.role!.node.tryFindChild('DefaultPolicy')!;
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(this).resolve(objects))}]`,
        reason: `The freshness canary writes one file a minute under ${source.name}/_canary/ of the landing bucket, and nowhere else.`,
      });
      if (entrance.landingBucket instanceof s3.Bucket) {
        entrance.landingBucket.addLifecycleRule({ id: `expire-${source.name}-canaries`, prefix: `${source.name}/_canary/`, expiration: KEEP });
      }
    } else {
      // grantPublish would add kms:GenerateDataKey* (a wildcard); publishing to an SSE-KMS topic needs exactly these two.
      canary.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [entrance.topic.topicArn] }));
      const key = entrance.topic instanceof sns.Topic ? entrance.topic.masterKey : undefined;
      key?.grant(canary, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    new events.Rule(this, `${source.name}Schedule`, {
      description: `Freshness canary of ${source.name}`,
      schedule: events.Schedule.rate(Duration.minutes(this.settings.intervalMinutes)),
      targets: [
        new targets.LambdaFunction(canary, {
          event: events.RuleTargetInput.fromObject(target),
          // A canary is a measurement, not data: one that cannot be published within its interval is superseded by
          // the next, and its absence shows as missing freshness (the SLO alarm breaches on missing data).
          retryAttempts: 2,
          maxEventAge: Duration.minutes(this.settings.intervalMinutes),
        }),
      ],
    });
    this.addSlo(source.name);
  }

  /**
   * Receipts of `sources` land in `bucket` under `_freshness/`: each one becomes a Freshness value. Receipts expire
   * after a week when the bucket is this app's.
   */
  watchReceipts(bucket: s3.IBucket, sources: string[]): void {
    for (const source of sources) {
      new CfnOutput(this, `${alphanumeric(source)}Receipts`, {
        key: `Freshness${alphanumeric(source)}Receipts`,
        value: `s3://${bucket.bucketName}/${RECEIPTS_PREFIX}${source}/`,
        description: `Where the exit writes the freshness receipts of ${source} (npm run verify)`,
      });
    }
    const reporter = this.reporter;
    if (!reporter || this.watched.has(bucket)) return;
    this.watched.add(bucket);
    bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(reporter), { prefix: RECEIPTS_PREFIX });
    if (bucket instanceof s3.Bucket) bucket.addLifecycleRule({ id: 'expire-freshness-receipts', prefix: RECEIPTS_PREFIX, expiration: KEEP });
    acknowledgeBucketNotificationsHandler(this);
  }

  /** The Freshness metric of `source` in this stack. */
  metric(source: string, statistic = 'p95'): Metric {
    return freshnessMetric(Stack.of(this).stackName, source, statistic, Duration.minutes(this.settings.windowMinutes));
  }

  /**
   * The SLO alarm of `source`: p95 freshness over `windowMinutes` above `targetSeconds`, two windows in a row. Missing
   * data breaches: a canary arrives every `intervalMinutes`, so a window without a single receipt means nothing got
   * through.
   */
  addSlo(source: string): void {
    if (!this.settings.enabled) return;
    const { targetSeconds, windowMinutes } = this.settings;
    this.monitoring.facade.monitorCustom({
      alarmFriendlyName: `${source}-freshness`,
      humanReadableName: `${source}: freshness (s from publish to commit)`,
      metricGroups: [
        {
          title: `${source}: freshness, p50 / p95 / max (s)`,
          metrics: [
            this.metric(source, 'p50'),
            {
              metric: this.metric(source, 'p95'),
              alarmFriendlyName: 'slo', // after the group's name: <source>-freshness-slo
              addAlarm: {
                Critical: {
                  threshold: targetSeconds,
                  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                  treatMissingDataOverride: TreatMissingData.BREACHING,
                  // Two windows in a row: the canaries that waited for a first deploy's (or a restart's) job to start
                  // make one slow window, not a page.
                  datapointsToAlarm: 2,
                  evaluationPeriods: 2,
                  runbookLink: this.runbookLink,
                  additionalDescription: `p95 freshness of ${source} above ${targetSeconds} s (or no canary committed) in two ${windowMinutes}-minute windows in a row.`,
                },
              },
            },
            this.metric(source, 'Maximum'),
          ],
        },
      ],
    });
  }
}

/**
 * The Freshness metric of `source` in stack `stackName`; its SampleCount is the number of canaries committed, which a
 * no-data alarm on a metric that also counts canaries subtracts (PipelineMonitoring.addNoDataAlarm `canaries`).
 */
export function freshnessMetric(stackName: string, source: string, statistic = 'SampleCount', period = Duration.minutes(5)): Metric {
  const d = FRESHNESS_METRIC.dimensions;
  return new Metric({
    namespace: FRESHNESS_METRIC.namespace,
    metricName: FRESHNESS_METRIC.name,
    dimensionsMap: { service: FRESHNESS_METRIC.service, [d.pipeline]: stackName, [d.source]: source },
    statistic,
    period,
  });
}

