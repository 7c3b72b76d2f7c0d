import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { pipelineBase, requireEither } from '../../../platform/pipeline';
import { PipelineMonitoring } from '../../../platform/pipeline-monitoring';
import { SecureBucket } from '../../../platform/secure-bucket';
import { acknowledgeDatabaseFindings, acknowledgeLogRetention } from './compliance';
import { suppressRestrictDefaultSgLint } from '../../../platform/compliance';
import { CdcDatabase, CdcSourceDatabase } from './database';
import { RDS_CDC_TO_S3_DEFAULTS as D } from './defaults';
import { CdcFreshnessCanary, resolveFreshness, withHeartbeatTable } from './freshness';
import { CdcLake } from './lake';
import { monitorCdcReplication, RUNBOOK } from './monitoring';
import { CdcNetwork } from './network';
import { RdsCdcToS3Props } from './props';
import { CdcReplication } from './replication';
import { resolveLayout } from './target-endpoint';

export type * from './props';
export { RUNBOOK, CDC_METRICS_NAMESPACE } from './monitoring';
export { RDS_CDC_TO_S3_DEFAULTS } from './defaults';
export { HEARTBEAT_SELECTION } from './freshness';

/**
 * Change data capture from a relational database to the lake:
 *
 * ```text
 *   RDS PostgreSQL (logical replication) / MySQL (row binlog)  -- private subnets, reachable only from DMS
 *     -> DMS replication instance: full load + CDC task (started and kept running by the stack)
 *     -> s3://raw/cdc/<schema>/<table>/[LOAD*.parquet | yyyy/mm/dd/*.parquet]  (Parquet, Op + commit timestamp, SSE-KMS)
 *     -> Glue tables -> Athena workgroup (saved "current state" query per table)
 * ```
 *
 * and its freshness canary: a heartbeat row through the same path, receipted under s3://raw/_freshness/heartbeat/.
 */
export class RdsCdcToS3 extends Construct {
  /** The VPC, subnets, security groups and endpoints the database and DMS use. */
  readonly network: CdcNetwork;
  /** The database the construct created (undefined with `existingSource`). */
  readonly database?: CdcDatabase;
  /** The database DMS replicates from (created or `existingSource`): engine, secret, security group, port. */
  readonly source: CdcSourceDatabase;
  /** The bucket DMS writes the change log to (Parquet): `existingRawBucket`, or the one it creates. */
  readonly rawBucket: s3.IBucket;
  /** The customer-managed KMS key of the raw bucket (DMS writes SSE-KMS with it). */
  readonly rawBucketKey: kms.IKey;
  /** The DMS replication instance, endpoints and full-load + CDC task. */
  readonly replication: CdcReplication;
  /** The Glue tables over the change log and the Athena workgroup with a query per table. */
  readonly lake: CdcLake;
  /** The freshness canary (undefined with `freshness: false`, and by default with MySQL). */
  readonly freshness?: CdcFreshnessCanary;
  /** The alarms and dashboard of the pipeline (`props.monitoring`, or its own). */
  readonly monitoring: PipelineMonitoring;

