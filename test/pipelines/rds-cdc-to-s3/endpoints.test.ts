import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dms from 'aws-cdk-lib/aws-dms';
import {
  mysqlSourceSettings,
  postgresSourceSettings,
  PostgresSourceOptions,
} from '../../../pipelines/rds-cdc-to-s3/construct/source-endpoint';
import {
  cdcFileKey,
  datePartitionFolder,
  fullLoadKey,
  resolveLayout,
  s3TargetSettings,
  S3TargetOptions,
} from '../../../pipelines/rds-cdc-to-s3/construct/target-endpoint';
import { errorOf } from './error-of';

const source: PostgresSourceOptions = {
  secretsManagerSecretId: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf',
  secretsManagerAccessRoleArn: 'arn:aws:iam::111122223333:role/dms-secret-access',
};
const target: S3TargetOptions = {
  bucketName: 'raw-zone',
  serviceAccessRoleArn: 'arn:aws:iam::111122223333:role/dms-s3-target',
  kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
};

describe('postgresSourceSettings', () => {
  it('test_decoding, heartbeats, DDL capture and the secret; no credentials in the template', () => {
    expect(postgresSourceSettings(source)).toEqual({
      secretsManagerSecretId: source.secretsManagerSecretId,
      secretsManagerAccessRoleArn: source.secretsManagerAccessRoleArn,
      pluginName: 'test-decoding',
      heartbeatEnable: true,
      heartbeatFrequency: 5,
      heartbeatSchema: 'public',
      captureDdls: true,
      ddlArtifactsSchema: 'public',
      executeTimeout: 60,
    });
  });

  it('options: slot, heartbeat schema and frequency, DDL capture off', () => {
    expect(
      postgresSourceSettings({
        ...source,
        slotName: 'dms_orders',
        heartbeatSchema: 'dms',
        heartbeatFrequencyMinutes: 1,
        captureDdls: false,
        ddlArtifactsSchema: 'dms',
        executeTimeoutSeconds: 120,
      }),
    ).toMatchObject({
      slotName: 'dms_orders',
      heartbeatSchema: 'dms',
      heartbeatFrequency: 1,
      captureDdls: false,
      ddlArtifactsSchema: 'dms',
      executeTimeout: 120,
    });
  });

  it.each<[Partial<PostgresSourceOptions>, string]>([
    [
      { secretsManagerSecretId: '' },
      'source.secretsManagerSecretId: received ""; expected an ARN (a token from the secret or role is fine)',
    ],
    [
      { heartbeatFrequencyMinutes: 0 },
      'source.heartbeatFrequencyMinutes: received 0; expected a whole number from 1 to 60',
    ],
    [
      { slotName: 'DMS-Slot' },
      'source.slotName: received "DMS-Slot"; expected a lower-case PostgreSQL identifier of at most 63 letters, digits and "_"',
    ],
    [
      { heartbeatSchema: '' },
      'source.heartbeatSchema: received ""; expected a lower-case PostgreSQL identifier of at most 63 letters, digits and "_"',
    ],
    [{ captureDdls: 1 as never }, 'source.captureDdls: received 1; expected true or false'],
  ])('rejects %j', (override, message) => {
    expect(errorOf(() => postgresSourceSettings({ ...source, ...override }))).toBe(message);
  });
});

describe('mysqlSourceSettings', () => {
  it('credentials from Secrets Manager', () => {
    expect(mysqlSourceSettings(source)).toEqual(source);
    expect(errorOf(() => mysqlSourceSettings({ ...source, secretsManagerAccessRoleArn: '' }))).toBe(
      'source.secretsManagerAccessRoleArn: received ""; expected an ARN (a token from the secret or role is fine)',
    );
  });
});

