/**
 * The PostgreSQL side of pipeline 3 against a real server (Debian's PostgreSQL, installed by scripts/setup/postgres.sh):
 * a throw-away cluster on a free loopback port runs with exactly the settings the stack's parameter group implies,
 * the DMS user gets exactly the generated grants, and logical decoding with the plugin DMS is configured to use
 * (test_decoding) returns the inserts, updates and deletes of a sample workload — and shows why a table without a
 * primary key can't be replicated faithfully, which the module's check reports.
 */
import { DatabaseMigrationServiceClient } from '@aws-sdk/client-database-migration-service';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { Client } from 'pg';
import { RdsCdcToS3 } from '../../pipelines/rds-cdc-to-s3/construct';
import { DMS_PLUGIN_NAME, POSTGRES_OUTPUT_PLUGIN, postgresSourceSettings } from '../../pipelines/rds-cdc-to-s3/construct/source-endpoint';
import {
  findTablesWithoutPrimaryKey,
  POSTGRES_CDC_PARAMETERS,
  postgresReplicationGrants,
  selfManagedPostgresSettings,
} from '../../pipelines/rds-cdc-to-s3/construct/source-parameters';
import type { IsCompleteEvent } from '../../platform/handlers/custom-resource';
import { createTaskControl } from '../../pipelines/rds-cdc-to-s3/handlers/dms-task-control/task-control';
import { fakeDmsTask, NO_TABLES_MESSAGE } from '../pipelines/rds-cdc-to-s3/handlers/dms-task-control/dms-fake';
import { testStack } from '../support/aws';
import { Cluster, startCluster } from '../support/postgres';

jest.setTimeout(120_000);

const DMS_USER = 'dms_user';
const HEARTBEAT_SCHEMA = 'dms';
const SLOT = 'dms_slot';

