import { CdcOptionError } from './option-error';

/**
 * What the source database needs for DMS change data capture: the RDS parameter-group values, their self-managed
 * PostgreSQL equivalents (what the local tests apply), the DMS user's grants, and the check for tables without a primary
 * key. From the DMS User Guide ("Using a PostgreSQL database as an AWS DMS source", "Using a MySQL-compatible database
 * as a source").
 */

/**
 * RDS for PostgreSQL parameter group values.
 * - `rds.logical_replication = 1`: RDS then sets `wal_level = logical` and sizes `max_wal_senders` and
 *   `max_replication_slots`; static, applied at the instance's (first) boot.
 * - `wal_sender_timeout`: DMS needs 0 or at least 10000 ms and asks to keep it under 5 minutes (Multi-AZ failover of
 *   the replication instance); 60000 is PostgreSQL's default, written out so a later edit can't break DMS unnoticed.
 * - `idle_in_transaction_session_timeout = 0`: DMS keeps transactions idle between uses; ending them fails the task.
 * - `rds.force_ssl = 1`: the server accepts only TLS connections (encryption in transit). DMS connects with
 *   `sslMode: 'require'` and the rotation function tries TLS first; RDS for PostgreSQL 15+ defaults to 1, so this only
 *   writes the default out, where checkov (CKV2_AWS_69) and a later edit can see it. Not a self-managed setting.
 * - Not set: `max_slot_wal_keep_size`. A *stopped* task's slot retains WAL until the disk fills (heartbeats only help
 *   while the task runs); that parameter caps it, in MB, at the price of invalidating the slot (the task then needs a
 *   full reload). Add it to the parameter group if storage matters more than an uninterrupted change log.
 */
export const POSTGRES_CDC_PARAMETERS = {
  'rds.logical_replication': '1',
  wal_sender_timeout: '60000',
  idle_in_transaction_session_timeout: '0',
  'rds.force_ssl': '1',
} as const satisfies Record<string, string>;

/** PostgreSQL parameters RDS derives from `rds.logical_replication = 1`, as a self-managed server sets them. */
export const POSTGRES_LOGICAL_REPLICATION_EQUIVALENT = {
  wal_level: 'logical',
  // DMS: "greater than 1"; one slot and one sender per task, plus room for a second task or a re-created slot.
  max_replication_slots: '10',
  max_wal_senders: '10',
} as const satisfies Record<string, string>;

/**
 * The `postgresql.conf` settings of a self-managed server equivalent to {@link POSTGRES_CDC_PARAMETERS} (the RDS-only
 * `rds.*` switch replaced by what it turns on). The local integration test starts PostgreSQL with exactly these.
 */
export function selfManagedPostgresSettings(
  parameters: Readonly<Record<string, string>> = POSTGRES_CDC_PARAMETERS,
): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters)) {
    if (name === 'rds.logical_replication') {
      if (value === '1') Object.assign(settings, POSTGRES_LOGICAL_REPLICATION_EQUIVALENT);
      continue;
    }
    if (name.startsWith('rds.')) continue;
    settings[name] = value;
  }
  return settings;
}

/** Checks a parameter set would let DMS capture changes (used for user overrides of the defaults). */
export function checkPostgresCdcParameters(parameters: Readonly<Record<string, string>>): void {
  if (parameters['rds.logical_replication'] !== '1') {
    throw new CdcOptionError(
      'sourceParameters["rds.logical_replication"]',
      parameters['rds.logical_replication'],
      '"1" (logical replication is how DMS captures changes)',
    );
  }
  const timeout = parameters.wal_sender_timeout;
  if (timeout !== undefined) {
    const ms = Number(timeout);
    if (!Number.isInteger(ms) || (ms !== 0 && (ms < 10_000 || ms >= 300_000))) {
      throw new CdcOptionError(
        'sourceParameters.wal_sender_timeout',
        timeout,
        '"0" or milliseconds from 10000 to 299999 (DMS fails below 10 s; 5 min or more delays a Multi-AZ failover)',
      );
    }
  }
  const idle = parameters.idle_in_transaction_session_timeout;
  if (idle !== undefined && idle !== '0') {
    throw new CdcOptionError(
      'sourceParameters.idle_in_transaction_session_timeout',
      idle,
      '"0" (DMS keeps transactions idle between uses; timing them out fails the task)',
    );
  }
}

/**
 * RDS for MySQL parameter group values: row-based binary logs with full row images (DMS: STATEMENT or MIXED can
 * replicate inconsistently), no binlog checksums (the guide's requirement). Binary logging itself needs automated
 * backups on the instance ({@link MYSQL_MIN_BACKUP_RETENTION_DAYS}). `require_secure_transport = ON`: only TLS
 * connections (encryption in transit), as for PostgreSQL (`rds.force_ssl`); DMS connects with `sslMode: 'require'`.
 */
export const MYSQL_CDC_PARAMETERS = {
  binlog_format: 'ROW',
  binlog_row_image: 'FULL',
  binlog_checksum: 'NONE',
  require_secure_transport: 'ON',
} as const satisfies Record<string, string>;

/** RDS MySQL writes binary logs only with automated backups on: at least one day of retention. */
export const MYSQL_MIN_BACKUP_RETENTION_DAYS = 1;

