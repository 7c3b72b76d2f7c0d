import * as fs from 'fs';
import * as path from 'path';
import { loadRules, processingDocument, ProcessingRules, rulesFileSchema, RulesError, SchemaNode } from '../../platform/processing-rules';
import { fromRoot } from '../../platform/paths';

const CASES_DIR = fromRoot('test', 'rules');
const caseFiles = fs.readdirSync(CASES_DIR).filter((f) => f.endsWith('.cases.json'));

interface CaseFile {
  schema: string | SchemaNode;
  idField: string;
  eventTimeField: string;
  rules: unknown;
  outputSchema: SchemaNode;
  aggregateSchema: SchemaNode | null;
}

function schemaOf(c: CaseFile): SchemaNode {
  return typeof c.schema === 'string' ? JSON.parse(fs.readFileSync(fromRoot('schemas', c.schema), 'utf8')) : c.schema;
}

const CLICKSTREAM = JSON.parse(fs.readFileSync(fromRoot('schemas', 'clickstream.schema.json'), 'utf8')) as SchemaNode;
const SOURCE = { name: 'clickstream', idField: 'event_id', eventTimeField: 'occurred_at' };

/** The problems synth reports for these rules on the clickstream schema. */
function problems(rules: unknown): string[] {
  const parsed = rulesFileSchema.safeParse(rules);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  try {
    processingDocument(SOURCE, CLICKSTREAM, parsed.data, 'sources.clickstream.rules');
    return [];
  } catch (error) {
    if (!(error instanceof RulesError)) throw error;
    expect(error.message.startsWith('sources.clickstream.rules: ')).toBe(true);
    return error.problems;
  }
}

describe('the shared cases (test/rules): synth derives the schemas every engine builds its tables from', () => {
  test.each(caseFiles)('%s', (file) => {
    const c = JSON.parse(fs.readFileSync(path.join(CASES_DIR, file), 'utf8')) as CaseFile;
    const rules: ProcessingRules = rulesFileSchema.parse(c.rules);
    const doc = processingDocument({ name: 'case', idField: c.idField, eventTimeField: c.eventTimeField }, schemaOf(c), rules, 'case');
    expect(doc.outputSchema).toEqual(c.outputSchema);
    expect(doc.aggregateSchema).toEqual(c.aggregateSchema);
  });

  test('the example of docs/processing-rules.md is the clickstream case', () => {
    const doc = fs.readFileSync(fromRoot('docs', 'processing-rules.md'), 'utf8');
    const example = JSON.parse(/```json\n(\{\n {2}"filter"[\s\S]*?)```/.exec(doc)![1]);
    const c = JSON.parse(fs.readFileSync(path.join(CASES_DIR, 'clickstream.cases.json'), 'utf8'));
    expect(problems(example)).toEqual([]);
    expect(example.filter).toEqual(c.rules.filter);
    expect(example.transform).toEqual(c.rules.transform);
  });
});

