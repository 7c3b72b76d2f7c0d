/**
 * Schema compatibility checker for the JSON Schemas in schemas/ (draft-07, closed content models).
 *
 * Semantics follow Confluent Schema Registry (which the AWS Glue Schema Registry mirrors) for JSON Schema:
 * - BACKWARD: a consumer using the NEW schema can read data written with the OLD one, i.e. every instance valid
 *   under `previous` is valid under `next`;
 * - FORWARD: a consumer using the OLD schema can read data written with the NEW one (every instance valid under
 *   `next` is valid under `previous`);
 * - FULL: both; NONE: no check.
 *
 * The check is a conservative "is A a subschema of B" over the keywords our schemas use. Anything it cannot decide
 * (oneOf, $ref, patternProperties, an unknown keyword, ...) is reported as "cannot be checked: <keyword>", never
 * silently passed. See README.md next to this file.
 */
import { compileSchema } from '../handlers/schema-validator';

export type JSONSchema = boolean | { [keyword: string]: unknown };
export type CompatibilityMode = 'BACKWARD' | 'FORWARD' | 'FULL' | 'NONE';
export const COMPATIBILITY_MODES: readonly CompatibilityMode[] = ['BACKWARD', 'FORWARD', 'FULL', 'NONE'];

export class Incompatibility {
  constructor(
    /** Source (data source name) the schema belongs to. */
    readonly source: string,
    /** Dotted path of the field, `[]` for array items (`items[].sku`); '' for the schema root. */
    readonly path: string,
    /** What changed from the previous to the next schema, e.g. `changed type number -> string`. */
    readonly change: string,
    /** The mode the change breaks. */
    readonly rule: CompatibilityMode,
  ) {}

  /** `clickstream: field "price" changed type number -> string: not BACKWARD compatible` */
  format(): string {
    const where = this.path === '' ? 'the schema root' : `field "${this.path}"`;
    return `${this.source}: ${where} ${this.change}: not ${this.rule} compatible`;
  }
}

