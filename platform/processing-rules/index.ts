import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';

/**
 * Processing rules (docs/processing-rules.md): the rules file's form, its validation against the source's JSON
 * Schema, and the schemas of the tables the rules produce. Synth does all of this once; the Spark and Flink jobs get
 * the result as a processing document and only evaluate it (test/rules/*.cases.json pins both sides).
 */

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const name = z.string().regex(NAME, { error: 'expected a rule name: lower-case letters, digits and "-", starting with a letter' });
const field = z.string().regex(PATH, { error: 'expected a field: object keys joined by "." such as "page.url"' });
const column = z.string().regex(COLUMN, { error: 'expected a top-level field name (letters, digits, "_")' });
const literal = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean (null is not a literal: use exists)' });

export type Condition =
  | { field: string; eq: Literal } | { field: string; ne: Literal } | { field: string; in: Literal[] }
  | { field: string; gt: number } | { field: string; gte: number } | { field: string; lt: number } | { field: string; lte: number }
  | { field: string; startsWith: string } | { field: string; exists: boolean }
  | { all: Condition[] } | { any: Condition[] } | { not: Condition };
export type Literal = string | number | boolean;

const OPERATORS = ['eq', 'ne', 'in', 'gt', 'gte', 'lt', 'lte', 'startsWith', 'exists'] as const;
const ORDERING = new Set(['gt', 'gte', 'lt', 'lte']);

const condition: z.ZodType<Condition> = z.lazy(() =>
  z.union(
    [
      z.strictObject({ all: z.array(condition).min(1) }),
      z.strictObject({ any: z.array(condition).min(1) }),
      z.strictObject({ not: condition }),
      z.strictObject({ field, eq: literal }),
      z.strictObject({ field, ne: literal }),
      z.strictObject({ field, in: z.array(literal).min(1) }),
      z.strictObject({ field, gt: z.number() }),
      z.strictObject({ field, gte: z.number() }),
      z.strictObject({ field, lt: z.number() }),
      z.strictObject({ field, lte: z.number() }),
      z.strictObject({ field, startsWith: z.string() }),
      z.strictObject({ field, exists: z.boolean() }),
    ],
    { error: `expected a condition: { field, <one of ${OPERATORS.join(', ')}> }, { all: [...] }, { any: [...] } or { not: ... }` },
  ),
);

// One object with both keys optional (not a union of two): zod then reports a bad condition at its own path.
const filterRule = z
  .strictObject({ name, keep: condition.optional(), drop: condition.optional() })
  .refine((rule) => (rule.keep === undefined) !== (rule.drop === undefined), { error: 'expected a filter with exactly one of keep or drop' })
  .transform((rule) => (rule.keep ? { name: rule.name, keep: rule.keep } : { name: rule.name, drop: rule.drop! }));

const CAST_TYPES = ['string', 'integer', 'number', 'boolean'] as const;
type JsonType = (typeof CAST_TYPES)[number];

const derivation = z.union(
  [
    z.strictObject({ condition }),
    z.strictObject({ concat: z.array(z.union([z.string(), z.strictObject({ field })])).min(1) }),
    z.strictObject({ field }),
  ],
  { error: 'expected { condition }, { concat: [...] } or { field }' },
);

const transformRule = z.union(
  [
    z.strictObject({ name, rename: field, to: column }),
    z.strictObject({ name, drop: field }),
    z.strictObject({ name, mask: field, with: z.literal('hash') }),
    z.strictObject({ name, mask: field, with: z.literal('fixed'), keepLast: z.number().int().min(0).max(64).optional() }),
    z.strictObject({ name, cast: field, to: z.enum(CAST_TYPES) }),
    z.strictObject({ name, derive: column, from: derivation }),
  ],
  { error: 'expected a transform: { name, rename, to }, { name, drop }, { name, mask, with: "hash" | "fixed" }, { name, cast, to } or { name, derive, from }' },
);

const measure = z.union(
  [
    z.strictObject({ count: z.literal('*') }),
    z.strictObject({ countDistinct: field }),
    z.strictObject({ sum: field }),
    z.strictObject({ min: field }),
    z.strictObject({ max: field }),
  ],
  { error: 'expected { count: "*" }, { countDistinct: F }, { sum: F }, { min: F } or { max: F }' },
);

const aggregateSchemaOfRules = z.strictObject({
  windowSeconds: z.number().int().min(1).max(86_400),
  watermarkSeconds: z.number().int().min(0).max(86_400).default(60),
  groupBy: z.array(field).max(5).default([]),
  measures: z.record(column, measure).refine((m) => Object.keys(m).length > 0, { error: 'expected at least one measure' }),
});

export const rulesFileSchema = z.strictObject({
  filter: z.array(filterRule).default([]),
  transform: z.array(transformRule).default([]),
  aggregate: aggregateSchemaOfRules.optional(),
});

