/**
 * Pipeline 1 and an additive schema change: orders v2 = v1 + optional `coupon_code`, in a copy of schemas/ the
 * configuration points at (`schemasDir`), as a user's edited repository would be.
 *
 * - The stack: the Glue table Athena reads gains the column in place (same logical id; only TableInput changes, which
 *   the CloudFormation resource schema of AWS::Glue::Table does not list as create-only, so CloudFormation calls
 *   UpdateTable instead of replacing the table); nothing else in the template changes: the consumer does not read
 *   the schema.
 * - The data: the consumer (in-process, deployed environment, fauxqs for SNS/SQS/S3) writes v1 and then v2 events
 *   byte for byte, without a restart; the objects written before and after the change are read through the v2 table's
 *   columns with the JSON reader of DuckDB, standing in for Athena's OpenX JSON SerDe (both read a key the object lacks
 *   as NULL and skip keys the table lacks; Athena: "Handle schema updates", JSON supports adding columns).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { Template } from 'aws-cdk-lib/assertions';
import { QueueToS3Stack } from '../../../pipelines/queue-to-s3/stack';
import { duckdbTypeForGlue } from '../../../pipelines/rds-cdc-to-s3/construct/cdc-table-schema';
import { parseConfig, SCHEMAS_DIR } from '../../../platform/config';
import { PROJECT_ROOT } from '../../../platform/paths';
import { testApp } from '../../support/aws';
import { LocalPipeline, startLocalPipeline } from './consumer/local-pipeline';

jest.setTimeout(240_000);

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
interface GlueColumn {
  Name: string;
  Type: string;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-p1-evolution-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** schemas/ as the user's repository holds it after adding the optional field to orders. */
const v2Dir = path.join(tmp, 'schemas');
fs.cpSync(SCHEMAS_DIR, v2Dir, { recursive: true });
const v2 = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, 'orders.schema.json'), 'utf8'));
v2.properties.coupon_code = { type: 'string' };
fs.writeFileSync(path.join(v2Dir, 'orders.schema.json'), `${JSON.stringify(v2, null, 2)}\n`);

/** The stack as the app builds it from cdk.json with orders feeding it; `overrides` as -c gives them. */
function synth(overrides: Record<string, unknown> = {}): Resources {
  const app = testApp({ 'sources.orders.pipelines': 'landingZone,queueToS3', ...overrides });
  const config = parseConfig(app.node.getAllContext());
  const stack = new QueueToS3Stack(app, 'QueueToS3', { stackName: `${config.project}-${config.environment}-queue-to-s3`, config });
  return Template.fromStack(stack).toJSON().Resources;
}

/** Every property path that differs between two JSON values (`a.b.0.c`). */
function differences(a: unknown, b: unknown, at = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return [at];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
}

