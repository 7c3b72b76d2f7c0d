import type { CfnTable } from 'aws-cdk-lib/aws-glue';
import { catalogName } from '../../../platform/names';
import { CdcOptionError } from './option-error';
import { AddedColumnType, DEFAULT_CHANGE_SEQUENCE_COLUMN, isMultiMatchPattern, TableSelection } from './table-mappings';
import { CdcLayout, tableFolder } from './target-endpoint';

/**
 * The Glue table over one DMS change-log folder and the Athena query that rebuilds the table's current state from it.
 *
 * Files (see target-endpoint.ts): `<bucketFolder>/<schema>/<table>/` holds the full-load files and, in date folders
 * under it, the CDC files. Every file has the operation column `Op` (I/U/D), the timestamp column (a string
 * `yyyy-MM-dd HH:mm:ss.SSSSSS`), the table's columns (Parquet types per DMS's mapping) and the change sequence column
 * added by the table mappings.
 *
 * The table has no partition keys, on purpose: its location is the table folder and Athena reads every object under
 * a table's location, date folders included. Rebuilding the current state needs every file anyway (a row's last change
 * can be years old), and the table then reads the full-load files wherever DMS puts them relative to the date folders.
 * Queries over a time range of changes filter on the timestamp column (or Athena's `"$path"`).
 */

/** A source column as declared by the user: its name in the target and its PostgreSQL type. */
export interface CdcColumn {
  readonly name: string;
  /** PostgreSQL type as `information_schema` or `\d` shows it, e.g. `bigint`, `numeric(12,2)`, `timestamptz`. */
  readonly type: string;
  /** The Glue type, when it doesn't follow from `type` (columns DMS adds). @default derived from `type` */
  readonly glueType?: string;
}

/** One replicated table as it lands in the lake (after renames and excluded columns). */
export interface CdcTableDefinition {
  /** Schema folder (the source schema). */
  readonly schema: string;
  /** Table folder (the source table, or its `renameTo`). */
  readonly table: string;
  readonly columns: readonly CdcColumn[];
  /** Primary key column(s): what identifies a row across its changes. */
  readonly primaryKey: readonly string[];
}

export interface CdcSchemaOptions {
  readonly layout: CdcLayout;
  /** As in the table mappings; `false` when it is not added. @default 'dms_change_seq' */
  readonly changeSequenceColumn?: string | false;
}

/** Glue column: name, Hive/Athena type, comment. */
export type GlueColumn = CfnTable.ColumnProperty & { readonly name: string; readonly type: string };

/** The operation column DMS writes first in every record (Parquet name `Op`; Athena lower-cases names). */
export const OPERATION_COLUMN = 'op';

const COLUMN = /^[a-z_][a-z0-9_]{0,127}$/;

/**
 * Glue (Hive) type of a PostgreSQL column as DMS writes it to Parquet: PostgreSQL → DMS type (DMS guide, "Source data
 * types for PostgreSQL") → Parquet type ("Target data types for S3 Parquet").
 */
