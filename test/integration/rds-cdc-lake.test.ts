/**
 * The lake side of pipeline 3: Parquet files written with a real Parquet writer (DuckDB's) exactly as DMS lays them out
 * with the target endpoint's settings — full-load `LOADxxxxxxxx.parquet` files with `Op = 'I'` at the table folder,
 * CDC files in commit-date folders, the STRING timestamp column, TIMESTAMP columns in milliseconds, gzip pages — read
 * back through the declared Glue columns, and the generated current-state query run over them.
 *
 * The Parquet type of each source column comes from DMS's documented mappings (PostgreSQL → DMS type → S3 Parquet type),
 * written out here independently of cdc-table-schema.ts, so the test catches a Glue declaration that doesn't match the
 * files.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  athenaRelation,
  cdcTableColumns,
  CdcTableDefinition,
  currentStateQuery,
  duckdbRelation,
  duckdbTypeForGlue,
} from '../../pipelines/rds-cdc-to-s3/construct/cdc-table-schema';
import { buildTableMappings, DEFAULT_CHANGE_SEQUENCE_COLUMN } from '../../pipelines/rds-cdc-to-s3/construct/table-mappings';
import {
  cdcFileKey,
  fullLoadKey,
  resolveLayout,
  s3TargetSettings,
  tableFolder,
} from '../../pipelines/rds-cdc-to-s3/construct/target-endpoint';

/** DMS: PostgreSQL type → DMS type → S3 Parquet type, as the DuckDB type that writes that Parquet type. */
const DMS_PARQUET_TYPE: Record<string, string> = {
  bigint: 'BIGINT', // INT8 → INT64
  integer: 'INTEGER', // INT4 → INT32
  'numeric(12,2)': 'DECIMAL(12,2)', // NUMERIC → DECIMAL
  text: 'VARCHAR', // NCLOB → STRING
  boolean: 'VARCHAR', // CHAR(5) 'true'/'false' → STRING
  timestamptz: 'TIMESTAMP_MS', // DATETIME → TIMESTAMP, milliseconds with ParquetTimestampInMillisecond
  date: 'DATE', // DATE → DATE32
};

const layout = resolveLayout({});
const settings = s3TargetSettings({ bucketName: 'lake', serviceAccessRoleArn: 'role', kmsKeyArn: 'key' });
const SEQ = DEFAULT_CHANGE_SEQUENCE_COLUMN;
const TS = layout.timestampColumnName;

const orders: CdcTableDefinition = {
  schema: 'shop',
  table: 'orders',
  columns: [
    { name: 'id', type: 'bigint' },
    { name: 'customer', type: 'text' },
    { name: 'amount', type: 'numeric(12,2)' },
    { name: 'paid', type: 'boolean' },
    { name: 'placed_at', type: 'timestamptz' },
  ],
  primaryKey: ['id'],
};
const orderLines: CdcTableDefinition = {
  schema: 'shop',
  table: 'order_lines',
  columns: [
    { name: 'order_id', type: 'bigint' },
    { name: 'line_no', type: 'integer' },
    { name: 'sku', type: 'text' },
    { name: 'ship_date', type: 'date' },
  ],
  primaryKey: ['order_id', 'line_no'],
};

type Value = string | number | null;
/** One DMS record: operation, timestamp column, the row's values (after image; before image for D), change sequence. */
type DmsRecord = [op: string, ts: string, values: Value[], seq: string | null];

const TASK_START = '2026-11-20 09:00:00.000000';
const seq = (n: number) => `2026112009000000${String(n).padStart(19, '0')}`; // 35 digits: timestamp, then record id

function literal(value: Value, duckType: string): string {
  if (value === null) return `CAST(NULL AS ${duckType})`;
  return `CAST(${typeof value === 'number' ? value : `'${value.replace(/'/g, "''")}'`} AS ${duckType})`;
}

/** Writes one Parquet file as DMS does: Op first, the timestamp column, the table's columns, the added column last. */
async function writeDmsFile(db: DuckDBConnection, file: string, def: CdcTableDefinition, records: DmsRecord[]) {
  mkdirSync(path.dirname(file), { recursive: true });
  const columns: [string, string][] = [
    ['Op', 'VARCHAR'],
    [TS, 'VARCHAR'],
    ...def.columns.map((c): [string, string] => [c.name, DMS_PARQUET_TYPE[c.type]]),
    [SEQ, 'VARCHAR'],
  ];
  const rows = records.map(([op, ts, values, s]) => {
    const all: Value[] = [op, ts, ...values, s];
    return `SELECT ${all.map((v, i) => `${literal(v, columns[i][1])} AS "${columns[i][0]}"`).join(', ')}`;
  });
  await db.run(`COPY (${rows.join(' UNION ALL ')}) TO '${file}' (FORMAT parquet, COMPRESSION gzip)`);
}

