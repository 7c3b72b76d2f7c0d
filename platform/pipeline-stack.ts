import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { PipelineBudget } from './budgets';
import { Freshness } from './freshness';
import { LandingTarget, LandingZone } from './landing-zone/construct';
import { PipelineMonitoring } from './pipeline-monitoring';
import { StreamFoundryConfig } from './config';
import { dataSources } from './data-source';
import { alphanumeric } from './names';
import { AwsPipelineKey, PIPELINES, SourcePipelineKey } from '../pipelines';

/** What every pipeline stack receives from the app (platform/aws-app.ts). */
export interface PipelineStackProps extends StackProps {
  /** The validated configuration (cdk.json's context, `parseConfig`) the stack is built from. */
  readonly config: StreamFoundryConfig;
}

/**
 * What every AWS pipeline stack resolves the same way from the configuration, once: the monitoring its constructs and
 * landing zone share (alarms named after the stack, to `alarmEmails` or `alarmTopicArn`, linking runbooks at
 * `docsUrl`), its budget and cost anomaly monitor (`budgets`, notifying the same topic) and what
 * `allowDataDestruction` means for its stateful resources.
 */
export class PipelineStack extends Stack {
  /** The configuration the stack was built from. */
  readonly config: StreamFoundryConfig;
  /** The alarms, alarm topic and dashboard the stack's constructs and landing zone share. */
  readonly monitoring: PipelineMonitoring;
  /** The stack's AWS Budgets budget and Cost Anomaly Detection monitor (id `Budget`), unless `budgets.enabled` is false. */
  readonly budget?: PipelineBudget;
  /** Whether destroying the stack deletes its data (`allowDataDestruction`). */
  readonly allowDestroy: boolean;
  /** RETAIN unless `allowDataDestruction`. */
  readonly removalPolicy: RemovalPolicy;
  private freshnessCanary?: Freshness;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    this.allowDestroy = config.allowDataDestruction;
    this.removalPolicy = this.allowDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      docsUrl: config.docsUrl,
      alarmEmails: config.alarmEmails,
      existingAlarmTopic: config.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn) : undefined,
    });
    if (config.budgets.enabled) {
      this.budget = new PipelineBudget(this, 'Budget', {
        settings: config.budgets,
        pipeline: PIPELINES.find((p) => p.cloud === 'aws' && p.stackId === id)?.key as AwsPipelineKey | undefined,
        topic: this.monitoring.alarmTopic,
      });
    }
  }

  /**
   * The stack's freshness canary, reporter and SLO alarms (id `Freshness`, settings `freshness`; with `enabled` false
   * only the outputs `npm run verify` reads), built on first use.
   */
  get freshness(): Freshness {
    const { freshness } = this.config;
    const pipeline = PIPELINES.find((p) => p.cloud === 'aws' && p.stackId === this.node.id);
    if (!pipeline) throw new Error(`${this.node.path}: freshness is built by pipeline stacks only`);
    this.freshnessCanary ??= new Freshness(this, 'Freshness', {
      settings: freshness,
      monitoring: this.monitoring,
      runbook: pipeline.name,
      removalPolicy: this.removalPolicy,
    });
    return this.freshnessCanary;
  }

  /** A Kinesis stream's props from its settings: on demand for 0 shards, encrypted with the AWS-managed key. */
  streamProps(stream: { shards: number; retentionHours: number }): kinesis.StreamProps {
    return {
      ...(stream.shards === 0 ? { streamMode: kinesis.StreamMode.ON_DEMAND } : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: stream.shards }),
      retentionPeriod: Duration.hours(stream.retentionHours),
      encryption: kinesis.StreamEncryption.MANAGED,
      removalPolicy: this.removalPolicy,
    };
  }
}

/** Props of `attachLandingZone`: how a pipeline stack hooks its own landing zone to its targets. */
export interface AttachedLandingZoneProps {
  /** The pipeline the zone feeds: every source that lists it lands here. */
  readonly pipeline: SourcePipelineKey;
  /** Where a source's valid events go. */
  readonly target: (source: string) => LandingTarget;
  /** Where the zone's alarms and widgets go: the stack's monitoring. */
  readonly monitoring: PipelineMonitoring;
  /** The pipeline's error bucket, shared with the validators. @default one of the zone's own */
  readonly existingErrorBucket?: s3.IBucket;
  /**
   * What restarts the job reading a source's events with a new schema (its job run, its application): a schema
   * change deploys in the order its compatibility mode needs (LandingZone.updateAfterReaders). @default none
   */
  readonly readers?: (source: string) => IConstruct[];
}

/**
 * How a pipeline takes files, the one way: its stack attaches a landing zone (id `LandingZone`) beside the pipeline,
 * for every source that lists the pipeline, validated with the `validator` settings. `scope` holds the zone: the
 * stack, except for pipeline 5, whose zone was released inside its construct and stays there (the logical ids of its
 * buckets, key, topics, queue and log groups are kept).
 */
export function attachLandingZone(scope: Construct, config: StreamFoundryConfig, props: AttachedLandingZoneProps): LandingZone {
  const sources = dataSources(config, props.pipeline);
  const zone = new LandingZone(scope, 'LandingZone', {
    sources: sources.map((source) => ({ ...source, target: props.target(source.name) })),
    monitoring: props.monitoring,
    existingErrorBucket: props.existingErrorBucket,
    allowDestroy: config.allowDataDestruction,
    noDataMinutes: config.validator.noDataMinutes,
    validatorMemoryMiB: config.validator.memoryMiB,
  });
  const stack = Stack.of(scope);
  for (const { name } of sources) {
    if (props.readers) zone.updateAfterReaders(name, props.readers(name));
    const schema = zone.schemas[name]?.schema;
    // For publishers who validate in their own code with the registry's serializers (README "Validate before you publish").
    if (schema) new CfnOutput(stack, `${alphanumeric(name)}SchemaArn`, { value: schema.attrArn, description: `The Glue Schema Registry schema of ${name} events` });
  }
  return zone;
}
