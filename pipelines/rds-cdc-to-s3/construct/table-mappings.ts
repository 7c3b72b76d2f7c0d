import { CdcOptionError, checkInteger, checkOneOf } from './option-error';

/**
 * Typed table-mapping options → the DMS table-mapping JSON (`{"rules": [...]}`), validated at synth.
 *
 * Rule shapes follow the DMS User Guide ("Selection rules and actions", "Transformation rules and actions", "Using
 * source filters", "Wildcards in table mapping", "Using transformation rule expressions to define column content"):
 * selection rules (`include` with optional `filters`, then `exclude`), then transformation rules (`rename` of a table or
 * a column, `remove-column`, `add-column` with an expression). Rule ids are "1", "2", ... in that order.
 */

/** A filter operator of a DMS source filter. */
export type FilterCondition =
  | { readonly operator: 'eq' | 'noteq' | 'gte' | 'lte'; readonly value: string | number }
  | { readonly operator: 'between' | 'notbetween'; readonly start: string | number; readonly end: string | number }
  | { readonly operator: 'null' | 'notnull' };

/** Rows of a table to replicate: the conditions of one filter are ORed, several filters are ANDed (DMS semantics). */
export interface RowFilter {
  /** Source column (case-sensitive). Filter only on columns that never change after insert (DMS limitation). */
  readonly column: string;
  readonly conditions: readonly FilterCondition[];
}

/** A column DMS adds to the target, computed by a DMS expression (e.g. `$first||' '||$last`, `$AR_H_CHANGE_SEQ`). */
export interface AddedColumn {
  readonly name: string;
  readonly expression: string;
  /** DMS data type of the new column. @default string of `length` 50 */
  readonly type?: AddedColumnType;
  /** Length for `string`. @default 50 */
  readonly length?: number;
}

export const ADDED_COLUMN_TYPES = ['string', 'int4', 'int8', 'real8', 'boolean', 'date', 'datetime'] as const;
export type AddedColumnType = (typeof ADDED_COLUMN_TYPES)[number];

/** What to replicate from one schema: a table name or a wildcard pattern (`%` any characters, `_` one character). */
export interface TableSelection {
  /** Source schema name or pattern. */
  readonly schema: string;
  /** Source table name or pattern, e.g. `orders` or `%`. */
  readonly name: string;
  /** Target table name (the S3 folder and Glue table). Only for an exact `name` (no `%` or `[...]`). */
  readonly renameTo?: string;
  /** Only rows matching every filter are replicated. */
  readonly rowFilters?: readonly RowFilter[];
  /** Source columns (or patterns) left out of the target. */
  readonly excludeColumns?: readonly string[];
  /** Source column → target column name. */
  readonly renameColumns?: Readonly<Record<string, string>>;
  /** Columns added to the target. */
  readonly addColumns?: readonly AddedColumn[];
  /** Tables with a higher load order are loaded first during the full load (DMS `load-order`). */
  readonly loadOrder?: number;
}

/** Schema and table (names or patterns) of objects to leave out. */
export interface ObjectLocator {
  readonly schema: string;
  readonly name: string;
}

/** Which tables DMS replicates: the selections, and what to leave out. */
export interface TableMappingOptions {
  /** At least one selection. */
  readonly tables: readonly TableSelection[];
  /** Objects excluded after the selections (exclude rules). */
  readonly exclude?: readonly ObjectLocator[];
  /**
   * A column added to every replicated table with DMS's change sequence (`$AR_H_CHANGE_SEQ`: 35 digits, a timestamp
   * then an incrementing record id), which orders changes committed in the same instant. `false` to leave it out.
   * @default 'dms_change_seq'
   */
  readonly changeSequenceColumn?: string | false;
}

export const DEFAULT_CHANGE_SEQUENCE_COLUMN = 'dms_change_seq';

export interface ObjectLocatorJson {
  readonly 'schema-name': string;
  readonly 'table-name'?: string;
  readonly 'column-name'?: string;
}

