import { Aws, CfnOutput, CfnResource, Duration, Size, Stack, Validations } from 'aws-cdk-lib';
import { ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { skipCheckov } from '../compliance';
import { checkSourceName, PipelineBase, PipelineBaseProps, pipelineBase } from '../pipeline';
import { SECTION } from '../pipeline-monitoring';
import { catalogName } from '../names';
import { SecureBucket } from '../secure-bucket';
import { ArchiveStorageClass, defaultFreshnessSeconds, RAW_ZONE_DEFAULTS, RawZoneConfig } from './config';
import { hourPartitions } from '../hour-partitions';
import { RAW_ZONE_LAYOUT } from './layout';

export { RAW_ZONE_DEFAULTS, rawZoneSchema, defaultFreshnessSeconds } from './config';
export type { RawZoneConfig } from './config';
export { RAW_ZONE_LAYOUT } from './layout';


/** Why a delivery stream has no server-side encryption (cdk-nag KDF1, checkov CKV_AWS_240/241). */
const NO_SSE_WITH_KINESIS_SOURCE =
  'A delivery stream whose source is a Kinesis stream cannot have server-side encryption of its own (Firehose refuses it, and so does the L2); the stream is encrypted at rest, and the objects with the zone key.';

/** A Glue database to register raw tables in (one of the stack's own, so the raw table sits beside the processed ones). */
export interface RawZoneDatabase {
  /** The database's name. */
  readonly databaseName: string;
  /** The database resource, when the stack creates it: tables depend on it. */
  readonly resource?: CfnResource;
}

export interface RawZoneProps extends PipelineBaseProps {
  /** The runbook (docs/runbooks/<runbook>.md) whose sections explain the raw zone's alarms: the stack's own. */
  readonly runbook: string;
  /** How long Firehose buffers before writing an object (0-900 s). @default 300 seconds */
  readonly bufferInterval?: Duration;
  /** How much Firehose buffers (before compression) before writing an object (1-128 MiB). @default 64 MiB */
  readonly bufferSize?: Size;
  /** When objects move to `archiveStorageClass`. @default 90 days */
  readonly archiveAfter?: Duration;
  /** @default GLACIER_IR (Instant Retrieval: Athena and a replay read it without a restore) */
  readonly archiveStorageClass?: ArchiveStorageClass;
  /** When objects are deleted; must be after `archiveAfter`. @default never */
  readonly expireAfter?: Duration;
  /** `DeliveryToS3.DataFreshness` above which the lag alarm fires. @default 2 × bufferInterval + 5 minutes */
  readonly maxDataFreshness?: Duration;
  /** Where raw tables are registered unless a source names its own. @default a database of the zone, `<stack>_raw` */
  readonly database?: RawZoneDatabase;
}

/** One source's part of the raw zone. */
export interface RawArchive {
  readonly name: string;
  /** `<name>/` */
  readonly prefix: string;
  /** `s3://<bucket>/<name>/` */
  readonly location: string;
  readonly bucket: s3.IBucket;
  /** The zone's KMS key (the bucket's default encryption, with an S3 Bucket Key). */
  readonly key: kms.IKey;
  readonly databaseName: string;
  readonly tableName: string;
  readonly table: glue.CfnTable;
  /** Lets `grantee` write objects under `<name>/` (and use the key for them). */
  grantWrite(grantee: iam.IGrantable): iam.Grant;
  /** Lets `grantee` list the bucket and read objects under `<name>/` (a replay). */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/** A source archived by a Firehose delivery stream reading its Kinesis stream. */
export interface KinesisRawArchive extends RawArchive {
  readonly deliveryStream: firehose.DeliveryStream;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/** Options of one source of the raw zone (`addKinesisSource`, `addArchivedSource`). */
export interface RawSourceOptions {
  /** Register the table here instead of the zone's database. */
  readonly database?: RawZoneDatabase;
}

/** The construct props that the `rawZone` settings give (platform/raw-zone/config.ts). */
export function rawZoneSettings(config: RawZoneConfig): Pick<RawZoneProps, 'bufferInterval' | 'bufferSize' | 'archiveAfter' | 'archiveStorageClass' | 'expireAfter' | 'maxDataFreshness'> {
  return {
    bufferInterval: Duration.seconds(config.bufferSeconds),
    bufferSize: Size.mebibytes(config.bufferMiB),
    archiveAfter: Duration.days(config.archiveAfterDays),
    archiveStorageClass: config.archiveStorageClass,
    expireAfter: config.expireAfterDays === undefined ? undefined : Duration.days(config.expireAfterDays),
    maxDataFreshness: config.alarms.freshnessSeconds === undefined ? undefined : Duration.seconds(config.alarms.freshnessSeconds),
  };
}

/**
 * The raw zone of a stack: every event that reaches a source's broker, archived unchanged in one bucket, a prefix
 * per source, by UTC arrival hour, gzip, encrypted with the zone's key, queryable in Athena (`<name>_raw`, one string
 * column `line`, partition projection on dt and hour), archived to Glacier after `archiveAfter`, never deleted unless
 * `expireAfter` is set.
 *
 * ```text
 *   Kinesis stream <name> -> Firehose delivery stream (buffer, newline, gzip) -> s3://<raw>/<name>/dt=…/hour=…/*.gz
 *                                                       `-> what it cannot deliver -> s3://<raw>/_errors/<name>/…
 *   a job that archives its own source (addArchivedSource) -> the same layout, its own writer
 * ```
 */
export class RawZone extends Construct {
  /** The raw bucket: every source's events under `<name>/dt=…/hour=…/`. */
  readonly bucket: s3.IBucket;
  /** The zone's KMS key, which encrypts the raw objects. */
  readonly key: kms.IKey;
  /** Each source's archive (prefix, table, writer), by source name. */
  readonly sources: Record<string, RawArchive> = {};
  private readonly base: PipelineBase;
  private readonly props: RawZoneProps;
  private readonly bufferInterval: Duration;
  private readonly bufferSize: Size;
  private zoneDatabase?: RawZoneDatabase;

  constructor(scope: Construct, id: string, props: RawZoneProps) {
    super(scope, id);
    this.props = props;
    this.base = pipelineBase(this, props, props.runbook);
    this.bufferInterval = props.bufferInterval ?? Duration.seconds(RAW_ZONE_DEFAULTS.bufferSeconds);
    this.bufferSize = props.bufferSize ?? Size.mebibytes(RAW_ZONE_DEFAULTS.bufferMiB);
    const archiveAfter = props.archiveAfter ?? Duration.days(RAW_ZONE_DEFAULTS.archiveAfterDays);
    checkSettings(this, this.bufferInterval, this.bufferSize, archiveAfter, props.expireAfter);

    const storage = new SecureBucket(this, 'Bucket', {
      allowDestroy: this.base.allowDestroy,
      lifecycleRules: [
        {
          id: 'archive-raw-events',
          transitions: [{ storageClass: new s3.StorageClass(props.archiveStorageClass ?? RAW_ZONE_DEFAULTS.archiveStorageClass), transitionAfter: archiveAfter }],
          ...(props.expireAfter ? { expiration: props.expireAfter } : {}),
        },
      ],
    });
    this.bucket = storage.bucket;
    this.key = storage.encryptionKey!;
  }

  /**
   * Archives a Kinesis stream's records under `<name>/` with a Firehose delivery stream of their own, registers the
   * `<name>_raw` table, alarms on delivery freshness and failures, and outputs `<key>RawZone` = `s3://<bucket>/<name>/`.
   */
  addKinesisSource(name: string, stream: kinesis.IStream, options: RawSourceOptions = {}): KinesisRawArchive {
    this.checkNew(name);
    const source = new Construct(this, name);
    const archive = this.archive(source, name, options);
    const { logRetention, removalPolicy } = this.base;

    // One role per delivery stream, assumable by Firehose only for this account ("Grant Firehose access", trust policy).
    const role = new iam.Role(source, 'Role', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } } }),
      description: `Firehose reads ${name}'s stream into the raw zone`,
    });
    const logGroup = new logs.LogGroup(source, 'Logs', { retention: logRetention, removalPolicy });
    const deliveryStream = new firehose.DeliveryStream(source, 'DeliveryStream', {
      source: new firehose.KinesisStreamSource(stream),
      role,
      destination: new firehose.S3Bucket(firehoseView(this.bucket, (grantee) => this.grantDelivery(grantee, name)), {
        role,
        dataOutputPrefix: RAW_ZONE_LAYOUT.firehosePrefix(name),
        errorOutputPrefix: RAW_ZONE_LAYOUT.firehoseErrorPrefix(name),
        bufferingInterval: this.bufferInterval,
        bufferingSize: this.bufferSize,
        compression: firehose.Compression.GZIP,
        // Records arrive as published (the validator writes JSON without a line break): one per line.
        processors: [new firehose.AppendDelimiterToRecordProcessor()],
        // No KMS configuration of its own: the bucket's default encryption (the zone's key, with a Bucket Key) applies.
        loggingConfig: new firehose.EnableLogging(logGroup),
      }),
    });
    Validations.of(deliveryStream).acknowledge({ id: 'AwsSolutions-KDF1', reason: NO_SSE_WITH_KINESIS_SOURCE });
    for (const prefix of [RAW_ZONE_LAYOUT.prefix(name), RAW_ZONE_LAYOUT.errorPrefix(name)]) {
      acknowledgePrefix(role, this.bucket.arnForObjects(`${prefix}*`), `Firehose names the objects it writes (<delivery stream>-<version>-<time>-<uuid>.gz) under ${prefix} only.`);
    }
    for (const check of ['CKV_AWS_240', 'CKV_AWS_241']) skipCheckov(deliveryStream, check, NO_SSE_WITH_KINESIS_SOURCE);

    // The L2 adds a mapping of Firehose's CIDR blocks to every stack for `deliveryStream.connections` (destinations in a
    // VPC); nothing here uses it, and an unreferenced mapping fails cfn-lint (W7001). Do not use `connections`.
    Stack.of(this).node.tryRemoveChild('@aws-cdk--aws-kinesisfirehose.CidrBlocks'); // its id, "/" made "--" by constructs
    this.monitor(name, deliveryStream);
    const result: KinesisRawArchive = { ...archive, deliveryStream, role, logGroup };
    this.sources[name] = result;
    return result;
  }

  /**
   * A source whose archive a job writes itself, in the same layout: the `<name>_raw` table and the `<key>RawZone`
   * output. Grant the writer with `grantWrite`.
   */
  addArchivedSource(name: string, options: RawSourceOptions = {}): RawArchive {
    this.checkNew(name);
    const archive = this.archive(new Construct(this, name), name, options);
    this.sources[name] = archive;
    return archive;
  }

  private checkNew(name: string): void {
    checkSourceName(this, name, 'a raw zone source name');
    if (this.sources[name]) throw new Error(`${this.node.path}: the raw zone already archives "${name}"`);
  }

  /** The table, the output and the grants of a source. */
  private archive(scope: Construct, name: string, options: RawSourceOptions): RawArchive {
    const prefix = RAW_ZONE_LAYOUT.prefix(name);
    const location = `s3://${this.bucket.bucketName}/${prefix}`;
    const database = options.database ?? this.props.database ?? this.ownDatabase();
    const tableName = RAW_ZONE_LAYOUT.tableName(name);
    const table = rawTable(scope, database, tableName, name, location);
    new CfnOutput(Stack.of(this), RAW_ZONE_LAYOUT.outputKey(name), {
      value: location,
      description: `The raw zone of ${name}: every event as it reached the broker, <this>dt=YYYY-MM-DD/hour=HH/*.gz (Athena: ${database.databaseName}.${tableName})`,
    });
    return {
      name,
      prefix,
      location,
      bucket: this.bucket,
      key: this.key,
      databaseName: database.databaseName,
      tableName,
      table,
      grantWrite: (grantee) => this.grantObjects(grantee, prefix, ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:DeleteObject'], ['kms:GenerateDataKey', 'kms:Decrypt']),
      grantRead: (grantee) =>
        this.grantObjects(grantee, prefix, ['s3:GetObject'], ['kms:Decrypt']).combine(
          // Unconditioned: S3 answers 404 for a missing key only to a caller that may list the bucket (403 otherwise).
          iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] }),
        ),
    };
  }

  /** `actions` on the objects under `prefix`, `keyActions` on the zone key; the prefix wildcard acknowledged on a role's policy. */
  private grantObjects(grantee: iam.IGrantable, prefix: string, actions: string[], keyActions: string[]): iam.Grant {
    const objects = this.bucket.arnForObjects(`${prefix}*`);
    const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [objects] }).combine(this.key.grant(grantee, ...keyActions));
    acknowledgePrefix(grantee, objects, `it reads or writes objects it names itself under ${prefix} only (RawZone grant).`);
    return grant;
  }

  /**
   * What Firehose does with an S3 destination ("Grant Firehose access to an Amazon S3 destination"): the bucket-level
   * calls on the bucket, object calls only under the source's prefix and its error prefix, the key for SSE-KMS.
   */
  private grantDelivery(grantee: iam.IGrantable, name: string): iam.Grant {
    const objects = [RAW_ZONE_LAYOUT.prefix(name), RAW_ZONE_LAYOUT.errorPrefix(name)].map((p) => this.bucket.arnForObjects(`${p}*`));
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      resourceArns: [this.bucket.bucketArn],
    }).combine(iam.Grant.addToPrincipal({ grantee, actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], resourceArns: objects }));
    // PutObject with the bucket's SSE-KMS default: GenerateDataKey; multipart uploads also Decrypt.
    return grant.combine(this.key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt'));
  }

  /** The zone's own Glue database, created with the first table that needs it. */
  private ownDatabase(): RawZoneDatabase {
    if (!this.zoneDatabase) {
      const stack = Stack.of(this);
      const databaseName = catalogName(`${stack.stackName}_raw`);
      const resource = new glue.CfnDatabase(this, 'Database', {
        catalogId: stack.account,
        databaseInput: { name: databaseName, description: `Raw zone of ${stack.stackName}: every event as it reached the broker` },
      });
      this.zoneDatabase = { databaseName, resource };
    }
    return this.zoneDatabase;
  }

  /** Lag (freshness) and failed deliveries, on Firehose's own metrics; the runbook explains both. */
  private monitor(name: string, deliveryStream: firehose.DeliveryStream): void {
    const metric = (metricName: string, statistic: string) =>
      new Metric({ namespace: 'AWS/Firehose', metricName, dimensionsMap: { DeliveryStreamName: deliveryStream.deliveryStreamName }, statistic, period: Duration.minutes(5) });
    const runbook = this.base.runbook;
    const freshness = this.props.maxDataFreshness ?? Duration.seconds(defaultFreshnessSeconds(this.bufferInterval.toSeconds()));
    this.base.monitoring.facade.monitorCustom({
      alarmFriendlyName: `${name}-raw-zone`,
      humanReadableName: `${name} raw zone (Firehose to S3)`,
      metricGroups: [
        {
          title: `${name} raw zone: records read from the stream, delivered to S3`,
          metrics: [metric('DataReadFromKinesisStream.Records', 'Sum'), metric('DeliveryToS3.Records', 'Sum')],
        },
        {
          title: `${name} raw zone: age of the oldest record not yet in S3 (s)`,
          metrics: [
            {
              metric: metric('DeliveryToS3.DataFreshness', 'Maximum'),
              alarmFriendlyName: 'lag',
              addAlarm: {
                Critical: {
                  threshold: freshness.toSeconds(),
                  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                  // Firehose publishes freshness only while it holds records: no data is nothing waiting.
                  treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                  evaluationPeriods: 1,
                  datapointsToAlarm: 1,
                  additionalDescription: `A record has waited more than ${freshness.toSeconds()} s to reach the raw zone (buffer ${this.bufferInterval.toSeconds()} s): delivery is behind or failing.`,
                  runbookLink: runbook(SECTION.lag('raw-zone')),
                },
              },
            },
          ],
        },
        {
          title: `${name} raw zone: share of S3 writes that succeeded`,
          metrics: [
            {
              metric: metric('DeliveryToS3.Success', 'Average'),
              alarmFriendlyName: 'delivery-failed',
              addAlarm: {
                Critical: {
                  threshold: 1,
                  comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
                  // Published only while Firehose writes: no data is no delivery attempted.
                  treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                  evaluationPeriods: 2,
                  datapointsToAlarm: 2,
                  additionalDescription: "S3 writes of the raw zone failed for 10 minutes: Firehose retries until the records leave the stream's retention, then they are missing from the raw zone.",
                  runbookLink: runbook('raw-zone-delivery-failed'),
                },
              },
            },
          ],
        },
      ],
    });
  }
}