export function glueTypeForPostgres(option: string, postgresType: string): string {
  const t = postgresType.trim().toLowerCase().replace(/\s+/g, ' ');
  if (t.endsWith('[]')) return 'string'; // ARRAY → NCLOB
  const numeric = /^(?:numeric|decimal)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/.exec(t);
  if (numeric) {
    const precision = Number(numeric[1]);
    const scale = Number(numeric[2] ?? 0);
    return precision >= 1 && precision <= 38 ? `decimal(${precision},${scale})` : 'string';
  }
  if (/^timestamp(\s*\(\d\))?( with(out)? time zone)?$/.test(t) || t === 'timestamptz') return 'timestamp';
  if (/^(character varying|varchar|character|char|bpchar)(\s*\(\d+\))?$/.test(t)) return 'string';
  const simple: Record<string, string> = {
    smallint: 'smallint',
    int2: 'smallint',
    smallserial: 'smallint',
    integer: 'int',
    int: 'int',
    int4: 'int',
    serial: 'int',
    bigint: 'bigint',
    int8: 'bigint',
    bigserial: 'bigint',
    real: 'float',
    float4: 'float',
    'double precision': 'double',
    float8: 'double',
    money: 'decimal(38,4)',
    // DMS maps BOOLEAN to CHAR(5): the strings 'true' and 'false'.
    boolean: 'string',
    bool: 'string',
    text: 'string',
    citext: 'string',
    uuid: 'string',
    json: 'string',
    jsonb: 'string',
    xml: 'string',
    inet: 'string',
    cidr: 'string',
    macaddr: 'string',
    interval: 'string',
    bytea: 'binary',
    date: 'date',
  };
  const glue = simple[t];
  if (glue) return glue;
  if (t === 'numeric' || t === 'decimal') {
    throw new CdcOptionError(option, postgresType, 'numeric(p,s) with its precision: declare the column as in its DDL');
  }
  if (/^time(tz)?\b|^time /.test(t)) {
    throw new CdcOptionError(
      option,
      postgresType,
      'a type Athena can read: DMS writes time columns as Parquet TIME, which Athena has no type for (exclude the column)',
    );
  }
  throw new CdcOptionError(
    option,
    postgresType,
    'a PostgreSQL type: smallint, integer, bigint, numeric(p,s), real, double precision, money, boolean, char/varchar/' +
      'text, uuid, json/jsonb, xml, inet, cidr, macaddr, interval, bytea, date, timestamp[tz] or an array',
  );
}

function checkDefinition(def: CdcTableDefinition): void {
  const where = `tables.${def.schema}.${def.table}`;
  if (!Array.isArray(def.columns) || def.columns.length === 0) {
    throw new CdcOptionError(`${where}.columns`, def.columns, 'at least one column ({ name, type })');
  }
  const names = new Set<string>();
  def.columns.forEach((c, i) => {
    if (typeof c?.name !== 'string' || !COLUMN.test(c.name)) {
      throw new CdcOptionError(`${where}.columns[${i}].name`, c?.name, 'a lower-case column name (letters, digits, "_")');
    }
    if (names.has(c.name)) throw new CdcOptionError(`${where}.columns[${i}].name`, c.name, 'a name used once');
    names.add(c.name);
  });
  if (!Array.isArray(def.primaryKey) || def.primaryKey.length === 0) {
    throw new CdcOptionError(
      `${where}.primaryKey`,
      def.primaryKey,
      'the primary key column(s): DMS cannot apply updates and deletes of a table without one',
    );
  }
  def.primaryKey.forEach((k, i) => {
    if (!names.has(k)) {
      throw new CdcOptionError(`${where}.primaryKey[${i}]`, k, `one of the declared columns (${[...names].join(', ')})`);
    }
  });
}

function metadataColumnNames(def: CdcTableDefinition, options: CdcSchemaOptions) {
  const seq = options.changeSequenceColumn ?? DEFAULT_CHANGE_SEQUENCE_COLUMN;
  const reserved = [OPERATION_COLUMN, options.layout.timestampColumnName, ...(seq === false ? [] : [seq])];
  def.columns.forEach((c, i) => {
    if (reserved.includes(c.name)) {
      throw new CdcOptionError(
        `tables.${def.schema}.${def.table}.columns[${i}].name`,
        c.name,
        `a name other than the change-log columns ${reserved.join(', ')} (rename the source column)`,
      );
    }
  });
  return { seq, timestamp: options.layout.timestampColumnName };
}

