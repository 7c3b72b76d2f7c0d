/**
 * JSON Schema → BigQuery table schema, so one schema in schemas/ describes a source on both clouds.
 *
 * The mapping is deliberately strict: whatever BigQuery cannot represent faithfully fails with a BigQuerySchemaError
 * that names the JSON Schema location, instead of silently widening a column to STRING and hiding the problem until
 * the first rows land in the dead-letter table.
 *
 *   JSON Schema                              BigQuery
 *   string                                   STRING
 *   string + format date-time | date | time  TIMESTAMP | DATE | TIME
 *   string + contentEncoding base64          BYTES
 *   integer | number | boolean               INTEGER | FLOAT | BOOLEAN
 *   object with properties                   RECORD (fields converted recursively)
 *   object without properties                JSON (free-form)
 *   array of X                               X with mode REPEATED
 *   in `required` and not nullable           mode REQUIRED, otherwise NULLABLE
 *   type: [X, "null"]                        X, mode NULLABLE
 */

/** One column as BigQuery's table-schema JSON (and the Terraform `schema` argument) spells it. */
export interface BigQueryField {
  readonly name: string;
  /** Legacy SQL type names: the BigQuery API returns these, so Terraform plans stay free of spurious diffs. */
  readonly type:
    | 'STRING'
    | 'BYTES'
    | 'INTEGER'
    | 'FLOAT'
    | 'BOOLEAN'
    | 'TIMESTAMP'
    | 'DATE'
    | 'TIME'
    | 'RECORD'
    | 'JSON';
  readonly mode: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  readonly description?: string;
  readonly fields?: BigQueryField[];
}

/** The subset of JSON Schema (draft-07 and later) that describes an event. */
export interface JsonSchema {
  type?: string | string[];
  format?: string;
  contentEncoding?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema | JsonSchema[];
  $ref?: string;
  oneOf?: unknown;
  anyOf?: unknown;
  allOf?: unknown;
  [keyword: string]: unknown;
}

export class BigQuerySchemaError extends Error {
  constructor(
    /** JSON Pointer into the schema, e.g. "/properties/items/items". */
    readonly pointer: string,
    problem: string,
  ) {
    super(`${pointer || '/'}: ${problem}`);
    this.name = 'BigQuerySchemaError';
  }
}

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;
const MAX_NESTING = 15; // BigQuery's limit on nested RECORD levels
const MAX_DESCRIPTION = 1024;
const FORMATS: Record<string, BigQueryField['type']> = { 'date-time': 'TIMESTAMP', date: 'DATE', time: 'TIME' };
const SCALARS: Record<string, BigQueryField['type']> = { integer: 'INTEGER', number: 'FLOAT', boolean: 'BOOLEAN' };

/** Converts the JSON Schema of an event (an object) into the fields of a BigQuery table. */
export function jsonSchemaToBigQuery(schema: JsonSchema): BigQueryField[] {
  const { type } = typeOf(schema, '');
  if (type !== 'object' || !schema.properties) {
    throw new BigQuerySchemaError('', 'the root must be an object with "properties": each becomes a column');
  }
  return recordFields(schema, '', 1);
}

function recordFields(schema: JsonSchema, pointer: string, depth: number): BigQueryField[] {
  if (depth > MAX_NESTING) {
    throw new BigQuerySchemaError(pointer, `objects nest deeper than BigQuery's ${MAX_NESTING} RECORD levels`);
  }
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const at = `${pointer}/properties/${name}`;
    if (!COLUMN_NAME.test(name)) {
      throw new BigQuerySchemaError(
        at,
        `"${name}" is not a valid BigQuery column name (letters, digits and "_", not starting with a digit, at most 300)`,
      );
    }
    return field(name, property, at, required.has(name), depth);
  });
}

