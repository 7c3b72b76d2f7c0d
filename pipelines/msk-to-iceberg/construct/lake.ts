import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, IDependable } from 'constructs';
import { addQueryWorkgroup } from '../../../platform/query-workgroup';
import { SecureBucket, SecureBucketProps } from '../../../platform/secure-bucket';
import { tableLocationPrefix } from './application';

/** The Iceberg warehouse root inside the warehouse bucket. */
export const WAREHOUSE_PREFIX = 'warehouse';

export interface LakeProps {
  readonly databaseName: string;
  readonly warehouseBucketProps?: SecureBucketProps;
  readonly allowDestroy: boolean;
}

export interface UpkeepSettings {
  readonly compaction: boolean;
  readonly snapshotRetentionDays: number;
  readonly snapshotsToRetain: number;
  readonly orphanFileRetentionDays: number;
}

/**
 * The lake: a warehouse bucket, the Glue database the Iceberg tables live in, an Athena workgroup with encrypted
 * results, and, per table, Glue's table optimizers (compaction, snapshot retention, orphan-file deletion) with a role
 * of their own. The tables themselves are created by the job on its first start, from the schema it carries (see the
 * construct's README for why not here).
 */
export class Lake extends Construct {
  readonly warehouseBucket: s3.Bucket;
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  readonly resultsBucket: s3.IBucket;
  readonly workgroup: athena.CfnWorkGroup;
  readonly optimizerRole: iam.Role;
  readonly optimizers: glue.CfnTableOptimizer[] = [];
  readonly queries: athena.CfnNamedQuery[] = [];

  constructor(scope: Construct, id: string, props: LakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.databaseName = props.databaseName;
    // Iceberg rewrites and expires files continuously: old versions kept 3 days (not 30), enough to undo a mistake.
    this.warehouseBucket = new SecureBucket(this, 'Warehouse', {
      allowDestroy: props.allowDestroy,
      noncurrentVersionRetention: Duration.days(3),
      ...props.warehouseBucketProps,
    }).bucket;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: props.databaseName,
        description: 'Iceberg tables written by the MSK to Iceberg pipeline (stream-foundry)',
        locationUri: this.warehouseBucket.s3UrlForObject(`${WAREHOUSE_PREFIX}/${props.databaseName}.db`),
      },
    });
    // Deleted with the stack, as the other pipelines' databases: a retained database would keep its fixed name and
    // make the next deploy fail. The tables' data and Iceberg metadata stay in the retained warehouse bucket; the
    // runbook shows how to register a table again from its last metadata file.
    this.database.applyRemovalPolicy(RemovalPolicy.DESTROY);

    ({ workgroup: this.workgroup, resultsBucket: this.resultsBucket } = addQueryWorkgroup(this, 'Workgroup', {
      name: stack.stackName,
      description: `Queries the Iceberg tables of ${props.databaseName}`,
      allowDestroy: props.allowDestroy,
      resultsPrefix: 'athena/',
      recursiveDelete: props.allowDestroy,
    }));

    this.optimizerRole = new iam.Role(this, 'OptimizerRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: `Glue table optimizers (compaction, snapshot retention, orphan files) of ${props.databaseName}`,
    });
    const logGroups = ['iceberg-compaction', 'iceberg-retention', 'iceberg-orphan-file-deletion'].map((kind) =>
      stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `/aws-glue/${kind}/logs:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    this.optimizerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], resources: logGroups }),
    );
    this.warehouseBucket.encryptionKey?.grant(this.optimizerRole, 'kms:Decrypt', 'kms:GenerateDataKey');
    const policy = this.optimizerRole.node.tryFindChild('DefaultPolicy')!;
    for (const arn of logGroups) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(arn))}]`,
        reason: 'Glue table optimizers log to streams they name in these fixed Glue log groups.',
      });
    }
  }

  /** Glue's optimizers for one table, started once `after` (the application's start, which creates the table) is done. */
  addTableUpkeep(table: string, settings: UpkeepSettings, after: IDependable): void {
    const stack = Stack.of(this);
    const prefix = tableLocationPrefix(WAREHOUSE_PREFIX, this.databaseName, table);
    const objects = this.warehouseBucket.arnForObjects(`${prefix}*`);
    const policy = this.optimizerRole.node.tryFindChild('DefaultPolicy') ?? this.optimizerRole;
    this.optimizerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: [objects] }));
    // Finding 2 choice: ListBucket unconditioned on the pipeline's own warehouse bucket. Glue's optimizers write
    // through Iceberg, which HEADs each new file first and takes only 404 as absent; S3 answers 404 only to a caller
    // allowed s3:ListBucket (a prefix-conditioned grant is the undocumented case). Orphan-file deletion lists the table.
    this.optimizerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.warehouseBucket.bucketArn] }));
    this.optimizerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetTable', 'glue:UpdateTable', 'glue:GetDatabase'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
          stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${table}` }),
        ],
      }),
    );
    Validations.of(this.optimizerRole.node.tryFindChild('DefaultPolicy') ?? policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(objects))}]`,
      reason: `Glue's optimizers rewrite, expire and delete files of the ${table} table, under its own location only.`,
    });

    const optimizer = (type: string, configuration: Partial<glue.CfnTableOptimizer.TableOptimizerConfigurationProperty>) => {
      const resource = new glue.CfnTableOptimizer(this, `${table}-${type}`, {
        catalogId: stack.account,
        databaseName: this.databaseName,
        tableName: table,
        type,
        tableOptimizerConfiguration: { roleArn: this.optimizerRole.roleArn, enabled: true, ...configuration },
      });
      resource.node.addDependency(after, this.optimizerRole.node.tryFindChild('DefaultPolicy')!);
      this.optimizers.push(resource);
    };
    if (settings.compaction) optimizer('compaction', {});
    optimizer('retention', {
      retentionConfiguration: {
        icebergConfiguration: {
          snapshotRetentionPeriodInDays: settings.snapshotRetentionDays,
          numberOfSnapshotsToRetain: settings.snapshotsToRetain,
          cleanExpiredFiles: true,
        },
      },
    });
    optimizer('orphan_file_deletion', {
      orphanFileDeletionConfiguration: {
        icebergConfiguration: { orphanFileRetentionPeriodInDays: settings.orphanFileRetentionDays, location: this.warehouseBucket.s3UrlForObject(prefix) },
      },
    });
  }

  /** An example query in the workgroup: the latest events of a table. */
  addExampleQuery(table: string, eventTimeField: string): void {
    const query = new athena.CfnNamedQuery(this, `${table}-latest`, {
      name: `${table}: events of the last hour`,
      description: `The newest events of the Iceberg table ${this.databaseName}.${table}`,
      database: this.databaseName,
      workGroup: this.workgroup.ref,
      queryString: [
        `SELECT *`,
        `FROM "${this.databaseName}"."${table}"`,
        `WHERE ${eventTimeField} > current_timestamp - INTERVAL '1' HOUR`,
        `ORDER BY ${eventTimeField} DESC`,
        `LIMIT 100;`,
      ].join('\n'),
    });
    this.queries.push(query);
  }
}
