/**
 * Post-deploy (or pre-deploy, for an existing database) check of the RDS CDC pipeline's source: lists the tables of
 * the configured schemas that have no primary key. DMS captures their inserts but cannot apply their updates and
 * deletes, so the lake's current state of such a table would be wrong.
 *
 *   PGHOST=... PGUSER=cdc_admin PGPASSWORD=... PGDATABASE=appdb PGSSLMODE=require npx tsx scripts/rds-cdc/preflight.ts
 *
 * Connection settings come from the standard PG* environment variables (the secret's host, port, username, password,
 * dbname); the schemas from the `rdsCdcToS3.tables` of cdk.json. Exits 1 when a table lacks a primary key.
 */
import { Client } from 'pg';
import { findTablesWithoutPrimaryKey, SqlQueryable } from '../../pipelines/rds-cdc-to-s3/construct/source-parameters';
import { parseConfig, readCdkJsonContext } from '../../platform/config';
import type { RdsCdcToS3Config } from '../../pipelines/rds-cdc-to-s3/config';

/** The exact schema names of the configured selections (patterns with % are skipped: name them to check them). */
export function configuredSchemas(config: RdsCdcToS3Config): string[] {
  return [...new Set(config.tables.map((t) => t.schema).filter((s) => !s.includes('%')))];
}

/** The problems to report: one line per table without a primary key. */
export async function preflight(db: SqlQueryable, config: RdsCdcToS3Config): Promise<string[]> {
  const tables = await findTablesWithoutPrimaryKey(db, configuredSchemas(config));
  return tables.map(
    (t) => `${t}: no primary key; DMS will replicate its inserts but not its updates or deletes (add a primary key, or REPLICA IDENTITY FULL)`,
  );
}

async function main(): Promise<void> {
  const config = parseConfig(readCdkJsonContext()).rdsCdcToS3;
  if (!config) throw new Error('cdk.json has no rdsCdcToS3 section');
  const client = new Client();
  await client.connect();
  try {
    const problems = await preflight(client, config);
    for (const p of problems) console.error(p);
    if (problems.length === 0) console.log(`ok: every table of ${configuredSchemas(config).join(', ')} has a primary key`);
    process.exitCode = problems.length === 0 ? 0 : 1;
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  });
}
