import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileSchema, inspectSchema, loadSchema } from '../../../platform/handlers/schema-validator';
import { fromRoot } from '../../../platform/paths';

const DRAFTS = {
  'draft-07': 'http://json-schema.org/draft-07/schema#',
  '2019-09': 'https://json-schema.org/draft/2019-09/schema',
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

describe('schemas valid under their draft load (no Ajv strict mode)', () => {
  it.each(Object.entries(DRAFTS))('%s: if without then, minContains without contains, annotation-only formats', (draft, $schema) => {
    const schema = {
      $schema,
      type: 'object',
      properties: {
        a: { if: { type: 'string' } },
        b: { type: 'array', minContains: 2 },
        c: { type: 'string', format: 'iri' },
        d: { type: 'string', format: 'idn-email' },
        e: { type: 'string', format: 'idn-hostname' },
        f: { type: 'string', format: 'iri-reference' },
        g: { type: 'string', format: 'my-vendor-format' },
        h: { properties: { x: { type: 'string' } } }, // no "type": fine in JSON Schema
      },
    };
    const validate = compileSchema(schema);
    // Annotation-only formats accept any string; the known ones are still checked.
    expect(validate({ a: 1, b: [], c: 'not an iri ü', d: 'nope', e: '!', f: '?', g: 'x' })).toBeUndefined();
    // minContains is new in 2019-09: draft-07 ignores it, and synth warns.
    expect(inspectSchema(schema)).toEqual({ unknownKeywords: draft === 'draft-07' ? ['minContains'] : [] });
  });

  it.each(['2019-09', '2020-12'] as const)('%s: $anchor is a core keyword and $ref resolves to it', (draft) => {
    const schema = {
      $schema: DRAFTS[draft],
      $defs: { id: { $anchor: 'eventId', type: 'string', format: 'uuid' } },
      type: 'object',
      properties: { id: { $ref: '#eventId' } },
    };
    expect(inspectSchema(schema)).toEqual({ unknownKeywords: [] });
    const validate = compileSchema(schema);
    expect(validate({ id: '0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01' })).toBeUndefined();
    expect(validate({ id: 'x' })).toEqual([expect.objectContaining({ keyword: 'format', instancePath: '/id' })]);
  });

  it('draft-07 ignores $anchor (not in that draft) and reports it as unknown', () => {
    expect(inspectSchema({ $schema: DRAFTS['draft-07'], $anchor: 'x', type: 'object' })).toEqual({ unknownKeywords: ['$anchor'] });
  });
});

describe('inspectSchema (the synth-time check)', () => {
  it('returns unknown keywords (typos) once each, and the schema still loads', () => {
    const schema = {
      $schema: DRAFTS['2020-12'],
      type: 'object',
      prperties: { a: { type: 'string' } },
      properties: { b: { type: 'string', maxLenght: 3 }, c: { type: 'string', maxLenght: 4 } },
    };
    expect(inspectSchema(schema).unknownKeywords.sort()).toEqual(['maxLenght', 'prperties']);
    expect(compileSchema(schema)({ b: 'long string' })).toBeUndefined(); // typos are ignored, as the standard says
  });

  it('throws what is wrong for a schema invalid under its draft', () => {
    expect(() => inspectSchema({ type: 'object', properties: { x: { type: 'strin' } } })).toThrow(
      /^schema is invalid: data\/properties\/x\/type must be equal to one of the allowed values/,
    );
    expect(() => inspectSchema({ $schema: DRAFTS['2020-12'], type: 'array', items: [{ type: 'string' }] })).toThrow(/^schema is invalid: data\/items must be object,boolean/);
    expect(() => inspectSchema({ type: 'object', properties: { x: { $ref: '#/$defs/missing' } } })).toThrow(/^schema cannot be compiled: can't resolve reference #\/\$defs\/missing/);
    expect(() => inspectSchema([])).toThrow('schema is invalid: a JSON Schema must be a JSON object');
    expect(() => inspectSchema({ type: 'string', pattern: '(' })).toThrow(/^schema cannot be compiled: Invalid regular expression: \/\(\/u/);
  });

  it('uses the same formats as the Lambda (RFC-exact date-time)', () => {
    const schema = { type: 'string', format: 'date-time' };
    expect(inspectSchema(schema)).toEqual({ unknownKeywords: [] });
    expect(compileSchema(schema)('2026-11-20T09:15:02+01')).toEqual([expect.objectContaining({ keyword: 'format' })]);
  });

  it('the project schemas load without unknown keywords', () => {
    for (const name of ['clickstream', 'orders']) {
      const schema = JSON.parse(fs.readFileSync(fromRoot('schemas', `${name}.schema.json`), 'utf8'));
      expect(inspectSchema(schema)).toEqual({ unknownKeywords: [] });
    }
  });
});

describe('loadSchema', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-schema-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names the file when the schema is unreadable or invalid', () => {
    fs.writeFileSync(path.join(dir, 'broken.json'), '{');
    fs.writeFileSync(path.join(dir, 'invalid.json'), '{"type":"strin"}');
    expect(() => loadSchema(path.join(dir, 'broken.json'))).toThrow(/^cannot load the JSON Schema at .*broken\.json/);
    expect(() => loadSchema(path.join(dir, 'invalid.json'))).toThrow(/^the JSON Schema at .*invalid\.json cannot be used: schema is invalid: data\/type/);
  });
});
