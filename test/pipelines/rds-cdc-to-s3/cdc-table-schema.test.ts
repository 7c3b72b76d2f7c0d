import {
  athenaRelation,
  cdcGlueTableInput,
  cdcTableColumns,
  CdcTableDefinition,
  currentStateQuery,
  duckdbRelation,
  glueTableName,
  glueTypeForPostgres,
  lakeTableDefinition,
} from '../../../pipelines/rds-cdc-to-s3/construct/cdc-table-schema';
import { resolveLayout } from '../../../pipelines/rds-cdc-to-s3/construct/target-endpoint';
import { errorOf } from './error-of';

const layout = resolveLayout({});
const orders: CdcTableDefinition = {
  schema: 'sales',
  table: 'orders',
  columns: [
    { name: 'id', type: 'bigint' },
    { name: 'total', type: 'numeric(12,2)' },
    { name: 'paid', type: 'boolean' },
    { name: 'created_at', type: 'timestamp with time zone' },
  ],
  primaryKey: ['id'],
};

describe('glueTypeForPostgres (PostgreSQL → DMS → Parquet → Glue)', () => {
  it.each([
    ['smallint', 'smallint'],
    ['integer', 'int'],
    ['serial', 'int'],
    ['BIGINT', 'bigint'],
    ['numeric(12,2)', 'decimal(12,2)'],
    ['numeric(38)', 'decimal(38,0)'],
    ['numeric(40,2)', 'string'],
    ['real', 'float'],
    ['double precision', 'double'],
    ['money', 'decimal(38,4)'],
    ['boolean', 'string'],
    ['character varying(20)', 'string'],
    ['varchar', 'string'],
    ['char(3)', 'string'],
    ['text', 'string'],
    ['uuid', 'string'],
    ['jsonb', 'string'],
    ['integer[]', 'string'],
    ['bytea', 'binary'],
    ['date', 'date'],
    ['timestamp', 'timestamp'],
    ['timestamp(3) without time zone', 'timestamp'],
    ['timestamptz', 'timestamp'],
  ])('%s → %s', (pg, glue) => {
    expect(glueTypeForPostgres('t', pg)).toBe(glue);
  });

  it.each([
    ['numeric', 't: received "numeric"; expected numeric(p,s) with its precision: declare the column as in its DDL'],
    [
      'time without time zone',
      't: received "time without time zone"; expected a type Athena can read: DMS writes time columns as Parquet TIME, which Athena has no type for (exclude the column)',
    ],
    ['geometry', 't: received "geometry"; expected a PostgreSQL type: smallint, integer, bigint, numeric(p,s), real, double precision, money, boolean, char/varchar/text, uuid, json/jsonb, xml, inet, cidr, macaddr, interval, bytea, date, timestamp[tz] or an array'],
  ])('rejects %s', (pg, message) => {
    expect(errorOf(() => glueTypeForPostgres('t', pg))).toBe(message);
  });
});

describe('cdc table schema', () => {
  it('columns: operation, commit timestamp, data columns, change sequence', () => {
    expect(cdcTableColumns(orders, { layout }).map((c) => [c.name, c.type])).toEqual([
      ['op', 'string'],
      ['dms_timestamp', 'string'],
      ['id', 'bigint'],
      ['total', 'decimal(12,2)'],
      ['paid', 'string'],
      ['created_at', 'timestamp'],
      ['dms_change_seq', 'string'],
    ]);
    expect(
      cdcTableColumns(orders, { layout: resolveLayout({ timestampColumnName: 'commit_ts' }), changeSequenceColumn: false }).map(
        (c) => c.name,
      ),
    ).toEqual(['op', 'commit_ts', 'id', 'total', 'paid', 'created_at']);
  });

  it('the Glue table reads every Parquet object under the table folder (date folders included), unpartitioned', () => {
    expect(cdcGlueTableInput(orders, { layout, bucketName: 'raw-zone' })).toEqual({
      name: 'sales_orders',
      description: 'DMS change log of sales.orders (one row per insert, update and delete)',
      tableType: 'EXTERNAL_TABLE',
      parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
      partitionKeys: [],
      storageDescriptor: {
        location: 's3://raw-zone/cdc/sales/orders/',
        columns: cdcTableColumns(orders, { layout }),
        inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
        outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
        serdeInfo: {
          serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
          parameters: { 'serialization.format': '1' },
        },
      },
    });
    expect(glueTableName({ schema: 'Sales', table: 'order-lines' })).toBe('sales_order_lines');
  });

  it('current-state query: composite keys, no change sequence', () => {
    const lines: CdcTableDefinition = {
      schema: 'sales',
      table: 'lines',
      columns: [
        { name: 'order_id', type: 'bigint' },
        { name: 'line_no', type: 'int' },
        { name: 'qty', type: 'int' },
      ],
      primaryKey: ['order_id', 'line_no'],
    };
    expect(
      currentStateQuery(lines, { layout, changeSequenceColumn: false, relation: athenaRelation('lake', lines) }),
    ).toBe(
      [
        'SELECT "order_id", "line_no", "qty"',
        'FROM (',
        '  SELECT *,',
        '    ROW_NUMBER() OVER (PARTITION BY "order_id", "line_no" ORDER BY "dms_timestamp" DESC) AS "cdc_rank"',
        '  FROM "lake"."sales_lines"',
        ') latest',
        `WHERE "cdc_rank" = 1 AND "op" <> 'D'`,
      ].join('\n'),
    );
  });

  it('the DuckDB relation projects exactly the Glue columns with their types', () => {
    expect(duckdbRelation(cdcTableColumns(orders, { layout }), "/tmp/it's/**/*.parquet")).toBe(
      '(SELECT CAST("op" AS VARCHAR) AS "op", CAST("dms_timestamp" AS VARCHAR) AS "dms_timestamp", ' +
        'CAST("id" AS BIGINT) AS "id", CAST("total" AS DECIMAL(12,2)) AS "total", CAST("paid" AS VARCHAR) AS "paid", ' +
        'CAST("created_at" AS TIMESTAMP) AS "created_at", CAST("dms_change_seq" AS VARCHAR) AS "dms_change_seq" ' +
        "FROM read_parquet('/tmp/it''s/**/*.parquet', union_by_name = true))",
    );
  });

  it.each<[Partial<CdcTableDefinition>, string]>([
    [{ columns: [] }, 'tables.sales.orders.columns: received []; expected at least one column ({ name, type })'],
    [
      { columns: [{ name: 'Id', type: 'bigint' }] },
      'tables.sales.orders.columns[0].name: received "Id"; expected a lower-case column name (letters, digits, "_")',
    ],
    [
      { columns: [...orders.columns, { name: 'id', type: 'int' }] },
      'tables.sales.orders.columns[4].name: received "id"; expected a name used once',
    ],
    [
      { primaryKey: [] },
      'tables.sales.orders.primaryKey: received []; expected the primary key column(s): DMS cannot apply updates and deletes of a table without one',
    ],
    [
      { primaryKey: ['order_id'] },
      'tables.sales.orders.primaryKey[0]: received "order_id"; expected one of the declared columns (id, total, paid, created_at)',
    ],
    [
      { columns: [...orders.columns, { name: 'op', type: 'text' }] },
      'tables.sales.orders.columns[4].name: received "op"; expected a name other than the change-log columns op, dms_timestamp, dms_change_seq (rename the source column)',
    ],
    [
      { columns: [...orders.columns, { name: 'shipped', type: 'time' }] },
      'tables.sales.orders.columns[4].type: received "time"; expected a type Athena can read: DMS writes time columns as Parquet TIME, which Athena has no type for (exclude the column)',
    ],
  ])('rejects %j', (override, message) => {
    expect(errorOf(() => cdcTableColumns({ ...orders, ...override }, { layout }))).toBe(message);
  });
});

