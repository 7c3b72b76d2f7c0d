import type { CfnEndpoint } from 'aws-cdk-lib/aws-dms';
import { CdcOptionError, checkBoolean, checkInteger } from './option-error';

/**
 * The PostgreSQL source endpoint settings (`AWS::DMS::Endpoint.PostgreSqlSettings`).
 *
 * - `PluginName: test-decoding` (the API's spelling of the `test_decoding` output plugin): DMS's default is pglogical
 *   when the extension is available, which needs `shared_preload_libraries` and a `CREATE EXTENSION`; test_decoding
 *   ships with PostgreSQL and needs only logical replication on (`rds.logical_replication = 1`). Nothing manual.
 * - `HeartbeatEnable`: DMS writes a dummy transaction every `HeartbeatFrequency` minutes, so an idle source keeps the
 *   slot's `restart_lsn` moving and does not retain WAL until its storage fills.
 * - Credentials come from Secrets Manager (`SecretsManagerSecretId` + a role DMS assumes), never from the template.
 */

export interface PostgresSourceOptions {
  /** ARN (or name) of the secret with `username`, `password`, `host`, `port` (and `dbname`). */
  readonly secretsManagerSecretId: string;
  /** Role trusted by DMS that may read the secret (and decrypt it with its key). */
  readonly secretsManagerAccessRoleArn: string;
  /**
   * Minutes between heartbeats. 5 (DMS's default) matches RDS PostgreSQL's 5-minute checkpoint_timeout: an idle source
   * retains about one checkpoint cycle of WAL. @default 5
   */
  readonly heartbeatFrequencyMinutes?: number;
  /** Schema where DMS creates its heartbeat objects; the DMS user needs CREATE on it. @default 'public' */
  readonly heartbeatSchema?: string;
  /**
   * A logical replication slot created beforehand, for a CDC start from a native position. @default DMS creates and
   * names the slot itself
   */
  readonly slotName?: string;
  /**
   * Capture DDL (ALTER TABLE ...) so schema changes reach the lake. DMS creates its DDL audit table, function and event
   * trigger in `ddlArtifactsSchema` itself when the endpoint user may (the RDS master user can).
   * @default true
   */
  readonly captureDdls?: boolean;
  /** Schema for the DDL capture artifacts. @default 'public' */
  readonly ddlArtifactsSchema?: string;
  /** Client statement timeout, seconds. @default 60 (DMS's default) */
  readonly executeTimeoutSeconds?: number;
}

/** PostgreSQL identifiers DMS accepts as schema and slot names (lower-case, as PostgreSQL folds unquoted names). */
const PG_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export const DMS_PLUGIN_NAME = 'test-decoding';
/** The PostgreSQL output plugin that PluginName `test-decoding` selects (what `pg_create_logical_replication_slot` takes). */
export const POSTGRES_OUTPUT_PLUGIN = 'test_decoding';
export const DEFAULT_HEARTBEAT_FREQUENCY_MINUTES = 5;

export function postgresSourceSettings(options: PostgresSourceOptions): CfnEndpoint.PostgreSqlSettingsProperty {
  for (const key of ['secretsManagerSecretId', 'secretsManagerAccessRoleArn'] as const) {
    if (typeof options?.[key] !== 'string' || options[key].length === 0) {
      throw new CdcOptionError(`source.${key}`, options?.[key], 'an ARN (a token from the secret or role is fine)');
    }
  }
  const identifier = (option: string, value: unknown) => {
    if (typeof value !== 'string' || !PG_IDENTIFIER.test(value)) {
      throw new CdcOptionError(option, value, 'a lower-case PostgreSQL identifier of at most 63 letters, digits and "_"');
    }
    return value;
  };
  const heartbeatFrequency =
    options.heartbeatFrequencyMinutes === undefined
      ? DEFAULT_HEARTBEAT_FREQUENCY_MINUTES
      : checkInteger('source.heartbeatFrequencyMinutes', options.heartbeatFrequencyMinutes, 1, 60);
  return {
    secretsManagerSecretId: options.secretsManagerSecretId,
    secretsManagerAccessRoleArn: options.secretsManagerAccessRoleArn,
    pluginName: DMS_PLUGIN_NAME,
    heartbeatEnable: true,
    heartbeatFrequency,
    heartbeatSchema: identifier('source.heartbeatSchema', options.heartbeatSchema ?? 'public'),
    captureDdls: options.captureDdls === undefined ? true : checkBoolean('source.captureDdls', options.captureDdls),
    ddlArtifactsSchema: identifier('source.ddlArtifactsSchema', options.ddlArtifactsSchema ?? 'public'),
    executeTimeout:
      options.executeTimeoutSeconds === undefined
        ? 60
        : checkInteger('source.executeTimeoutSeconds', options.executeTimeoutSeconds, 1, 3600),
    ...(options.slotName !== undefined && { slotName: identifier('source.slotName', options.slotName) }),
  };
}

export interface MySqlSourceOptions {
  /** ARN (or name) of the secret with `username`, `password`, `host`, `port`. */
  readonly secretsManagerSecretId: string;
  /** Role trusted by DMS that may read the secret (and decrypt it with its key). */
  readonly secretsManagerAccessRoleArn: string;
}

/**
 * The MySQL source endpoint settings (`AWS::DMS::Endpoint.MySqlSettings`): credentials from Secrets Manager. CDC reads
 * the binary log, which the parameter group (`MYSQL_CDC_PARAMETERS` in source-parameters.ts) and automated
 * backups turn on; the DMS user needs the grants of `mysqlReplicationGrants`.
 */
export function mysqlSourceSettings(options: MySqlSourceOptions): CfnEndpoint.MySqlSettingsProperty {
  for (const key of ['secretsManagerSecretId', 'secretsManagerAccessRoleArn'] as const) {
    if (typeof options?.[key] !== 'string' || options[key].length === 0) {
      throw new CdcOptionError(`source.${key}`, options?.[key], 'an ARN (a token from the secret or role is fine)');
    }
  }
  return {
    secretsManagerSecretId: options.secretsManagerSecretId,
    secretsManagerAccessRoleArn: options.secretsManagerAccessRoleArn,
  };
}
