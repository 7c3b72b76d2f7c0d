import * as crypto from 'crypto';
import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesisanalytics from 'aws-cdk-lib/aws-kinesisanalyticsv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { StarterProperties } from '../handlers/flink-app-starter/contract';
import JOB_CONTRACT from '../job/src/main/resources/stream-foundry-contract.json';
import { KafkaCluster } from './cluster';
import { HandlerProvider } from '../../../platform/functions';
import { ProcessingDocument } from '../../../platform/processing-rules';
import { hashKeySecret, needsHashKey } from '../../../platform/processing-rules/hash-key';
import { RECEIPTS_PREFIX } from '../../../platform/freshness/contract';
import { RawArchive } from '../../../platform/raw-zone';
import { JobBuild } from './job-build';
import { Network } from './network';

/** Where the Glue catalog puts a table: `<warehouse>/<database>.db/<table>/` (the database's location is `<warehouse>/<database>.db`). */
export const tableLocationPrefix = (warehousePrefix: string, database: string, table: string) => `${warehousePrefix}/${database}.db/${table}/`;
/** The Iceberg table of a source's window aggregates (processing rules), next to its events table. */
export const aggregatesTable = (table: string) => `${table}_aggregates`;
/** Where JobBuild stages a source's processing document in the JAR (the job's `source.processing`). */
export const processingResource = (doc: ProcessingDocument) => `schemas/${doc.source}.processing.json`;

/** The job's runtime properties, by the names in the contract file the job reads them by (JobConfig). */
const PROPERTY = JOB_CONTRACT.properties;

/** Managed Flink runtime: Iceberg's Flink runtime is published for 1.20 (and 2.0, which Managed Flink does not run). */
export const FLINK_RUNTIME = 'FLINK-1_20';
/** Ceiling of a start (or restart after an update) from the deployment's point of view. */
export const START_TIMEOUT = Duration.minutes(30);

export interface IngestApplicationProps {
  readonly source: { name: string; idField: string; eventTimeField: string; processing?: ProcessingDocument };
  readonly topic: string;
  readonly bootstrapBrokers: string;
  readonly cluster: KafkaCluster;
  readonly network: Network;
  readonly job: JobBuild;
  readonly warehouseBucket: s3.IBucket;
  readonly errorBucket: s3.IBucket;
  readonly database: string;
  readonly table: string;
  /** `warehouse`: the Iceberg warehouse root in the bucket (tables at `<warehouse>/<database>.db/<table>/`). */
  readonly warehousePrefix: string;
  readonly errorPrefix: string;
  /** The source's raw zone: the job archives every record there before parsing (`raw.path`). */
  readonly raw?: RawArchive;
  /** The topic the job also writes its processed events to, for customers (platform/customer-delivery), keyed by `keyField`. */
  readonly delivery?: { topic: string; keyField: string };
  readonly starter: HandlerProvider;
  readonly parallelism: number;
  readonly parallelismPerKpu: number;
  readonly autoScaling: boolean;
  readonly checkpointIntervalMs: number;
  readonly minPauseBetweenCheckpointsMs: number;
  readonly dedupTtlHours: number;
  /** Skip unmappable snapshot state on the next start or update (off: such a restore fails). */
  readonly allowNonRestoredState: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * One source's Managed Flink application: the flink-iceberg job reading the source's topic into its Iceberg table, in
 * the VPC, checkpointing every few seconds (each checkpoint is an Iceberg commit), snapshots on, logs to CloudWatch,
 * with a role that reaches exactly this topic, this group, this table and these prefixes. A custom resource starts it
 * after every create and update.
 */
export class IngestApplication extends Construct {
  readonly application: kinesisanalytics.CfnApplication;
  readonly applicationName: string;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly consumerGroup: string;
  readonly starter: CustomResource;

