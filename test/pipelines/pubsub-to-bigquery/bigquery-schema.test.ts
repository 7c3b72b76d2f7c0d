import * as fs from 'fs';
import * as path from 'path';
import {
  BigQuerySchemaError,
  JsonSchema,
  jsonSchemaToBigQuery,
  tableLayoutProblems,
} from '../../../pipelines/pubsub-to-bigquery/construct/bigquery-schema';
import { fromRoot } from '../../../platform/paths';

const SCHEMAS = fromRoot('schemas');
const load = (file: string): JsonSchema => JSON.parse(fs.readFileSync(path.join(SCHEMAS, file), 'utf8'));
const event = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: 'object',
  properties,
  required,
});

function errorOf(schema: JsonSchema): BigQuerySchemaError {
  try {
    jsonSchemaToBigQuery(schema);
  } catch (e) {
    if (e instanceof BigQuerySchemaError) return e;
    throw e;
  }
  throw new Error('expected a BigQuerySchemaError');
}

describe('jsonSchemaToBigQuery', () => {
  test('maps scalar types and formats', () => {
    const fields = jsonSchemaToBigQuery(
      event({
        s: { type: 'string' },
        id: { type: 'string', format: 'uuid' },
        at: { type: 'string', format: 'date-time' },
        day: { type: 'string', format: 'date' },
        clock: { type: 'string', format: 'time' },
        blob: { type: 'string', contentEncoding: 'base64' },
        n: { type: 'integer' },
        x: { type: 'number' },
        flag: { type: 'boolean' },
      }),
    );
    expect(fields.map((f) => [f.name, f.type])).toEqual([
      ['s', 'STRING'],
      ['id', 'STRING'],
      ['at', 'TIMESTAMP'],
      ['day', 'DATE'],
      ['clock', 'TIME'],
      ['blob', 'BYTES'],
      ['n', 'INTEGER'],
      ['x', 'FLOAT'],
      ['flag', 'BOOLEAN'],
    ]);
  });

  test('required → REQUIRED, optional → NULLABLE, [x, "null"] → NULLABLE even when required, arrays → REPEATED', () => {
    const fields = jsonSchemaToBigQuery(
      event(
        {
          must: { type: 'string' },
          may: { type: 'string' },
          nullable: { type: ['string', 'null'] },
          list: { type: 'array', items: { type: 'integer' } },
          maybeList: { type: ['array', 'null'], items: { type: 'string' } },
        },
        ['must', 'nullable', 'list'],
      ),
    );
    expect(Object.fromEntries(fields.map((f) => [f.name, `${f.mode} ${f.type}`]))).toEqual({
      must: 'REQUIRED STRING',
      may: 'NULLABLE STRING',
      nullable: 'NULLABLE STRING',
      list: 'REPEATED INTEGER',
      maybeList: 'REPEATED STRING',
    });
  });

  test('nested objects become RECORDs, arrays of objects REPEATED RECORDs, property-less objects JSON', () => {
    const fields = jsonSchemaToBigQuery(
      event(
        {
          address: event({ country: { type: 'string' }, geo: event({ lat: { type: 'number' } }, ['lat']) }, [
            'country',
          ]),
          lines: { type: 'array', description: 'Order lines', items: event({ sku: { type: 'string' } }, ['sku']) },
          extra: { type: 'object' },
        },
        ['address'],
      ),
    );
    expect(fields).toEqual([
      {
        name: 'address',
        type: 'RECORD',
        mode: 'REQUIRED',
        fields: [
          { name: 'country', type: 'STRING', mode: 'REQUIRED' },
          { name: 'geo', type: 'RECORD', mode: 'NULLABLE', fields: [{ name: 'lat', type: 'FLOAT', mode: 'REQUIRED' }] },
        ],
      },
      {
        name: 'lines',
        type: 'RECORD',
        mode: 'REPEATED',
        description: 'Order lines',
        fields: [{ name: 'sku', type: 'STRING', mode: 'REQUIRED' }],
      },
      { name: 'extra', type: 'JSON', mode: 'NULLABLE' },
    ]);
  });

  test('converts the repository schemas (one schema for both clouds)', () => {
    const orders = jsonSchemaToBigQuery(load('orders.schema.json'));
    expect(orders.find((f) => f.name === 'items')).toMatchObject({ type: 'RECORD', mode: 'REPEATED' });
    expect(orders.find((f) => f.name === 'shipping_address')).toMatchObject({ type: 'RECORD', mode: 'NULLABLE' });
    expect(orders.find((f) => f.name === 'order_date')).toMatchObject({ type: 'DATE', mode: 'NULLABLE' });
    expect(orders.find((f) => f.name === 'updated_at')).toMatchObject({ type: 'TIMESTAMP', mode: 'REQUIRED' });
    const clickstream = jsonSchemaToBigQuery(load('clickstream.schema.json'));
    expect(clickstream.find((f) => f.name === 'occurred_at')).toEqual({
      name: 'occurred_at',
      type: 'TIMESTAMP',
      mode: 'REQUIRED',
      description: 'When the user acted (event time).',
    });
    expect(clickstream.find((f) => f.name === 'tags')).toEqual({ name: 'tags', type: 'STRING', mode: 'REPEATED' });
  });

  test.each<[string, JsonSchema, string]>([
    [
      'an array of arrays',
      event({ matrix: { type: 'array', items: { type: 'array', items: { type: 'number' } } } }),
      '/properties/matrix: an array of arrays cannot be expressed in BigQuery',
    ],
    [
      'a union of two types',
      event({ id: { type: ['string', 'integer'] } }),
      '/properties/id: type ["string","integer"] cannot be expressed in BigQuery',
    ],
    ['a missing type', event({ anything: {} }), '/properties/anything: missing "type"'],
    [
      'a missing type in a nested object',
      event({ a: event({ b: { description: 'x' } }) }),
      '/properties/a/properties/b: missing "type"',
    ],
    [
      'oneOf',
      event({ v: { oneOf: [{ type: 'string' }, { type: 'integer' }] } }),
      '/properties/v: "oneOf" is not supported',
    ],
    ['$ref', event({ v: { $ref: '#/definitions/x' } }), '/properties/v: "$ref" is not supported'],
    [
      'nullable array items',
      event({ tags: { type: 'array', items: { type: ['string', 'null'] } } }),
      '/properties/tags/items: BigQuery arrays cannot hold NULL elements',
    ],
    [
      'a tuple',
      event({ pair: { type: 'array', items: [{ type: 'string' }] } }),
      '/properties/pair: an array needs a single "items" schema',
    ],
    [
      'an invalid column name',
      event({ 'user-id': { type: 'string' } }),
      '/properties/user-id: "user-id" is not a valid BigQuery column name',
    ],
    ['a non-object root', { type: 'string' }, '/: the root must be an object with "properties"'],
    ['an unknown type', event({ x: { type: 'decimal' } }), '/properties/x: unknown type "decimal"'],
  ])('rejects %s with a message naming the location', (_what, schema, message) => {
    expect(errorOf(schema).message).toContain(message);
  });

  test('rejects nesting deeper than BigQuery allows', () => {
    let schema: JsonSchema = event({ leaf: { type: 'string' } });
    for (let i = 0; i < 15; i++) schema = event({ child: schema });
    expect(errorOf(schema).message).toContain("objects nest deeper than BigQuery's 15 RECORD levels");
  });
});

