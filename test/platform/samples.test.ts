import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseConfig, readCdkJsonContext, SCHEMAS_DIR, sourcesFeeding } from '../../platform/config';
import { PROJECT_ROOT } from '../../platform/paths';
import { loadSamples, readSamples } from '../../platform/samples';

const config = parseConfig(readCdkJsonContext());

describe('the sample events the publishing scripts send (scripts/samples.ts)', () => {
  test.each(Object.keys(config.sources))('%s: every sample in schemas/ is valid against its schema', (source) => {
    const samples = loadSamples(config, source);
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((event) => event[config.sources[source].idField] !== undefined)).toBe(true);
  });

  test('an unknown source names the configured ones', () => {
    expect(() => loadSamples(config, 'nope')).toThrow(`unknown source "nope" (cdk.json sources: ${Object.keys(config.sources).join(', ')})`);
  });

  describe('a bad file fails at its line, before anything is sent', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-samples-'));
    const schema = path.join(SCHEMAS_DIR, 'clickstream.schema.json');
    const valid = fs.readFileSync(path.join(SCHEMAS_DIR, 'clickstream.samples.ndjson'), 'utf8').split('\n')[0];
    const file = (name: string, text: string) => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('malformed JSON', () => {
      expect(() => readSamples(file('a.ndjson', `${valid}\n\n{"event_id":`), schema)).toThrow(/^a\.ndjson:3: not valid JSON/);
    });

    test('an event the schema rejects', () => {
      const invalid = JSON.stringify({ ...JSON.parse(valid), event_type: 42 });
      expect(() => readSamples(file('b.ndjson', `${valid}\n${invalid}\n`), schema)).toThrow(/^b\.ndjson:2: not valid against clickstream\.schema\.json: \{.*event_type/);
    });

    test('no event at all', () => {
      expect(() => readSamples(file('c.ndjson', '\n\n'), schema)).toThrow('c.ndjson holds no sample events');
    });
  });

  test('publish-pubsub-samples --dry-run checks the Pub/Sub source\'s samples and sends nothing', () => {
    const out = execFileSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/publish-pubsub-samples.ts', '--dry-run'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    });
    const [source] = sourcesFeeding(config, 'gcp');
    expect(out).toContain(`${loadSamples(config, source).length} ${source} samples are valid; --dry-run, so nothing was published`);
  });
});
