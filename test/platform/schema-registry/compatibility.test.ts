import * as fs from 'fs';
import * as path from 'path';
import { checkCompatibility, CompatibilityMode, Incompatibility, JSONSchema } from '../../../platform/schema-registry/compatibility';
import { PROJECT_ROOT } from '../../../platform/paths';

type Obj = Record<string, any>;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** A closed (additionalProperties: false) draft-07 schema like ours, with one field per kind of change. */
const BASE: Obj = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    price: { type: 'number' },
    qty: { type: 'integer', minimum: 0 },
    status: { type: 'string', enum: ['a', 'b', 'c'] },
    name: { type: 'string', maxLength: 64 },
    email: { type: 'string' },
    code: { type: 'string', pattern: '^[A-Z]{3}$' },
    note: { type: ['string', 'null'] },
    page: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { url: { type: 'string', format: 'uri' }, title: { type: 'string' } },
    },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 20 },
  },
};

/** `edit` changes a copy of `from` (BASE unless given) into the next schema. */
interface Case {
  name: string;
  edit: (s: Obj) => void;
  from?: Obj;
  /** Compatible under BACKWARD, FORWARD, FULL, NONE. */
  verdict: [boolean, boolean, boolean, boolean];
}
const ok = true, no = false;
const open = (s: Obj) => { s.additionalProperties = true; };
const OPEN_BASE = clone(BASE);
open(OPEN_BASE);