describe('lakeTableDefinition: the lake table follows the same selection as the DMS rules', () => {
  const columns = [
    { name: 'id', type: 'bigint' },
    { name: 'custId', type: 'integer' },
    { name: 'card_number', type: 'text' },
    { name: 'tmp_a', type: 'text' },
    { name: 'tmp1', type: 'text' },
    { name: 'total', type: 'numeric(12,2)' },
  ];

  it('applies the table rename, excluded columns (with patterns), column renames and added columns', () => {
    const def = lakeTableDefinition({
      selection: {
        schema: 'sales',
        name: 'orders',
        renameTo: 'orders_v2',
        excludeColumns: ['card_number', 'tmp_%'],
        renameColumns: { custId: 'customer_id' },
        addColumns: [
          { name: 'full_name', expression: "$first||' '||$last" },
          { name: 'loaded', expression: '1', type: 'boolean' },
        ],
      },
      columns,
      primaryKey: ['id'],
    });
    expect(def).toEqual({
      schema: 'sales',
      table: 'orders_v2',
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'customer_id', type: 'integer' },
        // `tmp_%`: `_` matches one character, so tmp1 is excluded too (DMS wildcard semantics).
        { name: 'total', type: 'numeric(12,2)' },
        { name: 'full_name', type: 'dms string', glueType: 'string' },
        { name: 'loaded', type: 'dms boolean', glueType: 'boolean' },
      ],
      primaryKey: ['id'],
    });
    expect(cdcTableColumns(def, { layout }).map((c) => `${c.name}:${c.type}`)).toEqual([
      'op:string',
      'dms_timestamp:string',
      'id:bigint',
      'customer_id:int',
      'total:decimal(12,2)',
      'full_name:string',
      'loaded:boolean',
      'dms_change_seq:string',
    ]);
  });

  it('renames key columns in the primary key', () => {
    const def = lakeTableDefinition({
      selection: { schema: 'crm', name: 'people', renameColumns: { personId: 'person_id' } },
      columns: [
        { name: 'personId', type: 'int' },
        { name: 'name', type: 'text' },
      ],
      primaryKey: ['personId'],
    });
    expect(def.primaryKey).toEqual(['person_id']);
    expect(def.table).toBe('people');
  });

  it.each([
    [
      { selection: { schema: 'sales', name: 'orders_%' }, columns, primaryKey: ['id'] },
      'lakeTable.selection.name: received "orders_%"; expected an exact table name (a lake table is one source table, not a pattern)',
    ],
    [
      { selection: { schema: 'sales', name: 'orders', excludeColumns: ['id'] }, columns, primaryKey: ['id'] },
      'lakeTable.primaryKey[0]: received "id"; expected a column the selection keeps (excluding a key column leaves the lake no way to tell rows apart)',
    ],
    [
      { selection: { schema: 'sales', name: 'orders' }, columns, primaryKey: ['order_id'] },
      'lakeTable.primaryKey[0]: received "order_id"; expected one of the source columns (id, custId, card_number, tmp_a, tmp1, total)',
    ],
  ])('rejects %j', (source, message) => {
    expect(errorOf(() => lakeTableDefinition(source))).toBe(message);
  });

  it('an unrenamed mixed-case source column is caught with the rename to make', () => {
    const def = lakeTableDefinition({ selection: { schema: 'sales', name: 'orders' }, columns, primaryKey: ['id'] });
    expect(errorOf(() => cdcTableColumns(def, { layout }))).toBe(
      'tables.sales.orders.columns[1].name: received "custId"; expected a lower-case column name (letters, digits, "_")',
    );
  });
});
