import {
  checkPostgresCdcParameters,
  findTablesWithoutPrimaryKey,
  MYSQL_CDC_PARAMETERS,
  MYSQL_MIN_BACKUP_RETENTION_DAYS,
  mysqlBinlogRetentionSql,
  mysqlReplicationGrants,
  POSTGRES_CDC_PARAMETERS,
  postgresReplicationGrants,
  selfManagedPostgresSettings,
  TABLES_WITHOUT_PRIMARY_KEY_SQL,
} from '../../../pipelines/rds-cdc-to-s3/construct/source-parameters';
import { errorOf } from './error-of';

describe('source database parameters', () => {
  it('PostgreSQL: logical replication on, DMS-safe sender and idle timeouts, TLS connections only', () => {
    expect(POSTGRES_CDC_PARAMETERS).toEqual({
      'rds.logical_replication': '1',
      wal_sender_timeout: '60000',
      idle_in_transaction_session_timeout: '0',
      'rds.force_ssl': '1',
    });
    expect(() => checkPostgresCdcParameters(POSTGRES_CDC_PARAMETERS)).not.toThrow();
  });

  it('the self-managed equivalent replaces the RDS switch with what it turns on (and drops the other rds.* ones)', () => {
    expect(selfManagedPostgresSettings()).toEqual({
      wal_level: 'logical',
      max_replication_slots: '10',
      max_wal_senders: '10',
      wal_sender_timeout: '60000',
      idle_in_transaction_session_timeout: '0',
    });
    expect(selfManagedPostgresSettings({ 'rds.logical_replication': '0', 'rds.force_ssl': '1', work_mem: '8MB' })).toEqual({
      work_mem: '8MB',
    });
  });

  it.each<[Record<string, string>, string]>([
    [
      { 'rds.logical_replication': '0' },
      'sourceParameters["rds.logical_replication"]: received "0"; expected "1" (logical replication is how DMS captures changes)',
    ],
    [
      { ...POSTGRES_CDC_PARAMETERS, wal_sender_timeout: '5000' },
      'sourceParameters.wal_sender_timeout: received "5000"; expected "0" or milliseconds from 10000 to 299999 (DMS fails below 10 s; 5 min or more delays a Multi-AZ failover)',
    ],
    [
      { ...POSTGRES_CDC_PARAMETERS, wal_sender_timeout: '300000' },
      'sourceParameters.wal_sender_timeout: received "300000"; expected "0" or milliseconds from 10000 to 299999 (DMS fails below 10 s; 5 min or more delays a Multi-AZ failover)',
    ],
    [
      { ...POSTGRES_CDC_PARAMETERS, idle_in_transaction_session_timeout: '60000' },
      'sourceParameters.idle_in_transaction_session_timeout: received "60000"; expected "0" (DMS keeps transactions idle between uses; timing them out fails the task)',
    ],
  ])('rejects PostgreSQL parameters %j', (parameters, message) => {
    expect(errorOf(() => checkPostgresCdcParameters(parameters))).toBe(message);
  });

  it('accepts wal_sender_timeout 0 (no timeout) and 10 s', () => {
    for (const wal_sender_timeout of ['0', '10000']) {
      expect(() => checkPostgresCdcParameters({ ...POSTGRES_CDC_PARAMETERS, wal_sender_timeout })).not.toThrow();
    }
  });

  it('MySQL: row-based, full-image binary logs without checksums, TLS connections only, backups on, retention call', () => {
    expect(MYSQL_CDC_PARAMETERS).toEqual({
      binlog_format: 'ROW',
      binlog_row_image: 'FULL',
      binlog_checksum: 'NONE',
      require_secure_transport: 'ON',
    });
    expect(MYSQL_MIN_BACKUP_RETENTION_DAYS).toBe(1);
    expect(mysqlBinlogRetentionSql()).toBe("call mysql.rds_set_configuration('binlog retention hours', 24);");
    expect(errorOf(() => mysqlBinlogRetentionSql(0))).toBe(
      'binlogRetentionHours: received 0; expected a whole number of hours from 1 to 168',
    );
  });
});

describe('postgresReplicationGrants', () => {
  it('RDS: rds_replication, read access to the schemas (present and future tables), CREATE on the heartbeat schema', () => {
    expect(postgresReplicationGrants({ user: 'dms', schemas: ['sales', 'crm'], heartbeatSchema: 'dms_meta' })).toEqual([
      'GRANT rds_replication TO "dms"',
      'GRANT USAGE ON SCHEMA "sales" TO "dms"',
      'GRANT SELECT ON ALL TABLES IN SCHEMA "sales" TO "dms"',
      'ALTER DEFAULT PRIVILEGES IN SCHEMA "sales" GRANT SELECT ON TABLES TO "dms"',
      'GRANT USAGE ON SCHEMA "crm" TO "dms"',
      'GRANT SELECT ON ALL TABLES IN SCHEMA "crm" TO "dms"',
      'ALTER DEFAULT PRIVILEGES IN SCHEMA "crm" GRANT SELECT ON TABLES TO "dms"',
      'GRANT USAGE, CREATE ON SCHEMA "dms_meta" TO "dms"',
    ]);
  });

  it('self-managed: the REPLICATION attribute instead of the RDS role', () => {
    expect(postgresReplicationGrants({ user: 'dms', schemas: ['app'], flavour: 'self-managed' })[0]).toBe(
      'ALTER ROLE "dms" WITH REPLICATION',
    );
  });

  it.each([
    [{ user: 'DMS', schemas: ['app'] }, 'replicationUser.user: received "DMS"; expected a lower-case PostgreSQL role name'],
    [{ user: 'dms', schemas: [] }, 'replicationUser.schemas: received []; expected at least one schema'],
    [
      { user: 'dms', schemas: ['app', 'x;drop'] },
      'replicationUser.schemas[1]: received "x;drop"; expected a lower-case PostgreSQL schema name',
    ],
  ])('rejects %j', (options, message) => {
    expect(errorOf(() => postgresReplicationGrants(options))).toBe(message);
  });
});

describe('mysqlReplicationGrants', () => {
  it('replication privileges and SELECT on the replicated databases', () => {
    expect(mysqlReplicationGrants('dms', ['shop', 'crm'])).toEqual([
      "GRANT REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO 'dms'@'%'",
      "GRANT SELECT ON `shop`.* TO 'dms'@'%'",
      "GRANT SELECT ON `crm`.* TO 'dms'@'%'",
    ]);
  });
  it.each<[string, string[], string]>([
    ["dms'--", ['shop'], `replicationUser.user: received "dms'--"; expected a MySQL user name of at most 32 letters, digits and "_"`],
    ['dms', [], 'replicationUser.databases: received []; expected at least one database'],
    ['dms', ['sh`op'], 'replicationUser.databases[0]: received "sh`op"; expected a MySQL database name (letters, digits, "_", "$")'],
  ])('rejects %s %j', (user, databases, message) => {
    expect(errorOf(() => mysqlReplicationGrants(user, databases))).toBe(message);
  });
});

describe('findTablesWithoutPrimaryKey', () => {
  it('runs the catalog query with the schemas as a parameter and formats schema.table', async () => {
    const calls: unknown[][] = [];
    const db = {
      query: async (sql: string, params?: unknown[]) => {
        calls.push([sql, params]);
        return { rows: [{ schema_name: 'app', table_name: 'audit_log' }] };
      },
    };
    await expect(findTablesWithoutPrimaryKey(db, ['app'])).resolves.toEqual(['app.audit_log']);
    expect(calls).toEqual([[TABLES_WITHOUT_PRIMARY_KEY_SQL, [['app']]]]);
  });
});