describe('tableLayoutProblems', () => {
  const fields = jsonSchemaToBigQuery(load('orders.schema.json'));

  test('accepts a TIMESTAMP partition and clusterable columns', () => {
    expect(tableLayoutProblems(fields, 'updated_at', ['status', 'customer_id'])).toEqual([]);
    expect(tableLayoutProblems(fields, 'order_date', [])).toEqual([]);
  });

  test('names every problem: missing or non-time partition field, unclusterable or unknown columns', () => {
    expect(tableLayoutProblems(fields, 'status', ['items', 'total_amount', 'nope', 'status', 'status'])).toEqual([
      'partition field "status" must be a TIMESTAMP or DATE (JSON Schema format date-time or date), found REQUIRED STRING',
      'clustering field "items" must be a non-repeated STRING, INTEGER, BOOLEAN, TIMESTAMP, DATE column, found REPEATED RECORD',
      'clustering field "total_amount" must be a non-repeated STRING, INTEGER, BOOLEAN, TIMESTAMP, DATE column, found REQUIRED FLOAT',
      'clustering field "nope" is not a top-level field of the schema',
      'clustering fields repeat a column',
    ]);
    expect(tableLayoutProblems(fields, 'missing', [])).toEqual([
      'partition field "missing" is not a top-level field of the schema',
    ]);
  });
});