/** The Glue columns of a DMS change-log table: operation, commit timestamp, data columns, change sequence. */
export function cdcTableColumns(def: CdcTableDefinition, options: CdcSchemaOptions): GlueColumn[] {
  checkDefinition(def);
  const { seq, timestamp } = metadataColumnNames(def, options);
  return [
    { name: OPERATION_COLUMN, type: 'string', comment: 'DMS operation: I insert (and full-load rows), U update, D delete' },
    {
      name: timestamp,
      type: 'string',
      comment: 'DMS timestamp yyyy-MM-dd HH:mm:ss.SSSSSS: commit time of the change (task start for full-load rows)',
    },
    ...def.columns.map((c, i) => ({
      name: c.name,
      type: c.glueType ?? glueTypeForPostgres(`tables.${def.schema}.${def.table}.columns[${i}].type`, c.type),
      comment: `source type ${c.type}`,
    })),
    ...(seq === false
      ? []
      : [{ name: seq, type: 'string', comment: 'DMS change sequence ($AR_H_CHANGE_SEQ): orders changes of one instant' }]),
  ];
}

/** Glue type of a column added by a table-mapping `add-column` rule, by its DMS type (DMS → S3 Parquet → Glue). */
const ADDED_COLUMN_GLUE_TYPE: Record<AddedColumnType, string> = {
  string: 'string',
  int4: 'int',
  int8: 'bigint',
  real8: 'double',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamp',
};

