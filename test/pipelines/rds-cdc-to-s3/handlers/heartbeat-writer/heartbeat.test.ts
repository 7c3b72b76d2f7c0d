/**
 * The heartbeat writer of pipeline 3's freshness canary against a real PostgreSQL (Debian's server; the settings the
 * stack's parameter group implies), as the master user DMS connects as: the table it creates on the first beat, the rows
 * it writes and prunes, no DDL after the first beat (DMS captures DDL with an event trigger: emulated here), and what
 * the replication slot DMS reads (test_decoding, created before the table, as a task started at deploy time) returns.
 */
import { Client } from 'pg';
import { canaryId, canaryPublishedAt } from '../../../../../platform/freshness/contract';
import { POSTGRES_CDC_PARAMETERS, selfManagedPostgresSettings } from '../../../../../pipelines/rds-cdc-to-s3/construct/source-parameters';
import { POSTGRES_OUTPUT_PLUGIN } from '../../../../../pipelines/rds-cdc-to-s3/construct/source-endpoint';
import { HEARTBEAT_RETENTION_HOURS, HEARTBEAT_TABLE } from '../../../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-writer/contract';
import { beat, connectionFromSecret, createHeartbeatWriter, SqlClient } from '../../../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-writer/heartbeat';
import { Cluster, startCluster } from '../../../../support/postgres';

jest.setTimeout(120_000);

const MASTER = 'cdc_admin';
const DB = 'appdb';
const SLOT = 'dms_slot';
const T = `${HEARTBEAT_TABLE.schema}.${HEARTBEAT_TABLE.table}`;
const t0 = Date.UTC(2026, 11, 4, 18, 0, 0, 250);

