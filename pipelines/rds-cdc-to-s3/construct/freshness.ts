import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { FRESHNESS_DEFAULTS } from '../../../platform/freshness/config';
import { RECEIPTS_PREFIX } from '../../../platform/freshness/contract';
import { acknowledgeBucketNotificationsHandler, skipCheckov } from '../../../platform/compliance';
import { BundledFunction, functionRole } from '../../../platform/functions';
import { fromRoot } from '../../../platform/paths';
import { HEARTBEAT_SOURCE, HEARTBEAT_TABLE, RECEIPTS_ENV, WRITER_ENV } from '../handlers/heartbeat-writer/contract';
import { objectsFinding } from './compliance';
import { CdcSourceDatabase } from './database';
import { CdcNetwork } from './network';
import { CdcOptionError, checkInteger } from './option-error';
import { CdcFreshnessProps, SourceEngine } from './props';
import { TableMappingOptions, TableSelection } from './table-mappings';
import { tableFolder, CdcLayout } from './target-endpoint';

/** The heartbeat table as a table-mapping selection: the construct adds it to the user's selections. */
export const HEARTBEAT_SELECTION: TableSelection = { schema: HEARTBEAT_TABLE.schema, name: HEARTBEAT_TABLE.table };

/**
 * The canary settings the construct runs with, or undefined for none. Default on for PostgreSQL; the heartbeat writer
 * speaks PostgreSQL only, so MySQL defaults to off and an explicit canary with MySQL fails synth.
 */
export function resolveFreshness(engine: SourceEngine, freshness: CdcFreshnessProps | false | undefined): Required<CdcFreshnessProps> | undefined {
  if (freshness === false) return undefined;
  if (engine !== 'postgres') {
    if (freshness === undefined) return undefined;
    throw new CdcOptionError('freshness', freshness, `false with engine "${engine}": the heartbeat writer of the freshness canary supports engine "postgres" only`);
  }
  if (freshness !== undefined && (typeof freshness !== 'object' || freshness === null)) {
    throw new CdcOptionError('freshness', freshness, '{ intervalMinutes } or false');
  }
  const minutes = freshness?.intervalMinutes ?? FRESHNESS_DEFAULTS.intervalMinutes;
  return { intervalMinutes: checkInteger('freshness.intervalMinutes', minutes, 1, 60) };
}

/**
 * The user's table mappings plus the heartbeat table (that one table of its schema), last so the user's selections keep
 * their indexes in error messages. Mappings without a selection are left as they are: they fail synth as they should.
 */
export function withHeartbeatTable(tables: TableMappingOptions): TableMappingOptions {
  if (!Array.isArray(tables?.tables) || tables.tables.length === 0) return tables;
  return { ...tables, tables: [...tables.tables, HEARTBEAT_SELECTION] };
}