/** Returns the changes from `previous` to `next` that break `mode`; empty when compatible. */
export function checkCompatibility(previous: JSONSchema, next: JSONSchema, mode: CompatibilityMode, source: string): Incompatibility[] {
  if (!COMPATIBILITY_MODES.includes(mode)) throw new Error(`${source}: unknown compatibility mode "${mode}" (one of ${COMPATIBILITY_MODES.join(', ')})`);
  if (mode === 'NONE') return [];
  const directions: Direction[] = mode === 'FULL' ? ['BACKWARD', 'FORWARD'] : [mode];
  const seen = new Set<string>();
  const out: Incompatibility[] = [];
  for (const direction of directions) {
    for (const { path, change } of compare(previous, next, '', direction)) {
      const key = `${path}\u0000${change}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(new Incompatibility(source, path, change, mode));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

/** BACKWARD: `next` must accept everything `previous` accepts; FORWARD: the reverse. */
type Direction = 'BACKWARD' | 'FORWARD';
interface Problem {
  path: string;
  change: string;
}
type Obj = { [keyword: string]: unknown };

const TYPES = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'] as const;
type TypeName = (typeof TYPES)[number];

/** Keywords with no effect on which instances are valid. */
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'readOnly', 'writeOnly', 'definitions']);
/** Keywords this checker decides. Everything else makes a node "cannot be checked". */
const SUPPORTED = new Set([
  'type', 'enum', 'const',
  'properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties',
  'items', 'minItems', 'maxItems', 'uniqueItems',
  'minLength', 'maxLength', 'pattern', 'format',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
]);

const child = (path: string, name: string) => (path === '' ? name : `${path}.${name}`);

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems with reading instances valid under the writer schema with the reader schema (direction-dependent). */
function compare(prev: JSONSchema, next: JSONSchema, path: string, dir: Direction): Problem[] {
  const writer = dir === 'BACKWARD' ? prev : next;
  const reader = dir === 'BACKWARD' ? next : prev;
  // Boolean schemas (draft-07): `true` accepts everything, `false` nothing.
  if (writer === false || reader === true) return [];
  if (reader === false) return [{ path, change: dir === 'BACKWARD' ? 'is no longer allowed (schema false)' : 'was not allowed by the previous schema (schema false)' }];
  const w: Obj = writer === true ? {} : writer;
  const r: Obj = reader;
  if (!isObj(w) || !isObj(r)) return [{ path, change: 'cannot be checked: a schema that is neither an object nor a boolean' }];

  const unsupported = [...new Set([...Object.keys(prev === true || prev === false ? {} : prev), ...Object.keys(next === true || next === false ? {} : next)])]
    .filter((k) => !SUPPORTED.has(k) && !ANNOTATIONS.has(k))
    .sort();
  if (unsupported.length > 0) return unsupported.map((k) => ({ path, change: `cannot be checked: ${k}` }));

  // A writer with enum/const produces finitely many values: check each, with the validator the landing zone uses.
  const wValues = finiteValues(w);
  if (wValues !== undefined) return compareFinite(wValues, w, r, path, dir);
  if (r.enum !== undefined || r.const !== undefined) {
    const keyword = r.enum !== undefined ? 'enum' : 'const';
    const value = JSON.stringify(r[keyword]);
    return [{ path, change: dir === 'BACKWARD' ? `added ${keyword} ${value}` : `removed ${keyword} ${value}` }];
  }

  const problems: Problem[] = [];
  const wTypes = types(w);
  const rTypes = types(r);
  if (wTypes === undefined || rTypes === undefined) return [{ path, change: `cannot be checked: type ${JSON.stringify(w.type ?? r.type)}` }];
  const accepts = (t: TypeName) => rTypes.includes(t) || (t === 'integer' && rTypes.includes('number'));
  if (!wTypes.every(accepts)) {
    problems.push({ path, change: `changed type ${typeText(prev)} -> ${typeText(next)}` });
  }
  const both = (t: TypeName) => wTypes.includes(t) && accepts(t);

  if (both('string')) {
    problems.push(...bounds(w, r, path, dir, 'minLength', 'maxLength'));
    problems.push(...sameOrLooser(w, r, path, dir, 'pattern'));
    problems.push(...sameOrLooser(w, r, path, dir, 'format'));
  }
  // Numbers: integers are numbers, so the bounds matter whenever both sides admit some numeric type.
  const numeric = (ts: TypeName[]) => ts.includes('number') || ts.includes('integer');
  if (numeric(wTypes) && numeric(rTypes)) {
    problems.push(...numericBounds(w, r, path, dir));
    problems.push(...multipleOf(w, r, path, dir));
  }
  if (both('array')) {
    problems.push(...bounds(w, r, path, dir, 'minItems', 'maxItems'));
    if (r.uniqueItems === true && w.uniqueItems !== true) problems.push({ path, change: dir === 'BACKWARD' ? 'added uniqueItems' : 'removed uniqueItems' });
    problems.push(...compareItems(w, r, path, dir));
  }
  if (both('object')) {
    problems.push(...bounds(w, r, path, dir, 'minProperties', 'maxProperties'));
    problems.push(...compareObject(w, r, path, dir));
  }
  return problems;
}

function finiteValues(s: Obj): unknown[] | undefined {
  if (s.const !== undefined) return [s.const];
  if (Array.isArray(s.enum)) return s.enum;
  return undefined;
}

function compareFinite(values: unknown[], w: Obj, r: Obj, path: string, dir: Direction): Problem[] {
  const producible = values.filter((v) => valid(w, v));
  const rValues = finiteValues(r);
  const problems: Problem[] = [];
  for (const v of producible) {
    if (valid(r, v)) continue;
    const text = JSON.stringify(v);
    if (rValues !== undefined && !rValues.some((x) => deepEqual(x, v))) {
      problems.push({ path, change: dir === 'BACKWARD' ? `removed enum value ${text}` : `added enum value ${text}` });
    } else {
      problems.push({ path, change: `changed so that value ${text} is valid under only the ${dir === 'BACKWARD' ? 'previous' : 'new'} schema` });
    }
  }
  return problems;
}

const validators = new WeakMap<Obj, (v: unknown) => boolean>();
function valid(schema: Obj, value: unknown): boolean {
  let validate = validators.get(schema);
  if (validate === undefined) {
    const compiled = compileSchema(schema);
    validate = (v) => compiled(v) === undefined;
    validators.set(schema, validate);
  }
  return validate(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

/** The types a schema admits; all of them when `type` is absent; undefined when `type` is malformed. */
function types(s: Obj): TypeName[] | undefined {
  if (s.type === undefined) return [...TYPES];
  const list = Array.isArray(s.type) ? s.type : [s.type];
  if (!list.every((t): t is TypeName => typeof t === 'string' && (TYPES as readonly string[]).includes(t))) return undefined;
  return list;
}

function typeText(s: JSONSchema): string {
  if (s === true || (isObj(s) && s.type === undefined)) return 'any';
  if (s === false) return 'none';
  return Array.isArray(s.type) ? (s.type as string[]).join('|') : String(s.type);
}

/** A change of a keyword the reader can only keep or drop: pattern (regex inclusion is not decided), format. */
function sameOrLooser(w: Obj, r: Obj, path: string, dir: Direction, keyword: 'pattern' | 'format'): Problem[] {
  if (r[keyword] === undefined || r[keyword] === w[keyword]) return [];
  const [p, n] = dir === 'BACKWARD' ? [w[keyword], r[keyword]] : [r[keyword], w[keyword]];
  if (p === undefined) return [{ path, change: `added ${keyword} ${JSON.stringify(n)}` }];
  if (n === undefined) return [{ path, change: `removed ${keyword} ${JSON.stringify(p)}` }];
  return [{ path, change: `changed ${keyword} ${JSON.stringify(p)} -> ${JSON.stringify(n)}` }];
}

/** Integer lower/upper bounds (minLength/maxLength, minItems/maxItems, minProperties/maxProperties). */
function bounds(w: Obj, r: Obj, path: string, dir: Direction, min: string, max: string): Problem[] {
  const problems: Problem[] = [];
  const wMin = num(w[min]) ?? 0;
  const rMin = num(r[min]) ?? 0;
  if (rMin > wMin) problems.push(boundChange(w, r, path, dir, min));
  const wMax = num(w[max]) ?? Infinity;
  const rMax = num(r[max]) ?? Infinity;
  if (rMax < wMax) problems.push(boundChange(w, r, path, dir, max));
  return problems;
}

function boundChange(w: Obj, r: Obj, path: string, dir: Direction, keyword: string): Problem {
  const [p, n] = dir === 'BACKWARD' ? [w[keyword], r[keyword]] : [r[keyword], w[keyword]];
  if (p === undefined) return { path, change: `added ${keyword} ${n}` };
  if (n === undefined) return { path, change: `removed ${keyword} ${p}` };
  return { path, change: `changed ${keyword} ${p} -> ${n}` };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Draft-07 numeric bounds: minimum/exclusiveMinimum and maximum/exclusiveMaximum (numbers, not booleans). */
function numericBounds(w: Obj, r: Obj, path: string, dir: Direction): Problem[] {
  const problems: Problem[] = [];
  const lower = (s: Obj) => tightest([num(s.minimum), false], [num(s.exclusiveMinimum), true], 'lower');
  const upper = (s: Obj) => tightest([num(s.maximum), false], [num(s.exclusiveMaximum), true], 'upper');
  const wl = lower(w), rl = lower(r), wu = upper(w), ru = upper(r);
  // The reader's bound must be no tighter than the writer's.
  const lowerOk = rl === undefined || (wl !== undefined && (wl.value > rl.value || (wl.value === rl.value && (wl.exclusive || !rl.exclusive))));
  const upperOk = ru === undefined || (wu !== undefined && (wu.value < ru.value || (wu.value === ru.value && (wu.exclusive || !ru.exclusive))));
  if (!lowerOk) problems.push(...changedKeywords(w, r, path, dir, ['minimum', 'exclusiveMinimum']));
  if (!upperOk) problems.push(...changedKeywords(w, r, path, dir, ['maximum', 'exclusiveMaximum']));
  return problems;
}

function tightest(a: [number | undefined, boolean], b: [number | undefined, boolean], side: 'lower' | 'upper') {
  const bounds = [a, b].filter((x): x is [number, boolean] => x[0] !== undefined).map(([value, exclusive]) => ({ value, exclusive }));
  if (bounds.length === 0) return undefined;
  return bounds.reduce((x, y) => {
    if (x.value === y.value) return { value: x.value, exclusive: x.exclusive || y.exclusive };
    return (side === 'lower' ? y.value > x.value : y.value < x.value) ? y : x;
  });
}

function changedKeywords(w: Obj, r: Obj, path: string, dir: Direction, keywords: string[]): Problem[] {
  const out = keywords.filter((k) => w[k] !== r[k]).map((k) => boundChange(w, r, path, dir, k));
  return out.length > 0 ? out : [boundChange(w, r, path, dir, keywords[0])];
}

function multipleOf(w: Obj, r: Obj, path: string, dir: Direction): Problem[] {
  const rm = num(r.multipleOf);
  if (rm === undefined) return [];
  const wm = num(w.multipleOf);
  if (wm !== undefined && Number.isInteger(wm / rm)) return [];
  return [boundChange(w, r, path, dir, 'multipleOf')];
}

function compareItems(w: Obj, r: Obj, path: string, dir: Direction): Problem[] {
  if (Array.isArray(w.items) || Array.isArray(r.items)) return [{ path, change: 'cannot be checked: items as an array (tuple)' }];
  const wi = (w.items ?? true) as JSONSchema;
  const ri = (r.items ?? true) as JSONSchema;
  const [p, n] = dir === 'BACKWARD' ? [wi, ri] : [ri, wi];
  return compare(p, n, `${path}[]`, dir);
}

function compareObject(w: Obj, r: Obj, path: string, dir: Direction): Problem[] {
  const problems: Problem[] = [];
  const wProps = (isObj(w.properties) ? w.properties : {}) as Record<string, JSONSchema>;
  const rProps = (isObj(r.properties) ? r.properties : {}) as Record<string, JSONSchema>;
  const wAdditional = (w.additionalProperties ?? true) as JSONSchema;
  const rAdditional = (r.additionalProperties ?? true) as JSONSchema;
  const wRequired = Array.isArray(w.required) ? (w.required as string[]) : [];
  const rRequired = Array.isArray(r.required) ? (r.required as string[]) : [];
  const pair = (ws: JSONSchema, rs: JSONSchema): [JSONSchema, JSONSchema] => (dir === 'BACKWARD' ? [ws, rs] : [rs, ws]);

  // Properties the reader requires must be present in every writer instance.
  for (const name of rRequired) {
    if (wRequired.includes(name)) continue;
    const declaredByWriter = name in wProps;
    const change = dir === 'BACKWARD'
      ? declaredByWriter ? 'changed from optional to required' : 'added as a required field'
      : declaredByWriter ? 'changed from required to optional' : 'removed (it was required)';
    problems.push({ path: child(path, name), change });
  }

  // Properties the writer declares: the reader must accept their values under the same name.
  for (const [name, ws] of Object.entries(wProps)) {
    if (ws === false) continue;
    if (name in rProps) {
      problems.push(...compare(...pair(ws, rProps[name]), child(path, name), dir));
    } else if (rAdditional === false) {
      problems.push({ path: child(path, name), change: dir === 'BACKWARD' ? 'removed' : 'added' });
    } else {
      problems.push(...compare(...pair(ws, rAdditional), child(path, name), dir));
    }
  }

  if (wAdditional === false) return problems;
  // The writer also admits undeclared properties (open content model).
  for (const [name, rs] of Object.entries(rProps)) {
    if (name in wProps) continue;
    if (compare(...pair(wAdditional, rs), child(path, name), dir).length > 0) {
      problems.push({
        path: child(path, name),
        change: dir === 'BACKWARD'
          ? 'added, but the previous schema allowed it with any value (additionalProperties)'
          : 'removed, but the new schema allows it with any value (additionalProperties)',
      });
    }
  }
  if (rAdditional === false) {
    const [p, n] = pair(wAdditional, rAdditional);
    problems.push({ path, change: `changed additionalProperties ${JSON.stringify(p === true ? true : p)} -> ${JSON.stringify(n === true ? true : n)}` });
  } else {
    problems.push(...compare(...pair(wAdditional, rAdditional), child(path, '*'), dir));
  }
  return problems;
}
