import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { PipelineMonitoring } from '../pipeline-monitoring';
import { SecureBucket, SecureBucketProps } from '../secure-bucket';
import { LandingTarget } from './targets';

export { LandingTarget } from './targets';
export type { KafkaTargetProps } from './targets';

const VALIDATOR_ENTRY = path.join(__dirname, '..', '..', '..', 'handlers', 'landing-validator', 'index.ts');
const PROJECT_ROOT = path.join(__dirname, '..', '..', '..');

/** The validator's metrics (Powertools EMF), dimensioned by service and Source. */
export const VALIDATOR_METRICS_NAMESPACE = 'StreamFoundry/LandingZone';
const VALIDATOR_SERVICE = 'landing-validator';
/** What each alarm means and what to do about it. */
export const RUNBOOK = 'docs/runbooks/landing-zone.md';

export interface LandingZoneSource {
  /** Source name: its landing prefix (`<name>/`), topic and validator are named after it. */
  readonly name: string;
  /** Path of the source's JSON Schema; bundled with its validator. */
  readonly schemaFile: string;
  /** Event field holding the event id (duplicates downstream share it). */
  readonly idField: string;
  /** Event field used as Kinesis partition key / Kafka message key. */
  readonly partitionKeyField: string;
  /** Where valid events go. */
  readonly target: LandingTarget;
}

export interface LandingZoneProps {
  /** The data sources, each with its own prefix, topic and validator. */
  readonly sources: LandingZoneSource[];
  /** Alarms and widgets go here. @default a PipelineMonitoring of its own */
  readonly monitoring?: PipelineMonitoring;
  /** Use this bucket for landing files instead of creating one (XOR `landingBucketProps`). */
  readonly existingLandingBucket?: s3.IBucket;
  readonly landingBucketProps?: SecureBucketProps;
  /** Use this bucket for rejected events instead of creating one (XOR `errorBucketProps`). */
  readonly existingErrorBucket?: s3.IBucket;
  readonly errorBucketProps?: SecureBucketProps;
  /** Whether destroying the stack deletes the buckets, keys and logs it created. @default false */
  readonly allowDestroy?: boolean;
  /** The "no data" alarm fires when no event was read for this long. @default 60 minutes */
  readonly noDataAlarmPeriod?: Duration;
  /** Validator memory. Objects are streamed, so this bounds throughput, not the object size. @default 1024 */
  readonly validatorMemoryMiB?: number;
  /** How long the validator's logs are kept. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Publishes each source's JSON Schema to an AWS Glue Schema Registry (BACKWARD compatibility), where publishers and
   * consumers find the contract. @default true
   */
  readonly registerSchemas?: boolean;
}

/**
 * The validated landing zone:
 *
 *   publisher -> s3://landing/<source>/... -> SNS topic <source> -> validator Lambda <source> -+-> Kinesis / Kafka
 *                                                                                             +-> s3://errors/...
 *   failed deliveries and invocations (after retries) -> SQS dead-letter queue
 */
export class LandingZone extends Construct {
  readonly landingBucket: s3.IBucket;
  readonly errorBucket: s3.IBucket;
  /** Encrypts the topics and the dead-letter queue; S3, SNS and CloudWatch may use it. */
  readonly messagingKey: kms.Key;
  readonly deadLetterQueue: sqs.Queue;
  readonly topics: Record<string, sns.Topic> = {};
  readonly validators: Record<string, nodejs.NodejsFunction> = {};
  readonly monitoring: PipelineMonitoring;
  /** The Glue Schema Registry holding the sources' schemas (unless `registerSchemas` is false). */
  readonly schemaRegistry?: glue.CfnRegistry;