export interface CdcFreshnessCanaryProps {
  readonly intervalMinutes: number;
  readonly source: CdcSourceDatabase;
  readonly network: CdcNetwork;
  readonly rawBucket: s3.IBucket;
  readonly rawBucketKey: kms.IKey;
  /** The change log's layout (its folder). */
  readonly layout: CdcLayout;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Pipeline 3's freshness canary: a heartbeat row through the database, the whole path DMS replicates.
 *
 *   schedule (every intervalMinutes) -> heartbeat writer (VPC, the database's secret)
 *     -> INSERT stream_foundry.heartbeat (canary_id = canaryId(now)) -> WAL -> DMS CDC (the task selects the table)
 *     -> s3://<raw>/cdc/stream_foundry/heartbeat/<yyyy/mm/dd>/<time>.parquet
 *     -> S3 notification -> receipt writer -> s3://<raw>/_freshness/heartbeat/<canary id>/<S3 event ms>.json
 *
 * The receipt's commit time is the S3 event's: when DMS made the change durable in the lake. The heartbeat table has no
 * Glue table and no saved query (only `lakeTables` get them), so Athena users never see it.
 */
export class CdcFreshnessCanary extends Construct {
  /** The receipts' `source` (and the Freshness metric's Source dimension). */
  readonly source = HEARTBEAT_SOURCE;
  /** The bucket the receipts land in: the raw bucket. */
  readonly receiptsBucket: s3.IBucket;
  /** `_freshness/heartbeat/` */
  readonly receiptsPrefix: string;
  /** `<bucketFolder>/stream_foundry/heartbeat/`: where DMS writes the heartbeat table's changes. */
  readonly changeFolder: string;
  readonly heartbeatWriter: BundledFunction;
  readonly receiptWriter: BundledFunction;
  /** The heartbeat writer's security group, admitted by the database (and the Secrets Manager endpoint). */
  readonly securityGroup: ec2.SecurityGroup;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: CdcFreshnessCanaryProps) {
    super(scope, id);
    const logging = { retention: props.logRetention, removalPolicy: props.removalPolicy };
    const { source, network, rawBucket, rawBucketKey } = props;
    this.receiptsBucket = rawBucket;
    this.receiptsPrefix = `${RECEIPTS_PREFIX}${HEARTBEAT_SOURCE}/`;
    const changeTable = tableFolder(props.layout, HEARTBEAT_TABLE.schema, HEARTBEAT_TABLE.table);
    this.changeFolder = `${changeTable}/`;

    // The writer: in the database's subnets, with a security group of its own that the database admits.
    this.securityGroup = new ec2.SecurityGroup(this, 'WriterSecurityGroup', {
      vpc: network.vpc,
      description: 'Freshness heartbeat writer: reaches the source database and Secrets Manager; accepts nothing',
      // Private subnets: egress reaches the VPC (database, endpoints), never the internet without a NAT.
      allowAllOutbound: true,
    });
    source.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(source.port), 'Freshness heartbeat writer');
    network.secretsManagerEndpoint?.connections.allowDefaultPortFrom(this.securityGroup, 'Freshness heartbeat writer reads the database secret');

    const writerLogs = new logs.LogGroup(this, 'WriterLogs', logging);
    const writerRole = functionRole(this, 'WriterRole', 'Writes the freshness heartbeat row into the CDC source database', writerLogs);
    this.heartbeatWriter = new BundledFunction(this, 'Writer', {
      description: `Freshness canary of ${Stack.of(this).stackName}: inserts a heartbeat row into ${HEARTBEAT_TABLE.schema}.${HEARTBEAT_TABLE.table}`,
      entry: fromRoot('pipelines', 'rds-cdc-to-s3', 'handlers', 'heartbeat-writer', 'index.ts'),
      handler: 'onSchedule',
      role: writerRole,
      logGroup: writerLogs,
      timeout: Duration.seconds(30),
      // A missed beat is not retried: the next one comes within intervalMinutes, and a late one would measure the retry.
      retryAttempts: 0,
      network: { vpc: network.vpc, vpcSubnets: network.subnets, securityGroups: [this.securityGroup] },
      environment: {
        [WRITER_ENV.secretArn]: source.secret.secretArn,
        [WRITER_ENV.databaseName]: source.databaseName,
        // The database accepts TLS only; the Node.js 20+ runtimes load the Amazon RDS CAs only when asked to (Lambda
        // developer guide, Node.js runtime: /var/runtime/ca-cert.pem).
        NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      },
      // pg requires its optional native binding only when asked for it (`pg.native`), which the writer never does.
      bundling: { externalModules: ['pg-native'] },
    });
    source.secret.grantRead(writerRole);
    skipCheckov(
      this.heartbeatWriter,
      'CKV_AWS_116',
      'A failed beat is neither retried nor kept: the next one comes within intervalMinutes; failures show in the function\'s errors and in the freshness SLO alarm, whose missing data breaches.',
    );
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Freshness canary: a heartbeat row every ${props.intervalMinutes} minute(s) through ${Stack.of(this).stackName}`,
      schedule: events.Schedule.rate(Duration.minutes(props.intervalMinutes)),
      targets: [new targets.LambdaFunction(this.heartbeatWriter, { retryAttempts: 2, maxEventAge: Duration.minutes(props.intervalMinutes) })],
    });

    // The exit: the heartbeat table's change-log files -> receipts in the same bucket.
    const receiptLogs = new logs.LogGroup(this, 'ReceiptWriterLogs', logging);
    const receiptRole = functionRole(this, 'ReceiptWriterRole', 'Writes a freshness receipt for each heartbeat row DMS delivered to S3', receiptLogs);
    this.receiptWriter = new BundledFunction(this, 'ReceiptWriter', {
      description: `Freshness receipts of ${Stack.of(this).stackName}: one per heartbeat row DMS wrote to s3://<raw>/${this.changeFolder}`,
      entry: fromRoot('pipelines', 'rds-cdc-to-s3', 'handlers', 'heartbeat-receipts', 'index.ts'),
      handler: 'onObjectCreated',
      role: receiptRole,
      logGroup: receiptLogs,
      timeout: Duration.seconds(30),
      retryAttempts: 2,
      environment: { [RECEIPTS_ENV.changeFolder]: this.changeFolder, [RECEIPTS_ENV.kmsKeyArn]: rawBucketKey.keyArn },
    });
    // Reads the heartbeat files only (GetObject with a byte range), writes receipts of its source only, with the bucket's
    // key. No ListBucket: every key it reads was just named by an S3 event.
    receiptRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [rawBucket.arnForObjects(`${changeTable}/*`)] }));
    receiptRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [rawBucket.arnForObjects(`${this.receiptsPrefix}*`)] }));
    rawBucketKey.grant(receiptRole, 'kms:Decrypt', 'kms:GenerateDataKey');
    Validations.of(receiptRole).acknowledge(
      {
        id: `AwsSolutions-IAM5[${objectsFinding(rawBucket.bucketArn, changeTable, this)}]`,
        reason: 'Reads the change-log files DMS names itself, all under the heartbeat table folder.',
      },
      {
        id: `AwsSolutions-IAM5[${objectsFinding(rawBucket.bucketArn, this.receiptsPrefix.replace(/\/$/, ''), this)}]`,
        reason: 'Writes one receipt per canary, named by the canary id and commit time, under this source\'s receipts prefix.',
      },
    );
    skipCheckov(
      this.receiptWriter,
      'CKV_AWS_116',
      'A receipt is a measurement, not data: after Lambda\'s two retries a lost one is a missing point of the Freshness metric (the SLO alarm breaches on a window without any); the change-log file itself stays in the lake.',
    );
    rawBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.receiptWriter), { prefix: this.changeFolder, suffix: '.parquet' });
    acknowledgeBucketNotificationsHandler(this);
  }
}