const CASES: Case[] = [
  { name: 'no change', edit: () => {}, verdict: [ok, ok, ok, ok] },
  { name: 'only annotations change (description, title)', edit: (s) => { s.title = 'x'; s.properties.price.description = 'in cents'; }, verdict: [ok, ok, ok, ok] },
  { name: 'add an optional field', edit: (s) => { s.properties.coupon = { type: 'string' }; }, verdict: [ok, no, no, ok] },
  { name: 'add a required field', edit: (s) => { s.properties.coupon = { type: 'string' }; s.required.push('coupon'); }, verdict: [no, no, no, ok] },
  { name: 'remove an optional field', edit: (s) => { delete s.properties.email; }, verdict: [no, ok, no, ok] },
  { name: 'remove a required field', edit: (s) => { delete s.properties.id; s.required = []; }, verdict: [no, no, no, ok] },
  { name: 'make an optional field required', edit: (s) => { s.required.push('price'); }, verdict: [no, ok, no, ok] },
  { name: 'make a required field optional', edit: (s) => { s.required = []; }, verdict: [ok, no, no, ok] },
  { name: 'widen integer -> number', edit: (s) => { s.properties.qty.type = 'number'; }, verdict: [ok, no, no, ok] },
  { name: 'narrow number -> integer', edit: (s) => { s.properties.price.type = 'integer'; }, verdict: [no, ok, no, ok] },
  { name: 'change a type (number -> string)', edit: (s) => { s.properties.price.type = 'string'; }, verdict: [no, no, no, ok] },
  { name: 'tighten an enum (remove a value)', edit: (s) => { s.properties.status.enum = ['a', 'b']; }, verdict: [no, ok, no, ok] },
  { name: 'widen an enum (add a value)', edit: (s) => { s.properties.status.enum = ['a', 'b', 'c', 'd']; }, verdict: [ok, no, no, ok] },
  { name: 'replace an enum by its type (drop the enum)', edit: (s) => { delete s.properties.status.enum; }, verdict: [ok, no, no, ok] },
  { name: 'add an enum to a free string', edit: (s) => { s.properties.email.enum = ['x@y.z']; }, verdict: [no, ok, no, ok] },
  { name: 'add a format', edit: (s) => { s.properties.email.format = 'email'; }, verdict: [no, ok, no, ok] },
  { name: 'remove a format', edit: (s) => { delete s.properties.id.format; }, verdict: [ok, no, no, ok] },
  { name: 'change a format', edit: (s) => { s.properties.id.format = 'uri'; }, verdict: [no, no, no, ok] },
  { name: 'change a pattern', edit: (s) => { s.properties.code.pattern = '^[A-Z]{2,3}$'; }, verdict: [no, no, no, ok] },
  { name: 'add a pattern', edit: (s) => { s.properties.email.pattern = '@'; }, verdict: [no, ok, no, ok] },
  { name: 'remove a pattern', edit: (s) => { delete s.properties.code.pattern; }, verdict: [ok, no, no, ok] },
  { name: 'tighten maxLength', edit: (s) => { s.properties.name.maxLength = 32; }, verdict: [no, ok, no, ok] },
  { name: 'loosen maxLength', edit: (s) => { s.properties.name.maxLength = 128; }, verdict: [ok, no, no, ok] },
  { name: 'tighten minimum', edit: (s) => { s.properties.qty.minimum = 1; }, verdict: [no, ok, no, ok] },
  { name: 'loosen minimum', edit: (s) => { s.properties.qty.minimum = -1; }, verdict: [ok, no, no, ok] },
  { name: 'minimum 0 -> exclusiveMinimum 0 (tighter)', edit: (s) => { delete s.properties.qty.minimum; s.properties.qty.exclusiveMinimum = 0; }, verdict: [no, ok, no, ok] },
  { name: 'add a maximum', edit: (s) => { s.properties.price.maximum = 1000; }, verdict: [no, ok, no, ok] },
  { name: 'nested: add an optional field to an object property', edit: (s) => { s.properties.page.properties.lang = { type: 'string' }; }, verdict: [ok, no, no, ok] },
  { name: 'nested: remove a field of an object property', edit: (s) => { delete s.properties.page.properties.title; }, verdict: [no, ok, no, ok] },
  { name: 'nested: change the type of a field of an object property', edit: (s) => { s.properties.page.properties.url.type = 'integer'; }, verdict: [no, no, no, ok] },
  { name: 'nested: make a nested field required', edit: (s) => { s.properties.page.required.push('title'); }, verdict: [no, ok, no, ok] },
  { name: 'array items: change the item type', edit: (s) => { s.properties.tags.items.type = 'integer'; }, verdict: [no, no, no, ok] },
  { name: 'array items: allow null items', edit: (s) => { s.properties.tags.items.type = ['string', 'null']; }, verdict: [ok, no, no, ok] },
  { name: 'array: tighten maxItems', edit: (s) => { s.properties.tags.maxItems = 10; }, verdict: [no, ok, no, ok] },
  { name: 'array: add minItems', edit: (s) => { s.properties.tags.minItems = 1; }, verdict: [no, ok, no, ok] },
  { name: 'union: ["string","null"] -> "string"', edit: (s) => { s.properties.note.type = 'string'; }, verdict: [no, ok, no, ok] },
  { name: 'union: "string" -> ["string","null"]', edit: (s) => { s.properties.email.type = ['string', 'null']; }, verdict: [ok, no, no, ok] },
  { name: 'union: ["string","null"] -> ["null","string"] (same set)', edit: (s) => { s.properties.note.type = ['null', 'string']; }, verdict: [ok, ok, ok, ok] },
  { name: 'additionalProperties false -> true', edit: open, verdict: [ok, no, no, ok] },
  { name: 'additionalProperties true -> false', from: OPEN_BASE, edit: (s) => { s.additionalProperties = false; }, verdict: [no, ok, no, ok] },
  { name: 'open model: add an optional field', from: OPEN_BASE, edit: (s) => { s.properties.coupon = { type: 'string' }; }, verdict: [no, ok, no, ok] },
  { name: 'open model: remove an optional field', from: OPEN_BASE, edit: (s) => { delete s.properties.email; }, verdict: [ok, no, no, ok] },
  { name: 'cannot be checked: oneOf', edit: (s) => { s.properties.price = { oneOf: [{ type: 'number' }, { type: 'string' }] }; }, verdict: [no, no, no, ok] },
  { name: 'cannot be checked: $ref', edit: (s) => { s.definitions = { money: { type: 'number' } }; s.properties.price = { $ref: '#/definitions/money' }; }, verdict: [no, no, no, ok] },
  { name: 'cannot be checked: patternProperties', edit: (s) => { s.patternProperties = { '^x-': { type: 'string' } }; }, verdict: [no, no, no, ok] },
  { name: 'cannot be checked: an unknown keyword', edit: (s) => { s.properties.price.maximun = 3; }, verdict: [no, no, no, ok] },
];

const MODES: CompatibilityMode[] = ['BACKWARD', 'FORWARD', 'FULL', 'NONE'];
const rows = CASES.flatMap((c) => MODES.map((mode, i) => [c.name, mode, c.verdict[i], c] as const));

describe('checkCompatibility: each change x each mode', () => {
  test.each(rows)('%s under %s: compatible=%s', (_name, mode, compatible, c) => {
    const previous = clone(c.from ?? BASE);
    const next = clone(previous);
    c.edit(next);
    const found = checkCompatibility(previous, next, mode, 'clickstream');
    expect({ compatible: found.length === 0, messages: found.map((f) => f.format()) }).toEqual(
      expect.objectContaining({ compatible }),
    );
    for (const f of found) expect(f.rule).toBe(mode);
  });
});

function messages(edit: (s: Obj) => void, mode: CompatibilityMode, from: Obj = BASE): string[] {
  const next = clone(from);
  edit(next);
  return checkCompatibility(clone(from), next, mode, 'clickstream').map((f) => f.format());
}

