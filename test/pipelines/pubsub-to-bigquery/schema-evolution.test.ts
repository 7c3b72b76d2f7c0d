/**
 * Pipeline 4 and an additive schema change: the user copies the schemas folder's change in (here: a temporary copy of
 * schemas/ with clickstream v2 = v1 + optional `coupon_code`, pointed at with the `schemasDir` setting, as
 * `cdktf synth -c`/cdk.json would) and synthesizes again. What Terraform then does with the BigQuery table comes from
 * the google provider's own rules (bigquery-table-diff.ts, a port of provider v6.50.0, the version the stack pins);
 * the Dataflow side is the UDF run in Nashorn (the template's engine) and the template's row mapping checked against
 * the synthesized table schemas (see "the Dataflow path" below for the sources).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdktf';
import { parseConfig, readCdkJsonContext, SCHEMAS_DIR } from '../../../platform/config';
import { loadSamples } from '../../../platform/samples';
import { CANARY_FILTER_FUNCTION, jsonSchemaToBigQuery, JsonSchema } from '../../../pipelines/pubsub-to-bigquery/construct';
import { PubSubToBigQueryStack } from '../../../pipelines/pubsub-to-bigquery/stack';
import { planForSchemaChange } from './bigquery-table-diff';
import { runInNashorn } from './nashorn/run-udf';

jest.setTimeout(180_000);

type Tf = { resource: Record<string, Record<string, Record<string, unknown>>>; data?: Record<string, Record<string, unknown>>; output?: Record<string, unknown> };
interface Column {
  name: string;
  type: string;
  mode: string;
  fields?: Column[];
}

const v1: JsonSchema = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, 'clickstream.schema.json'), 'utf8'));
/** v2: v1 plus one optional top-level property (not in `required`). */
const v2: JsonSchema = structuredClone(v1);
v2.properties!.coupon_code = { type: 'string' };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-bq-evolution-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * A copy of schemas/ (samples, rules, releases) whose clickstream schema is `schema`, and its samples edited by
 * `sample` when the change needs it: what the user's repository holds after the edit.
 */
function schemasWith(name: string, schema: JsonSchema, sample?: (event: Record<string, unknown>) => Record<string, unknown>): string {
  const dir = path.join(tmp, name);
  fs.cpSync(SCHEMAS_DIR, dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'clickstream.schema.json'), `${JSON.stringify(schema, null, 2)}\n`);
  if (sample) {
    const file = path.join(dir, 'clickstream.samples.ndjson');
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    fs.writeFileSync(file, lines.map((l) => `${JSON.stringify(sample(JSON.parse(l)))}\n`).join(''));
  }
  return dir;
}

/** The GCP stack as bin/gcp.ts builds it from cdk.json, with `overrides` as -c gives them, as Terraform JSON. */
function synth(overrides: Record<string, unknown> = {}): Tf {
  const config = parseConfig({ ...readCdkJsonContext(), ...overrides });
  return JSON.parse(Testing.synth(new PubSubToBigQueryStack(Testing.app(), 'stack', config)));
}

const before = synth();
const after = synth({ schemasDir: schemasWith('v2', v2) });

const [tableAddress, tableBefore] = Object.entries(before.resource.google_bigquery_table).find(([, t]) => t.table_id === 'clickstream')!;
const tableAfter = after.resource.google_bigquery_table[tableAddress];
const columns = (table: Record<string, unknown>): Column[] => JSON.parse(table.schema as string);

/** Every argument path that differs between two JSON values (`a.b.c`). */
function differences(a: unknown, b: unknown, at = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return [at];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
}