describe('heartbeat writer (real PostgreSQL)', () => {
  let cluster: Cluster;
  let superuser: Client;
  let master: Client;
  const connectAs = (user: string) => async () => {
    const client = new Client({ host: '127.0.0.1', port: cluster.port, user, database: DB });
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    cluster = await startCluster(selfManagedPostgresSettings(POSTGRES_CDC_PARAMETERS));
    const postgres = new Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres' });
    await postgres.connect();
    // As RDS creates them: the master user owns the instance's database and may replicate.
    await postgres.query(`CREATE ROLE ${MASTER} LOGIN REPLICATION`);
    await postgres.query(`CREATE DATABASE ${DB} OWNER ${MASTER}`);
    await postgres.end();
    superuser = new Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: DB });
    await superuser.connect();
    // DMS's DDL capture (captureDdls): an event trigger that records every DDL statement, as awsdms_intercept_ddl does.
    await superuser.query(`
      CREATE TABLE public.ddl_audit (id serial PRIMARY KEY, tag text, query text);
      GRANT INSERT ON public.ddl_audit TO PUBLIC; GRANT USAGE ON SEQUENCE public.ddl_audit_id_seq TO PUBLIC;
      CREATE FUNCTION public.intercept_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO public.ddl_audit (tag, query) VALUES (tg_tag, current_query()); END $$;
      CREATE EVENT TRIGGER intercept_ddl ON ddl_command_end EXECUTE FUNCTION public.intercept_ddl();
    `);
    master = new Client({ host: '127.0.0.1', port: cluster.port, user: MASTER, database: DB });
    await master.connect();
    // The task starts at deploy time, before the first beat creates the table: the slot exists first.
    await master.query('SELECT pg_create_logical_replication_slot($1, $2)', [SLOT, POSTGRES_OUTPUT_PLUGIN]);
  });

  afterAll(async () => {
    await master?.end();
    await superuser?.end();
    cluster?.stop();
  });

  const rows = async () =>
    (await master.query(`SELECT canary_id, (extract(epoch FROM published_at) * 1000)::bigint::text AS ms FROM ${T} ORDER BY published_at`)).rows.map(
      (r) => [r.canary_id as string, Number(r.ms)],
    );
  const ddl = async () => (await superuser.query('SELECT tag FROM public.ddl_audit ORDER BY id')).rows.map((r) => r.tag as string);

  test('the first beat creates the table (varchar key, timestamptz) and writes a canary row', async () => {
    const logs: unknown[] = [];
    const result = await createHeartbeatWriter({ connect: connectAs(MASTER), now: () => t0, log: (m, d) => logs.push([m, d]) })();
    expect(result).toEqual({ canaryId: canaryId(t0), publishedAtMs: t0, createdTable: true, pruned: 0 });
    expect(logs).toEqual([['heartbeat written', result]]);
    expect(await rows()).toEqual([[canaryId(t0), t0]]);
    expect(canaryPublishedAt(canaryId(t0))).toBe(t0);
    const { rows: columns } = await master.query(
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [HEARTBEAT_TABLE.schema, HEARTBEAT_TABLE.table],
    );
    expect(columns).toEqual([
      { column_name: 'canary_id', data_type: 'character varying', len: 36, is_nullable: 'NO' },
      { column_name: 'published_at', data_type: 'timestamp with time zone', len: null, is_nullable: 'NO' },
    ]);
    const { rows: pk } = await master.query(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary`, [T]);
    expect(pk).toEqual([{ attname: 'canary_id' }]);
    expect(await ddl()).toEqual(['CREATE SCHEMA', 'CREATE TABLE']);
  });

  test('later beats run no DDL (DMS would see a schema change every minute) and prune rows older than the retention', async () => {
    const old = t0 - (HEARTBEAT_RETENTION_HOURS + 1) * 3_600_000;
    await master.query(`INSERT INTO ${T} VALUES ($1, to_timestamp($2::double precision / 1000))`, [canaryId(old), old]);
    const second = await beat(master, t0 + 60_000);
    expect(second).toEqual({ canaryId: canaryId(t0 + 60_000), publishedAtMs: t0 + 60_000, createdTable: false, pruned: 1 });
    const third = await beat(master, t0 + 120_000);
    expect(third.pruned).toBe(0);
    expect(await rows()).toEqual([t0, t0 + 60_000, t0 + 120_000].map((ms) => [canaryId(ms), ms]));
    expect(await ddl()).toEqual(['CREATE SCHEMA', 'CREATE TABLE']);
    // The same millisecond twice (a retried invocation): one row, no error.
    await beat(master, t0 + 120_000);
    expect(await rows()).toHaveLength(3);
  });

  test('the slot DMS reads returns the table created after it, the inserts, and the pruning as a keyed delete', async () => {
    const { rows: changes } = await master.query(`SELECT data FROM pg_logical_slot_get_changes($1, NULL, NULL, 'include-xids', '0', 'skip-empty-xacts', '1')`, [SLOT]);
    const data = changes.map((r) => r.data as string);
    const insert = (ms: number) => `table ${T}: INSERT: canary_id[character varying]:'${canaryId(ms)}' published_at[timestamp with time zone]:'${new Date(ms).toISOString().replace('T', ' ').replace(/\.?0*Z$/, '+00')}'`; // PostgreSQL drops trailing zeros
    const old = t0 - (HEARTBEAT_RETENTION_HOURS + 1) * 3_600_000;
    expect(data.filter((d) => d.startsWith(`table ${T}`))).toEqual([
      insert(t0),
      insert(old), // the test's own insert of a day-old row
      insert(t0 + 60_000),
      `table ${T}: DELETE: canary_id[character varying]:'${canaryId(old)}'`,
      insert(t0 + 120_000),
    ]);
    // Insert and prune of one beat commit together: DMS writes them to the same file, where the receipt keeps the I row.
    const i = data.indexOf(insert(t0 + 60_000));
    expect(data.slice(i - 1, i + 3)).toEqual(['BEGIN', insert(t0 + 60_000), `table ${T}: DELETE: canary_id[character varying]:'${canaryId(old)}'`, 'COMMIT']);
  });

  test('a user that may not create schemas still beats into a table created beforehand (existing databases)', async () => {
    await superuser.query(`CREATE ROLE heartbeat_user LOGIN; GRANT USAGE ON SCHEMA ${HEARTBEAT_TABLE.schema} TO heartbeat_user; GRANT SELECT, INSERT, DELETE ON ${T} TO heartbeat_user`);
    const result = await createHeartbeatWriter({ connect: connectAs('heartbeat_user'), now: () => t0 + 180_000 })();
    expect(result).toMatchObject({ createdTable: false, canaryId: canaryId(t0 + 180_000) });
    // Without the table and without CREATE, the beat fails with PostgreSQL's reason.
    await superuser.query(`CREATE ROLE stranger LOGIN`);
    await superuser.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    const fresh = new Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres' });
    await fresh.connect();
    await fresh.query('CREATE DATABASE other');
    await fresh.end();
    let ended = 0;
    const connect = async () => {
      const client = new Client({ host: '127.0.0.1', port: cluster.port, user: 'stranger', database: 'other' });
      await client.connect();
      const end = client.end.bind(client);
      return Object.assign(client, { end: async () => ((ended += 1), end()) }) as SqlClient & { end(): Promise<void> };
    };
    await expect(createHeartbeatWriter({ connect })()).rejects.toThrow(/permission denied/);
    expect(ended).toBe(1); // the connection is closed whatever happens
  });

  test('a failed insert rolls the transaction back', async () => {
    const before = await rows();
    const failing: SqlClient = {
      query: (sql, params) => (sql.startsWith('DELETE') ? Promise.reject(new Error('boom')) : master.query(sql, params as unknown[])),
    };
    await expect(beat(failing, t0 + 240_000)).rejects.toThrow('boom');
    expect(await rows()).toEqual(before);
    expect((await master.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]); // no transaction left open
  });
});

describe('connectionFromSecret', () => {
  test('reads host, port (number or string), username and password; the database is the endpoint\'s', () => {
    const secret = { engine: 'postgres', host: 'db.example', port: '5432', username: 'cdc_admin', password: 'p', dbname: 'postgres' };
    expect(connectionFromSecret(JSON.stringify(secret), 'appdb')).toEqual({ host: 'db.example', port: 5432, user: 'cdc_admin', password: 'p', database: 'appdb' });
    expect(connectionFromSecret(JSON.stringify({ ...secret, port: 6543 }), 'appdb').port).toBe(6543);
  });

  test('names what is missing, never a value', () => {
    expect(() => connectionFromSecret(JSON.stringify({ host: 'h', port: 5432, username: 'u' }), 'appdb')).toThrow('the database secret lacks or has malformed fields: password');
    expect(() => connectionFromSecret(JSON.stringify({ host: 'h', port: 'x', username: 'u', password: 'secret!' }), 'appdb')).toThrow(/fields: port \(/);
    expect(() => connectionFromSecret('not json secret!', 'appdb')).toThrow('the database secret is not JSON with host, port, username and password');
    expect(() => connectionFromSecret(undefined, 'appdb')).toThrow(/not JSON/);
    try {
      connectionFromSecret(JSON.stringify({ host: 'h', port: 'x', username: 'u', password: 'secret!' }), 'appdb');
    } catch (e) {
      expect((e as Error).message).not.toContain('secret!');
    }
  });
});