describe('s3TargetSettings', () => {
  it('Parquet with Op and commit-timestamp columns, date partitions, SSE-KMS, 5-second CDC files', () => {
    expect(s3TargetSettings(target)).toEqual({
      bucketName: 'raw-zone',
      bucketFolder: 'cdc',
      serviceAccessRoleArn: target.serviceAccessRoleArn,
      dataFormat: 'parquet',
      parquetVersion: 'parquet-1-0',
      parquetTimestampInMillisecond: true,
      compressionType: 'gzip',
      enableStatistics: true,
      includeOpForFullLoad: true,
      cdcInsertsOnly: false,
      cdcInsertsAndUpdates: false,
      timestampColumnName: 'dms_timestamp',
      useTaskStartTimeForFullLoadTimestamp: true,
      datePartitionEnabled: true,
      datePartitionSequence: 'YYYYMMDD',
      datePartitionDelimiter: 'SLASH',
      encryptionMode: 'sse-kms',
      serverSideEncryptionKmsKeyId: target.kmsKeyArn,
      cdcMaxBatchInterval: 5,
      cdcMinFileSize: 32000,
    });
  });

  it('options: folder, column name, hourly dashed partitions in a time zone, batching, codec', () => {
    expect(
      s3TargetSettings({
        ...target,
        bucketFolder: 'raw/cdc',
        timestampColumnName: 'commit_ts',
        datePartitionSequence: 'YYYYMMDDHH',
        datePartitionDelimiter: 'DASH',
        datePartitionTimezone: 'Europe/Paris',
        cdcMaxBatchIntervalSeconds: 60,
        cdcMinFileSizeKb: 64000,
        compression: 'none',
        parquetVersion: 'parquet-2-0',
      }),
    ).toMatchObject({
      bucketFolder: 'raw/cdc',
      timestampColumnName: 'commit_ts',
      datePartitionSequence: 'YYYYMMDDHH',
      datePartitionDelimiter: 'DASH',
      datePartitionTimezone: 'Europe/Paris',
      cdcMaxBatchInterval: 60,
      cdcMinFileSize: 64000,
      compressionType: 'none',
      parquetVersion: 'parquet-2-0',
    });
  });

  it.each<[Partial<S3TargetOptions>, string]>([
    [{ kmsKeyArn: undefined as never }, 'target.kmsKeyArn: received nothing; expected a non-empty string (a token is fine)'],
    [
      { bucketFolder: '/cdc/' },
      'target.bucketFolder: received "/cdc/"; expected an S3 folder like "cdc" or "raw/cdc" (letters, digits, "_", "-", ".", "=", no leading or trailing "/")',
    ],
    [
      { timestampColumnName: 'CommitTs' },
      'target.timestampColumnName: received "CommitTs"; expected a lower-case column name of letters, digits and "_" (Athena lower-cases column names)',
    ],
    [
      { datePartitionSequence: 'YYYY' as never },
      'target.datePartitionSequence: received "YYYY"; expected one of: YYYYMMDD, YYYYMMDDHH, YYYYMM, MMYYYYDD, DDMMYYYY',
    ],
    [
      { datePartitionDelimiter: '/' as never },
      'target.datePartitionDelimiter: received "/"; expected one of: SLASH, DASH, UNDERSCORE, NONE',
    ],
    [{ datePartitionTimezone: 'CET' }, 'target.datePartitionTimezone: received "CET"; expected an Area/Location time zone'],
    [
      { cdcMaxBatchIntervalSeconds: 0 },
      'target.cdcMaxBatchIntervalSeconds: received 0; expected a whole number from 1 to 3600',
    ],
    [{ cdcMinFileSizeKb: -1 }, 'target.cdcMinFileSizeKb: received -1; expected a whole number from 1 to 1048576'],
    [{ compression: 'snappy' as never }, 'target.compression: received "snappy"; expected one of: gzip, none'],
    [
      { parquetVersion: 'PARQUET_2_0' as never },
      'target.parquetVersion: received "PARQUET_2_0"; expected one of: parquet-1-0, parquet-2-0',
    ],
  ])('rejects %j', (override, message) => {
    expect(errorOf(() => s3TargetSettings({ ...target, ...override }))).toBe(message);
  });
});

describe('object layout', () => {
  const t = new Date('2026-03-04T05:06:07.089Z');
  it.each([
    ['YYYYMMDD', 'SLASH', '2026/03/04'],
    ['YYYYMMDDHH', 'SLASH', '2026/03/04/05'],
    ['YYYYMM', 'DASH', '2026-03'],
    ['MMYYYYDD', 'UNDERSCORE', '03_2026_04'],
    ['DDMMYYYY', 'NONE', '04032026'],
  ] as const)('%s with %s → %s', (sequence, delimiter, folder) => {
    const layout = resolveLayout({ datePartitionSequence: sequence, datePartitionDelimiter: delimiter });
    expect(datePartitionFolder(layout, t)).toBe(folder);
  });

  it('full-load files count in hexadecimal; CDC files are named by time inside the date folder', () => {
    const layout = resolveLayout({ bucketFolder: 'raw/cdc' });
    expect(fullLoadKey(layout, 'public', 'orders', 1)).toBe('raw/cdc/public/orders/LOAD00000001.parquet');
    expect(fullLoadKey(layout, 'public', 'orders', 10)).toBe('raw/cdc/public/orders/LOAD0000000A.parquet');
    expect(fullLoadKey(layout, 'public', 'orders', 16)).toBe('raw/cdc/public/orders/LOAD00000010.parquet');
    expect(cdcFileKey(layout, 'public', 'orders', t)).toBe('raw/cdc/public/orders/2026/03/04/20260304-050607089.parquet');
  });
});

describe('the settings are valid CloudFormation properties of AWS::DMS::Endpoint', () => {
  it('synthesizes to the PascalCase names and API values DMS documents', () => {
    const stack = new Stack(new App(), 'Endpoints');
    new dms.CfnEndpoint(stack, 'Source', {
      endpointType: 'source',
      engineName: 'postgres',
      databaseName: 'app',
      postgreSqlSettings: postgresSourceSettings(source),
    });
    new dms.CfnEndpoint(stack, 'Target', { endpointType: 'target', engineName: 's3', s3Settings: s3TargetSettings(target) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DMS::Endpoint', {
      EngineName: 'postgres',
      PostgreSqlSettings: {
        PluginName: 'test-decoding',
        HeartbeatEnable: true,
        HeartbeatFrequency: 5,
        SecretsManagerSecretId: source.secretsManagerSecretId,
        SecretsManagerAccessRoleArn: source.secretsManagerAccessRoleArn,
      },
    });
    template.hasResourceProperties('AWS::DMS::Endpoint', {
      EngineName: 's3',
      S3Settings: {
        DataFormat: 'parquet',
        ParquetTimestampInMillisecond: true,
        IncludeOpForFullLoad: true,
        TimestampColumnName: 'dms_timestamp',
        DatePartitionEnabled: true,
        DatePartitionSequence: 'YYYYMMDD',
        DatePartitionDelimiter: 'SLASH',
        EncryptionMode: 'sse-kms',
        ServerSideEncryptionKmsKeyId: target.kmsKeyArn,
        CdcMaxBatchInterval: 5,
        CdcMinFileSize: 32000,
      },
    });
  });
});
