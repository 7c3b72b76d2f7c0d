/**
 * Pipelines the demo cannot run on this machine, and what of them it can show with the project's own code instead of
 * pretending: pipeline 4 (Pub/Sub -> Dataflow -> BigQuery) needs Google Cloud, pipeline 3 (RDS -> DMS -> S3) needs
 * AWS DMS, which has no local stand-in.
 */
import * as fs from 'node:fs';
import * as vm from 'node:vm';
import { sourcesFeeding } from '../../platform/config';
import { dataSource } from '../../platform/data-source';
import { canaryId } from '../../platform/freshness/contract';
import { jsonSchemaToBigQuery } from '../../pipelines/pubsub-to-bigquery/construct/bigquery-schema';
import { CANARY_FILTER_FUNCTION, canaryFilterUdf } from '../../pipelines/pubsub-to-bigquery/construct/canary-filter';
import { DemoContext, demoBatch } from './common';

const P4 = 'pipeline 4 (Pub/Sub -> Dataflow -> BigQuery)';

/** Pipeline 4 without Google Cloud: the table the schema maps to, and the job's UDF applied to the demo's events. */
export function showPubSubToBigQuery(ctx: DemoContext): void {
  const out: string[] = ['', `== ${P4}: needs Google Cloud (Dataflow, BigQuery); not run. What this machine can show:`];
  const [source] = sourcesFeeding(ctx.config, 'gcp');
  if (!source) {
    out.push('   no source lists "gcp" in cdk.json: nothing to show');
    process.stdout.write(out.join('\n') + '\n');
    return;
  }
  const ds = dataSource(ctx.config, source, 'gcp');
  const fields = jsonSchemaToBigQuery(JSON.parse(fs.readFileSync(ds.schemaFile, 'utf8')));
  out.push(`   BigQuery table of source ${source} (jsonSchemaToBigQuery, as synth builds it): ${fields.length} columns`);
  for (const f of fields) {
    const nested = f.fields ? ` {${f.fields.map((c) => `${c.name} ${c.type}`).join(', ')}}` : '';
    out.push(`     ${f.name.padEnd(16)} ${f.type} ${f.mode ?? 'NULLABLE'}${nested}`.slice(0, 150));
  }
  // The UDF is plain ES5 (Dataflow runs it in Nashorn); Node's engine runs the same text here.
  const sandbox: Record<string, unknown> = {};
  vm.runInNewContext(canaryFilterUdf(ds.idField), sandbox);
  const udf = sandbox[CANARY_FILTER_FUNCTION] as (payload: string) => string | null;
  const batch = demoBatch(ctx.config, source, ctx.eventsPerSource);
  const canary = JSON.stringify({ ...JSON.parse(batch.lines[0]), [ds.idField]: canaryId(Date.now()) });
  const payloads = [...batch.lines, canary];
  const kept = payloads.filter((p) => udf(p) === p).length;
  out.push(`   the job's UDF (${CANARY_FILTER_FUNCTION}, run in Node instead of Nashorn) on ${payloads.length} payloads: ${kept} passed on unchanged, ${payloads.length - kept} dropped (the freshness canary)`);
  out.push('   not shown: Dataflow\'s parsing, the dead-letter table, BigQuery itself');
  process.stdout.write(out.join('\n') + '\n');
}

/** Pipeline 3 needs DMS: only what it would replicate is printed. */
export function showRdsCdcToS3(ctx: DemoContext): void {
  const settings = ctx.config.rdsCdcToS3;
  const out = ['', '== pipeline 3 (RDS -> DMS -> S3): needs AWS DMS (no local stand-in); not run.'];
  if (settings) {
    const tables = settings.tables.map((t) => `${t.schema}.${t.name}`).join(', ');
    out.push(`   cdk.json would replicate ${settings.engine} database ${settings.databaseName}, tables ${tables}, to the lake as Parquet.`);
  }
  out.push('   Its tests (test/integration/rds-cdc-*.test.ts) run the CDC handlers on a local PostgreSQL; DMS itself is not shown.');
  process.stdout.write(out.join('\n') + '\n');
}