describe('an invalid rule fails synth naming the rule and the field', () => {
  test.each([
    ['unknown field', { filter: [{ name: 'x', keep: { field: 'user', eq: 'a' } }] }, 'rule x: field user is not in the schema (top level has: event_id, event_type'],
    ['unknown nested field', { filter: [{ name: 'x', keep: { field: 'page.uri', exists: true } }] }, 'rule x: field page.uri is not in the schema (page has: url, referrer, title)'],
    ['string compared with a number', { filter: [{ name: 'x', drop: { field: 'user_id', eq: 5 } }] }, 'rule x: field user_id is string but is compared with 5 (integer)'],
    ['integer compared with a fraction', { filter: [{ name: 'x', drop: { field: 'duration_ms', in: [1, 2.5] } }] }, 'rule x: field duration_ms is integer but is compared with 2.5 (number)'],
    ['ordering on a string', { filter: [{ name: 'x', drop: { field: 'user_id', gt: 5 } }] }, 'rule x: gt compares numbers, but field user_id is string'],
    ['startsWith on a boolean', { filter: [{ name: 'x', drop: { not: { field: 'is_bot', startsWith: 't' } } }] }, 'rule x: startsWith applies to strings, but field is_bot is boolean'],
    ['mask of an integer', { transform: [{ name: 'x', mask: 'duration_ms', with: 'hash' }] }, 'rule x: field duration_ms is integer; mask applies to string fields (cast it first)'],
    ['unsupported cast', { transform: [{ name: 'x', cast: 'is_bot', to: 'integer' }] }, 'rule x: cannot cast is_bot from boolean to integer'],
    ['rename onto a field', { transform: [{ name: 'x', rename: 'user_id', to: 'session_id' }] }, 'rule x: cannot rename user_id to session_id: that field exists'],
    ['derive onto a field', { transform: [{ name: 'x', derive: 'user_id', from: { field: 'session_id' } }] }, 'rule x: cannot derive user_id: that field exists'],
    ['touch the id field', { transform: [{ name: 'x', mask: 'event_id', with: 'hash' }] }, "rule x: field event_id is the source's id field"],
    ['drop the event-time field', { transform: [{ name: 'x', drop: 'occurred_at' }] }, "rule x: field occurred_at is the source's event-time field"],
    ['a later rule on a dropped field', { transform: [{ name: 'a', drop: 'tags' }, { name: 'b', drop: 'tags' }] }, 'rule b: field tags is not in the schema'],
    ['concat of an object', { transform: [{ name: 'x', derive: 'k', from: { concat: [{ field: 'page' }] } }] }, 'rule x: field page is object; concat takes string, integer or boolean fields'],
    ['a name used twice', { filter: [{ name: 'x', keep: { field: 'is_bot', exists: true } }], transform: [{ name: 'x', drop: 'tags' }] }, 'rule x: the name is used twice'],
    ['sum of a string', { aggregate: { windowSeconds: 60, measures: { s: { sum: 'user_id' } } } }, 'aggregate.measures.s: sum of field user_id (string) is not supported (integer or number fields)'],
    ['group by a renamed-away field', { transform: [{ name: 'r', rename: 'event_type', to: 'kind' }], aggregate: { windowSeconds: 60, groupBy: ['event_type'], measures: { n: { count: '*' } } } }, 'aggregate.groupBy: field event_type is not in the output schema'],
    ['a measure named like the window', { aggregate: { windowSeconds: 60, measures: { window_start: { count: '*' } } } }, 'aggregate.measures.window_start: the name is taken by the window'],
  ])('%s', (_, rules, message) => {
    expect(problems(rules).join('\n')).toContain(message);
  });

  test.each([
    ['an operator that does not exist', { filter: [{ name: 'x', keep: { field: 'user_id', like: 'a%' } }] }, 'expected a condition'],
    ['two operators in one leaf', { filter: [{ name: 'x', keep: { field: 'user_id', eq: 'a', ne: 'b' } }] }, 'expected a condition'],
    ['null as a literal', { filter: [{ name: 'x', keep: { field: 'user_id', eq: null } }] }, 'expected a condition'],
    ['a bad rule name', { filter: [{ name: 'Drop Bots', keep: { field: 'is_bot', exists: false } }] }, 'filter.0.name: expected a rule name'],
    ['keep and drop in one filter', { filter: [{ name: 'x', keep: { field: 'is_bot', exists: false }, drop: { field: 'is_bot', exists: true } }] }, 'expected a filter with exactly one of keep or drop'],
    ['an unknown section', { filters: [] }, 'Unrecognized key'],
    ['a window of 0 s', { aggregate: { windowSeconds: 0, measures: { n: { count: '*' } } } }, 'aggregate.windowSeconds'],
  ])('the file form: %s', (_, rules, message) => {
    expect(problems(rules).join('\n')).toContain(message);
  });

  test('a file that is not JSON names the setting and the file', () => {
    const file = path.join(fs.mkdtempSync(path.join(require('os').tmpdir(), 'rules-')), 'bad.rules.json');
    fs.writeFileSync(file, '{ "filter": [ }');
    expect(() => loadRules(file, 'sources.clickstream.rules')).toThrow(/^sources\.clickstream\.rules: bad\.rules\.json is not a readable JSON file/);
  });
});