  constructor(scope: Construct, id: string, props: IngestApplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.applicationName = `${stack.stackName}-${props.source.name}`.slice(0, 128);
    this.consumerGroup = `stream-foundry-${props.database}-${props.table}`;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `Managed Flink application ${this.applicationName}: ${props.topic} -> ${props.database}.${props.table}`,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    const logStream = new logs.LogStream(this, 'LogStream', { logGroup: this.logGroup, removalPolicy: props.removalPolicy });
    this.grant(props);

    const subnets = props.network.vpc.selectSubnets(props.network.subnets);
    this.application = new kinesisanalytics.CfnApplication(this, 'Resource', {
      applicationName: this.applicationName,
      applicationDescription: `stream-foundry: ${props.topic} (MSK) -> Iceberg ${props.database}.${props.table}`,
      runtimeEnvironment: FLINK_RUNTIME,
      serviceExecutionRole: this.role.roleArn,
      applicationConfiguration: {
        applicationCodeConfiguration: {
          codeContentType: 'ZIPFILE',
          codeContent: { s3ContentLocation: { bucketArn: props.job.artifactBucket.bucketArn, fileKey: props.job.artifactKey } },
        },
        applicationSnapshotConfiguration: { snapshotsEnabled: true },
        flinkApplicationConfiguration: {
          // CUSTOM, or Managed Flink applies its defaults (60 s interval, 5 s pause) whatever the job sets.
          checkpointConfiguration: {
            configurationType: 'CUSTOM',
            checkpointingEnabled: true,
            checkpointInterval: props.checkpointIntervalMs,
            minPauseBetweenCheckpoints: props.minPauseBetweenCheckpointsMs,
          },
          parallelismConfiguration: {
            configurationType: 'CUSTOM',
            parallelism: props.parallelism,
            parallelismPerKpu: props.parallelismPerKpu,
            autoScalingEnabled: props.autoScaling,
          },
          monitoringConfiguration: { configurationType: 'CUSTOM', metricsLevel: 'TASK', logLevel: 'INFO' },
        },
        environmentProperties: {
          propertyGroups: [
            {
              propertyGroupId: JOB_CONTRACT.propertyGroup,
              propertyMap: {
                [PROPERTY.bootstrapServers]: props.bootstrapBrokers,
                [PROPERTY.topic]: props.topic,
                [PROPERTY.groupId]: this.consumerGroup,
                [PROPERTY.auth]: 'iam',
                [PROPERTY.startingOffsets]: 'earliest',
                [PROPERTY.catalogType]: 'glue',
                [PROPERTY.warehouse]: props.warehouseBucket.s3UrlForObject(props.warehousePrefix),
                [PROPERTY.database]: props.database,
                [PROPERTY.table]: props.table,
                // s3a://: the FileSink needs Flink's Hadoop S3 file system (in the JAR), whose RecoverableWriter it
                // uses; s3:// may resolve to another of the runtime's file systems (JobConfig.ERRORS_SCHEME says why).
                [PROPERTY.errorsPath]: `${JOB_CONTRACT.errorsPathScheme}://${props.errorBucket.bucketName}/${props.errorPrefix.replace(/\/$/, '')}`,
                [PROPERTY.sourceSchema]: props.source.name,
                [PROPERTY.idField]: props.source.idField,
                [PROPERTY.eventTimeField]: props.source.eventTimeField,
                [PROPERTY.dedupTtl]: `${props.dedupTtlHours} h`,
                // s3a://, like errors.path: the raw archive is a FileSink too (RawArchive.java).
                ...(props.raw ? { [PROPERTY.rawPath]: `${JOB_CONTRACT.errorsPathScheme}://${props.raw.bucket.bucketName}/${props.raw.prefix.replace(/\/$/, '')}` } : {}),
                ...this.processingProperties(props),
                ...(props.delivery ? { [PROPERTY.deliveryTopic]: props.delivery.topic, [PROPERTY.deliveryKeyField]: props.delivery.keyField } : {}),
                // Freshness receipts (platform/freshness) at the warehouse bucket's root, outside every table's location;
                // s3a:// like errors.path: the job writes them through the same file system (FreshnessReceipts.java).
                [PROPERTY.freshnessReceiptsPath]: `${JOB_CONTRACT.errorsPathScheme}://${props.warehouseBucket.bucketName}`,
              },
            },
          ],
        },
        vpcConfigurations: [{ subnetIds: subnets.subnetIds, securityGroupIds: [props.network.clientSecurityGroup.securityGroupId] }],
      },
      // Used when CloudFormation updates a running application; set only when asked, so the default template is unchanged.
      ...(props.allowNonRestoredState ? { runConfiguration: { flinkRunConfiguration: { allowNonRestoredState: true } } } : {}),
    });
    // The role's policy and the JAR must exist before the application is created or updated.
    this.application.node.addDependency(this.role.node.tryFindChild('DefaultPolicy')!, props.job.resource);

    const logging = new kinesisanalytics.CfnApplicationCloudWatchLoggingOption(this, 'Logging', {
      applicationName: this.application.ref,
      cloudWatchLoggingOption: {
        logStreamArn: stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${this.logGroup.logGroupName}:log-stream:${logStream.logStreamName}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      },
    });

    const properties: StarterProperties = {
      ApplicationName: this.application.ref,
      ConfigHash: this.configHash(),
      DatabaseName: props.database,
      TableName: props.table,
      ...(props.allowNonRestoredState ? { AllowNonRestoredState: 'true' } : {}),
    };
    this.starter = new CustomResource(this, 'Starter', {
      serviceToken: props.starter.serviceToken,
      resourceType: 'Custom::FlinkApplicationStarter',
      properties,
    });
    this.starter.node.addDependency(logging);
    const appArn = stack.formatArn({ service: 'kinesisanalytics', resource: 'application', resourceName: this.application.ref });
    // Finding 2 (S3 listing): the starter makes no S3 request (Managed Flink fetches the JAR with the application's
    // role), so it needs no ListBucket anywhere.
    props.starter.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'kinesisanalytics:DescribeApplication',
          'kinesisanalytics:StartApplication',
          'kinesisanalytics:ListApplicationOperations',
          'kinesisanalytics:DescribeApplicationOperation',
          'kinesisanalytics:ListApplicationSnapshots',
        ],
        resources: [appArn],
      }),
    );
    props.starter.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetTable'],
        resources: [this.glueArn('catalog'), this.glueArn('database', props.database), this.glueArn('table', `${props.database}/${props.table}`)],
      }),
    );
  }

  /** A hash of the application's whole configuration, as CloudFormation receives it (the JAR key included). */
  private configHash(): string {
    const resolved = Stack.of(this).resolve((this.application as unknown as { _cfnProperties: unknown })._cfnProperties);
    return crypto.createHash('sha256').update(JSON.stringify(resolved)).digest('hex').slice(0, 32);
  }

  /**
   * The processing rules' properties, when the source has rules: the document (in the JAR, staged by JobBuild: the
   * 2048-character property limit rules out inline JSON), the aggregates table, the stack's hash key.
   */
  private processingProperties(props: IngestApplicationProps): Record<string, string> {
    const doc = props.source.processing;
    if (!doc) return {};
    const properties: Record<string, string> = { [PROPERTY.processing]: processingResource(doc) };
    if (doc.aggregateSchema) properties[PROPERTY.aggregatesTable] = aggregatesTable(props.table);
    if (needsHashKey(doc)) {
      const secret = hashKeySecret(this, props.removalPolicy === RemovalPolicy.DESTROY);
      secret.grantRead(this.role);
      properties[PROPERTY.hashKeySecret] = secret.secretArn;
    }
    return properties;
  }

  private glueArn(resource: string, name?: string): string {
    return Stack.of(this).formatArn({ service: 'glue', resource, resourceName: name });
  }

  /** Least privilege, as the job's README lists it. */
  private grant(props: IngestApplicationProps): void {
    const { cluster, warehouseBucket, errorBucket, job } = props;
    const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources, conditions }));
    allow('KafkaCluster', ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], [cluster.clusterArn]);
    allow('KafkaTopic', ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], [cluster.resourceArn('topic', props.topic)]);
    allow('KafkaGroup', ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'], [cluster.resourceArn('group', this.consumerGroup)]);
    if (props.delivery) {
      // The delivery producer is idempotent (enable.idempotence): MSK IAM asks WriteDataIdempotently on the cluster.
      allow('KafkaDeliveryCluster', ['kafka-cluster:WriteDataIdempotently'], [cluster.clusterArn]);
      allow('KafkaDeliveryTopic', ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], [cluster.resourceArn('topic', props.delivery.topic)]);
    }
    // The events table, and the aggregates table when the source's rules aggregate: the job creates and writes both.
    const tables = [props.table, ...(props.source.processing?.aggregateSchema ? [aggregatesTable(props.table)] : [])];
    allow(
      'GlueTable',
      ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'],
      [this.glueArn('catalog'), this.glueArn('database', props.database), ...tables.map((t) => this.glueArn('table', `${props.database}/${t}`))],
    );
    const tableObjectArns = tables.map((t) => warehouseBucket.arnForObjects(`${tableLocationPrefix(props.warehousePrefix, props.database, t)}*`));
    const tableObjects = tableObjectArns[0];
    allow('Warehouse', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], tableObjectArns);
    // Finding 2 choice: ListBucket unconditioned on the pipeline's own buckets, so a HEAD on a missing key is answered
    // 404, not 403 (S3 sends 404 only to a caller allowed s3:ListBucket; whether a prefix-conditioned grant counts is
    // undocumented). The job probes missing keys on both: Iceberg's S3FileIO HEADs every data and manifest file before
    // creating it (S3OutputFile.create: only 404 means absent, a 403 fails the job), and the FileSink's S3A file system
    // HEADs on recovery. Key names of the pipeline's own buckets expose nothing the role could not already write.
    allow('WarehouseList', ['s3:ListBucket'], [warehouseBucket.bucketArn]);
    // Freshness receipts: one small new object per canary under _freshness/<source>/ (no table's prefix covers it).
    // PutObject only: S3A's create with overwrite probes with a LIST (WarehouseList) and no HEAD; its clean-up of parent
    // "directory" markers after the PUT (DeleteObjects) is denied here and ignored by S3A (job/aws-requests.md).
    const receiptObjects = warehouseBucket.arnForObjects(`${RECEIPTS_PREFIX}${props.source.name}/*`);
    allow('FreshnessReceipts', ['s3:PutObject'], [receiptObjects]);
    const errorObjects = errorBucket.arnForObjects(`${props.errorPrefix}*`);
    allow('Errors', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], [errorObjects]);
    allow('ErrorsList', ['s3:ListBucket', 's3:ListBucketMultipartUploads'], [errorBucket.bucketArn]);
    // The raw zone's FileSink is the same S3A writer as the error sink: it writes under the source's prefix and, on
    // recovery, reads back its pending parts and HEADs keys (404 needs ListBucket): write and read on the prefix.
    props.raw?.grantWrite(this.role);
    props.raw?.grantRead(this.role);
    // Managed Flink fetches the JAR with this role (GetObject on the exact key, which exists): no probe, no ListBucket.
    allow('Code', ['s3:GetObject', 's3:GetObjectVersion'], [job.artifactBucket.arnForObjects(job.artifactKey)]);
    for (const key of new Set([warehouseBucket.encryptionKey, errorBucket.encryptionKey].filter((k) => k !== undefined))) {
      key.grant(this.role, 'kms:Decrypt', 'kms:GenerateDataKey');
    }
    job.artifactBucket.encryptionKey?.grant(this.role, 'kms:Decrypt');
    allow('Logs', ['logs:PutLogEvents', 'logs:DescribeLogStreams'], [this.logGroup.logGroupArn, `${this.logGroup.logGroupArn}:log-stream:*`]);
    const logGroupsArn = Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    allow('LogGroups', ['logs:DescribeLogGroups'], [logGroupsArn]);
    // Managed Flink in a VPC: the network-interface actions it documents, which support no resource scoping.
    allow(
      'Vpc',
      [
        'ec2:DescribeVpcs',
        'ec2:DescribeSubnets',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeDhcpOptions',
        'ec2:CreateNetworkInterface',
        'ec2:CreateNetworkInterfacePermission',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DeleteNetworkInterface',
      ],
      ['*'],
    );

    const policy = this.role.node.tryFindChild('DefaultPolicy')!;
    const finding = (arn: string) => `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(this).resolve(arn))}]`;
    const name = props.source.name;
    const acknowledgements: [string, string][] = [
      [finding(tableObjects), `the ${name} job writes and compacts data and metadata files of its own table only`],
      ...tableObjectArns.slice(1).map((arn): [string, string] => [finding(arn), `the ${name} job writes data and metadata files of its own aggregates table only`]),
      [finding(errorObjects), `the ${name} job writes malformed records under its own error prefix only`],
      [finding(receiptObjects), `the ${name} job only puts new freshness receipts of its own source under the warehouse bucket's receipts prefix`],
      [finding(`${this.logGroup.logGroupArn}:log-stream:*`), `the ${name} application logs to streams of its own log group`],
      [finding(logGroupsArn), `the ${name} application's role looks up log groups (Managed Flink checks the logging option's group)`],
      ['AwsSolutions-IAM5[Resource::*]', `Managed Flink in a VPC: the ${name} application's network-interface actions support no resource scoping`],
    ];
    for (const [id, reason] of acknowledgements) Validations.of(policy).acknowledge({ id, reason: `${reason}.` });
  }
}