export interface FilterConditionJson {
  readonly 'filter-operator': string;
  readonly value?: string;
  readonly 'start-value'?: string;
  readonly 'end-value'?: string;
}

export interface SelectionRuleJson {
  readonly 'rule-type': 'selection';
  readonly 'rule-id': string;
  readonly 'rule-name': string;
  readonly 'object-locator': ObjectLocatorJson;
  readonly 'rule-action': 'include' | 'exclude';
  readonly 'load-order'?: string;
  readonly filters?: readonly {
    readonly 'filter-type': 'source';
    readonly 'column-name': string;
    readonly 'filter-conditions': readonly FilterConditionJson[];
  }[];
}

export interface TransformationRuleJson {
  readonly 'rule-type': 'transformation';
  readonly 'rule-id': string;
  readonly 'rule-name': string;
  readonly 'rule-action': 'rename' | 'remove-column' | 'add-column';
  readonly 'rule-target': 'table' | 'column';
  readonly 'object-locator': ObjectLocatorJson;
  readonly value?: string;
  readonly expression?: string;
  readonly 'data-type'?: { readonly type: string; readonly length?: number };
}

export type TableMappingRule = SelectionRuleJson | TransformationRuleJson;

export interface TableMappings {
  readonly rules: readonly TableMappingRule[];
}

/** A source schema/table name or pattern: printable, no surrounding spaces, at most 128 characters. */
const SOURCE_NAME = /^[^\s\p{Cc}](?:[^\p{Cc}]{0,126}[^\s\p{Cc}])?$/u;
/** A target name DMS can transform into (no special characters) and Athena/Glue can query. */
const TARGET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** A source column name in a transformation or filter: DMS can't transform names with special characters. */
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,127}$/;
/** A source column pattern for remove-column (`col%`). */
const COLUMN_PATTERN = /^[A-Za-z_%][A-Za-z0-9_$%]{0,127}$/;
const NEGATIVE_OPERATORS = new Set(['noteq', 'notbetween', 'notnull']);
const FILTER_OPERATORS = ['eq', 'noteq', 'gte', 'lte', 'between', 'notbetween', 'null', 'notnull'] as const;

/** True when a name matches more than one object (`%` or a `[...]` set); `_` alone is taken as a literal name. */
export function isMultiMatchPattern(name: string): boolean {
  return name.includes('%') || name.includes('[');
}

function checkSourceName(option: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || !SOURCE_NAME.test(value)) {
    throw new CdcOptionError(option, value, `a ${what} name or % wildcard`);
  }
  return value;
}

function checkTargetName(option: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || !TARGET_NAME.test(value)) {
    throw new CdcOptionError(option, value, `a ${what} name of letters, digits and "_" (not starting with a digit)`);
  }
  return value;
}

function checkColumnName(option: string, value: unknown, pattern = COLUMN_NAME): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new CdcOptionError(
      option,
      value,
      pattern === COLUMN_PATTERN
        ? 'a column name or pattern of letters, digits, "_", "$" and "%"'
        : 'a column name of letters, digits, "_" and "$" (DMS cannot transform names with other characters)',
    );
  }
  return value;
}

function filterValue(option: string, value: unknown): string {
  if ((typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length > 0)) {
    return String(value);
  }
  throw new CdcOptionError(option, value, 'a non-empty string or a number');
}

function conditionJson(path: string, condition: FilterCondition): FilterConditionJson {
  const operator = checkOneOf(`${path}.operator`, condition?.operator, FILTER_OPERATORS);
  switch (operator) {
    case 'between':
    case 'notbetween': {
      const c = condition as { start: unknown; end: unknown };
      return {
        'filter-operator': operator,
        'start-value': filterValue(`${path}.start`, c.start),
        'end-value': filterValue(`${path}.end`, c.end),
      };
    }
    case 'null':
    case 'notnull':
      return { 'filter-operator': operator };
    default:
      return { 'filter-operator': operator, value: filterValue(`${path}.value`, (condition as { value: unknown }).value) };
  }
}