export type ProcessingRules = z.output<typeof rulesFileSchema>;
export type TransformRule = z.output<typeof transformRule>;
export type AggregateRules = z.output<typeof aggregateSchemaOfRules>;

/** A JSON Schema node, as far as the rules look at it. */
export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  description?: string;
  [keyword: string]: unknown;
}

/** What a job receives (schemas/<source>.processing.json in its package): see docs/processing-rules.md. */
export interface ProcessingDocument {
  source: string;
  idField: string;
  eventTimeField: string;
  rules: ProcessingRules;
  outputSchema: SchemaNode;
  aggregateSchema: SchemaNode | null;
}

/**
 * A short digest of a document's aggregate section: a changed definition is a new aggregates table location (and a
 * new streaming state), since no engine can carry window state into other windows, keys or measures.
 */
export function aggregateDigest(doc: ProcessingDocument): string {
  return crypto.createHash('sha256').update(JSON.stringify({ aggregate: doc.rules.aggregate, schema: doc.aggregateSchema })).digest('hex').slice(0, 8);
}

export class RulesError extends Error {
  constructor(readonly setting: string, readonly problems: string[]) {
    super(`${setting}: ${problems.join('; ')}`);
    this.name = 'RulesError';
  }
}

/** Reads and parses a rules file; the error names `setting` and the file. */
export function loadRules(file: string, setting: string): ProcessingRules {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new RulesError(setting, [`${path.basename(file)} is not a readable JSON file (${(error as Error).message})`]);
  }
  const result = rulesFileSchema.safeParse(json);
  if (!result.success) {
    throw new RulesError(
      setting,
      result.error.issues.map((issue) => `${path.basename(file)} at ${issue.path.map(String).join('.') || '(top)'}: ${issue.message}`),
    );
  }
  return result.data;
}

/**
 * The processing document of a source: the rules checked against its schema, the output and aggregate schemas.
 * Throws a RulesError naming `setting`, the rule and the field for anything the engines could not evaluate.
 */
