import { errorOf } from './error-of';
import {
  buildTableMappings,
  renderTableMappings,
  TableMappingOptions,
} from '../../../pipelines/rds-cdc-to-s3/construct/table-mappings';

describe('buildTableMappings', () => {
  it('one schema, every table: an include rule and the change-sequence column', () => {
    expect(buildTableMappings({ tables: [{ schema: 'public', name: '%' }] })).toEqual({
      rules: [
        {
          'rule-type': 'selection',
          'rule-id': '1',
          'rule-name': '1',
          'object-locator': { 'schema-name': 'public', 'table-name': '%' },
          'rule-action': 'include',
        },
        {
          'rule-type': 'transformation',
          'rule-id': '2',
          'rule-name': '2',
          'rule-action': 'add-column',
          'rule-target': 'column',
          'object-locator': { 'schema-name': '%', 'table-name': '%' },
          value: 'dms_change_seq',
          expression: '$AR_H_CHANGE_SEQ',
          'data-type': { type: 'string', length: 50 },
        },
      ],
    });
  });

  it('selections with wildcards, exclusions, row filters, column and table renames, added columns', () => {
    const options: TableMappingOptions = {
      tables: [
        {
          schema: 'sales',
          name: 'orders',
          renameTo: 'orders_v2',
          loadOrder: 2,
          rowFilters: [
            { column: 'region', conditions: [{ operator: 'eq', value: 'eu' }, { operator: 'eq', value: 'uk' }] },
            { column: 'id', conditions: [{ operator: 'between', start: 1, end: 1_000_000 }] },
          ],
          excludeColumns: ['card_number', 'tmp_%'],
          renameColumns: { custId: 'customer_id' },
          addColumns: [{ name: 'full_name', expression: "$first||' '||$last", length: 101 }],
        },
        { schema: 'sales', name: 'line_%' },
        { schema: 'crm', name: 'contacts', rowFilters: [{ column: 'deleted_at', conditions: [{ operator: 'null' }] }] },
      ],
      exclude: [{ schema: 'sales', name: 'line_archive%' }],
      changeSequenceColumn: 'change_seq',
    };
    const { rules } = buildTableMappings(options);
    expect(rules.map((r) => [r['rule-id'], r['rule-type'], r['rule-action']])).toEqual([
      ['1', 'selection', 'include'],
      ['2', 'selection', 'include'],
      ['3', 'selection', 'include'],
      ['4', 'selection', 'exclude'],
      ['5', 'transformation', 'rename'],
      ['6', 'transformation', 'remove-column'],
      ['7', 'transformation', 'remove-column'],
      ['8', 'transformation', 'rename'],
      ['9', 'transformation', 'add-column'],
      ['10', 'transformation', 'add-column'],
    ]);
    expect(rules[0]).toEqual({
      'rule-type': 'selection',
      'rule-id': '1',
      'rule-name': '1',
      'object-locator': { 'schema-name': 'sales', 'table-name': 'orders' },
      'rule-action': 'include',
      'load-order': '2',
      filters: [
        {
          'filter-type': 'source',
          'column-name': 'region',
          'filter-conditions': [
            { 'filter-operator': 'eq', value: 'eu' },
            { 'filter-operator': 'eq', value: 'uk' },
          ],
        },
        {
          'filter-type': 'source',
          'column-name': 'id',
          'filter-conditions': [{ 'filter-operator': 'between', 'start-value': '1', 'end-value': '1000000' }],
        },
      ],
    });
    expect(rules[2]).toMatchObject({
      filters: [{ 'filter-type': 'source', 'column-name': 'deleted_at', 'filter-conditions': [{ 'filter-operator': 'null' }] }],
    });
    expect(rules[3]).toEqual({
      'rule-type': 'selection',
      'rule-id': '4',
      'rule-name': '4',
      'object-locator': { 'schema-name': 'sales', 'table-name': 'line_archive%' },
      'rule-action': 'exclude',
    });
    expect(rules.slice(4)).toEqual([
      {
        'rule-type': 'transformation',
        'rule-id': '5',
        'rule-name': '5',
        'rule-action': 'rename',
        'rule-target': 'table',
        'object-locator': { 'schema-name': 'sales', 'table-name': 'orders' },
        value: 'orders_v2',
      },
      {
        'rule-type': 'transformation',
        'rule-id': '6',
        'rule-name': '6',
        'rule-action': 'remove-column',
        'rule-target': 'column',
        'object-locator': { 'schema-name': 'sales', 'table-name': 'orders', 'column-name': 'card_number' },
      },
      {
        'rule-type': 'transformation',
        'rule-id': '7',
        'rule-name': '7',
        'rule-action': 'remove-column',
        'rule-target': 'column',
        'object-locator': { 'schema-name': 'sales', 'table-name': 'orders', 'column-name': 'tmp_%' },
      },
      {
        'rule-type': 'transformation',
        'rule-id': '8',
        'rule-name': '8',
        'rule-action': 'rename',
        'rule-target': 'column',
        'object-locator': { 'schema-name': 'sales', 'table-name': 'orders', 'column-name': 'custId' },
        value: 'customer_id',
      },
      {
        'rule-type': 'transformation',
        'rule-id': '9',
        'rule-name': '9',
        'rule-action': 'add-column',
        'rule-target': 'column',
        'object-locator': { 'schema-name': 'sales', 'table-name': 'orders' },
        value: 'full_name',
        expression: "$first||' '||$last",
        'data-type': { type: 'string', length: 101 },
      },
      {
        'rule-type': 'transformation',
        'rule-id': '10',
        'rule-name': '10',
        'rule-action': 'add-column',
        'rule-target': 'column',
        'object-locator': { 'schema-name': '%', 'table-name': '%' },
        value: 'change_seq',
        expression: '$AR_H_CHANGE_SEQ',
        'data-type': { type: 'string', length: 50 },
      },
    ]);
  });

  it('without the change-sequence column, and typed added columns without a length', () => {
    const { rules } = buildTableMappings({
      tables: [{ schema: 'app', name: 'events', addColumns: [{ name: 'loaded', expression: '1', type: 'int4' }] }],
      changeSequenceColumn: false,
    });
    expect(rules).toHaveLength(2);
    expect(rules[1]).toMatchObject({ 'rule-action': 'add-column', value: 'loaded', 'data-type': { type: 'int4' } });
    expect(rules[1]).not.toHaveProperty(['data-type', 'length']);
  });

  it('renders the JSON string a replication task takes', () => {
    const json = renderTableMappings({ tables: [{ schema: 'public', name: 'orders' }], changeSequenceColumn: false });
    expect(json).toBe(
      '{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",' +
        '"object-locator":{"schema-name":"public","table-name":"orders"},"rule-action":"include"}]}',
    );
  });

  describe('invalid options fail with the option, the value and what is expected', () => {
    const table = { schema: 'public', name: 'orders' };
    it.each<[string, TableMappingOptions, string]>([
      ['no tables', { tables: [] }, 'tables: received []; expected at least one table selection ({ schema, name })'],
      [
        'an empty table name',
        { tables: [table, table, { schema: 'public', name: '' }] },
        'tables[2].name: received ""; expected a table name or % wildcard',
      ],
      [
        'a blank schema',
        { tables: [{ schema: ' ', name: 'x' }] },
        'tables[0].schema: received " "; expected a schema name or % wildcard',
      ],
      [
        'a rename of a pattern',
        { tables: [{ schema: 'public', name: 'orders_%', renameTo: 'orders' }] },
        'tables[0].renameTo: received "orders"; expected no rename when tables[0].name is a pattern ("orders_%")',
      ],
      [
        'a target name with a dash',
        { tables: [{ ...table, renameTo: 'my-orders' }] },
        'tables[0].renameTo: received "my-orders"; expected a table name of letters, digits and "_" (not starting with a digit)',
      ],
      [
        'two renames of one table',
        { tables: [{ ...table, renameTo: 'a' }, { ...table, renameTo: 'b' }] },
        'tables[1].renameTo: received "b"; expected one rename per table: tables[0] already renames public.orders (DMS applies one action per object)',
      ],
      [
        'two tables renamed to one name',
        { tables: [{ ...table, renameTo: 'a' }, { schema: 'public', name: 'orders_old', renameTo: 'a' }] },
        'tables[1].renameTo: received "a"; expected a target name not already used by tables[0]',
      ],
      [
        'an unknown filter operator',
        { tables: [{ ...table, rowFilters: [{ column: 'id', conditions: [{ operator: 'like' as 'eq', value: 1 }] }] }] },
        'tables[0].rowFilters[0].conditions[0].operator: received "like"; expected one of: eq, noteq, gte, lte, between, notbetween, null, notnull',
      ],
      [
        'a between without an end',
        {
          tables: [
            { ...table, rowFilters: [{ column: 'id', conditions: [{ operator: 'between', start: 1 } as never] }] },
          ],
        },
        'tables[0].rowFilters[0].conditions[0].end: received nothing; expected a non-empty string or a number',
      ],
      [
        'a negative operator with another condition',
        {
          tables: [
            {
              ...table,
              rowFilters: [
                { column: 'id', conditions: [{ operator: 'noteq', value: 1 }, { operator: 'eq', value: 2 }] },
              ],
            },
          ],
        },
        'tables[0].rowFilters[0].conditions: received ["noteq","eq"]; expected a single condition when one uses the negative operator "noteq" (a DMS rule)',
      ],
      [
        'a filter without conditions',
        { tables: [{ ...table, rowFilters: [{ column: 'id', conditions: [] }] }] },
        'tables[0].rowFilters[0].conditions: received []; expected at least one filter condition',
      ],
      [
        'a filter column with a special character',
        { tables: [{ ...table, rowFilters: [{ column: 'order-id', conditions: [{ operator: 'null' }] }] }] },
        'tables[0].rowFilters[0].column: received "order-id"; expected a column name of letters, digits, "_" and "$" (DMS cannot transform names with other characters)',
      ],
      [
        'a column both excluded and renamed',
        { tables: [{ ...table, excludeColumns: ['note'], renameColumns: { note: 'remark' } }] },
        'tables[0].renameColumns.note: received "note"; expected a column not already transformed by tables[0].excludeColumns[0] (one action per column)',
      ],
      [
        'an added column named like the change sequence',
        { tables: [{ ...table, addColumns: [{ name: 'dms_change_seq', expression: '1' }] }] },
        'tables[0].addColumns[0].name: received "dms_change_seq"; expected a name other than changeSequenceColumn, which DMS adds already',
      ],
      [
        'an added column without an expression',
        { tables: [{ ...table, addColumns: [{ name: 'x', expression: ' ' }] }] },
        `tables[0].addColumns[0].expression: received " "; expected a DMS expression such as "$first||' '||$last"`,
      ],
      [
        'a length on a non-string added column',
        { tables: [{ ...table, addColumns: [{ name: 'x', expression: '1', type: 'int8', length: 8 }] }] },
        'tables[0].addColumns[0].length: received 8; expected no length unless type is "string"',
      ],
      [
        'an unknown added column type',
        { tables: [{ ...table, addColumns: [{ name: 'x', expression: '1', type: 'uuid' as 'string' }] }] },
        'tables[0].addColumns[0].type: received "uuid"; expected one of: string, int4, int8, real8, boolean, date, datetime',
      ],
      [
        'a negative load order',
        { tables: [{ ...table, loadOrder: -1 }] },
        'tables[0].loadOrder: received -1; expected a whole number from 0 to 2147483647',
      ],
      [
        'an empty exclusion',
        { tables: [table], exclude: [{ schema: 'public', name: '' }] },
        'exclude[0].name: received ""; expected a table name or % wildcard',
      ],
      [
        'an invalid change-sequence column name',
        { tables: [table], changeSequenceColumn: '1seq' },
        'changeSequenceColumn: received "1seq"; expected a column name of letters, digits and "_" (not starting with a digit)',
      ],
    ])('%s', (_case, options, message) => {
      expect(errorOf(() => buildTableMappings(options))).toBe(message);
    });
  });
});