describe('messages name the field, the change and the rule', () => {
  test('change a type', () => {
    expect(messages((s) => { s.properties.price.type = 'string'; }, 'BACKWARD')).toEqual([
      'clickstream: field "price" changed type number -> string: not BACKWARD compatible',
    ]);
    // The change reads previous -> next in either direction.
    expect(messages((s) => { s.properties.price.type = 'string'; }, 'FORWARD')).toEqual([
      'clickstream: field "price" changed type number -> string: not FORWARD compatible',
    ]);
  });
  test('add a required field', () => {
    expect(messages((s) => { s.properties.coupon = { type: 'string' }; s.required.push('coupon'); }, 'BACKWARD')).toEqual([
      'clickstream: field "coupon" added as a required field: not BACKWARD compatible',
    ]);
  });
  test('remove a field under a closed content model', () => {
    expect(messages((s) => { delete s.properties.email; }, 'BACKWARD')).toEqual(['clickstream: field "email" removed: not BACKWARD compatible']);
  });
  test('add an optional field, read by the old schema', () => {
    expect(messages((s) => { s.properties.coupon = { type: 'string' }; }, 'FORWARD')).toEqual(['clickstream: field "coupon" added: not FORWARD compatible']);
  });
  test('tighten an enum', () => {
    expect(messages((s) => { s.properties.status.enum = ['a', 'b']; }, 'BACKWARD')).toEqual([
      'clickstream: field "status" removed enum value "c": not BACKWARD compatible',
    ]);
  });
  test('widen integer -> number under FULL', () => {
    expect(messages((s) => { s.properties.qty.type = 'number'; }, 'FULL')).toEqual([
      'clickstream: field "qty" changed type integer -> number: not FULL compatible',
    ]);
  });
  test('add a format; tighten maxLength; make a field required', () => {
    expect(messages((s) => { s.properties.email.format = 'email'; }, 'BACKWARD')).toEqual(['clickstream: field "email" added format "email": not BACKWARD compatible']);
    expect(messages((s) => { s.properties.name.maxLength = 32; }, 'BACKWARD')).toEqual(['clickstream: field "name" changed maxLength 64 -> 32: not BACKWARD compatible']);
    expect(messages((s) => { s.required.push('price'); }, 'BACKWARD')).toEqual(['clickstream: field "price" changed from optional to required: not BACKWARD compatible']);
    expect(messages((s) => { s.required = []; }, 'FORWARD')).toEqual(['clickstream: field "id" changed from required to optional: not FORWARD compatible']);
  });
  test('nested paths: object properties and array items', () => {
    expect(messages((s) => { s.properties.page.properties.url.type = 'integer'; }, 'BACKWARD')).toEqual([
      'clickstream: field "page.url" changed type string -> integer: not BACKWARD compatible',
    ]);
    expect(messages((s) => { s.properties.tags.items.type = 'integer'; }, 'BACKWARD')).toEqual([
      'clickstream: field "tags[]" changed type string -> integer: not BACKWARD compatible',
    ]);
  });
  test('union and additionalProperties', () => {
    expect(messages((s) => { s.properties.note.type = 'string'; }, 'BACKWARD')).toEqual([
      'clickstream: field "note" changed type string|null -> string: not BACKWARD compatible',
    ]);
    expect(messages((s) => { s.additionalProperties = false; }, 'BACKWARD', OPEN_BASE)).toEqual([
      'clickstream: the schema root changed additionalProperties true -> false: not BACKWARD compatible',
    ]);
  });
  test('what cannot be decided is reported, never passed', () => {
    expect(messages((s) => { s.properties.price = { oneOf: [{ type: 'number' }, { type: 'string' }] }; }, 'BACKWARD')).toEqual([
      'clickstream: field "price" cannot be checked: oneOf: not BACKWARD compatible',
    ]);
    // Even when both versions carry the same undecidable keyword.
    const withRef = clone(BASE);
    withRef.properties.price = { $ref: '#/definitions/money' };
    withRef.definitions = { money: { type: 'number' } };
    expect(checkCompatibility(withRef, clone(withRef), 'FULL', 'orders').map((f) => f.format())).toEqual([
      'orders: field "price" cannot be checked: $ref: not FULL compatible',
    ]);
  });
  test('NONE checks nothing; an unknown mode is an error', () => {
    expect(checkCompatibility({ type: 'string' }, { type: 'number' }, 'NONE', 'x')).toEqual([]);
    expect(() => checkCompatibility({}, {}, 'SIDEWAYS' as CompatibilityMode, 'x')).toThrow('x: unknown compatibility mode "SIDEWAYS" (one of BACKWARD, FORWARD, FULL, NONE)');
  });
  test('an incompatibility carries path, change and rule', () => {
    const [f] = checkCompatibility({ type: 'number' }, { type: 'string' }, 'BACKWARD', 'orders');
    expect(f).toBeInstanceOf(Incompatibility);
    expect({ path: f.path, change: f.change, rule: f.rule }).toEqual({ path: '', change: 'changed type number -> string', rule: 'BACKWARD' });
    expect(f.format()).toBe('orders: the schema root changed type number -> string: not BACKWARD compatible');
  });
  test('boolean schemas', () => {
    expect(checkCompatibility({ type: 'string' }, true, 'BACKWARD', 'x')).toEqual([]);
    expect(checkCompatibility(true, { type: 'string' }, 'BACKWARD', 'x')).toHaveLength(1);
    expect(checkCompatibility(false as JSONSchema, { type: 'string' }, 'BACKWARD', 'x')).toEqual([]);
  });
});

