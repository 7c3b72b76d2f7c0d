import { isDeepStrictEqual } from 'util';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeBucketNotificationsHandler } from '../../compliance';
import { checkSourceName, PipelineBase, pipelineBase, requireEither } from '../../pipeline';
import { PipelineMonitoring } from '../../pipeline-monitoring';
import { SecureBucket } from '../../secure-bucket';
import { monitorLandingZone, RUNBOOK } from './monitoring';
import { LandingZoneProps, LandingZoneSource } from './props';
import { readSourceSchema } from './schema';
import { RegisteredSchema, SchemaVersionChecker } from '../../schema-registry/registry';
import { RegistryCompatibility } from '../../schema-registry/versions';
import { SourceValidator } from './source-validator';

export { LandingTarget } from './targets';
export type { KafkaTargetProps } from './targets';
export type { LandingZoneProps, LandingZoneSource } from './props';
export { RUNBOOK, validatorMetric } from './monitoring';

/**
 * The validated landing zone:
 *
 * ```text
 *   publisher -> s3://landing/<source>/... -> SNS topic <source> -> validator Lambda <source> -+-> Kinesis / Kafka
 *                                                                                             +-> s3://errors/...
 *   failed deliveries and invocations (after retries) -> SQS dead-letter queue
 * ```
 */
export class LandingZone extends Construct {
  /** The bucket publishers drop files into, under `<source>/`: `existingLandingBucket`, or the one it creates. */
  readonly landingBucket: s3.IBucket;
  /** Where the validators write the rejected events, with the reason: `existingErrorBucket`, or the one it creates. */
  readonly errorBucket: s3.IBucket;
  /** Encrypts the topics and the dead-letter queue; S3 and SNS may use it for this account's resources only. */
  readonly messagingKey: kms.Key;
  /** Failed deliveries and invocations, after retries. */
  readonly deadLetterQueue: sqs.Queue;
  /** Each source's topic, notified of the files landing under its prefix, by source name. */
  readonly topics: Record<string, sns.Topic> = {};
  /**
   * Each source's validator function (checks every event against the schema, forwards the valid ones), by source name.
   */
  readonly validators: Record<string, nodejs.NodejsFunction> = {};
  /** The alarms and dashboard of the zone (`props.monitoring`, or its own). */
  readonly monitoring: PipelineMonitoring;
  /** The Glue Schema Registry holding the sources' schemas (unless `registerSchemas` is false). */
  readonly schemaRegistry?: glue.CfnRegistry;
  /** Each source's schema in the registry, with its versions and their AVAILABLE checks. */
  readonly schemas: Record<string, RegisteredSchema> = {};
  private readonly schemaChecker?: SchemaVersionChecker;
  private readonly compatibilities: Record<string, RegistryCompatibility> = {};