describe('DMS change-log files read through the Glue schema and the current-state query (DuckDB)', () => {
  let dir: string;
  let instance: DuckDBInstance;
  let db: DuckDBConnection;
  const files: string[] = [];
  const at = (iso: string) => new Date(iso);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sf-cdc-lake-'));
    instance = await DuckDBInstance.create(':memory:');
    db = await instance.connect();
    const write = async (key: string, def: CdcTableDefinition, records: DmsRecord[]) => {
      files.push(key);
      await writeDmsFile(db, path.join(dir, key), def, records);
    };
    // Full load: every row an insert stamped with the task start (UseTaskStartTimeForFullLoadTimestamp), in two files.
    await write(fullLoadKey(layout, 'shop', 'orders', 1), orders, [
      ['I', TASK_START, [1, 'ada', 10.5, 'false', '2026-11-19 08:00:00.123'], null],
      ['I', TASK_START, [2, 'bob', 20, 'true', '2026-11-19 09:30:00'], null],
      ['I', TASK_START, [3, 'cy', 30.25, 'true', '2026-11-19 10:00:00'], null],
    ]);
    await write(fullLoadKey(layout, 'shop', 'orders', 2), orders, [
      ['I', TASK_START, [4, 'dee', 40, 'false', '2026-11-19 11:00:00'], null],
    ]);
    // Day 1 of CDC.
    await write(cdcFileKey(layout, 'shop', 'orders', at('2026-11-20T09:00:05.123Z')), orders, [
      ['U', '2026-11-20 09:00:04.100001', [1, 'ada', 12.5, 'false', '2026-11-19 08:00:00.123'], seq(1)],
      ['I', '2026-11-20 09:00:04.200002', [5, 'eve', 50, 'false', '2026-11-20 09:00:04.2'], seq(2)],
      ['D', '2026-11-20 09:00:04.300003', [2, 'bob', 20, 'true', '2026-11-19 09:30:00'], seq(3)],
    ]);
    // Day 2: two updates of order 1 in one transaction (same commit timestamp, ordered by the change sequence), order 5
    // deleted, order 2 inserted again, order 4 paid.
    await write(cdcFileKey(layout, 'shop', 'orders', at('2026-11-21T23:59:59.999Z')), orders, [
      ['U', '2026-11-21 23:59:58.000000', [1, 'ada', 13, 'false', '2026-11-19 08:00:00.123'], seq(5)],
      ['U', '2026-11-21 23:59:58.000000', [1, 'ada', 13, 'true', '2026-11-19 08:00:00.123'], seq(6)],
      ['D', '2026-11-21 23:59:58.500000', [5, 'eve', 50, 'false', '2026-11-20 09:00:04.2'], seq(7)],
      ['I', '2026-11-21 23:59:59.000000', [2, 'bob', 21, 'false', '2026-11-21 23:59:59'], seq(8)],
    ]);
    await write(cdcFileKey(layout, 'shop', 'orders', at('2026-11-22T00:00:01.000Z')), orders, [
      ['U', '2026-11-22 00:00:00.500000', [4, 'dee', 40, 'true', '2026-11-19 11:00:00'], seq(9)],
    ]);
    // A second table with a composite key, in the same layout.
    await write(fullLoadKey(layout, 'shop', 'order_lines', 1), orderLines, [
      ['I', TASK_START, [1, 1, 'apple', '2026-11-21'], null],
      ['I', TASK_START, [1, 2, 'pear', '2026-11-21'], null],
      ['I', TASK_START, [3, 1, 'fig', null], null],
    ]);
    await write(cdcFileKey(layout, 'shop', 'order_lines', at('2026-11-20T10:00:00.000Z')), orderLines, [
      ['D', '2026-11-20 09:59:59.000000', [1, 2, 'pear', '2026-11-21'], seq(10)],
      ['U', '2026-11-20 09:59:59.500000', [3, 1, 'fig', '2026-11-23'], seq(11)],
      ['I', '2026-11-20 09:59:59.600000', [1, 3, 'plum', '2026-11-22'], seq(12)],
    ]);
  });

  afterAll(() => {
    db?.closeSync();
    instance?.closeSync();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const globFor = (def: CdcTableDefinition) => `${dir}/${tableFolder(layout, def.schema, def.table)}/**/*.parquet`;

  it('lays the files out as DMS does with the endpoint settings', () => {
    expect(settings).toMatchObject({
      bucketFolder: 'cdc',
      datePartitionEnabled: true,
      datePartitionSequence: 'YYYYMMDD',
      datePartitionDelimiter: 'SLASH',
      timestampColumnName: 'dms_timestamp',
      includeOpForFullLoad: true,
      parquetTimestampInMillisecond: true,
      compressionType: 'gzip',
    });
    expect(files).toEqual([
      'cdc/shop/orders/LOAD00000001.parquet',
      'cdc/shop/orders/LOAD00000002.parquet',
      'cdc/shop/orders/2026/11/20/20261120-090005123.parquet',
      'cdc/shop/orders/2026/11/21/20261121-235959999.parquet',
      'cdc/shop/orders/2026/11/22/20261122-000001000.parquet',
      'cdc/shop/order_lines/LOAD00000001.parquet',
      'cdc/shop/order_lines/2026/11/20/20261120-100000000.parquet',
    ]);
  });

  it('writes real Parquet: millisecond timestamps, gzip pages, STRING operation and timestamp columns', async () => {
    const schema = (
      await db.runAndReadAll(
        `SELECT name, converted_type FROM parquet_schema('${dir}/cdc/shop/orders/2026/11/20/20261120-090005123.parquet')`,
      )
    ).getRowObjectsJson();
    expect(schema).toEqual(
      expect.arrayContaining([
        { name: 'Op', converted_type: 'UTF8' },
        { name: 'dms_timestamp', converted_type: 'UTF8' },
        { name: 'placed_at', converted_type: 'TIMESTAMP_MILLIS' },
        { name: 'amount', converted_type: 'DECIMAL' },
        { name: SEQ, converted_type: 'UTF8' },
      ]),
    );
    const codecs = (
      await db.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${globFor(orders)}')`)
    ).getRowObjectsJson();
    expect(codecs).toEqual([{ compression: 'GZIP' }]);
  });

  it.each([orders, orderLines])('the Glue columns of $table match the files column for column', async (def) => {
    const columns = cdcTableColumns(def, { layout });
    const described = (
      await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${globFor(def)}', union_by_name = true)`)
    ).getRowObjectsJson();
    // Athena resolves Parquet columns by name, case-insensitively (the file's `Op` is the table's `op`).
    const inFiles = Object.fromEntries(described.map((d) => [String(d.column_name).toLowerCase(), d.column_type]));
    // (DuckDB reads TIMESTAMP_MILLIS as TIMESTAMP; the unit itself is checked from the Parquet schema above.)
    const declared = Object.fromEntries(columns.map((c) => [c.name, duckdbTypeForGlue(c.type)]));
    expect(inFiles).toEqual(declared);
  });

  it('the current-state query rebuilds each table from its full load and changes', async () => {
    const run = async (def: CdcTableDefinition, orderBy: string) => {
      const relation = duckdbRelation(cdcTableColumns(def, { layout }), globFor(def));
      const sql = currentStateQuery(def, { layout, relation });
      return (await db.runAndReadAll(`${sql}\nORDER BY ${orderBy}`)).getRowObjectsJson();
    };
    expect(await run(orders, 'id')).toEqual([
      { id: '1', customer: 'ada', amount: '13.00', paid: 'true', placed_at: '2026-11-19 08:00:00.123' },
      { id: '2', customer: 'bob', amount: '21.00', paid: 'false', placed_at: '2026-11-21 23:59:59' },
      { id: '3', customer: 'cy', amount: '30.25', paid: 'true', placed_at: '2026-11-19 10:00:00' },
      { id: '4', customer: 'dee', amount: '40.00', paid: 'true', placed_at: '2026-11-19 11:00:00' },
    ]);
    expect(await run(orderLines, 'order_id, line_no')).toEqual([
      { order_id: '1', line_no: 1, sku: 'apple', ship_date: '2026-11-21' },
      { order_id: '1', line_no: 3, sku: 'plum', ship_date: '2026-11-22' },
      { order_id: '3', line_no: 1, sku: 'fig', ship_date: '2026-11-23' },
    ]);
  });

  it('the DuckDB query is the Athena query with only the relation translated', () => {
    const columns = cdcTableColumns(orders, { layout });
    const athena = currentStateQuery(orders, { layout, relation: athenaRelation('stream_foundry_lake', orders) });
    const duck = currentStateQuery(orders, { layout, relation: duckdbRelation(columns, globFor(orders)) });
    expect(athena).toBe(
      [
        'SELECT "id", "customer", "amount", "paid", "placed_at"',
        'FROM (',
        '  SELECT *,',
        '    ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY "dms_timestamp" DESC, "dms_change_seq" DESC NULLS LAST) AS "cdc_rank"',
        '  FROM "stream_foundry_lake"."shop_orders"',
        ') latest',
        `WHERE "cdc_rank" = 1 AND "op" <> 'D'`,
      ].join('\n'),
    );
    expect(athena.replace('"stream_foundry_lake"."shop_orders"', duckdbRelation(columns, globFor(orders)))).toBe(duck);
  });

  it('the change sequence the query orders by is the column the table mappings add', () => {
    const rules = buildTableMappings({ tables: [{ schema: 'shop', name: '%' }] }).rules;
    expect(rules).toContainEqual(
      expect.objectContaining({ 'rule-action': 'add-column', value: SEQ, expression: '$AR_H_CHANGE_SEQ' }),
    );
  });
});