function filtersJson(path: string, filters: readonly RowFilter[]): SelectionRuleJson['filters'] {
  return filters.map((filter, i) => {
    const p = `${path}[${i}]`;
    const column = checkColumnName(`${p}.column`, filter?.column);
    const conditions = filter.conditions;
    if (!Array.isArray(conditions) || conditions.length === 0) {
      throw new CdcOptionError(`${p}.conditions`, conditions, 'at least one filter condition');
    }
    const json = conditions.map((c, j) => conditionJson(`${p}.conditions[${j}]`, c));
    const negative = json.find((c) => NEGATIVE_OPERATORS.has(c['filter-operator']));
    if (negative && json.length > 1) {
      throw new CdcOptionError(
        `${p}.conditions`,
        json.map((c) => c['filter-operator']),
        `a single condition when one uses the negative operator "${negative['filter-operator']}" (a DMS rule)`,
      );
    }
    return { 'filter-type': 'source' as const, 'column-name': column, 'filter-conditions': json };
  });
}

function addedColumnDataType(path: string, column: AddedColumn): { type: string; length?: number } {
  const type = column.type === undefined ? 'string' : checkOneOf(`${path}.type`, column.type, ADDED_COLUMN_TYPES);
  if (type !== 'string') {
    if (column.length !== undefined) {
      throw new CdcOptionError(`${path}.length`, column.length, 'no length unless type is "string"');
    }
    return { type };
  }
  return { type, length: column.length === undefined ? 50 : checkInteger(`${path}.length`, column.length, 1, 65535) };
}

/**
 * The table-mapping rules for `options`. Throws a {@link CdcOptionError} naming the first invalid option.
 */