/** Run once on RDS MySQL so binary logs outlive a DMS pause (RDS purges them as soon as it can). */
export function mysqlBinlogRetentionSql(hours = 24): string {
  if (!Number.isInteger(hours) || hours < 1 || hours > 168) {
    throw new CdcOptionError('binlogRetentionHours', hours, 'a whole number of hours from 1 to 168');
  }
  return `call mysql.rds_set_configuration('binlog retention hours', ${hours});`;
}

const MYSQL_NAME = /^[A-Za-z0-9_$]{1,64}$/;

/**
 * SQL giving an existing MySQL user what DMS needs for full load + CDC: REPLICATION CLIENT and REPLICATION SLAVE
 * (CDC only; SUPER only before MySQL 5.6.6) and SELECT on the replicated databases.
 */
export function mysqlReplicationGrants(user: string, databases: readonly string[]): string[] {
  if (!/^[A-Za-z0-9_]{1,32}$/.test(user)) {
    throw new CdcOptionError('replicationUser.user', user, 'a MySQL user name of at most 32 letters, digits and "_"');
  }
  if (databases.length === 0) throw new CdcOptionError('replicationUser.databases', databases, 'at least one database');
  return [
    `GRANT REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO '${user}'@'%'`,
    ...databases.map((db, i) => {
      if (!MYSQL_NAME.test(db)) {
        throw new CdcOptionError(`replicationUser.databases[${i}]`, db, 'a MySQL database name (letters, digits, "_", "$")');
      }
      return `GRANT SELECT ON \`${db}\`.* TO '${user}'@'%'`;
    }),
  ];
}

const PG_ROLE = /^[a-z_][a-z0-9_]{0,62}$/;
const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export interface PostgresReplicationUser {
  /** Login role DMS connects as. */
  readonly user: string;
  /** Schemas whose tables are replicated. */
  readonly schemas: readonly string[];
  /** Schema DMS creates its heartbeat (and DDL capture) objects in. @default 'public' */
  readonly heartbeatSchema?: string;
  /** RDS (`rds_replication` role) or a self-managed server (the REPLICATION attribute). @default 'rds' */
  readonly flavour?: 'rds' | 'self-managed';
}

/**
 * SQL giving an existing login role what DMS needs for full load + CDC with test_decoding:
 * - the right to create and read logical replication slots: `rds_replication` on RDS, `REPLICATION` elsewhere;
 * - USAGE and SELECT on the replicated schemas' tables (and tables created later);
 * - CREATE on the heartbeat schema, where DMS creates its heartbeat table.
 * With DDL capture on (`captureDdls`), DMS also creates an event trigger, which needs `rds_superuser` on RDS (the
 * master user has it): use the master user's secret for the endpoint, or grant that role too.
 */
export function postgresReplicationGrants(options: PostgresReplicationUser): string[] {
  const flavour = options.flavour ?? 'rds';
  if (!PG_ROLE.test(options.user)) {
    throw new CdcOptionError('replicationUser.user', options.user, 'a lower-case PostgreSQL role name');
  }
  if (options.schemas.length === 0) {
    throw new CdcOptionError('replicationUser.schemas', options.schemas, 'at least one schema');
  }
  const user = quoteIdent(options.user);
  const statements =
    flavour === 'rds' ? [`GRANT rds_replication TO ${user}`] : [`ALTER ROLE ${user} WITH REPLICATION`];
  for (const [i, schema] of options.schemas.entries()) {
    if (!PG_ROLE.test(schema)) {
      throw new CdcOptionError(`replicationUser.schemas[${i}]`, schema, 'a lower-case PostgreSQL schema name');
    }
    const s = quoteIdent(schema);
    statements.push(
      `GRANT USAGE ON SCHEMA ${s} TO ${user}`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${user}`,
      `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT ON TABLES TO ${user}`,
    );
  }
  const heartbeat = options.heartbeatSchema ?? 'public';
  if (!PG_ROLE.test(heartbeat)) {
    throw new CdcOptionError('replicationUser.heartbeatSchema', heartbeat, 'a lower-case PostgreSQL schema name');
  }
  statements.push(`GRANT USAGE, CREATE ON SCHEMA ${quoteIdent(heartbeat)} TO ${user}`);
  return statements;
}

/**
 * Lists the ordinary and partitioned tables of `schemas` without a primary key, as `schema.table`. DMS captures their
 * inserts but cannot apply their updates and deletes (the WAL has no key to identify the row), so the lake's
 * current state of such a table would be wrong: add a primary key (or, carefully, REPLICA IDENTITY FULL).
 * Parameter $1: the schema names (text[]).
 */
export const TABLES_WITHOUT_PRIMARY_KEY_SQL = `
SELECT n.nspname AS schema_name, c.relname AS table_name
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND n.nspname = ANY($1::text[])
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'
  )
ORDER BY 1, 2`.trim();

/** The one method of a database client this module needs (`pg`'s Client and Pool have it). */
export interface SqlQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Tables of `schemas` without a primary key (see {@link TABLES_WITHOUT_PRIMARY_KEY_SQL}), as `schema.table`. */
export async function findTablesWithoutPrimaryKey(db: SqlQueryable, schemas: readonly string[]): Promise<string[]> {
  const { rows } = await db.query(TABLES_WITHOUT_PRIMARY_KEY_SQL, [schemas]);
  return rows.map((r) => `${String(r.schema_name)}.${String(r.table_name)}`);
}