describe('clickstream v2 (+ optional coupon_code) through synth', () => {
  test('the table keeps its Terraform address and gains exactly one column: coupon_code, NULLABLE STRING, last', () => {
    expect(tableAfter).toBeDefined();
    expect(columns(tableAfter)).toEqual([...columns(tableBefore), { name: 'coupon_code', type: 'STRING', mode: 'NULLABLE' }]);
  });

  test('nothing else in the table resource changes (project, dataset, table id, partitioning, clustering, protection...)', () => {
    expect(differences(tableBefore, tableAfter)).toEqual(['schema']);
    expect(tableAfter.deletion_protection).toBe(true);
  });

  test('nothing else in the whole stack changes but the job\'s schema label: the job updates after the table (its workers cache the schema)', () => {
    const [jobAddress] = Object.keys(after.resource.google_dataflow_flex_template_job);
    expect(differences({ resource: before.resource, data: before.data, output: before.output }, { resource: after.resource, data: after.data, output: after.output })).toEqual([
      `resource.google_bigquery_table.${tableAddress}.schema`,
      `resource.google_dataflow_flex_template_job.${jobAddress}.labels.table-schema`,
    ]);
    // google-beta updates a flex template job in place when a label changes (a replacement job launched with
    // update=true, its state carried over; labels are not ForceNew), and the job references the table: table first.
    const job = after.resource.google_dataflow_flex_template_job[jobAddress] as { parameters: Record<string, string> };
    expect(job.parameters.outputTableSpec).toContain(`google_bigquery_table.${tableAddress}.table_id`);
  });

  test('the google provider updates the table in place (tables.update adds the column): no replacement, no data loss', () => {
    expect(planForSchemaChange(tableBefore.schema as string, tableAfter.schema as string)).toBe('update in place');
    // And the same change synthesized twice is no change at all.
    expect(planForSchemaChange(tableAfter.schema as string, synth({ schemasDir: schemasWith('v2-again', v2) }).resource.google_bigquery_table[tableAddress].schema as string)).toBe('no-op');
  });
});

/**
 * Incompatible changes. The compatibility gate refuses them at synth under BACKWARD (the default); with
 * `compatibility: NONE` they reach Terraform, and this is what the provider plans for the table. A replacement then
 * fails the apply, because the table has deletion_protection (provider: "cannot destroy table ... without setting
 * deletion_protection=false and running `terraform apply`"): the data stays, the deploy stops. BigQuery's tables API
 * itself adds only NULLABLE or REPEATED columns ("Adding a REQUIRED column to an existing table schema in the API ...
 * causes an error") and relaxes REQUIRED to NULLABLE; other changes take DDL or a new table
 * (cloud.google.com/bigquery/docs/managing-table-schemas).
 */
describe('incompatible changes of the table', () => {
  const retyped = structuredClone(v1);
  retyped.properties!.duration_ms = { type: 'string' };

  test('the gate fails synth, naming the field, the change and the rule', () => {
    expect(() => synth({ schemasDir: schemasWith('retyped', retyped) })).toThrow(
      /sources\.clickstream\.schema: .*clickstream: field "duration_ms" changed type integer -> string: not BACKWARD compatible/,
    );
  });

  test('let through (compatibility NONE), the provider plans a replacement, which deletion_protection stops at apply', () => {
    // The user retypes the samples too (the freshness canary starts from the first one, checked against the schema).
    const samples = (e: Record<string, unknown>) => (e.duration_ms === undefined ? e : { ...e, duration_ms: String(e.duration_ms) });
    const tf = synth({ schemasDir: schemasWith('retyped-none', retyped, samples), 'sources.clickstream.compatibility': 'NONE' });
    const table = tf.resource.google_bigquery_table[tableAddress];
    expect(differences(tableBefore, table)).toEqual(['schema']);
    expect(planForSchemaChange(tableBefore.schema as string, table.schema as string)).toBe('replace');
    expect(table.deletion_protection).toBe(true);
  });

  const base = JSON.stringify(jsonSchemaToBigQuery(v1));
  const change = (edit: (s: JsonSchema) => void): string => {
    const s = structuredClone(v1);
    edit(s);
    return JSON.stringify(jsonSchemaToBigQuery(s));
  };
  test.each<[string, string, (s: JsonSchema) => void]>([
    ['add an optional field (v2)', 'update in place', (s) => (s.properties!.coupon_code = { type: 'string' })],
    ['make a required field optional (REQUIRED -> NULLABLE)', 'update in place', (s) => (s.required = s.required!.filter((f) => f !== 'session_id'))],
    // In place, but ALTER TABLE ... DROP COLUMN deletes the column's data (the gate refuses it under BACKWARD).
    ['remove an optional top-level field', 'update in place', (s) => delete s.properties!.duration_ms],
    ['add a required field', 'replace', (s) => ((s.properties!.coupon_code = { type: 'string' }), s.required!.push('coupon_code'))],
    ['make an optional field required (NULLABLE -> REQUIRED)', 'replace', (s) => s.required!.push('is_bot')],
    ['change a type (integer -> string)', 'replace', (s) => (s.properties!.duration_ms = { type: 'string' })],
    ['rename a field (drop one column, add another)', 'replace', (s) => ((s.properties!.duration = s.properties!.duration_ms), delete s.properties!.duration_ms)],
    ['remove a nested field (page.title)', 'replace', (s) => delete (s.properties!.page as JsonSchema).properties!.title],
  ])('%s: the provider plans "%s"', (_name, plan, edit) => {
    expect(planForSchemaChange(base, change(edit))).toBe(plan);
  });
});