/** CloudFormation's resource schema of a type, as cfn-lint (scripts/setup/requirements.txt) ships it. */
function resourceSchema(type: string): { createOnlyProperties: string[]; primaryIdentifier: string[] } {
  const run = spawnSync(path.join(PROJECT_ROOT, '.venv', 'bin', 'python'), ['-c', 'import cfnlint, os; print(os.path.dirname(cfnlint.__file__))'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`cfn-lint is not installed in .venv (npm run pretest installs it): ${run.stderr}`);
  const schemas = path.join(run.stdout.trim(), 'data', 'schemas');
  const hash = JSON.parse(fs.readFileSync(path.join(schemas, 'providers', 'us-east-1.json'), 'utf8'))[type];
  return JSON.parse(fs.readFileSync(path.join(schemas, 'resources', `${hash}.json`), 'utf8'));
}

const before = synth();
const after = synth({ schemasDir: v2Dir });
const [tableId] = Object.entries(before).find(([, r]) => r.Type === 'AWS::Glue::Table')!;
const columnsOf = (resources: Resources): GlueColumn[] =>
  ((resources[tableId].Properties.TableInput as Record<string, Record<string, unknown>>).StorageDescriptor.Columns as GlueColumn[]);

describe('orders v2 (+ optional coupon_code) through synth', () => {
  test('the Glue table keeps its logical id and gains the column last, as string', () => {
    expect(after[tableId]?.Type).toBe('AWS::Glue::Table');
    expect(columnsOf(after)).toEqual([...columnsOf(before), { Name: 'coupon_code', Type: 'string' }]);
  });

  test('nothing else in the template changes: one new column is the whole difference (the consumer does not read the schema)', () => {
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(differences(before, after)).toEqual([`${tableId}.Properties.TableInput.StorageDescriptor.Columns.${columnsOf(before).length}`]);
  });

  test('CloudFormation updates the table in place: no changed property is create-only in the AWS::Glue::Table schema', () => {
    const schema = resourceSchema('AWS::Glue::Table');
    expect(schema.createOnlyProperties.sort()).toEqual(['/properties/CatalogId', '/properties/DatabaseName', '/properties/Name', '/properties/TableInput/Name']);
    for (const changed of differences(before[tableId].Properties, after[tableId].Properties)) {
      const pointer = `/properties/${changed.split('.').join('/')}`;
      expect(schema.createOnlyProperties.filter((p) => pointer === p || pointer.startsWith(`${p}/`))).toEqual([]);
    }
  });
});

/** Hive type (Glue column) → DuckDB type, for the JSON reader's `columns`. */
function duckType(hive: string): string {
  const array = /^array<(.*)>$/.exec(hive);
  if (array) return `${duckType(array[1])}[]`;
  const struct = /^struct<(.*)>$/.exec(hive);
  if (struct) {
    const fields: string[] = [];
    let depth = 0;
    let start = 0;
    const body = struct[1];
    for (let i = 0; i <= body.length; i++) {
      if (i === body.length || (body[i] === ',' && depth === 0)) {
        const field = body.slice(start, i);
        const colon = field.indexOf(':');
        fields.push(`"${field.slice(0, colon)}" ${duckType(field.slice(colon + 1))}`);
        start = i + 1;
      } else if (body[i] === '<') depth++;
      else if (body[i] === '>') depth--;
    }
    return `STRUCT(${fields.join(', ')})`;
  }
  return hive === 'boolean' ? 'BOOLEAN' : duckdbTypeForGlue(hive);
}

/** The rows of gzip NDJSON files as a table with exactly `columns` reads them. */
async function query(files: string[], columns: GlueColumn[], select: string, rest = ''): Promise<Record<string, unknown>[]> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const spec = columns.map((c) => `"${c.Name}": '${duckType(c.Type)}'`).join(', ');
  const list = files.map((f) => `'${f}'`).join(', ');
  try {
    return (await db.runAndReadAll(`SELECT ${select} FROM read_json([${list}], format = 'newline_delimited', compression = 'gzip', columns = {${spec}}) ${rest}`)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    db.closeSync();
  }
}

describe('the consumer writes v1 and v2 events through; Athena reads old and new objects', () => {
  let pipeline: LocalPipeline | undefined;
  afterAll(async () => pipeline?.stop());

  const samples = fs.readFileSync(path.join(SCHEMAS_DIR, 'orders.samples.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const events = (n: number, extra: (i: number) => Record<string, unknown>) => Array.from({ length: n }, (_, i) => JSON.stringify({ ...samples[i % samples.length], event_id: randomUUID(), ...extra(i) }));
  const v1Events = events(40, () => ({}));
  const v2Events = events(30, (i) => ({ coupon_code: `SPRING${i}` }));

  async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const deleted = async () => (await pipeline!.consumer!.metrics.deleted.get()).values[0]?.value ?? 0;
  /** Every data object's lines, and a local gzip copy of each object for the reader. */
  async function objects(): Promise<{ lines: string[]; files: string[] }> {
    const keys = await pipeline!.keys(pipeline!.dataPrefix);
    const texts = await Promise.all(keys.map((k) => pipeline!.read(k)));
    const files = texts.map((text, i) => {
      const file = path.join(tmp, `object-${i}-${path.basename(keys[i])}`);
      fs.writeFileSync(file, gzipSync(text));
      return file;
    });
    return { lines: texts.flatMap((t) => t.split('\n').filter(Boolean)), files };
  }

  test('v1 events, then v2 events on the same running consumer: every line written as published, none lost or doubled', async () => {
    const p = (pipeline = await startLocalPipeline({ source: 'orders', idField: 'event_id' }));
    await p.startConsumer();
    await p.publish(v1Events);
    await eventually(async () => (await deleted()) === v1Events.length, 'the v1 events written');
    const old = await objects();
    expect(old.lines.sort()).toEqual([...v1Events].sort());

    // The deploy of v2 changes the Glue table only (above): the consumer runs on, and takes the new field as it comes.
    await p.publish(v2Events);
    await eventually(async () => (await deleted()) === v1Events.length + v2Events.length, 'the v2 events written');
    const all = await objects();
    expect(all.lines.sort()).toEqual([...v1Events, ...v2Events].sort());
    expect(all.lines.filter((l) => l.includes('"coupon_code"'))).toHaveLength(v2Events.length);
  });

  test('through the v2 table: the objects written before the change read with coupon_code NULL, the new ones with theirs', async () => {
    const { files } = await objects();
    const rows = await query(files, columnsOf(after), 'event_id, order_id, status, coupon_code, items[1].sku AS sku', 'ORDER BY event_id');
    expect(rows).toHaveLength(v1Events.length + v2Events.length);
    const expected = [...v1Events, ...v2Events]
      .map((l) => JSON.parse(l))
      .map((e) => ({ event_id: e.event_id, order_id: e.order_id, status: e.status, coupon_code: e.coupon_code ?? null, sku: e.items[0].sku }))
      .sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
    expect(rows).toEqual(expected);
    expect(rows.filter((r) => r.coupon_code === null)).toHaveLength(v1Events.length);
  });

  test('through the v1 table (before the deploy reaches it): every object still reads, the new key is skipped', async () => {
    const { files } = await objects();
    expect(columnsOf(before).some((c) => c.Name === 'coupon_code')).toBe(false);
    const rows = await query(files, columnsOf(before), 'count(*) AS n, count(DISTINCT event_id) AS ids');
    expect(rows).toEqual([{ n: String(v1Events.length + v2Events.length), ids: String(v1Events.length + v2Events.length) }]);
  });
});
