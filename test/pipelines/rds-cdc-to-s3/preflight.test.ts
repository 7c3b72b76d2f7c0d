import { configuredSchemas, preflight } from '../../../scripts/rds-cdc/preflight';
import { TABLES_WITHOUT_PRIMARY_KEY_SQL } from '../../../pipelines/rds-cdc-to-s3/construct/source-parameters';
import { parseConfig, readCdkJsonContext } from '../../../platform/config';

const config = parseConfig({
  ...readCdkJsonContext(),
  rdsCdcToS3: { tables: [{ schema: 'shop', name: 'orders' }, { schema: 'shop', name: 'items' }, { schema: 'crm', name: '%' }, { schema: 'arch%', name: 'x' }] },
}).rdsCdcToS3!;

test('checks each exact schema of the configured selections once (patterns are skipped)', () => {
  expect(configuredSchemas(config)).toEqual(['shop', 'crm']);
});

test('reports each table without a primary key with what DMS will do, using the shared catalog query', async () => {
  const calls: unknown[][] = [];
  const db = {
    query: async (sql: string, params?: unknown[]) => {
      calls.push([sql, params]);
      return { rows: [{ schema_name: 'crm', table_name: 'notes' }] };
    },
  };
  await expect(preflight(db, config)).resolves.toEqual([
    'crm.notes: no primary key; DMS will replicate its inserts but not its updates or deletes (add a primary key, or REPLICA IDENTITY FULL)',
  ]);
  expect(calls).toEqual([[TABLES_WITHOUT_PRIMARY_KEY_SQL, [['shop', 'crm']]]]);
  await expect(preflight({ query: async () => ({ rows: [] }) }, config)).resolves.toEqual([]);
});