  constructor(scope: Construct, id: string, props: LandingZoneProps) {
    super(scope, id);
    if (props.sources.length === 0) throw new Error(`${this.node.path}: "sources" must name at least one data source`);
    const removalPolicy = props.allowDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.landingBucket = bucket(this, 'LandingBucket', props.existingLandingBucket, props.landingBucketProps, props.allowDestroy);
    this.errorBucket = bucket(this, 'ErrorBucket', props.existingErrorBucket, props.errorBucketProps, props.allowDestroy);
    this.monitoring = props.monitoring ?? new PipelineMonitoring(this, 'Monitoring', { pipelineName: this.node.id, runbookLink: RUNBOOK });

    this.messagingKey = new kms.Key(this, 'MessagingKey', {
      description: `Encrypts the landing topics and dead-letter queue of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy,
    });
    // S3 publishes object events to the topics; SNS delivers undeliverable messages to the dead-letter queue.
    this.messagingKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('s3.amazonaws.com'), new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'], // in a key policy, "*" means this key
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );

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
        name: `${Stack.of(this).stackName}-${this.node.id}`.slice(0, 255),
        description: `Event schemas of the data sources landing in ${this.node.path}`,
      });
    }
    for (const source of props.sources) this.addSource(source, props, removalPolicy);
    this.acknowledgeNotificationsHandler();
    this.addMonitoring(props);
  }

  /** Every alarm of the landing zone (and of whatever shares its monitoring). */
  get alarms() {
    return this.monitoring.alarms;
  }

  private addSource(source: LandingZoneSource, props: LandingZoneProps, removalPolicy: RemovalPolicy): void {
    const { name } = source;
    if (this.topics[name]) throw new Error(`${this.node.path}: source "${name}" is listed twice`);
    const schemaDefinition = readSchema(this, source);

    const topic = new sns.Topic(this, `${name}Topic`, { masterKey: this.messagingKey, enforceSSL: true });
    this.landingBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SnsDestination(topic), {
      prefix: `${name}/`,
    });

    const logGroup = new logs.LogGroup(this, `${name}ValidatorLogs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    // Our own role: logging to exactly this log group, instead of the broad AWSLambdaBasicExecutionRole.
    const role = new iam.Role(this, `${name}ValidatorRole`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Validates ${name} files in ${this.node.path}`,
    });
    logGroup.grantWrite(role);
    const target = source.target.bind(role);
    if (target.network) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          // Lambda manages its network interfaces in the VPC; these EC2 actions support no resource scoping.
          actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
          resources: ['*'],
        }),
      );
      Validations.of(role.node.tryFindChild('DefaultPolicy')!).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `The ${name} validator runs in the Kafka VPC; Lambda's network-interface actions support no resource scoping.`,
      });
    }

    const validator = new nodejs.NodejsFunction(this, `${name}Validator`, {
      description: `Validates ${name} events landed in S3 and publishes them to ${source.target.kind}`,
      entry: VALIDATOR_ENTRY,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.validatorMemoryMiB ?? 1024,
      timeout: Duration.minutes(15),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        SOURCE_NAME: name,
        ID_FIELD: source.idField,
        PARTITION_KEY_FIELD: source.partitionKeyField,
        ERROR_BUCKET: this.errorBucket.bucketName,
        POWERTOOLS_SERVICE_NAME: VALIDATOR_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: VALIDATOR_METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...target.environment,
      },
      ...target.network,
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node22',
        // The source's schema travels with its validator, compiled once per container.
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_input: string, output: string) => [`cp "${source.schemaFile}" "${output}/schema.json"`],
        },
      },
      // Async invocations (SNS) are retried twice, then land in the dead-letter queue with the original event.
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    topic.addSubscription(new subscriptions.LambdaSubscription(validator, { deadLetterQueue: this.deadLetterQueue }));

    this.grantValidator(validator, name);
    if (this.schemaRegistry) {
      new glue.CfnSchema(this, `${name}Schema`, {
        registry: { arn: this.schemaRegistry.attrArn },
        name,
        dataFormat: 'JSON',
        compatibility: 'BACKWARD',
        schemaDefinition,
        description: `JSON Schema of ${name} events`,
      });
    }
    this.topics[name] = topic;
    this.validators[name] = validator;
  }

  /** Read only its own prefix, write only its own error prefixes: one source's validator cannot touch another's data. */
  private grantValidator(validator: nodejs.NodejsFunction, name: string): void {
    const role = validator.role!;
    // GetObjectVersion: the validator reads exactly the version the event names (a rerun never reads newer content).
    // CopyObject (quarantine) reads with GetObject on the source and writes with PutObject on the destination.
    const landingObjects = this.landingBucket.arnForObjects(`${name}/*`);
    const errorObjects = [`invalid/source=${name}/*`, `quarantine/source=${name}/*`].map((p) => this.errorBucket.arnForObjects(p));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [landingObjects] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: errorObjects }),
    );
    this.landingBucket.encryptionKey?.grant(role, 'kms:Decrypt');
    // Multipart uploads to an SSE-KMS bucket need Decrypt as well as GenerateDataKey.
    this.errorBucket.encryptionKey?.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');

    // cdk-nag names each wildcard resource as it appears in the template; acknowledge exactly those.
    const policy = role.node.tryFindChild('DefaultPolicy')!;
    const finding = (arn: string) => `Resource::${flattenCfnReference(Stack.of(this).resolve(arn))}`;
    const acknowledgements: [string, string][] = [
      [finding(landingObjects), 'reads any file its publishers land under its own prefix'],
      [finding(errorObjects[0]), 'writes rejected events under its own prefix'],
      [finding(errorObjects[1]), 'quarantines unreadable files under its own prefix'],
    ];
    for (const [id, reason] of acknowledgements) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason: `The ${name} validator ${reason}.` });
    }
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `CDK's on-failure destination grant: the ${name} validator encrypts dead letters with the messaging key only.`,
      });
    }
    Validations.of(validator).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 (LTS to April 2027) is the runtime the platform builds, bundles and tests the validator for.',
    });
  }

  /** CDK configures S3 notifications at deploy time with a singleton Lambda whose role it manages. */
  private acknowledgeNotificationsHandler(): void {
    const handler = Stack.of(this).node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (!handler) return;
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's bucket-notifications handler (runs once per deployment); its role is CDK-managed.",
    });
  }

  /** Alarms on what the platform requirements name: failures, throttles, DLQ depth, bad events, no data, retries. */
  private addMonitoring(props: LandingZoneProps): void {
    const facade = this.monitoring.facade;
    facade.addLargeHeader(`Landing zone ${this.node.path}`);
    for (const [name, validator] of Object.entries(this.validators)) {
      facade.monitorLambdaFunction({
        lambdaFunction: validator,
        alarmFriendlyName: `${name}-validator`,
        humanReadableName: `${name} validator`,
        addFaultCountAlarm: { Critical: { maxErrorCount: 0 } },
        addThrottlesCountAlarm: { Critical: { maxErrorCount: 0 } },
        // The validator's "batch duration": a file that takes most of the 15 minutes will soon time out.
        addMaxLatencyAlarm: { Warning: { maxLatencyPercentageOfTimeout: 80 } },
      });
      const metric = (metricName: string, period: Duration) =>
        new Metric({
          namespace: VALIDATOR_METRICS_NAMESPACE,
          metricName,
          dimensionsMap: { service: VALIDATOR_SERVICE, Source: name },
          statistic: 'Sum',
          period,
        });
      const fiveMinutes = Duration.minutes(5);
      facade.monitorCustom({
        alarmFriendlyName: `${name}-events`,
        humanReadableName: `${name} events`,
        metricGroups: [
          {
            title: `${name}: events read, published, invalid`,
            metrics: [
              {
                metric: metric('EventsRead', props.noDataAlarmPeriod ?? Duration.minutes(60)),
                alarmFriendlyName: `${name}-no-data`,
                addAlarm: {
                  Critical: {
                    threshold: 1,
                    comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
                    // No datapoint at all means no file arrived: exactly what this alarm is for.
                    treatMissingDataOverride: TreatMissingData.BREACHING,
                    additionalDescription: 'No events were read in the period: publishers may have stopped.',
                  },
                },
              },
              metric('EventsPublished', fiveMinutes),
              {
                metric: metric('EventsInvalid', fiveMinutes),
                alarmFriendlyName: `${name}-invalid-events`,
                addAlarm: {
                  Warning: {
                    threshold: 0,
                    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                    additionalDescription: 'Events failed validation and were written to the error bucket.',
                  },
                },
              },
              {
                metric: metric('ObjectsQuarantined', fiveMinutes),
                alarmFriendlyName: `${name}-quarantined-files`,
                addAlarm: {
                  Critical: {
                    threshold: 0,
                    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                    additionalDescription: 'A landed file could not be read at all and was quarantined whole.',
                  },
                },
              },
              {
                metric: metric('PublishRetries', fiveMinutes),
                alarmFriendlyName: `${name}-publish-retries`,
                addAlarm: {
                  Warning: {
                    threshold: 100,
                    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                    additionalDescription: 'The target is throttling or failing writes: check its capacity.',
                  },
                },
              },
            ],
          },
        ],
      });
    }
    facade.monitorSqsQueue({
      queue: this.deadLetterQueue,
      alarmFriendlyName: 'landing-dlq',
      humanReadableName: 'Landing zone dead-letter queue',
      addQueueMaxSizeAlarm: { Critical: { maxMessageCount: 0 } },
    });
  }
}