  constructor(scope: Construct, id: string, props: RdsCdcToS3Props) {
    super(scope, id);
    requireEither(this, props, ['existingSource', 'databaseProps'], ['existingRawBucket', 'rawBucketProps']);
    checkProps(this, props);
    const freshness = resolveFreshness(props.engine ?? props.existingSource?.engine ?? D.engine, props.freshness);
    const { allowDestroy, removalPolicy, logRetention, name, monitoring } = pipelineBase(this, props, RUNBOOK);
    this.monitoring = monitoring;

    this.network = new CdcNetwork(this, 'Network', { ...props, removalPolicy, logRetention });
    const { vpc, subnets } = this.network;
    if (props.existingSource) {
      this.source = props.existingSource;
    } else {
      this.database = new CdcDatabase(this, 'Database', {
        ...props.databaseProps,
        engine: props.engine ?? D.engine,
        vpc,
        subnets,
        removalPolicy,
        logRetention,
        secretsManagerEndpoint: this.network.secretsManagerEndpoint,
      });
      this.source = this.database;
    }

    ({ bucket: this.rawBucket, key: this.rawBucketKey } = rawBucket(this, props, allowDestroy));
    this.replication = new CdcReplication(this, 'Replication', {
      ...props.replication,
      source: this.source,
      vpc,
      subnets,
      securityGroup: this.network.dmsSecurityGroup,
      rawBucket: this.rawBucket,
      rawBucketKey: this.rawBucketKey,
      // The canary's heartbeat table is replicated like any table (its own selection rule).
      options: { ...props, tables: freshness ? withHeartbeatTable(props.tables) : props.tables },
      name,
      removalPolicy,
      logRetention,
      // The network (routes, VPC endpoints, their rules), the database, its secret's connection fields (the attachment)
      // and its rotation schedule: Secrets Manager rotates once when the schedule is created, and a start in the middle
      // of that rotation would meet a password being changed.
      startAfter: [this.network, ...(this.database ? [this.database.instance.node.defaultChild!, this.database.secret] : [])],
    });
    this.lake = new CdcLake(this, 'Lake', {
      rawBucket: this.rawBucket,
      lakeTables: props.lakeTables ?? [],
      tables: props.tables,
      target: props.target,
      name,
      allowDestroy,
    });
    if (freshness) {
      // Not "Freshness": the stack's own freshness construct (platform/freshness) goes by that name.
      this.freshness = new CdcFreshnessCanary(this, 'Heartbeat', {
        ...freshness,
        source: this.source,
        network: this.network,
        rawBucket: this.rawBucket,
        rawBucketKey: this.rawBucketKey,
        layout: resolveLayout(props.target),
        removalPolicy,
        logRetention,
      });
    }

    monitorCdcReplication(this, this.monitoring, this.replication, props.alarms ?? {}, props.replication?.allocatedStorageGiB ?? D.replication.allocatedStorageGiB);
    if (this.database) acknowledgeDatabaseFindings(this.database.instance);
    acknowledgeLogRetention(this);
    suppressRestrictDefaultSgLint(this);
  }

  /** Every alarm of the pipeline (and of whatever shares its monitoring). */
  get alarms() {
    return this.monitoring.alarms;
  }
}

function checkProps(scope: Construct, props: RdsCdcToS3Props): void {
  const path = scope.node.path;
  if (props.existingSource && !props.existingVpc) throw new Error(`${path}: "existingSource" needs "existingVpc" (the VPC the database is in)`);
  if (props.existingSource && props.engine && props.engine !== props.existingSource.engine) {
    throw new Error(`${path}: "engine" is ${props.engine} but "existingSource.engine" is ${props.existingSource.engine}`);
  }
  if (props.existingRawBucket && !props.existingRawBucket.encryptionKey) {
    throw new Error(`${path}: "existingRawBucket" must be encrypted with a customer-managed KMS key (its encryptionKey): DMS writes SSE-KMS`);
  }
}

/**
 * The raw zone: a SecureBucket (customer-managed key, TLS only, access logs). Versioned, with noncurrent versions expiring
 * after 7 days: the DMS guide asks for no versioning on a target bucket or a lifecycle rule removing noncurrent
 * versions (DROP_AND_CREATE reloads and truncates delete objects).
 */
function rawBucket(scope: Construct, props: RdsCdcToS3Props, allowDestroy: boolean): { bucket: s3.IBucket; key: kms.IKey } {
  if (props.existingRawBucket) return { bucket: props.existingRawBucket, key: props.existingRawBucket.encryptionKey! };
  const raw = new SecureBucket(scope, 'RawBucket', { allowDestroy, noncurrentVersionRetention: Duration.days(7), ...props.rawBucketProps });
  if (!raw.encryptionKey) throw new Error(`${scope.node.path}: "rawBucketProps" must keep KMS encryption (DMS writes SSE-KMS)`);
  return { bucket: raw.bucket, key: raw.encryptionKey };
}