export function processingDocument(
  source: { name: string; idField: string; eventTimeField: string },
  schema: SchemaNode,
  rules: ProcessingRules,
  setting: string,
): ProcessingDocument {
  const problems = checkRules(schema, rules, source);
  if (problems.length > 0) throw new RulesError(setting, problems);
  const output = outputSchema(schema, rules);
  return {
    source: source.name,
    idField: source.idField,
    eventTimeField: source.eventTimeField,
    rules,
    outputSchema: output,
    aggregateSchema: rules.aggregate ? aggregateSchema(output, rules.aggregate) : null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Schema navigation

function types(node: SchemaNode): string[] {
  return node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
}

function scalarType(node: SchemaNode): string | undefined {
  return types(node).filter((t) => t !== 'null')[0];
}

function nullable(node: SchemaNode): boolean {
  return types(node).includes('null');
}

/** The schema node of a field path, or undefined when the schema has no such field. */
function lookup(schema: SchemaNode, fieldPath: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const key of fieldPath.split('.')) {
    if (!node || scalarType(node) !== 'object' || !node.properties || !Object.hasOwn(node.properties, key)) return undefined;
    node = node.properties[key];
  }
  return node;
}

/** The object node holding a field path's last key, and that key. */
function parentOf(schema: SchemaNode, fieldPath: string): [SchemaNode, string] {
  const keys = fieldPath.split('.');
  const last = keys.pop()!;
  const parent = keys.length === 0 ? schema : lookup(schema, keys.join('.'))!;
  return [parent, last];
}

/** Whether a value is always present: every key on the path required and not nullable. */
function alwaysPresent(schema: SchemaNode, fieldPath: string): boolean {
  let node = schema;
  for (const key of fieldPath.split('.')) {
    const child = node.properties?.[key];
    if (!child || !(node.required ?? []).includes(key) || nullable(child)) return false;
    node = child;
  }
  return true;
}

function typed(type: string, isNullable: boolean, description?: string): SchemaNode {
  return { type: isNullable ? [type, 'null'] : type, ...(description !== undefined ? { description } : {}) };
}

// ---------------------------------------------------------------------------------------------------------------
// Validation: the rules, in order, against the schema as each rule sees it

const CASTS: Record<string, JsonType[]> = {
  string: ['integer', 'number', 'boolean'],
  integer: ['string', 'number'],
  number: ['integer'],
  boolean: ['string'],
};

function checkRules(schema: SchemaNode, rules: ProcessingRules, source: { idField: string; eventTimeField: string }): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const protectedFields = new Set([source.idField, source.eventTimeField]);
  const ruleNames = [...rules.filter, ...rules.transform].map((r) => r.name);
  for (const ruleName of ruleNames) {
    if (names.has(ruleName)) problems.push(`rule ${ruleName}: the name is used twice (each rule's name must be unique: it is the reason on the events it fails)`);
    names.add(ruleName);
  }

  for (const rule of rules.filter) {
    checkCondition('keep' in rule && rule.keep ? rule.keep : rule.drop!, schema, `rule ${rule.name}`, problems);
  }

  let current = structuredClone(schema);
  for (const rule of rules.transform) {
    const where = `rule ${rule.name}`;
    const target = 'rename' in rule ? rule.rename : 'drop' in rule ? rule.drop : 'mask' in rule ? rule.mask : 'cast' in rule ? rule.cast : undefined;
    if (target !== undefined) {
      const node = lookup(current, target);
      if (!node) {
        problems.push(`${where}: field ${target} is not in the schema${known(current, target)}`);
        continue;
      }
      if (protectedFields.has(target)) {
        problems.push(`${where}: field ${target} is the source's ${target === source.idField ? 'id' : 'event-time'} field, which deduplication and partitioning need unchanged`);
        continue;
      }
      if ('rename' in rule) {
        const [parent] = parentOf(current, target);
        if (parent.properties && Object.hasOwn(parent.properties, rule.to)) problems.push(`${where}: cannot rename ${target} to ${rule.to}: that field exists`);
      } else if ('mask' in rule && scalarType(node) !== 'string') {
        problems.push(`${where}: field ${target} is ${scalarType(node) ?? 'untyped'}; mask applies to string fields (cast it first)`);
      } else if ('cast' in rule) {
        const from = scalarType(node) ?? 'untyped';
        if (from === rule.to) problems.push(`${where}: field ${target} is already ${from}`);
        else if (!(CASTS[from] ?? []).includes(rule.to)) problems.push(`${where}: cannot cast ${target} from ${from} to ${rule.to} (supported: ${castList()})`);
      }
    } else if ('derive' in rule) {
      if (current.properties && Object.hasOwn(current.properties, rule.derive)) problems.push(`${where}: cannot derive ${rule.derive}: that field exists`);
      const from = rule.from;
      if ('condition' in from) checkCondition(from.condition, current, where, problems);
      else if ('concat' in from) {
        for (const part of from.concat) {
          if (typeof part === 'string') continue;
          const node = lookup(current, part.field);
          if (!node) problems.push(`${where}: field ${part.field} is not in the schema${known(current, part.field)}`);
          else if (!['string', 'integer', 'boolean'].includes(scalarType(node) ?? '')) problems.push(`${where}: field ${part.field} is ${scalarType(node) ?? 'untyped'}; concat takes string, integer or boolean fields`);
        }
      } else if (!lookup(current, from.field)) problems.push(`${where}: field ${from.field} is not in the schema${known(current, from.field)}`);
    }
    if (problems.length === 0) current = applyTransform(current, rule);
  }

  if (rules.aggregate && problems.length === 0) checkAggregate(current, rules.aggregate, problems);
  return problems;
}

function checkCondition(cond: Condition, schema: SchemaNode, where: string, problems: string[]): void {
  if ('all' in cond) return cond.all.forEach((c) => checkCondition(c, schema, where, problems));
  if ('any' in cond) return cond.any.forEach((c) => checkCondition(c, schema, where, problems));
  if ('not' in cond) return checkCondition(cond.not, schema, where, problems);
  const node = lookup(schema, cond.field);
  if (!node) {
    problems.push(`${where}: field ${cond.field} is not in the schema${known(schema, cond.field)}`);
    return;
  }
  const op = OPERATORS.find((o) => o in cond)!;
  if (op === 'exists') return;
  const type = scalarType(node) ?? 'untyped';
  if (ORDERING.has(op) && type !== 'integer' && type !== 'number') {
    problems.push(`${where}: ${op} compares numbers, but field ${cond.field} is ${type}`);
    return;
  }
  if (op === 'startsWith' && type !== 'string') {
    problems.push(`${where}: startsWith applies to strings, but field ${cond.field} is ${type}`);
    return;
  }
  const values = op === 'in' ? (cond as { in: Literal[] }).in : [(cond as Record<string, Literal>)[op]];
  for (const value of values) {
    if (!literalFits(value, type)) problems.push(`${where}: field ${cond.field} is ${type} but is compared with ${JSON.stringify(value)} (${literalType(value)})`);
  }
}

function literalType(value: Literal): string {
  return typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
}

function literalFits(value: Literal, type: string): boolean {
  if (type === 'number') return typeof value === 'number';
  if (type === 'integer') return typeof value === 'number' && Number.isSafeInteger(value);
  return typeof value === type && (type === 'string' || type === 'boolean');
}