export function buildTableMappings(options: TableMappingOptions): TableMappings {
  const tables: readonly TableSelection[] | undefined = options?.tables;
  if (!Array.isArray(tables) || tables.length === 0) {
    throw new CdcOptionError('tables', tables, 'at least one table selection ({ schema, name })');
  }
  const selections: SelectionRuleJson[] = [];
  const transformations: Omit<TransformationRuleJson, 'rule-id' | 'rule-name'>[] = [];
  const renamedTables = new Map<string, number>();
  const targetTables = new Map<string, number>();

  const changeSeq = options.changeSequenceColumn ?? DEFAULT_CHANGE_SEQUENCE_COLUMN;
  if (changeSeq !== false) checkTargetName('changeSequenceColumn', changeSeq, 'column');

  tables.forEach((table: TableSelection, i: number) => {
    const path = `tables[${i}]`;
    const schema = checkSourceName(`${path}.schema`, table?.schema, 'schema');
    const name = checkSourceName(`${path}.name`, table.name, 'table');
    const locator = { 'schema-name': schema, 'table-name': name };
    const rule: SelectionRuleJson = {
      'rule-type': 'selection',
      'rule-id': '',
      'rule-name': '',
      'object-locator': locator,
      'rule-action': 'include',
      ...(table.loadOrder !== undefined && {
        'load-order': String(checkInteger(`${path}.loadOrder`, table.loadOrder, 0, 2_147_483_647)),
      }),
      ...(table.rowFilters !== undefined && { filters: filtersJson(`${path}.rowFilters`, table.rowFilters) }),
    };
    selections.push(rule);

    const key = `${schema}.${name}`;
    if (table.renameTo !== undefined) {
      const target = checkTargetName(`${path}.renameTo`, table.renameTo, 'table');
      if (isMultiMatchPattern(name)) {
        throw new CdcOptionError(`${path}.renameTo`, target, `no rename when ${path}.name is a pattern ("${name}")`);
      }
      const earlier = renamedTables.get(key);
      if (earlier !== undefined) {
        throw new CdcOptionError(
          `${path}.renameTo`,
          target,
          `one rename per table: tables[${earlier}] already renames ${key} (DMS applies one action per object)`,
        );
      }
      const targetKey = `${schema}.${target}`;
      const clash = targetTables.get(targetKey);
      if (clash !== undefined) {
        throw new CdcOptionError(`${path}.renameTo`, target, `a target name not already used by tables[${clash}]`);
      }
      renamedTables.set(key, i);
      targetTables.set(targetKey, i);
      transformations.push({
        'rule-type': 'transformation',
        'rule-action': 'rename',
        'rule-target': 'table',
        'object-locator': locator,
        value: target,
      });
    }

    const touched = new Map<string, string>();
    const touch = (option: string, column: string) => {
      const earlier = touched.get(column);
      if (earlier !== undefined) {
        throw new CdcOptionError(option, column, `a column not already transformed by ${earlier} (one action per column)`);
      }
      touched.set(column, option);
    };
    (table.excludeColumns ?? []).forEach((column: string, j: number) => {
      const option = `${path}.excludeColumns[${j}]`;
      touch(option, checkColumnName(option, column, COLUMN_PATTERN));
      transformations.push({
        'rule-type': 'transformation',
        'rule-action': 'remove-column',
        'rule-target': 'column',
        'object-locator': { ...locator, 'column-name': column },
      });
    });
    Object.entries(table.renameColumns ?? {}).forEach(([from, to]) => {
      const option = `${path}.renameColumns.${from}`;
      touch(option, checkColumnName(`${path}.renameColumns`, from));
      transformations.push({
        'rule-type': 'transformation',
        'rule-action': 'rename',
        'rule-target': 'column',
        'object-locator': { ...locator, 'column-name': from },
        value: checkTargetName(option, to, 'column'),
      });
    });
    (table.addColumns ?? []).forEach((column: AddedColumn, j: number) => {
      const p = `${path}.addColumns[${j}]`;
      const columnName = checkTargetName(`${p}.name`, column?.name, 'column');
      if (columnName === changeSeq) {
        throw new CdcOptionError(`${p}.name`, columnName, 'a name other than changeSequenceColumn, which DMS adds already');
      }
      touch(`${p}.name`, columnName);
      if (typeof column.expression !== 'string' || column.expression.trim() === '') {
        throw new CdcOptionError(`${p}.expression`, column.expression, 'a DMS expression such as "$first||\' \'||$last"');
      }
      transformations.push({
        'rule-type': 'transformation',
        'rule-action': 'add-column',
        'rule-target': 'column',
        'object-locator': locator,
        value: columnName,
        expression: column.expression,
        'data-type': addedColumnDataType(p, column),
      });
    });
  });

  (options.exclude ?? []).forEach((excluded, i) => {
    const schema = checkSourceName(`exclude[${i}].schema`, excluded?.schema, 'schema');
    const name = checkSourceName(`exclude[${i}].name`, excluded.name, 'table');
    selections.push({
      'rule-type': 'selection',
      'rule-id': '',
      'rule-name': '',
      'object-locator': { 'schema-name': schema, 'table-name': name },
      'rule-action': 'exclude',
    });
  });

  if (changeSeq !== false) {
    transformations.push({
      'rule-type': 'transformation',
      'rule-action': 'add-column',
      'rule-target': 'column',
      'object-locator': { 'schema-name': '%', 'table-name': '%' },
      value: changeSeq,
      expression: '$AR_H_CHANGE_SEQ',
      'data-type': { type: 'string', length: 50 },
    });
  }

  let id = 0;
  const numbered = (rule: object): TableMappingRule => {
    id += 1;
    // rule-type, rule-id and rule-name first, as in the DMS docs' examples.
    const rest: Record<string, unknown> = { ...rule };
    delete rest['rule-type'];
    delete rest['rule-id'];
    delete rest['rule-name'];
    const ruleType = (rule as { 'rule-type': string })['rule-type'];
    return { 'rule-type': ruleType, 'rule-id': String(id), 'rule-name': String(id), ...rest } as TableMappingRule;
  };
  return { rules: [...selections, ...transformations].map(numbered) };
}

/** The table mappings as the JSON string `AWS::DMS::ReplicationTask.TableMappings` takes. */
export function renderTableMappings(options: TableMappingOptions): string {
  return JSON.stringify(buildTableMappings(options));
}
