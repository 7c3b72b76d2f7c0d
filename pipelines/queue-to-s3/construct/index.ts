import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { visibilityTimeoutProblem } from '../consumer/config';
import { CONSUMER_SERVICE } from '../consumer/contract';
import { RECEIPTS_PREFIX } from '../../../platform/freshness/contract';
import { catalogName } from '../../../platform/names';
import { checkSourceName, pipelineBase, requireEither } from '../../../platform/pipeline';
import { PipelineMonitoring } from '../../../platform/pipeline-monitoring';
import { SecureBucket } from '../../../platform/secure-bucket';
import { ScaledObject, scalingManifests, TriggerAuthentication } from './autoscaling';
import { consumerBundle } from './bundle';
import { ConsumerCluster } from './cluster';
import { acknowledgeClusterFindings } from './compliance';
import { OutputTable } from './lake';
import { Messaging } from './messaging';
import { monitorQueueToS3, RUNBOOK } from './monitoring';
import { PodIdentity } from './pod-identity';
import { DEFAULT_IMAGES, KEDA_CHART, QueueToS3ConsumerProps } from './props';
import { QUEUE_TO_S3_DEFAULTS as D } from './defaults';
import { consumerEnvironment, consumerManifests, KubernetesObject } from './workload';

export { RUNBOOK } from './monitoring';
export { QUEUE_TO_S3_DEFAULTS } from './defaults';
export { DEFAULT_IMAGES, KEDA_CHART } from './props';
export { KUBERNETES_VERSION } from './cluster';
export { exampleQuery, hiveType } from './lake';
export type { QueueToS3ConsumerProps, ConsumerOptions, ConsumerImages, QueueToS3AlarmSettings } from './props';

/** Seconds the consumer may take to flush and delete on SIGTERM (its SHUTDOWN_TIMEOUT_SECONDS). */
const SHUTDOWN_TIMEOUT_SECONDS = 25;

/**
 * Pipeline 1:
 *
 * ```text
 *   publisher -> SNS topic -> SQS queue (raw delivery) -> consumer pods on EKS -> s3://<output>/<source>/dt=…/hour=…/*.ndjson.gz
 *                               | after maxReceiveCount      (KEDA scales on queue depth)        `-> Glue table (partition projection) -> Athena
 *                               `-> dead-letter queue
 * ```
 */
export class QueueToS3Consumer extends Construct {
  /** The SNS topic publishers send the source's events to. */
  readonly topic: sns.Topic;
  /** The SQS queue the consumer reads, subscribed to the topic with raw message delivery. */
  readonly queue: sqs.Queue;
  /** Where a message goes after `maxReceiveCount` failed receives. */
  readonly deadLetterQueue: sqs.Queue;
  /** Encrypts the topic and both queues; SNS may use it for this topic only. */
  readonly messagingKey: kms.Key;
  /** The bucket the consumer writes batches to: `existingOutputBucket`, or the one it creates. */
  readonly outputBucket: s3.IBucket;
  /** Where valid messages land (`<source>/`) and where the bodies that are not JSON land (`errors/<source>/`). */
  readonly outputPrefix: string;
  /** Where the bodies that are not JSON land (`errors/<source>/`). */
  readonly errorPrefix: string;
  /** Where the consumer writes a freshness receipt per canary it commits (`_freshness/<source>/`, platform/freshness). */
  readonly receiptsPrefix: string;
  /** The EKS cluster the consumer runs on: `existingCluster`, or the one it creates. */
  readonly cluster: eks.ICluster;
  /** The cluster this construct created (absent with `existingCluster`). */
  readonly createdCluster?: ConsumerCluster;
  /** The consumer's Kubernetes namespace. */
  readonly namespace: string;
  /** The consumer pods' IAM role (EKS Pod Identity). */
  readonly consumerRole: iam.Role;
  /** The KEDA operator's IAM role: created with KEDA, or the one given. */
  readonly kedaOperatorRole?: iam.IRole;
  /** The KEDA Helm release, when the construct installs KEDA (`installKeda`). */
  readonly keda?: eks.HelmChart;
  /** The consumer's JavaScript bundle, which the pod's init container copies from S3. */
  readonly bundle: s3assets.Asset;
  /** The Kubernetes objects as applied: the consumer's, then KEDA's TriggerAuthentication and ScaledObject. */
  readonly workloadManifests: KubernetesObject[];
  /** KEDA's TriggerAuthentication and ScaledObject (scaling on the queue's depth), as applied. */
  readonly scalingManifests: [TriggerAuthentication, ScaledObject];
  /** The manifest applying `workloadManifests` (namespace, service account, deployment, disruption budget, service). */
  readonly workload: eks.KubernetesManifest;
  /** The manifest applying the scaling objects. */
  readonly scaling: eks.KubernetesManifest;
  /** The Glue table over the output (partition projection) and its Athena workgroup. */
  readonly table: OutputTable;
  /** The alarms and dashboard of the pipeline (`props.monitoring`, or its own). */
  readonly monitoring: PipelineMonitoring;

