import { z } from 'zod';
import { canaryId } from '../../../../platform/freshness/contract';
import { HEARTBEAT_RETENTION_HOURS, HEARTBEAT_TABLE } from './contract';

/**
 * The heartbeat writer's logic: one canary row per run, inserted into the source database so the canary travels the
 * whole pipeline (WAL -> DMS capture -> S3 Parquet). The row's `canary_id` is `canaryId(publish ms)`; the receipt writer
 * reads the publish time back from it.
 *
 * - The table is created when missing, checked first with `to_regclass`: a `CREATE ... IF NOT EXISTS` every minute would
 *   fire DMS's DDL-capture event trigger (`captureDdls`) every minute, and DMS would see a DDL change each time.
 * - `canary_id varchar(36)`, not `text`: DMS maps PostgreSQL `text` to NCLOB, a LOB, which it handles apart (limited LOB
 *   mode, lookups) and which cannot serve as the key of a change; `varchar(n)` is a plain WSTRING.
 * - Primary key: DMS needs it to capture the deletes (the pruning below) as `D` rows.
 * - Insert and prune in one transaction: one change-log file carries both; the receipt writer keeps the `I` rows only.
 */

const T = `${HEARTBEAT_TABLE.schema}.${HEARTBEAT_TABLE.table}`;

export const HEARTBEAT_DDL = `CREATE SCHEMA IF NOT EXISTS ${HEARTBEAT_TABLE.schema};
CREATE TABLE IF NOT EXISTS ${T} (
  canary_id varchar(36) PRIMARY KEY,
  published_at timestamptz NOT NULL
)`;

/** $1 canary id, $2 publish epoch ms. */
export const HEARTBEAT_INSERT = `INSERT INTO ${T} (canary_id, published_at) VALUES ($1, to_timestamp($2::double precision / 1000)) ON CONFLICT (canary_id) DO NOTHING`;

/** $1 the current publish epoch ms: rows older than the retention go. */
export const HEARTBEAT_PRUNE = `DELETE FROM ${T} WHERE published_at < to_timestamp($1::double precision / 1000) - interval '${HEARTBEAT_RETENTION_HOURS} hours'`;

/** The one method of a database client this module needs (`pg`'s Client has it). */
export interface SqlClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount?: number | null }>;
}

export interface Beat {
  canaryId: string;
  publishedAtMs: number;
  /** Whether this run created the table (first run, or after someone dropped it). */
  createdTable: boolean;
  /** Rows older than the retention deleted by this run. */
  pruned: number;
}

/** Writes one heartbeat row published at `nowMs` (creating the table first if missing) and prunes old rows. */
export async function beat(db: SqlClient, nowMs: number): Promise<Beat> {
  const { rows } = await db.query('SELECT to_regclass($1) IS NOT NULL AS present', [T]);
  const createdTable = rows[0]?.present !== true;
  if (createdTable) await db.query(HEARTBEAT_DDL);
  const id = canaryId(nowMs);
  await db.query('BEGIN');
  try {
    await db.query(HEARTBEAT_INSERT, [id, nowMs]);
    const pruned = await db.query(HEARTBEAT_PRUNE, [nowMs]);
    await db.query('COMMIT');
    return { canaryId: id, publishedAtMs: nowMs, createdTable, pruned: pruned.rowCount ?? 0 };
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The database secret as RDS (and CDK's DatabaseSecret) writes it; `port` may be a number or a string. */
const secretSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(1).max(65535),
  username: z.string().min(1),
  password: z.string().min(1),
});

export interface ConnectionSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Connection settings from the secret's JSON; the database is the DMS endpoint's (the secret's `dbname` may differ). */
export function connectionFromSecret(secretString: string | undefined, database: string): ConnectionSettings {
  let json: unknown;
  try {
    json = JSON.parse(secretString ?? '');
  } catch {
    throw new Error('the database secret is not JSON with host, port, username and password');
  }
  const parsed = secretSchema.safeParse(json);
  if (!parsed.success) {
    // Names the missing or malformed fields, never their values (one is the password).
    const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))].join(', ');
    throw new Error(`the database secret lacks or has malformed fields: ${fields} (expected host, port, username, password)`);
  }
  const s = parsed.data;
  return { host: s.host, port: s.port, user: s.username, password: s.password, database };
}

export interface HeartbeatWriterDeps {
  /** Connects to the source database (credentials read fresh each run: the secret rotates). */
  connect(): Promise<SqlClient & { end(): Promise<void> }>;
  now?: () => number;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

/** The scheduled handler: one beat per invocation, the connection closed whatever happens. Failures throw (logged by Lambda). */
export function createHeartbeatWriter(deps: HeartbeatWriterDeps) {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => undefined);
  return async function onSchedule(): Promise<Beat> {
    const db = await deps.connect();
    try {
      const result = await beat(db, now());
      log('heartbeat written', { ...result });
      return result;
    } finally {
      await db.end().catch(() => undefined);
    }
  };
}