/** The `<name>_raw` table: one string column per line, gzip text, partitions projected from dt and hour. */
function rawTable(scope: Construct, database: RawZoneDatabase, tableName: string, name: string, location: string): glue.CfnTable {
  const partitions = hourPartitions(location, 'the event reached the broker');
  const table = new glue.CfnTable(scope, 'Table', {
    catalogId: Stack.of(scope).account,
    databaseName: database.databaseName,
    tableInput: {
      name: tableName,
      description: `Raw zone of ${name}: one row per event as it reached the broker (its text in "line"), partitioned by UTC arrival hour`,
      tableType: 'EXTERNAL_TABLE',
      parameters: { EXTERNAL: 'TRUE', classification: 'text', compressionType: 'gzip', ...partitions.parameters },
      partitionKeys: partitions.partitionKeys,
      storageDescriptor: {
        location,
        columns: [{ name: RAW_ZONE_LAYOUT.column, type: 'string', comment: 'The record as it reached the broker (UTF-8 text, usually one JSON event)' }],
        inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
        compressed: true,
        // LazySimpleSerDe splits columns on \u0001, which JSON text never holds unescaped: the whole line is one value.
        serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', parameters: { 'serialization.format': '1' } },
      },
    },
  });
  if (database.resource) table.addResourceDependency(database.resource);
  return table;
}

