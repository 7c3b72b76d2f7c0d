import { CfnOutput } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { LakeTableSource } from './construct/cdc-table-schema';
import { RdsCdcToS3 } from './construct';
import { TableSelection } from './construct/table-mappings';
import { RdsCdcToS3Config } from './config';
import { PipelineStack, PipelineStackProps } from '../../platform/pipeline-stack';

/** The configured tables as typed table-mapping selections and, where columns are declared, lake tables. */
export function cdcTablesFrom(config: RdsCdcToS3Config): { selections: TableSelection[]; lakeTables: LakeTableSource[] } {
  const selections = config.tables.map((t) => ({
    schema: t.schema,
    name: t.name,
    ...(t.excludeColumns.length > 0 && { excludeColumns: t.excludeColumns }),
  }));
  const lakeTables = config.tables.flatMap((t, i) =>
    t.columns ? [{ selection: selections[i], columns: t.columns, primaryKey: t.primaryKey ?? [] }] : [],
  );
  return { selections, lakeTables };
}

/**
 * Pipeline 3: RDS → DMS (change data capture) → S3, from the `rdsCdcToS3` section: a CDC-enabled RDS database in a
 * private VPC, a DMS full-load-and-CDC task the stack starts and keeps running, the raw-zone change log in Parquet,
 * Glue tables and an Athena workgroup over it, alarms and a dashboard.
 */
export class RdsCdcToS3Stack extends PipelineStack {
  /** The pipeline: the database (or the existing one), DMS, the raw bucket and the lake tables. */
  readonly cdc: RdsCdcToS3;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config } = this;
    const cdc = config.rdsCdcToS3;
    if (!cdc) throw new Error(`${id}: the "rdsCdcToS3" configuration section is missing`);
    const { selections, lakeTables } = cdcTablesFrom(cdc);
    const [instanceClass, instanceSize] = cdc.instanceClass.split('.');

    this.cdc = new RdsCdcToS3(this, 'Cdc', {
      engine: cdc.engine,
      tables: { tables: selections, exclude: cdc.exclude },
      lakeTables,
      databaseProps: {
        instanceType: ec2.InstanceType.of(instanceClass as ec2.InstanceClass, instanceSize as ec2.InstanceSize),
        allocatedStorageGiB: cdc.allocatedStorageGiB,
        databaseName: cdc.databaseName,
        deletionProtection: cdc.deletionProtection,
        backupRetentionDays: cdc.backupRetentionDays,
      },
      replication: {
        instanceClass: cdc.replicationInstanceClass,
        allocatedStorageGiB: cdc.replicationStorageGiB,
        multiAz: cdc.replicationMultiAz,
      },
      alarms: { noDataMinutes: cdc.noDataMinutes, cdcLatencySeconds: cdc.cdcLatencySeconds },
      // The canary of a database pipeline is a heartbeat row through it (PostgreSQL; MySQL: none, construct/freshness.ts,
      // which refuses an explicit canary with MySQL).
      freshness: config.freshness.enabled && cdc.engine === 'postgres' ? { intervalMinutes: config.freshness.intervalMinutes } : false,
      monitoring: this.monitoring,
      allowDestroy: this.allowDestroy,
    });
    const heartbeat = this.cdc.freshness;
    if (heartbeat) {
      this.freshness.watchReceipts(heartbeat.receiptsBucket, [heartbeat.source]);
      this.freshness.addSlo(heartbeat.source);
    }

    // What the README's walk-through needs: where to connect from, which secret, where the change log lands.
    const c = this.cdc;
    const outputs: Record<string, [string, string]> = {
      VpcId: [c.network.vpc.vpcId, 'VPC of the database and DMS (CloudShell VPC environment: this VPC)'],
      DmsSecurityGroupId: [c.network.dmsSecurityGroup.securityGroupId, 'The only security group the database admits'],
      DatabaseSecretArn: [c.source.secret.secretArn, 'Secret with host, port, dbname, username, password (rotated)'],
      ReplicationTaskArn: [c.replication.task.ref, 'The DMS full-load-and-CDC task'],
      RawBucketName: [c.rawBucket.bucketName, 'Change log: s3://<bucket>/cdc/<schema>/<table>/'],
      GlueDatabaseName: [c.lake.databaseName, 'Glue database with one table per declared table'],
      AthenaWorkGroup: [c.lake.workgroup.name, 'Athena workgroup with the saved current-state queries'],
    };
    for (const [id, [value, description]] of Object.entries(outputs)) new CfnOutput(this, id, { value, description });
  }
}