/** The source's JSON Schema text, checked now so a bad file fails synth rather than every invocation. */
function readSchema(scope: Construct, source: LandingZoneSource): string {
  let text: string;
  try {
    text = fs.readFileSync(source.schemaFile, 'utf8');
  } catch {
    throw new Error(`${scope.node.path}: the schema of source "${source.name}" is not readable: ${source.schemaFile}`);
  }
  try {
    const schema = JSON.parse(text);
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Error('not an object');
  } catch (error) {
    throw new Error(`${scope.node.path}: the schema of source "${source.name}" (${source.schemaFile}) is not a JSON Schema object: ${(error as Error).message}`);
  }
  return text;
}

/** A bring-your-own bucket (`existing<Id>`) or a new SecureBucket (`<id>Props`), never both. */
function bucket(
  scope: Construct,
  id: 'LandingBucket' | 'ErrorBucket',
  existing: s3.IBucket | undefined,
  props: SecureBucketProps | undefined,
  allowDestroy: boolean | undefined,
): s3.IBucket {
  if (existing && props) {
    const propsName = `${id.charAt(0).toLowerCase()}${id.slice(1)}Props`;
    throw new Error(`${scope.node.path}: give either "existing${id}" or "${propsName}", not both`);
  }
  return existing ?? new SecureBucket(scope, id, { allowDestroy, ...props }).bucket;
}