/** cdk-nag IAM5 for one `<prefix>*` object ARN on a role's default policy (a grantee that is not a role acknowledges its own). */
function acknowledgePrefix(grantee: iam.IGrantable, objects: string, reason: string): void {
  const policy = grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal.node.tryFindChild('DefaultPolicy') : undefined;
  if (!policy) return;
  Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(policy).resolve(objects))}]`, reason });
}

/**
 * The bucket as Firehose's S3 destination sees it. The L2 destination grants its role `grantReadWrite` on the whole
 * bucket (every object, DeleteObject included); this view answers that call with `grant`, scoped to the source.
 */
function firehoseView(bucket: s3.IBucket, grant: (grantee: iam.IGrantable) => iam.Grant): s3.IBucket {
  return new Proxy(bucket, { get: (target, property, receiver) => (property === 'grantReadWrite' ? grant : Reflect.get(target, property, receiver)) });
}

function checkSettings(scope: Construct, interval: Duration, size: Size, archiveAfter: Duration, expireAfter: Duration | undefined): void {
  const path = scope.node.path;
  const seconds = interval.toSeconds();
  if (seconds < 0 || seconds > 900) throw new Error(`${path}: "bufferInterval" must be 0-900 seconds (got ${seconds})`);
  const mib = size.toMebibytes();
  if (mib < 1 || mib > 128) throw new Error(`${path}: "bufferSize" must be 1-128 MiB (got ${mib})`);
  if (expireAfter && expireAfter.toDays() <= archiveAfter.toDays()) {
    throw new Error(`${path}: "expireAfter" (${expireAfter.toDays()} days) must be later than "archiveAfter" (${archiveAfter.toDays()} days)`);
  }
}