describe('PostgreSQL source for DMS CDC (real server)', () => {
  const settings = selfManagedPostgresSettings(POSTGRES_CDC_PARAMETERS);
  let cluster: Cluster;
  let admin: Client;
  let dms: Client;

  beforeAll(async () => {
    cluster = await startCluster(settings);
    admin = new Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query(`
      CREATE SCHEMA shop;
      CREATE SCHEMA ${HEARTBEAT_SCHEMA};
      CREATE TABLE shop.orders (id bigint PRIMARY KEY, status text NOT NULL, amount numeric(12,2) NOT NULL);
      CREATE TABLE shop.audit_log (message text, logged_at timestamptz DEFAULT now());
      INSERT INTO shop.orders VALUES (100, 'existing', 1.00);
      CREATE ROLE ${DMS_USER} LOGIN;
    `);
    for (const statement of postgresReplicationGrants({
      user: DMS_USER,
      schemas: ['shop'],
      heartbeatSchema: HEARTBEAT_SCHEMA,
      flavour: 'self-managed',
    })) {
      await admin.query(statement);
    }
    // A table created after the grants: DMS must still be able to read it (ALTER DEFAULT PRIVILEGES).
    await admin.query('CREATE TABLE shop.customers (id int PRIMARY KEY, name text)');
    dms = new Client({ host: '127.0.0.1', port: cluster.port, user: DMS_USER, database: 'postgres' });
    await dms.connect();
  });

  afterAll(async () => {
    await dms?.end();
    await admin?.end();
    cluster?.stop();
  });

  it('runs with the logical-replication settings the RDS parameter group implies', async () => {
    expect(settings).toEqual({
      wal_level: 'logical',
      max_replication_slots: '10',
      max_wal_senders: '10',
      wal_sender_timeout: '60000',
      idle_in_transaction_session_timeout: '0',
    });
    for (const [name, value] of Object.entries(settings)) {
      const { rows } = await admin.query('SELECT setting FROM pg_settings WHERE name = $1', [name]);
      expect({ name, setting: rows[0]?.setting }).toEqual({ name, setting: value });
    }
  });

  it('the DMS user can read the replicated tables (including later ones) but not change them', async () => {
    const { rows } = await dms.query('SELECT id, status FROM shop.orders');
    expect(rows).toEqual([{ id: '100', status: 'existing' }]);
    await expect(dms.query('SELECT count(*) FROM shop.customers')).resolves.toMatchObject({ rows: [{ count: '0' }] });
    await expect(dms.query(`INSERT INTO shop.orders VALUES (1, 'x', 1)`)).rejects.toThrow(/permission denied/);
    const { rows: role } = await admin.query('SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = $1', [
      DMS_USER,
    ]);
    expect(role).toEqual([{ rolreplication: true, rolsuper: false }]);
  });

  it('logical decoding with the plugin DMS uses returns the workload’s inserts, updates and deletes', async () => {
    expect(postgresSourceSettings({ secretsManagerSecretId: 's', secretsManagerAccessRoleArn: 'r' }).pluginName).toBe(
      DMS_PLUGIN_NAME,
    );
    // As DMS does at task start: the DMS user creates the slot with the output plugin.
    await dms.query('SELECT slot_name FROM pg_create_logical_replication_slot($1, $2)', [SLOT, POSTGRES_OUTPUT_PLUGIN]);
    const { rows: slot } = await admin.query(
      'SELECT slot_name, plugin, slot_type, database FROM pg_replication_slots WHERE slot_name = $1',
      [SLOT],
    );
    expect(slot).toEqual([{ slot_name: SLOT, plugin: 'test_decoding', slot_type: 'logical', database: 'postgres' }]);

    await admin.query(`INSERT INTO shop.orders VALUES (1, 'new', 10.50), (2, 'new', 20.00)`);
    await admin.query(`UPDATE shop.orders SET status = 'paid' WHERE id = 1`);
    await admin.query(`DELETE FROM shop.orders WHERE id = 2`);
    await admin.query(`BEGIN; UPDATE shop.orders SET amount = 11.00 WHERE id = 1; DELETE FROM shop.orders WHERE id = 100; COMMIT`);
    await admin.query(`INSERT INTO shop.audit_log (message, logged_at) VALUES ('hello', '2026-01-01T00:00:00Z')`);
    await admin.query(`UPDATE shop.audit_log SET message = 'changed'`);
    await admin.query(`DELETE FROM shop.audit_log`);

    const { rows } = await dms.query(
      `SELECT data FROM pg_logical_slot_get_changes($1, NULL, NULL, 'include-xids', '0', 'skip-empty-xacts', '1')`,
      [SLOT],
    );
    const changes = rows.map((r) => r.data as string).filter((d) => d !== 'BEGIN' && d !== 'COMMIT');
    expect(changes).toEqual([
      `table shop.orders: INSERT: id[bigint]:1 status[text]:'new' amount[numeric]:10.50`,
      `table shop.orders: INSERT: id[bigint]:2 status[text]:'new' amount[numeric]:20.00`,
      `table shop.orders: UPDATE: id[bigint]:1 status[text]:'paid' amount[numeric]:10.50`,
      `table shop.orders: DELETE: id[bigint]:2`,
      `table shop.orders: UPDATE: id[bigint]:1 status[text]:'paid' amount[numeric]:11.00`,
      `table shop.orders: DELETE: id[bigint]:100`,
      `table shop.audit_log: INSERT: message[text]:'hello' logged_at[timestamp with time zone]:'2026-01-01 00:00:00+00'`,
      // No primary key: the WAL identifies neither the updated nor the deleted row, so DMS can't apply them.
      `table shop.audit_log: UPDATE: message[text]:'changed' logged_at[timestamp with time zone]:'2026-01-01 00:00:00+00'`,
      'table shop.audit_log: DELETE: (no-tuple-data)',
    ]);
    // Both statements of the multi-statement transaction come in one BEGIN ... COMMIT, as DMS applies them.
    const all = rows.map((r) => r.data as string);
    const begin = all.lastIndexOf('BEGIN', all.indexOf('table shop.orders: DELETE: id[bigint]:100'));
    expect(all.slice(begin, begin + 4)).toEqual([
      'BEGIN',
      `table shop.orders: UPDATE: id[bigint]:1 status[text]:'paid' amount[numeric]:11.00`,
      'table shop.orders: DELETE: id[bigint]:100',
      'COMMIT',
    ]);
  });

  it('reports the tables without a primary key, whose updates and deletes DMS cannot apply', async () => {
    await expect(findTablesWithoutPrimaryKey(dms, ['shop'])).resolves.toEqual(['shop.audit_log']);
    await expect(findTablesWithoutPrimaryKey(dms, ['public'])).resolves.toEqual([]);
    await admin.query('ALTER TABLE shop.audit_log ADD COLUMN id bigserial PRIMARY KEY');
    await expect(findTablesWithoutPrimaryKey(dms, ['shop'])).resolves.toEqual([]);
  });

  it('heartbeats in the heartbeat schema let an idle source confirm its slot past new WAL and release it', async () => {
    // The source is idle for the replicated tables; other activity (here: another database) keeps writing WAL.
    await admin.query('CREATE DATABASE other');
    const slotLsn = async () =>
      (await admin.query('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [SLOT]))
        .rows[0].lsn as string;
    const walLsn = async () => (await admin.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn as string;
    const behind = async () =>
      Number(
        (
          await admin.query(
            'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS bytes FROM pg_replication_slots WHERE slot_name = $1',
            [SLOT],
          )
        ).rows[0].bytes,
      );
    expect(await behind()).toBeGreaterThan(0);
    const before = await slotLsn();

    // What DMS's heartbeat does: a small write by the DMS user in the heartbeat schema (the grant lets it create its
    // objects there), which the slot decodes, so reading the slot confirms it up to the newest WAL.
    await dms.query(`CREATE TABLE ${HEARTBEAT_SCHEMA}.heartbeat_probe (id int PRIMARY KEY, beat timestamptz)`);
    await dms.query(`INSERT INTO ${HEARTBEAT_SCHEMA}.heartbeat_probe VALUES (1, now())`);
    const heartbeatWal = await walLsn();
    const { rows } = await dms.query(`SELECT data FROM pg_logical_slot_get_changes($1, NULL, NULL, 'include-xids', '0')`, [
      SLOT,
    ]);
    expect(rows.map((r) => r.data as string)).toContainEqual(
      expect.stringMatching(/^table dms\.heartbeat_probe: INSERT: id\[integer\]:1 beat\[timestamp with time zone\]:'/),
    );
    const after = await slotLsn();
    const { rows: cmp } = await admin.query('SELECT $1::pg_lsn > $2::pg_lsn AS advanced, $1::pg_lsn >= $3::pg_lsn AS caught_up', [
      after,
      before,
      heartbeatWal,
    ]);
    expect(cmp).toEqual([{ advanced: true, caught_up: true }]);

    // WAL is freed up to restart_lsn: it moves once decoding passes a point with a logged snapshot (checkpoints log
    // one), so the next heartbeat after a checkpoint lets PostgreSQL recycle the WAL the idle period wrote.
    const restart = async () =>
      (await admin.query('SELECT restart_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [SLOT])).rows[0]
        .lsn as string;
    const restartBefore = await restart();
    await admin.query('CHECKPOINT');
    await dms.query(`UPDATE ${HEARTBEAT_SCHEMA}.heartbeat_probe SET beat = now() WHERE id = 1`);
    await dms.query(`SELECT count(*) FROM pg_logical_slot_get_changes($1, NULL, NULL)`, [SLOT]);
    const { rows: moved } = await admin.query('SELECT $1::pg_lsn > $2::pg_lsn AS moved', [await restart(), restartBefore]);
    expect(moved).toEqual([{ moved: true }]);
  });
});

/**
 * The README's order, as far as it runs here without DMS: `cdk deploy` (the synthesized task settings and table mappings)
 * starts the task while the database has no table yet; then the user creates shop.orders and writes to it; the changes
 * must reach the replication slot DMS reads. DMS itself is the fake of test/pipelines/rds-cdc-to-s3/handlers/dms-task-control/dms-fake.ts, which
 * fails a start with no selected table unless the deployed settings say otherwise, and which looks the selected tables up
 * in this real server with the deployed selection rules.
 */
describe('README walkthrough: deploy, then create the tables, then changes flow (real server, DMS faked as strictly as documented)', () => {
  const TASK_ARN = 'arn:aws:dms:eu-west-1:123456789012:task:walkthrough';
  const stack = testStack({ 'aws:cdk:bundling-stacks': [] });
  new RdsCdcToS3(stack, 'Cdc', { tables: { tables: [{ schema: 'shop', name: 'orders' }] } });
  const deployed = Object.values(Template.fromStack(stack).findResources('AWS::DMS::ReplicationTask'))[0].Properties;
  const dmsMock = mockClient(DatabaseMigrationServiceClient);
  let cluster: Cluster;
  let master: Client;

  /** The tables the deployed selection rules pick on this server (`%` any characters, as DMS reads the object locator). */
  async function selectedTables(): Promise<string[]> {
    const like = (pattern: string) => new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*')}$`);
    const rules = (JSON.parse(deployed.TableMappings).rules as { 'rule-type': string; 'rule-action': string; 'object-locator': Record<string, string> }[])
      .filter((r) => r['rule-type'] === 'selection' && !r['object-locator']['column-name']);
    const { rows } = await master.query(`SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_type = 'BASE TABLE'`);
    const matches = (action: string, row: { s: string; t: string }) =>
      rules.some((r) => r['rule-action'] === action && like(r['object-locator']['schema-name']).test(row.s) && like(r['object-locator']['table-name']).test(row.t));
    return rows.filter((row) => matches('include', row) && !matches('exclude', row)).map((row) => `${row.s}.${row.t}`);
  }

  /** `cdk deploy`'s starter, as the provider framework runs it: onEvent, then isComplete every 20 s. */
  async function deployStarter(settings: string): Promise<void> {
    let clock = Date.parse('2026-12-01T00:00:00Z');
    dmsMock.reset();
    fakeDmsTask(dmsMock, { arn: TASK_ARN, identifier: 'walkthrough', settings, selectedTables, now: () => new Date(clock) });
    const control = createTaskControl({ dms: new DatabaseMigrationServiceClient({ region: 'eu-west-1' }), now: () => new Date(clock) });
    const props = { ServiceToken: 'token', Role: 'starter', ReplicationTaskArn: TASK_ARN, ConfigHash: 'h' };
    const event = { RequestType: 'Create', ResourceProperties: props, LogicalResourceId: 'Starter', ResourceType: 'Custom::DmsTaskStarter' } as unknown as IsCompleteEvent;
    const { Data } = await control.onEvent(event);
    for (let poll = 0; poll < 10; poll++) {
      clock += 20_000;
      if ((await control.isComplete({ ...event, Data } as IsCompleteEvent)).IsComplete) return;
    }
    throw new Error('the task never started');
  }

  beforeAll(async () => {
    cluster = await startCluster(selfManagedPostgresSettings(POSTGRES_CDC_PARAMETERS));
    // DMS connects as the RDS master user (CdcDatabase); the database is empty, as after `cdk deploy`.
    master = new Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres' });
    await master.connect();
  });

  afterAll(async () => {
    await master?.end();
    cluster?.stop();
    dmsMock.restore();
  });

  it('the deployed task starts with no table, then picks up shop.orders created after the deploy with every change', async () => {
    expect(JSON.parse(deployed.ReplicationTaskSettings).ErrorBehavior.FailOnNoTablesCaptured).toBe(false);
    expect(await selectedTables()).toEqual([]);
    await expect(deployStarter(deployed.ReplicationTaskSettings)).resolves.toBeUndefined();
    // As DMS does when the task starts: the slot with the output plugin the endpoint deploys.
    await master.query('SELECT slot_name FROM pg_create_logical_replication_slot($1, $2)', ['walkthrough_slot', POSTGRES_OUTPUT_PLUGIN]);

    // The README's SQL, after the deploy.
    await master.query(`
      CREATE SCHEMA shop;
      CREATE TABLE shop.orders (order_id bigint PRIMARY KEY, customer_id bigint, status text, total numeric(12,2));
      INSERT INTO shop.orders (order_id, customer_id, status, total) VALUES (1, 42, 'new', 19.90);
      UPDATE shop.orders SET status = 'paid' WHERE order_id = 1;
    `);
    expect(await selectedTables()).toEqual(['shop.orders']);
    const { rows } = await master.query(`SELECT data FROM pg_logical_slot_get_changes($1, NULL, NULL, 'include-xids', '0')`, ['walkthrough_slot']);
    expect(rows.map((r) => r.data as string).filter((d) => d.startsWith('table '))).toEqual([
      `table shop.orders: INSERT: order_id[bigint]:1 customer_id[bigint]:42 status[text]:'new' total[numeric]:19.90`,
      `table shop.orders: UPDATE: order_id[bigint]:1 customer_id[bigint]:42 status[text]:'paid' total[numeric]:19.90`,
    ]);
  });

  it("with DMS's default (FailOnNoTablesCaptured true) the same deploy fails before the tables exist", async () => {
    await master.query('DROP SCHEMA IF EXISTS shop CASCADE');
    const settings = JSON.parse(deployed.ReplicationTaskSettings);
    settings.ErrorBehavior.FailOnNoTablesCaptured = true;
    await expect(deployStarter(JSON.stringify(settings))).rejects.toThrow(`walkthrough failed after it was started: ${NO_TABLES_MESSAGE}`);
  });
});
