import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RDS_CDC_TO_S3_DEFAULTS as D } from './defaults';
import { CdcOptionError, checkInteger } from './option-error';
import { CdcDatabaseProps, SourceEngine } from './props';
import { checkPostgresCdcParameters, MYSQL_CDC_PARAMETERS, MYSQL_MIN_BACKUP_RETENTION_DAYS, POSTGRES_CDC_PARAMETERS } from './source-parameters';

/** What the replication needs to know about its source, created or existing. */
export interface CdcSourceDatabase {
  readonly engine: SourceEngine;
  /** Secret with username, password, host, port, dbname: what the DMS endpoint reads (never the template). */
  readonly secret: secretsmanager.ISecret;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly port: number;
  readonly databaseName: string;
}

export interface CdcDatabaseConstructProps extends CdcDatabaseProps {
  readonly engine: SourceEngine;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  /** Rotation reaches Secrets Manager through it (private subnets). */
  readonly secretsManagerEndpoint?: ec2.IInterfaceVpcEndpoint;
}

const ENGINES = {
  postgres: () => rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16_13 }),
  mysql: () => rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_0_46 }),
};

/** The CDC parameter group values for `engine`, with the user's overrides (checked for PostgreSQL). */
export function cdcParameters(engine: SourceEngine, overrides: Readonly<Record<string, string>> = {}): Record<string, string> {
  const parameters: Record<string, string> = { ...(engine === 'postgres' ? POSTGRES_CDC_PARAMETERS : MYSQL_CDC_PARAMETERS), ...overrides };
  if (engine === 'postgres') checkPostgresCdcParameters(parameters);
  else {
    for (const [name, value] of Object.entries(MYSQL_CDC_PARAMETERS)) {
      if (parameters[name] !== value) throw new CdcOptionError(`databaseProps.parameters.${name}`, parameters[name], `"${value}" (DMS CDC from MySQL)`);
    }
  }
  return parameters;
}

/**
 * The source database: RDS PostgreSQL (or MySQL), encrypted with its own key, in private subnets, with a parameter group
 * that turns change data capture on, automated backups, its master credentials generated into a Secrets Manager
 * secret (encrypted with the same key, rotated) and deletion protection as configured.
 *
 * The secret is CDK's DatabaseSecret attached to the instance (not RDS-managed `manageMasterUserPassword`): attached,
 * it carries `host`, `port`, `dbname` and `engine` besides the credentials, which is what a DMS endpoint reading
 * Secrets Manager needs. DMS connects as the master user, which can create the heartbeat and DDL-capture objects.
 */
export class CdcDatabase extends Construct implements CdcSourceDatabase {
  readonly engine: SourceEngine;
  readonly instance: rds.DatabaseInstance;
  readonly secret: secretsmanager.ISecret;
  readonly securityGroup: ec2.SecurityGroup;
  readonly port: number;
  readonly databaseName: string;
  readonly key: kms.Key;
  readonly parameterGroup: rds.ParameterGroup;
  /** The secret rotation function's security group. */
  readonly rotationSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: CdcDatabaseConstructProps) {
    super(scope, id);
    this.engine = props.engine;
    this.databaseName = props.databaseName ?? D.database.databaseName;
    const engine = ENGINES[props.engine]();
    const backupDays = checkInteger('databaseProps.backupRetentionDays', props.backupRetentionDays ?? D.database.backupRetentionDays, MYSQL_MIN_BACKUP_RETENTION_DAYS, 35);

    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the CDC source database, its secret and logs of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'CDC source database: reachable only from the DMS replication instance (and secret rotation)',
      allowAllOutbound: false,
    });
    this.parameterGroup = new rds.ParameterGroup(this, 'CdcParameters', {
      engine,
      description: `Change data capture for DMS (${props.engine === 'postgres' ? 'logical replication' : 'row-based binary logs'})`,
      parameters: cdcParameters(props.engine, props.parameters),
      // Configuration, not data: goes with the instance (whose final snapshot keeps the data).
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceType: props.instanceType ?? new ec2.InstanceType(D.database.instanceClass),
      allocatedStorage: props.allocatedStorageGiB ?? D.database.allocatedStorageGiB,
      storageType: rds.StorageType.GP3,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      publiclyAccessible: false,
      databaseName: this.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret(props.masterUsername ?? 'cdc_admin', { encryptionKey: this.key }),
      storageEncrypted: true,
      storageEncryptionKey: this.key,
      parameterGroup: this.parameterGroup,
      backupRetention: Duration.days(backupDays),
      deletionProtection: props.deletionProtection ?? D.database.deletionProtection,
      multiAz: props.multiAz ?? D.database.multiAz,
      iamAuthentication: true,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: props.engine === 'postgres' ? ['postgresql'] : ['error', 'slowquery'],
      cloudwatchLogsRetention: props.logRetention,
      enablePerformanceInsights: false,
      removalPolicy: props.removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.SNAPSHOT,
    });
    this.secret = this.instance.secret!;
    this.port = props.engine === 'postgres' ? 5432 : 3306;
    // The rotation function runs in the private subnets: it needs the database (SecretRotation opens it) and the Secrets
    // Manager endpoint, which SecretRotation does not open (aws/aws-cdk#23086): its own security group gets both.
    this.rotationSecurityGroup = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
      vpc: props.vpc,
      description: 'Secret rotation function: reaches the database and the Secrets Manager endpoint',
      allowAllOutbound: true,
    });
    this.instance.addRotationSingleUser({
      automaticallyAfter: Duration.days(props.rotationDays ?? 30),
      vpcSubnets: props.subnets,
      endpoint: props.secretsManagerEndpoint,
      securityGroup: this.rotationSecurityGroup,
    });
    props.secretsManagerEndpoint?.connections.allowDefaultPortFrom(this.rotationSecurityGroup, 'Secret rotation function');
  }
}