  constructor(scope: Construct, id: string, props: QueueToS3ConsumerProps) {
    super(scope, id);
    validate(this, props);
    const stack = Stack.of(this);
    const { allowDestroy, removalPolicy, logRetention, monitoring } = pipelineBase(this, props, RUNBOOK);
    this.monitoring = monitoring;
    const source = props.source.name;
    const consumer = props.consumer ?? {};
    const flushMaxAge = consumer.flushMaxAge ?? D.consumer.flushMaxAge;
    const visibilityTimeout = props.visibilityTimeout ?? D.visibilityTimeout;
    const minReplicas = consumer.minReplicas ?? D.consumer.minReplicas;
    const name = CONSUMER_SERVICE;
    this.namespace = props.namespace ?? D.namespace;

    const messaging = new Messaging(this, 'Messaging', {
      topicName: `${stack.stackName}-${id}-${source}`.slice(0, props.fifo ? 251 : 256) + (props.fifo ? '.fifo' : ''),
      fifo: props.fifo ?? D.fifo,
      visibilityTimeout,
      maxReceiveCount: props.maxReceiveCount ?? D.maxReceiveCount,
      retentionPeriod: props.retentionPeriod ?? D.retentionPeriod,
      removalPolicy,
    });
    ({ topic: this.topic, queue: this.queue, deadLetterQueue: this.deadLetterQueue, key: this.messagingKey } = messaging);

    const output = props.existingOutputBucket ? undefined : new SecureBucket(this, 'Output', { allowDestroy, ...props.outputBucketProps });
    this.outputBucket = props.existingOutputBucket ?? output!.bucket;
    this.outputPrefix = `${source}/`;
    this.errorPrefix = `errors/${source}/`;
    this.receiptsPrefix = `${RECEIPTS_PREFIX}${source}/`;

    if (props.existingCluster) {
      this.cluster = props.existingCluster;
    } else {
      this.createdCluster = new ConsumerCluster(this, 'Cluster', {
        clusterProps: props.clusterProps,
        availabilityZones: props.availabilityZones,
        dataRemovalPolicy: removalPolicy,
        logRetention,
      });
      this.cluster = this.createdCluster.cluster;
      acknowledgeClusterFindings(this.createdCluster);
    }

    this.bundle = consumerBundle(this, 'Bundle');
    const consumerIdentity = new PodIdentity(this, 'ConsumerIdentity', {
      cluster: this.cluster,
      namespace: this.namespace,
      serviceAccount: name,
      description: `Consumer pods of ${this.node.path}: consume one queue, write one bucket's three prefixes, read their bundle`,
    });
    this.consumerRole = consumerIdentity.role;
    this.grantConsumer();

    const installKeda = props.installKeda ?? !props.existingCluster;
    if (installKeda) {
      const operator = new PodIdentity(this, 'KedaOperatorIdentity', {
        cluster: this.cluster,
        namespace: KEDA_CHART.namespace,
        serviceAccount: KEDA_CHART.operatorServiceAccount,
        description: `KEDA operator of ${this.node.path}: reads the queue's depth`,
      });
      this.kedaOperatorRole = operator.role;
      this.keda = this.cluster.addHelmChart('Keda', {
        chart: KEDA_CHART.chart,
        repository: KEDA_CHART.repository,
        version: KEDA_CHART.version,
        release: 'keda',
        namespace: KEDA_CHART.namespace,
        createNamespace: true,
        wait: true,
        timeout: Duration.minutes(10),
      });
      // The operator must start with its credentials: Pod Identity injects them into pods created after the association.
      this.keda.node.addDependency(operator.association);
    } else {
      this.kedaOperatorRole = props.kedaOperatorRole;
    }
    this.kedaOperatorRole?.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: [this.queue.queueArn] }),
    );

    const images = { ...DEFAULT_IMAGES, ...props.images };
    this.workloadManifests = consumerManifests({
      namespace: this.namespace,
      name,
      images,
      bundleUrl: this.bundle.s3ObjectUrl,
      region: stack.region,
      environment: {
        ...consumerEnvironment({
          queueUrl: this.queue.queueUrl,
          bucket: this.outputBucket.bucketName,
          outputPrefix: this.outputPrefix,
          errorPrefix: this.errorPrefix,
          sourceName: source,
          idField: props.source.idField,
          region: stack.region,
          flushMaxMessages: consumer.flushMaxMessages ?? D.consumer.flushMaxMessages,
          flushMaxAgeMs: flushMaxAge.toMilliseconds(),
          visibilityTimeoutSeconds: visibilityTimeout.toSeconds(),
          shutdownTimeoutSeconds: SHUTDOWN_TIMEOUT_SECONDS,
        }),
        ...consumer.environment,
      },
      cpuMillicores: consumer.cpuMillicores ?? D.consumer.cpuMillicores,
      memoryMiB: consumer.memoryMiB ?? D.consumer.memoryMiB,
      shutdownTimeoutSeconds: SHUTDOWN_TIMEOUT_SECONDS,
    });
    this.workload = this.cluster.addManifest('Workload', ...(this.workloadManifests as Record<string, unknown>[]));
    this.workload.node.addDependency(consumerIdentity.association, this.consumerRole);

    this.scalingManifests = scalingManifests({
      namespace: this.namespace,
      name,
      queueUrl: this.queue.queueUrl,
      region: stack.region,
      minReplicas,
      maxReplicas: consumer.maxReplicas ?? D.consumer.maxReplicas,
      messagesPerReplica: consumer.messagesPerReplica ?? D.consumer.messagesPerReplica,
    });
    this.scaling = this.cluster.addManifest('Scaling', ...(this.scalingManifests as unknown as Record<string, unknown>[]));
    this.scaling.node.addDependency(this.workload);
    if (this.keda) this.scaling.node.addDependency(this.keda);

    if (props.containerInsights ?? !props.existingCluster) this.addContainerInsights();

    this.table = new OutputTable(this, 'Table', {
      databaseName: catalogName(`${stack.stackName}_${id}`),
      tableName: catalogName(source),
      bucket: this.outputBucket,
      prefix: this.outputPrefix,
      schemaFile: props.source.schemaFile,
      workgroupName: `${stack.stackName}-${id}`,
      allowDestroy,
    });

    monitorQueueToS3(this.monitoring, {
      topic: this.topic,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      clusterName: this.cluster.clusterName,
      namespace: this.namespace,
      name,
      source: props.source.name,
      minReplicas,
      noDataMinutes: props.alarms?.noDataMinutes,
      maxMessageAge: props.alarms?.maxMessageAge ?? D.alarms.maxMessageAge,
    });
  }

  /** Every alarm of the pipeline (and of whatever shares its monitoring). */
  get alarms() {
    return this.monitoring.alarms;
  }

  /**
   * Least privilege for the pods: consume this queue (and decrypt with its key), put objects under the data and error
   * prefixes and the source's freshness receipts' prefix only (encrypting with the bucket's key), read the one bundle
   * object.
   */
  private grantConsumer(): void {
    const stack = Stack.of(this);
    const role = this.consumerRole;
    this.queue.grantConsumeMessages(role);
    const objects = [this.outputPrefix, this.errorPrefix, this.receiptsPrefix].map((prefix) => this.outputBucket.arnForObjects(`${prefix}*`));
    // S3 existence (issue 15, finding 2): no ListBucket on the output bucket, and none needed: the consumer only puts
    // new keys (PutObject); it never reads, heads or lists the output, so no 403-versus-404 answer ever reaches it.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: objects }));
    this.outputBucket.encryptionKey?.grant(role, 'kms:GenerateDataKey');
    const bundleObject = stack.formatArn({ service: 's3', region: '', account: '', resource: this.bundle.s3BucketName, resourceName: this.bundle.s3ObjectKey });
    // S3 existence (issue 15, finding 2): the init container's `aws s3 cp s3://<assets>/<key> <file>` sends HeadObject
    // then GetObject on this one key (the CLI heads a single object instead of listing: awscli FileGenerator
    // `_list_single_object`); both authorize as s3:GetObject. No ListBucket on the CDK assets bucket (it would list
    // every asset of the account) and no 403-as-absent: the object always exists (published before the stack
    // deploys), so a 403 on HeadObject means missing or denied, and the pod fails (Init:Error, see the runbook).
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bundleObject] }));
    const policy = role.node.tryFindChild('DefaultPolicy')!;
    for (const arn of objects) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(arn))}]`,
        reason: 'The consumer writes objects with keys it makes up (partition/batch id; canary id/commit time) under its own prefix only.',
      });
    }
  }

  /**
   * Container Insights (the amazon-cloudwatch-observability add-on): pod and container metrics for the "consumer
   * errors" (container restarts) and "no healthy pods" alarms, and the pods' logs in CloudWatch Logs.
   */
  private addContainerInsights(): void {
    const agent = new PodIdentity(this, 'CloudWatchAgentIdentity', {
      cluster: this.cluster,
      namespace: 'amazon-cloudwatch',
      serviceAccount: 'cloudwatch-agent',
      description: `CloudWatch agent and Fluent Bit of the cluster of ${this.node.path} (Container Insights)`,
    });
    agent.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('CloudWatchAgentServerPolicy'));
    Validations.of(agent.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchAgentServerPolicy]',
      reason: "The AWS-maintained policy for the CloudWatch agent of Container Insights: it follows the agent's needs as the add-on evolves.",
    });
    const addon = new eks.Addon(this, 'ContainerInsights', { cluster: this.cluster, addonName: 'amazon-cloudwatch-observability' });
    addon.node.addDependency(agent.association);
  }
}

function validate(scope: Construct, props: QueueToS3ConsumerProps): void {
  requireEither(scope, props, ['existingCluster', 'clusterProps'], ['existingOutputBucket', 'outputBucketProps']);
  if (props.availabilityZones && (props.existingCluster || props.clusterProps?.vpc)) {
    throw new Error(`${scope.node.path}: "availabilityZones" places a new VPC; it cannot apply with "existingCluster" or "clusterProps.vpc"`);
  }
  const zones = props.availabilityZones ?? [];
  if (props.availabilityZones && (zones.length < 2 || new Set(zones).size !== zones.length)) {
    throw new Error(`${scope.node.path}: availabilityZones must name at least two different zones (EKS needs subnets in two), got ${JSON.stringify(zones)}`);
  }
  const region = Stack.of(scope).region;
  const foreign = Token.isUnresolved(region) ? [] : zones.filter((z) => !z.startsWith(region));
  if (foreign.length > 0) throw new Error(`${scope.node.path}: availabilityZones ${foreign.join(', ')} are not in the stack's region ${region}`);
  checkSourceName(scope, props.source.name);
  // The consumer's ID_FIELD: the top-level field its freshness canaries carry their id in.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(props.source.idField ?? '')) {
    throw new Error(`${scope.node.path}: source.idField must be a top-level field name of the source's events, got ${JSON.stringify(props.source.idField)}`);
  }
  const c = props.consumer ?? {};
  const [minReplicas, maxReplicas] = [c.minReplicas ?? D.consumer.minReplicas, c.maxReplicas ?? D.consumer.maxReplicas];
  if (minReplicas > maxReplicas) {
    throw new Error(`${scope.node.path}: consumer.minReplicas (${minReplicas}) exceeds consumer.maxReplicas (${maxReplicas})`);
  }
  const visibility = (props.visibilityTimeout ?? D.visibilityTimeout).toSeconds();
  const flushMaxAge = (c.flushMaxAge ?? D.consumer.flushMaxAge).toMilliseconds() / 1000;
  const problem = visibilityTimeoutProblem(visibility, { setting: 'consumer.flushMaxAge', seconds: flushMaxAge });
  if (problem) throw new Error(`${scope.node.path}: visibilityTimeout (${visibility} s) must exceed the flush age: ${problem}`);
}