function checkAggregate(schema: SchemaNode, aggregate: AggregateRules, problems: string[]): void {
  const columns = new Set(['window_start', 'window_end']);
  for (const group of aggregate.groupBy) {
    const node = lookup(schema, group);
    const type = node && scalarType(node);
    if (!node) problems.push(`aggregate.groupBy: field ${group} is not in the output schema${known(schema, group)}`);
    else if (!['string', 'integer', 'boolean'].includes(type ?? '')) problems.push(`aggregate.groupBy: field ${group} is ${type ?? 'untyped'}; group by string, integer or boolean fields`);
    const col = group.replace(/\./g, '_');
    if (columns.has(col)) problems.push(`aggregate.groupBy: column ${col} would appear twice`);
    columns.add(col);
  }
  for (const [col, m] of Object.entries(aggregate.measures)) {
    if (columns.has(col)) problems.push(`aggregate.measures.${col}: the name is taken by ${col.startsWith('window_') ? 'the window' : 'a group-by column'}`);
    columns.add(col);
    if ('count' in m) continue;
    const [fn, target] = Object.entries(m)[0] as [string, string];
    const node = lookup(schema, target);
    const type = node && scalarType(node);
    if (!node) problems.push(`aggregate.measures.${col}: field ${target} is not in the output schema${known(schema, target)}`);
    else if (fn === 'countDistinct' ? !['string', 'integer', 'boolean'].includes(type ?? '') : type !== 'integer' && type !== 'number') {
      problems.push(`aggregate.measures.${col}: ${fn} of field ${target} (${type ?? 'untyped'}) is not supported (${fn === 'countDistinct' ? 'string, integer or boolean' : 'integer or number'} fields)`);
    }
  }
}

function castList(): string {
  return Object.entries(CASTS).flatMap(([from, tos]) => tos.map((to) => `${from} -> ${to}`)).join(', ');
}

/** " (it has: a, b, c)" for a field that is not there: the typo is usually visible at once. */
function known(schema: SchemaNode, fieldPath: string): string {
  const keys = fieldPath.split('.');
  const parent = keys.length > 1 ? lookup(schema, keys.slice(0, -1).join('.')) : schema;
  const names = Object.keys(parent?.properties ?? {});
  return names.length > 0 ? ` (${keys.length > 1 ? keys.slice(0, -1).join('.') : 'top level'} has: ${names.join(', ')})` : '';
}

// ---------------------------------------------------------------------------------------------------------------
// The schemas the rules produce

/** The events table's schema: the source schema after the transforms (docs/processing-rules.md, "The output schema"). */
export function outputSchema(schema: SchemaNode, rules: ProcessingRules): SchemaNode {
  return rules.transform.reduce(applyTransform, structuredClone(schema));
}

function applyTransform(schema: SchemaNode, rule: TransformRule): SchemaNode {
  const out = structuredClone(schema);
  if ('derive' in rule) {
    const from = rule.from;
    const node = 'condition' in from ? typed('boolean', false) : 'concat' in from ? typed('string', false) : structuredClone(lookup(out, from.field)!);
    const required = 'field' in from ? alwaysPresent(out, from.field) : true;
    out.properties = { ...out.properties, [rule.derive]: node };
    if (required) out.required = [...(out.required ?? []), rule.derive];
    return out;
  }
  const target = 'rename' in rule ? rule.rename : 'drop' in rule ? rule.drop : 'mask' in rule ? rule.mask : rule.cast;
  const [parent, key] = parentOf(out, target);
  const node = parent.properties![key];
  if ('rename' in rule) {
    parent.properties = Object.fromEntries(Object.entries(parent.properties!).map(([k, v]) => (k === key ? [rule.to, v] : [k, v])));
    if (parent.required) parent.required = parent.required.map((r) => (r === key ? rule.to : r));
  } else if ('drop' in rule) {
    delete parent.properties![key];
    if (parent.required) parent.required = parent.required.filter((r) => r !== key);
  } else {
    parent.properties![key] = typed('mask' in rule ? 'string' : rule.to, nullable(node), node.description);
  }
  return out;
}

/** The aggregates table's schema: window bounds, one nullable column per group-by field, the measures. */
export function aggregateSchema(output: SchemaNode, aggregate: AggregateRules): SchemaNode {
  const properties: Record<string, SchemaNode> = {
    window_start: { type: 'string', format: 'date-time' },
    window_end: { type: 'string', format: 'date-time' },
  };
  const required = ['window_start', 'window_end'];
  for (const group of aggregate.groupBy) properties[group.replace(/\./g, '_')] = typed(scalarType(lookup(output, group)!)!, true);
  for (const [col, m] of Object.entries(aggregate.measures)) {
    if ('count' in m || 'countDistinct' in m) {
      properties[col] = typed('integer', false);
      required.push(col);
    } else {
      const target = 'sum' in m ? m.sum : 'min' in m ? m.min : m.max;
      properties[col] = typed(scalarType(lookup(output, target)!)!, true);
    }
  }
  return { type: 'object', additionalProperties: false, required, properties };
}