  constructor(scope: Construct, id: string, props: LandingZoneProps) {
    super(scope, id);
    if (props.sources.length === 0) throw new Error(`${this.node.path}: "sources" must name at least one data source`);
    requireEither(this, props, ['existingLandingBucket', 'landingBucketProps'], ['existingErrorBucket', 'errorBucketProps']);
    const base = pipelineBase(this, props, RUNBOOK);
    const { allowDestroy, removalPolicy } = base;
    this.monitoring = base.monitoring;

    this.landingBucket = props.existingLandingBucket ?? new SecureBucket(this, 'LandingBucket', { allowDestroy, ...props.landingBucketProps }).bucket;
    this.errorBucket = props.existingErrorBucket ?? new SecureBucket(this, 'ErrorBucket', { allowDestroy, ...props.errorBucketProps }).bucket;
    this.messagingKey = new kms.Key(this, 'MessagingKey', {
      description: `Encrypts the landing topics and dead-letter queue of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryptionMasterKey: this.messagingKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue: of the validators (on-failure destination) and their SNS subscriptions.',
    });
    if (props.registerSchemas ?? true) {
      this.schemaRegistry = new glue.CfnRegistry(this, 'SchemaRegistry', {
        name: base.name.slice(0, 255),
        description: `Event schemas of the data sources landing in ${this.node.path}`,
      });
      this.schemaChecker = new SchemaVersionChecker(this, 'SchemaVersionChecker', {
        registry: this.schemaRegistry,
        logRetention: base.logRetention,
        removalPolicy: base.removalPolicy,
      });
    }

    for (const source of props.sources) this.addSource(source, props, base);
    this.grantMessagingKeyToServices();
    acknowledgeBucketNotificationsHandler(this);
    monitorLandingZone(this.monitoring, this.node.path, this.validators, this.deadLetterQueue, props.noDataMinutes);
  }

  /** Every alarm of the landing zone (and of whatever shares its monitoring). */
  get alarms() {
    return this.monitoring.alarms;
  }

  private addSource(source: LandingZoneSource, props: LandingZoneProps, base: PipelineBase): void {
    const { name } = source;
    checkSourceName(this, name, 'sources[].name');
    if (this.topics[name]) throw new Error(`${this.node.path}: source "${name}" is listed twice`);
    const schemaDefinition = readSourceSchema(this, source);
    const validator = new SourceValidator(this, name, {
      source,
      topicName: this.topicName(name),
      landingBucket: this.landingBucket,
      errorBucket: this.errorBucket,
      messagingKey: this.messagingKey,
      deadLetterQueue: this.deadLetterQueue,
      memoryMiB: props.validatorMemoryMiB ?? 1024,
      logRetention: base.logRetention,
      removalPolicy: base.removalPolicy,
    });
    if (this.schemaRegistry && this.schemaChecker) {
      const latest = source.schemaVersions?.at(-1);
      if (latest !== undefined && !isDeepStrictEqual(JSON.parse(latest), JSON.parse(schemaDefinition))) {
        throw new Error(`${this.node.path}: the last of the schemaVersions of source "${name}" must be its schema (${source.schemaFile}), which the validator enforces`);
      }
      const registered = new RegisteredSchema(this, {
        registry: this.schemaRegistry,
        checker: this.schemaChecker,
        name,
        versions: source.schemaVersions ?? [schemaDefinition],
        compatibility: source.compatibility ?? 'BACKWARD',
        description: `JSON Schema of ${name} events`,
      });
      // The validator enforces a version only once the registry has accepted it.
      validator.function.node.addDependency(registered.ready);
      this.schemas[name] = registered;
    }
    this.compatibilities[name] = source.compatibility ?? 'BACKWARD';
    this.topics[name] = validator.topic;
    this.validators[name] = validator.function;
  }

  /**
   * Orders a deploy that changes `source`'s schema around the jobs that read its events (`readers`): under BACKWARD
   * and FULL (and NONE), readers first, so no job meets an event of a version it does not know yet, and a job
   * restarted on the new version reads the old events still in its stream; under FORWARD, the validator first (old
   * readers read new events). A reader is what restarts the job with its new schema (a job run, an application).
   */
  updateAfterReaders(source: string, readers: IConstruct[]): void {
    const validator = this.validators[source];
    if (!validator) throw new Error(`${this.node.path}: no source "${source}"`);
    const mode = this.compatibilities[source];
    for (const reader of readers) {
      if (mode.startsWith('FORWARD')) reader.node.addDependency(validator);
      else validator.node.addDependency(reader);
    }
  }

  /** `<stack>-<zone>-<source>`: unique per account and region, as stack names are. */
  private topicName(source: string): string {
    return `${Stack.of(this).stackName}-${this.node.id}-${source}`.slice(0, 256);
  }

  /**
   * S3 publishes object events to the topics (encrypting with this key); SNS delivers what it cannot deliver to the
   * dead-letter queue. Each only for this account, and only from this zone's bucket and topics.
   */
  private grantMessagingKeyToServices(): void {
    const account = Stack.of(this).account;
    const grant = (service: string, sourceArns: string[]) =>
      this.messagingKey.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          resources: ['*'], // in a key policy, "*" means this key
          conditions: { StringEquals: { 'aws:SourceAccount': account }, ArnLike: { 'aws:SourceArn': sourceArns } },
        }),
      );
    grant('s3.amazonaws.com', [this.landingBucket.bucketArn]);
    const topicArn = (source: string) => Stack.of(this).formatArn({ service: 'sns', resource: this.topicName(source) });
    grant('sns.amazonaws.com', Object.keys(this.topics).map(topicArn));
  }
}