describe("the repository's schemas (schemas/*.schema.json)", () => {
  const dir = path.join(PROJECT_ROOT, 'schemas');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.schema.json'));
  const load = (name: string): Obj => JSON.parse(fs.readFileSync(path.join(dir, `${name}.schema.json`), 'utf8'));

  test('there are schemas to check', () => expect(files.length).toBeGreaterThanOrEqual(2));

  test.each(files)('%s is FULL compatible with itself (every keyword it uses is supported)', (file) => {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    expect(checkCompatibility(schema, clone(schema), 'FULL', file).map((f) => f.format())).toEqual([]);
  });

  test('clickstream with a new optional field is BACKWARD compatible, not FORWARD (closed content model)', () => {
    const prev = load('clickstream');
    const next = clone(prev);
    next.properties.campaign = { type: ['string', 'null'], maxLength: 128 };
    expect(checkCompatibility(prev, next, 'BACKWARD', 'clickstream')).toEqual([]);
    expect(checkCompatibility(prev, next, 'FORWARD', 'clickstream').map((f) => f.format())).toEqual([
      'clickstream: field "campaign" added: not FORWARD compatible',
    ]);
  });

  test('clickstream: dropping an event type breaks BACKWARD; a new one breaks FORWARD', () => {
    const prev = load('clickstream');
    const fewer = clone(prev);
    fewer.properties.event_type.enum = fewer.properties.event_type.enum.filter((v: string) => v !== 'search');
    expect(checkCompatibility(prev, fewer, 'BACKWARD', 'clickstream').map((f) => f.format())).toEqual([
      'clickstream: field "event_type" removed enum value "search": not BACKWARD compatible',
    ]);
    const more = clone(prev);
    more.properties.event_type.enum.push('share');
    expect(checkCompatibility(prev, more, 'BACKWARD', 'clickstream')).toEqual([]);
    expect(checkCompatibility(prev, more, 'FORWARD', 'clickstream').map((f) => f.format())).toEqual([
      'clickstream: field "event_type" added enum value "share": not FORWARD compatible',
    ]);
  });

  test('clickstream: page.referrer no longer nullable breaks BACKWARD', () => {
    const prev = load('clickstream');
    const next = clone(prev);
    next.properties.page.properties.referrer.type = 'string';
    expect(checkCompatibility(prev, next, 'BACKWARD', 'clickstream').map((f) => f.format())).toEqual([
      'clickstream: field "page.referrer" changed type string|null -> string: not BACKWARD compatible',
    ]);
    expect(checkCompatibility(prev, next, 'FORWARD', 'clickstream')).toEqual([]);
  });

  test('orders: a required field in the line items breaks BACKWARD at items[].<field>', () => {
    const prev = load('orders');
    const next = clone(prev);
    next.properties.items.items.properties.discount = { type: 'number', minimum: 0 };
    next.properties.items.items.required.push('discount');
    expect(checkCompatibility(prev, next, 'BACKWARD', 'orders').map((f) => f.format())).toEqual([
      'orders: field "items[].discount" added as a required field: not BACKWARD compatible',
    ]);
  });

  test('orders: loosening quantity minimum 1 -> 0 is BACKWARD compatible, not FORWARD', () => {
    const prev = load('orders');
    const next = clone(prev);
    next.properties.items.items.properties.quantity.minimum = 0;
    expect(checkCompatibility(prev, next, 'BACKWARD', 'orders')).toEqual([]);
    expect(checkCompatibility(prev, next, 'FORWARD', 'orders').map((f) => f.format())).toEqual([
      'orders: field "items[].quantity" changed minimum 1 -> 0: not FORWARD compatible',
    ]);
  });

  test('orders: total_amount number -> string fails every mode but NONE', () => {
    const prev = load('orders');
    const next = clone(prev);
    next.properties.total_amount = { type: 'string' };
    for (const mode of ['BACKWARD', 'FORWARD', 'FULL'] as const) {
      expect(checkCompatibility(prev, next, mode, 'orders').map((f) => f.format())).toEqual([
        `orders: field "total_amount" changed type number -> string: not ${mode} compatible`,
      ]);
    }
    expect(checkCompatibility(prev, next, 'NONE', 'orders')).toEqual([]);
  });
});
