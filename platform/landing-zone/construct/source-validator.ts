import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { BundledFunction, functionRole } from '../../functions';
import { ENV, METRICS_NAMESPACE, VALIDATOR_SERVICE } from '../validator/contract';
import { LandingZoneSource } from './props';
import { fromRoot } from '../../paths';

const VALIDATOR_ENTRY = fromRoot('platform', 'landing-zone', 'validator', 'index.ts');

/** Where a validator reads and writes: one source's prefixes in the zone's buckets. */
export const landingPrefix = (source: string) => `${source}/`;
export const errorPrefixes = (source: string) => [`invalid/source=${source}/`, `quarantine/source=${source}/`];

export interface SourceValidatorProps {
  readonly source: LandingZoneSource;
  /** The topic's name: fixed, so key policies can name its ARN without a reference cycle (key -> topic -> key). */
  readonly topicName: string;
  readonly landingBucket: s3.IBucket;
  readonly errorBucket: s3.IBucket;
  readonly messagingKey: kms.IKey;
  readonly deadLetterQueue: sqs.IQueue;
  readonly memoryMiB: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * One source of a landing zone: its topic fed by object-created events under `<source>/`, and the validator Lambda
 * subscribed to it with a role that can touch nothing of another source.
 */
export class SourceValidator extends Construct {
  readonly topic: sns.Topic;
  readonly function: BundledFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SourceValidatorProps) {
    super(scope, id);
    const { source } = props;
    this.topic = new sns.Topic(this, 'Topic', { topicName: props.topicName, masterKey: props.messagingKey, enforceSSL: true });
    props.landingBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new AccountScopedSnsDestination(this.topic), {
      prefix: landingPrefix(source.name),
    });

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    // Our own role: logging to exactly this log group, instead of the broad AWSLambdaBasicExecutionRole.
    this.role = functionRole(this, 'Role', `Validates ${source.name} files landed in ${props.landingBucket.node.path}`, logGroup);
    const target = source.target.bind(this.role);

    this.function = new BundledFunction(this, 'Function', {
      description: `Validates ${source.name} events landed in S3 and publishes them to ${source.target.kind}`,
      entry: VALIDATOR_ENTRY,
      handler: 'handler',
      memorySize: props.memoryMiB,
      timeout: Duration.minutes(15),
      role: this.role,
      logGroup,
      environment: {
        [ENV.sourceName]: source.name,
        [ENV.idField]: source.idField,
        [ENV.partitionKeyField]: source.partitionKeyField,
        [ENV.errorBucket]: props.errorBucket.bucketName,
        [ENV.serviceName]: VALIDATOR_SERVICE,
        [ENV.metricsNamespace]: METRICS_NAMESPACE,
        ...target.environment,
      },
      network: target.network,
      // The source's schema travels with its validator, compiled once per container.
      bundling: {
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_input: string, output: string) => [`cp "${source.schemaFile}" "${output}/schema.json"`],
        },
      },
      // Async invocations (SNS) are retried twice, then land in the dead-letter queue with the original event.
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(props.deadLetterQueue),
    });
    this.topic.addSubscription(new subscriptions.LambdaSubscription(this.function, { deadLetterQueue: props.deadLetterQueue }));

    this.grantBuckets(props);
  }

  /**
   * Read only its own prefix, write only its own error prefixes: one source's validator cannot read another's data.
   *  - GetObjectVersion: it reads exactly the version the event names (a rerun never reads newer content).
   *  - ListBucket on the landing bucket, unconditioned: without it S3 answers 403, not 404, for an object deleted
   *    since the event (GetObject API reference, "Permissions"), and the handler could not tell "gone" from
   *    "forbidden". Whether S3 counts an s3:prefix-conditioned ListBucket for that 404 is not documented (issue 15,
   *    finding 2), so the grant does not depend on it. The price: the role may list other sources' key names (never
   *    read their content). The alternative, treating 403 as "gone", would turn a real denial (a key policy or grant
   *    changed) into silently skipped events. test/permissions/ proves the probe against the synthesized role.
   *  - Quarantine is a CopyObject, which copies the object's tags: tag reads on the source, tag writes on the copy.
   */
  private grantBuckets(props: SourceValidatorProps): void {
    const name = props.source.name;
    const landingObjects = props.landingBucket.arnForObjects(`${landingPrefix(name)}*`);
    const [invalidObjects, quarantineObjects] = errorPrefixes(name).map((p) => props.errorBucket.arnForObjects(`${p}*`));
    const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    allow(['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging'], [landingObjects]);
    allow(['s3:ListBucket'], [props.landingBucket.bucketArn]);
    allow(['s3:PutObject', 's3:AbortMultipartUpload'], [invalidObjects, quarantineObjects]);
    allow(['s3:PutObjectTagging'], [quarantineObjects]);
    props.landingBucket.encryptionKey?.grant(this.role, 'kms:Decrypt');
    // Multipart uploads to an SSE-KMS bucket need Decrypt as well as GenerateDataKey.
    props.errorBucket.encryptionKey?.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt');

    // cdk-nag names each wildcard resource as it appears in the template; acknowledge exactly those.
    const policy = this.role.node.tryFindChild('DefaultPolicy')!;
    const finding = (arn: string) => `Resource::${flattenCfnReference(Stack.of(this).resolve(arn))}`;
    const acknowledgements: [string, string][] = [
      [finding(landingObjects), 'reads any file its publishers land under its own prefix'],
      [finding(invalidObjects), 'writes rejected events under its own prefix'],
      [finding(quarantineObjects), 'quarantines unreadable files under its own prefix'],
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
  }
}

/**
 * S3 → SNS with a topic policy scoped to this bucket and account. CDK's SnsDestination, under a feature flag, also
 * adds an unconditioned S3 statement to the topic's key policy, which would cancel the messaging key's own
 * account scoping; the LandingZone grants S3 the key itself, with conditions.
 */
class AccountScopedSnsDestination implements s3.IBucketNotificationDestination {
  constructor(private readonly topic: sns.ITopic) {}

  bind(scope: Construct, bucket: s3.IBucket): s3.BucketNotificationDestinationConfig {
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
        },
      }),
    );
    // S3 checks the topic policy when the notification is configured: wait for the policy (the ARN's Ref already
    // orders the topic itself).
    const policy = this.topic.node.tryFindChild('Policy');
    return { arn: this.topic.topicArn, type: s3.BucketNotificationDestinationType.TOPIC, dependencies: policy ? [policy] : [] };
  }
}