/** DMS wildcards (`%` any characters, `_` one, `[...]` a set) as a regular expression. */
function dmsPattern(pattern: string): RegExp {
  const body = pattern.replace(/\[[^\]]+\]|[%_]|[^%_[]+|\[/g, (part) =>
    part === '%'
      ? '.*'
      : part === '_'
        ? '.'
        : part.length > 1 && part.startsWith('[')
          ? part
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  );
  return new RegExp(`^${body}$`);
}

/** One table selection of the table mappings with the source table's columns and key, as the user declares them. */
export interface LakeTableSource {
  /** The selection (an exact schema and table name) whose renames, excluded and added columns apply. */
  readonly selection: TableSelection;
  /** The source table's columns (PostgreSQL names and types). */
  readonly columns: readonly CdcColumn[];
  /** The source table's primary key columns. */
  readonly primaryKey: readonly string[];
}

/**
 * The table as it lands in the lake, derived from the same selection the table mappings are generated from, so the
 * Glue schema can't drift from the DMS rules: the target table name (`renameTo`), columns without the excluded ones,
 * renamed columns, added columns (typed by their DMS type), and the primary key under its target names.
 */
export function lakeTableDefinition(source: LakeTableSource, option = 'lakeTable'): CdcTableDefinition {
  const { selection } = source;
  for (const key of ['schema', 'name'] as const) {
    if (typeof selection?.[key] !== 'string' || isMultiMatchPattern(selection[key])) {
      throw new CdcOptionError(
        `${option}.selection.${key}`,
        selection?.[key],
        `an exact ${key === 'name' ? 'table' : 'schema'} name (a lake table is one source table, not a pattern)`,
      );
    }
  }
  const excluded = (selection.excludeColumns ?? []).map(dmsPattern);
  const renames = selection.renameColumns ?? {};
  const kept = source.columns.filter((c) => !excluded.some((p) => p.test(c.name)));
  const targetName = (name: string) => renames[name] ?? name;
  const primaryKey = source.primaryKey.map((k, i) => {
    if (!kept.some((c) => c.name === k)) {
      throw new CdcOptionError(
        `${option}.primaryKey[${i}]`,
        k,
        source.columns.some((c) => c.name === k)
          ? 'a column the selection keeps (excluding a key column leaves the lake no way to tell rows apart)'
          : `one of the source columns (${source.columns.map((c) => c.name).join(', ')})`,
      );
    }
    return targetName(k);
  });
  return {
    schema: selection.schema,
    table: selection.renameTo ?? selection.name,
    columns: [
      ...kept.map((c) => ({ ...c, name: targetName(c.name) })),
      ...(selection.addColumns ?? []).map((a) => ({
        name: a.name,
        type: `dms ${a.type ?? 'string'}`,
        glueType: ADDED_COLUMN_GLUE_TYPE[a.type ?? 'string'],
      })),
    ],
    primaryKey,
  };
}

/** Glue/Athena table name for a replicated table: `<schema>_<table>`, lower-case. */
export function glueTableName(def: Pick<CdcTableDefinition, 'schema' | 'table'>): string {
  return catalogName(`${def.schema}_${def.table}`);
}

/** The Glue `TableInput` for a replicated table's change log (for `AWS::Glue::Table`). */
export function cdcGlueTableInput(
  def: CdcTableDefinition,
  options: CdcSchemaOptions & { readonly bucketName: string },
): CfnTable.TableInputProperty {
  return {
    name: glueTableName(def),
    description: `DMS change log of ${def.schema}.${def.table} (one row per insert, update and delete)`,
    tableType: 'EXTERNAL_TABLE',
    parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
    partitionKeys: [],
    storageDescriptor: {
      location: `s3://${options.bucketName}/${tableFolder(options.layout, def.schema, def.table)}/`,
      columns: cdcTableColumns(def, options),
      inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      serdeInfo: {
        serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        parameters: { 'serialization.format': '1' },
      },
    },
  };
}

const q = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** The relation an Athena query reads the change log from: `"<database>"."<schema>_<table>"`. */
export function athenaRelation(databaseName: string, def: Pick<CdcTableDefinition, 'schema' | 'table'>): string {
  return `${q(databaseName)}.${q(glueTableName(def))}`;
}

/**
 * The current state of a table from its change log: the latest change of each primary key (by commit timestamp, then
 * change sequence), unless that change is a delete. `relation` is what the query reads: the Glue table in Athena
 * ({@link athenaRelation}), a relation over the same files elsewhere ({@link duckdbRelation}).
 */
export function currentStateQuery(def: CdcTableDefinition, options: CdcSchemaOptions & { relation: string }): string {
  checkDefinition(def);
  const { seq, timestamp } = metadataColumnNames(def, options);
  const order = [`${q(timestamp)} DESC`, ...(seq === false ? [] : [`${q(seq)} DESC NULLS LAST`])].join(', ');
  return [
    `SELECT ${def.columns.map((c) => q(c.name)).join(', ')}`,
    'FROM (',
    '  SELECT *,',
    `    ROW_NUMBER() OVER (PARTITION BY ${def.primaryKey.map(q).join(', ')} ORDER BY ${order}) AS "cdc_rank"`,
    `  FROM ${options.relation}`,
    ') latest',
    `WHERE "cdc_rank" = 1 AND ${q(OPERATION_COLUMN)} <> 'D'`,
  ].join('\n');
}

/** DuckDB's type for a Glue (Hive) column type, for reading the same Parquet files locally. */
export function duckdbTypeForGlue(glueType: string): string {
  const decimal = /^decimal\((\d+),(\d+)\)$/.exec(glueType);
  if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
  const types: Record<string, string> = {
    string: 'VARCHAR',
    smallint: 'SMALLINT',
    int: 'INTEGER',
    bigint: 'BIGINT',
    float: 'FLOAT',
    double: 'DOUBLE',
    binary: 'BLOB',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
  };
  const duck = types[glueType];
  if (!duck) throw new Error(`no DuckDB type for Glue type ${glueType}`);
  return duck;
}

/**
 * The Athena → DuckDB translation, kept to the relation alone: Athena reads the Glue table (every Parquet object
 * under its location, columns matched by name, case-insensitively); DuckDB reads the same files with
 * `read_parquet(<glob over the table folder>, union_by_name = true)` and projects exactly the Glue columns, each cast to
 * the DuckDB equivalent of its Glue type. The rest of the query text is the same.
 */
export function duckdbRelation(columns: readonly GlueColumn[], parquetGlob: string): string {
  const projection = columns.map((c) => `CAST(${q(c.name)} AS ${duckdbTypeForGlue(c.type)}) AS ${q(c.name)}`);
  return `(SELECT ${projection.join(', ')} FROM read_parquet('${parquetGlob.replace(/'/g, "''")}', union_by_name = true))`;
}