function field(name: string, schema: JsonSchema, pointer: string, required: boolean, depth: number): BigQueryField {
  const { type, nullable } = typeOf(schema, pointer);
  if (type === 'array') {
    // A NULL array is stored as an empty one, so a nullable array is still just REPEATED.
    // The column carries the array's description, not the items'.
    const items = { ...arrayItems(schema, pointer), description: schema.description };
    const element = field(name, items, `${pointer}/items`, true, depth);
    if (element.mode === 'REPEATED') {
      throw new BigQuerySchemaError(
        pointer,
        'an array of arrays cannot be expressed in BigQuery (REPEATED fields cannot hold arrays); wrap the inner array in an object',
      );
    }
    return { ...element, mode: 'REPEATED' };
  }
  const description = schema.description?.slice(0, MAX_DESCRIPTION);
  const mode = required && !nullable ? 'REQUIRED' : 'NULLABLE';
  const column = (columnType: BigQueryField['type'], fields?: BigQueryField[]): BigQueryField => ({
    name,
    type: columnType,
    mode,
    ...(description ? { description } : {}),
    ...(fields ? { fields } : {}),
  });
  if (type === 'object') {
    const free = !schema.properties || Object.keys(schema.properties).length === 0;
    return free ? column('JSON') : column('RECORD', recordFields(schema, pointer, depth + 1));
  }
  if (type === 'string') {
    if (schema.contentEncoding === 'base64') return column('BYTES');
    return column((schema.format && FORMATS[schema.format]) || 'STRING');
  }
  return column(SCALARS[type]);
}

function arrayItems(schema: JsonSchema, pointer: string): JsonSchema {
  if (schema.items === undefined || Array.isArray(schema.items)) {
    throw new BigQuerySchemaError(
      pointer,
      'an array needs a single "items" schema (tuples and untyped arrays cannot be expressed as a REPEATED column)',
    );
  }
  const { nullable } = typeOf(schema.items, `${pointer}/items`);
  if (nullable) {
    throw new BigQuerySchemaError(
      `${pointer}/items`,
      'BigQuery arrays cannot hold NULL elements; drop "null" from the item type',
    );
  }
  return schema.items;
}

/** The one non-null type of a schema, and whether null is allowed too. */
function typeOf(schema: JsonSchema, pointer: string): { type: string; nullable: boolean } {
  for (const keyword of ['$ref', 'oneOf', 'anyOf', 'allOf'] as const) {
    if (schema[keyword] !== undefined) {
      throw new BigQuerySchemaError(pointer, `"${keyword}" is not supported: inline a single schema with one "type"`);
    }
  }
  if (schema.type === undefined) {
    throw new BigQuerySchemaError(pointer, 'missing "type": every property needs one to become a column');
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const nonNull = types.filter((t) => t !== 'null');
  if (nonNull.length !== 1) {
    throw new BigQuerySchemaError(
      pointer,
      `type ${JSON.stringify(
        schema.type,
      )} cannot be expressed in BigQuery: a column has exactly one type (optionally with "null")`,
    );
  }
  const [type] = nonNull;
  if (!['string', 'integer', 'number', 'boolean', 'object', 'array'].includes(type)) {
    throw new BigQuerySchemaError(pointer, `unknown type "${type}"`);
  }
  return { type, nullable: nonNull.length < types.length };
}

/** Types BigQuery can cluster on (top-level, non-repeated columns only). */
const CLUSTERABLE = new Set<BigQueryField['type']>(['STRING', 'INTEGER', 'BOOLEAN', 'TIMESTAMP', 'DATE']);

/**
 * Checks that the table can be partitioned on `partitionField` and clustered on `clusteringFields`; returns the
 * problems (empty when the layout is valid) so the caller can report them all at once.
 */
export function tableLayoutProblems(
  fields: readonly BigQueryField[],
  partitionField: string,
  clusteringFields: readonly string[],
): string[] {
  const problems: string[] = [];
  const byName = new Map(fields.map((f) => [f.name, f]));
  const describe = (f: BigQueryField) => `${f.mode} ${f.type}`;
  const partition = byName.get(partitionField);
  if (!partition) {
    problems.push(`partition field "${partitionField}" is not a top-level field of the schema`);
  } else if (!['TIMESTAMP', 'DATE'].includes(partition.type) || partition.mode === 'REPEATED') {
    problems.push(
      `partition field "${partitionField}" must be a TIMESTAMP or DATE (JSON Schema format date-time or date), found ${describe(
        partition,
      )}`,
    );
  }
  for (const name of clusteringFields) {
    const column = byName.get(name);
    if (!column) problems.push(`clustering field "${name}" is not a top-level field of the schema`);
    else if (!CLUSTERABLE.has(column.type) || column.mode === 'REPEATED') {
      problems.push(
        `clustering field "${name}" must be a non-repeated ${[...CLUSTERABLE].join(', ')} column, found ${describe(
          column,
        )}`,
      );
    }
  }
  if (new Set(clusteringFields).size !== clusteringFields.length) problems.push('clustering fields repeat a column');
  return problems;
}