/**
 * The Dataflow path, for messages published before (v1) and after (v2) the change. The template
 * (DataflowTemplates tag 2026-08-18-00_RC00, v2/googlecloud-to-googlecloud/.../PubSubToBigQuery.java) runs the UDF,
 * turns each returned payload into a TableRow with `BigQueryConverters.convertJsonToTableRow` (TableRowJsonCoder:
 * every JSON key, no schema), and writes with `BigQueryIO.writeTableRows()` over the Storage Write API, without
 * `ignoreUnknownValues` or `withAutoSchemaUpdate`. Beam then converts each row with the table schema its worker fetched
 * (`StorageApiDynamicDestinationsTableRow`, `TableSchemaCache`): a key the schema lacks fails the row ("TableRow
 * contained unexpected field with name ... not found in schema", `TableRowToStorageApiProto`) into the dead-letter
 * table; a NULLABLE column the row lacks is NULL.
 */
describe('the Dataflow path takes v1 and v2 messages', () => {
  const samples = loadSamples(parseConfig(readCdkJsonContext()), 'clickstream');
  const v1Messages = samples.map((s) => JSON.stringify(s));
  const v2Messages = samples.map((s, i) => JSON.stringify({ ...s, coupon_code: `WINTER${i}` }));

  test('the deployed UDF (v2 synth) returns v1 and v2 messages unchanged, in Nashorn as the template runs it', () => {
    const udf = (Object.values(after.resource.google_storage_bucket_object)[0] as { content: string }).content;
    expect(after.resource.google_dataflow_flex_template_job[Object.keys(after.resource.google_dataflow_flex_template_job)[0]].parameters).toMatchObject({
      javascriptTextTransformFunctionName: CANARY_FILTER_FUNCTION,
    });
    expect(runInNashorn(udf, CANARY_FILTER_FUNCTION, [...v1Messages, ...v2Messages])).toEqual([...v1Messages, ...v2Messages]);
  });

  /** The row a message becomes under `table`'s schema, or why the Storage Write conversion refuses it. */
  function row(message: string, table: Column[]): Record<string, unknown> | string {
    const event = JSON.parse(message) as Record<string, unknown>;
    const unknown = Object.keys(event).find((k) => !table.some((c) => c.name === k));
    if (unknown) return `TableRow contained unexpected field with name ${unknown} not found in schema`;
    const missingRequired = table.find((c) => c.mode === 'REQUIRED' && event[c.name] === undefined);
    if (missingRequired) return `missing required field ${missingRequired.name}`;
    return Object.fromEntries(table.map((c) => [c.name, event[c.name] ?? null]));
  }

  test('under the v2 table schema both load: v1 rows with coupon_code NULL, v2 rows with their code', () => {
    const table = columns(tableAfter);
    expect(v1Messages.map((m) => (row(m, table) as Record<string, unknown>).coupon_code)).toEqual(samples.map(() => null));
    expect(v2Messages.map((m) => (row(m, table) as Record<string, unknown>).coupon_code)).toEqual(samples.map((_, i) => `WINTER${i}`));
  });

  test('a worker still holding the v1 schema loads v1 messages but dead-letters v2 ones until the job restarts', () => {
    const table = columns(tableBefore);
    expect(v1Messages.every((m) => typeof row(m, table) === 'object')).toBe(true);
    expect(v2Messages.map((m) => row(m, table))).toEqual(samples.map(() => 'TableRow contained unexpected field with name coupon_code not found in schema'));
  });
});
