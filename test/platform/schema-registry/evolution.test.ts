/**
 * Changing a schema, the way a user does: edit `schemas/<source>.schema.json` (here: a copy of schemas/ pointed at with
 * `schemasDir`), synthesize, deploy. The gate's verdicts per change and mode, each failing change through the real
 * app entry point (`bin/aws.ts`, what `cdk synth` runs) so its message is what the user reads; and what a compatible
 * change deploys: a new registry version, checked AVAILABLE, the v1 schema resource untouched, validators updated
 * after the registry and the jobs.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { Template } from 'aws-cdk-lib/assertions';
import { buildAwsApp } from '../../../platform/aws-app';
import { parseConfig, readCdkJsonContext, SCHEMAS_DIR } from '../../../platform/config';
import { PROJECT_ROOT } from '../../../platform/paths';
import { REGISTRY_COMPATIBILITIES, RegistryCompatibility, schemaHistory } from '../../../platform/schema-registry/versions';
import { testApp } from '../../support/aws';
import { configProblems } from '../../support/config';

jest.setTimeout(240_000);

type Schema = { properties: Record<string, Record<string, unknown>>; required: string[] };
type Change = (schema: Schema) => void;

/** A copy of schemas/ (releases included) with clickstream's current schema changed by `change`. */
function schemasWith(change?: Change, source = 'clickstream'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-schemas-'));
  fs.cpSync(SCHEMAS_DIR, dir, { recursive: true });
  if (change) {
    const file = path.join(dir, `${source}.schema.json`);
    const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as Schema;
    change(schema);
    fs.writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
  }
  return dir;
}

const addOptional: Change = (s) => void (s.properties.coupon_code = { type: 'string', maxLength: 32 });

/** The table: each change, and the modes it is compatible under (closed content model, as our schemas are). */
const CHANGES: { name: string; source?: string; change: Change; compatible: RegistryCompatibility[]; message: string }[] = [
  { name: 'add an optional field', change: addOptional, compatible: ['BACKWARD', 'BACKWARD_ALL', 'NONE'], message: '' },
  {
    name: 'add a required field',
    change: (s) => {
      s.properties.coupon_code = { type: 'string' };
      s.required.push('coupon_code');
    },
    compatible: ['NONE'],
    message: 'clickstream: field "coupon_code" added as a required field: not BACKWARD compatible',
  },
  {
    name: 'remove a field',
    change: (s) => void delete s.properties.page,
    compatible: ['FORWARD', 'FORWARD_ALL', 'NONE'],
    message: 'clickstream: field "page" removed: not BACKWARD compatible',
  },
  {
    name: 'widen integer to number',
    change: (s) => void (s.properties.duration_ms = { type: 'number', minimum: 0 }),
    compatible: ['BACKWARD', 'BACKWARD_ALL', 'NONE'],
    message: '',
  },
  {
    name: 'narrow number to integer',
    source: 'orders',
    change: (s) => void (s.properties.total_amount = { type: 'integer', minimum: 0 }),
    compatible: ['FORWARD', 'FORWARD_ALL', 'NONE'],
    message: 'orders: field "total_amount" changed type number -> integer: not BACKWARD compatible',
  },
  {
    name: 'change a type',
    change: (s) => void (s.properties.user_id = { type: 'integer' }),
    compatible: ['NONE'],
    message: 'clickstream: field "user_id" changed type string -> integer: not BACKWARD compatible',
  },
  {
    name: 'tighten an enum',
    change: (s) => void (s.properties.event_type.enum = (s.properties.event_type.enum as string[]).filter((v) => v !== 'search')),
    compatible: ['FORWARD', 'FORWARD_ALL', 'NONE'],
    message: 'clickstream: field "event_type"',
  },
  {
    name: 'add a format',
    change: (s) => void (s.properties.session_id = { ...s.properties.session_id, format: 'uuid' }),
    compatible: ['FORWARD', 'FORWARD_ALL', 'NONE'],
    message: 'clickstream: field "session_id"',
  },
];

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const workspace = (change?: Change, source?: string) => {
  const dir = schemasWith(change, source);
  dirs.push(dir);
  return dir;
};

describe('the compatibility gate (every synth, from the configuration)', () => {
  const withMode = (schemasDir: string, source: string, mode: RegistryCompatibility) => {
    const context = readCdkJsonContext();
    const sources = context.sources as Record<string, Record<string, unknown>>;
    return { ...context, schemasDir, sources: { ...sources, [source]: { ...sources[source], compatibility: mode } } };
  };

  test.each(CHANGES)('$name: compatible exactly under $compatible', ({ change, source = 'clickstream', compatible }) => {
    const schemasDir = workspace(change, source);
    const verdicts = Object.fromEntries(
      REGISTRY_COMPATIBILITIES.map((mode) => {
        try {
          parseConfig(withMode(schemasDir, source, mode));
          return [mode, true];
        } catch {
          return [mode, false];
        }
      }),
    );
    expect(Object.keys(verdicts).filter((mode) => verdicts[mode])).toEqual(REGISTRY_COMPATIBILITIES.filter((m) => compatible.includes(m)));
  });

  test('every change that breaks BACKWARD fails `cdk synth` (bin/aws.ts) with exit 1 and a message naming the setting, the field, the change, the rule and the files', async () => {
    const failing = CHANGES.filter((c) => !c.compatible.includes('BACKWARD'));
    const bases: string[] = [];
    const runs = await Promise.all(
      failing.map(async ({ change, source = 'clickstream' }) => {
        const schemasDir = workspace(change, source);
        bases.push(path.basename(schemasDir));
        const env = { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ ...readCdkJsonContext(), schemasDir }), CDK_OUTDIR: fs.mkdtempSync(path.join(os.tmpdir(), 'sf-out-')) };
        dirs.push(env.CDK_OUTDIR);
        try {
          await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'bin', 'aws.ts')], { env, cwd: PROJECT_ROOT });
          return { code: 0, stderr: '' };
        } catch (error) {
          const { code, stderr } = error as { code: number; stderr: string };
          return { code, stderr };
        }
      }),
    );
    failing.forEach(({ message, source = 'clickstream' }, i) => {
      const { code, stderr } = runs[i];
      expect(code).toBe(1);
      expect(stderr).toContain('Invalid Stream Foundry configuration (cdk.json context or -c):');
      expect(stderr).toContain(`sources.${source}.schema: received "${source}.schema.json"; ${message}`);
      // Files are named from the schemas directory's parent: schemas/... for the project's own.
      expect(stderr).toContain(`${bases[i]}/${source}.schema.json against release v1 (${bases[i]}/releases/${source}/v1.schema.json)`);
      expect(stderr).toContain(`ship it as a new major version: a new source such as "${source}-v2"`);
    });
  });

  test('the exact message of a type change', () => {
    const schemasDir = workspace(CHANGES.find((c) => c.name === 'change a type')!.change);
    const problems = configProblems({ ...readCdkJsonContext(), schemasDir }).map((p) => p.replaceAll(path.basename(schemasDir), 'schemas'));
    expect(problems).toEqual([
      `sources.clickstream.schema: received "clickstream.schema.json"; clickstream: field "user_id" changed type string -> integer: not BACKWARD compatible: ` +
        `schemas/clickstream.schema.json against release v1 (schemas/releases/clickstream/v1.schema.json). Make it compatible (add fields as optional; keep the ` +
        `types and the names), or ship it as a new major version: a new source such as "clickstream-v2" with this schema, its own tables and topics, ` +
        `beside "clickstream" until its publishers have moved (README "Changing a schema")`,
    ]);
  });

  test('*_ALL modes compare the current schema with every release, the others with the last one', () => {
    // v2 (released) = v1 + an optional field; the current schema then changes a type: one problem per release compared.
    const schemasDir = workspace((s) => {
      addOptional(s);
      s.properties.user_id = { type: 'integer' };
    });
    const v2 = JSON.parse(fs.readFileSync(path.join(schemasDir, 'releases', 'clickstream', 'v1.schema.json'), 'utf8')) as Schema;
    addOptional(v2);
    fs.writeFileSync(path.join(schemasDir, 'releases', 'clickstream', 'v2.schema.json'), JSON.stringify(v2));
    const config = (mode: RegistryCompatibility) => {
      const context = readCdkJsonContext() as { sources: Record<string, object> };
      return { ...context, schemasDir, sources: { ...context.sources, clickstream: { ...context.sources.clickstream, compatibility: mode } } };
    };
    const against = (mode: RegistryCompatibility) => [...configProblems(config(mode)).join('\n').matchAll(/against (release v\d)/g)].map((m) => m[1]);
    expect(against('BACKWARD')).toEqual(['release v2']);
    expect(against('BACKWARD_ALL')).toEqual(['release v1', 'release v2']);
    expect(() => parseConfig(config('NONE'))).not.toThrow();
  });

  test('a breaking change ships as a new major version: a new source with its own schema, beside the old one', () => {
    const schemasDir = workspace();
    const breaking = JSON.parse(fs.readFileSync(path.join(schemasDir, 'clickstream.schema.json'), 'utf8')) as Schema;
    breaking.properties.user_id = { type: 'integer' };
    fs.writeFileSync(path.join(schemasDir, 'clickstream-v2.schema.json'), JSON.stringify(breaking));
    const context = readCdkJsonContext() as { sources: Record<string, object> };
    const config = parseConfig({ ...context, schemasDir, sources: { ...context.sources, 'clickstream-v2': { ...context.sources.clickstream, schema: 'clickstream-v2.schema.json', pipelines: ['landingZone', 'kinesisToDeltaLake'] } } });
    expect(Object.keys(config.sources)).toEqual(['clickstream', 'orders', 'clickstream-v2']);
  });

  test('releases are numbered v1, v2, ... without gaps; anything else in releases/ fails naming it', () => {
    const schemasDir = workspace();
    fs.copyFileSync(path.join(schemasDir, 'releases', 'orders', 'v1.schema.json'), path.join(schemasDir, 'releases', 'orders', 'v3.schema.json'));
    expect(configProblems({ ...readCdkJsonContext(), schemasDir })).toEqual([
      `sources.orders.schema: received "orders.schema.json"; ${path.join('releases', 'orders')}: expected v2.schema.json next, found v3.schema.json (releases are numbered from v1 without gaps)`.replace(
        path.join('releases', 'orders'),
        path.relative(path.dirname(schemasDir), path.join(schemasDir, 'releases', 'orders')),
      ),
    ]);
  });

  test('a draft the registry does not support fails', () => {
    const schemasDir = workspace((s) => void ((s as unknown as Record<string, unknown>).$schema = 'https://json-schema.org/draft/2020-12/schema'));
    expect(configProblems({ ...readCdkJsonContext(), schemasDir }).join('\n')).toContain(
      'declares $schema "https://json-schema.org/draft/2020-12/schema"; the Glue Schema Registry supports http://json-schema.org/draft-04/schema#',
    );
  });
});

test("the project's schemas are recorded: each source's current schema is its last release (a change is recorded in the same pull request)", () => {
  const { sources } = parseConfig(readCdkJsonContext());
  for (const [name, source] of Object.entries(sources)) {
    // The newest version is the current schema itself unless it equals (in meaning) the last release.
    const newest = schemaHistory(SCHEMAS_DIR, name, path.join(SCHEMAS_DIR, source.schema)).at(-1)!;
    if (!newest.released) {
      throw new Error(`schemas/${source.schema} is not recorded: record it with "mkdir -p schemas/releases/${name} && cp schemas/${source.schema} schemas/releases/${name}/v${newest.number}.schema.json" (README "Changing a schema")`);
    }
  }
});

describe('what a compatible change deploys', () => {
  /** The pipeline 2 and landing-zone stacks of the app as `cdk synth` builds it, with `schemasDir` and `overrides` (only those two built). */
  function synth(schemasDir: string, overrides: Record<string, unknown> = {}) {
    const app = testApp({ 'aws:cdk:bundling-stacks': [], schemasDir, ...overrides });
    buildAwsApp(app, parseConfig(app.node.getAllContext()), ['landingZone', 'kinesisToDeltaLake']);
    const template = (id: string) => Template.fromStack(app.node.findChild(id) as never).toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>; Outputs: Record<string, unknown> };
    return { landingZone: template('LandingZone'), kinesis: template('KinesisToDeltaLake') };
  }
  const ofType = (t: ReturnType<typeof synth>['landingZone'], type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);

  const before = synth(workspace());
  const edited = workspace(addOptional);
  const after = synth(edited);

  test('v1 stays the AWS::Glue::Schema, unchanged (no "already exists"); v2 is an AWS::Glue::SchemaVersion registered after v1 is AVAILABLE', () => {
    const schemas = (t: typeof before.landingZone) => Object.fromEntries(ofType(t, 'AWS::Glue::Schema'));
    expect(schemas(after.landingZone)).toEqual(schemas(before.landingZone));
    expect(schemas(after.kinesis)).toEqual(schemas(before.kinesis));
    const v1 = fs.readFileSync(path.join(SCHEMAS_DIR, 'releases', 'clickstream', 'v1.schema.json'), 'utf8');
    const [[schemaId, schema]] = ofType(after.landingZone, 'AWS::Glue::Schema').filter(([, r]) => r.Properties.Name === 'clickstream');
    expect(schema.Properties).toMatchObject({ SchemaDefinition: v1, Compatibility: 'BACKWARD', DataFormat: 'JSON' });

    const versions = ofType(after.landingZone, 'AWS::Glue::SchemaVersion');
    expect(versions).toHaveLength(1);
    const [[versionId, version]] = versions;
    expect(versionId).toMatch(/^LandingZoneclickstreamSchemaV2/);
    expect(version.Properties).toEqual({ Schema: { SchemaArn: { 'Fn::GetAtt': [schemaId, 'Arn'] } }, SchemaDefinition: fs.readFileSync(path.join(edited, 'clickstream.schema.json'), 'utf8') });
    const checks = Object.fromEntries(ofType(after.landingZone, 'Custom::SchemaVersionCheck').filter(([id]) => id.includes('clickstream')));
    const [v1Check, v2Check] = Object.keys(checks).sort();
    expect(checks[v1Check].Properties).toMatchObject({ SchemaVersionId: { 'Fn::GetAtt': [schemaId, 'InitialSchemaVersionId'] }, Release: 1 });
    expect(checks[v2Check].Properties).toMatchObject({ SchemaVersionId: { 'Fn::GetAtt': [versionId, 'VersionId'] }, Release: 2, Compatibility: 'BACKWARD' });
    expect(version.DependsOn).toContain(v1Check);
  });

  test('the validator updates only once the registry made every version AVAILABLE, and after the job run restarted with the new schema', () => {
    const fn = (t: typeof before.landingZone) => ofType(t, 'AWS::Lambda::Function').find(([id]) => /^LandingZoneclickstreamFunction/.test(id))!;
    const [, landingValidator] = fn(after.landingZone);
    expect(landingValidator.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^LandingZoneclickstreamSchemaV1Check/), expect.stringMatching(/^LandingZoneclickstreamSchemaV2Check/)]));
    const [, kinesisValidator] = fn(after.kinesis);
    expect(kinesisValidator.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^clickstreamRunnerRun/), expect.stringMatching(/^LandingZoneclickstreamSchemaV2Check/)]));
  });

  test('under FORWARD the order flips: the validator first, then the job run (old readers read new events)', () => {
    const context = readCdkJsonContext() as { sources: Record<string, object> };
    const forward = synth(workspace(), { sources: { ...context.sources, clickstream: { ...context.sources.clickstream, compatibility: 'FORWARD' } } });
    const [runId, run] = ofType(forward.kinesis, 'Custom::GlueStreamingJobRun').concat(ofType(forward.kinesis, 'AWS::CloudFormation::CustomResource')).find(([id]) => /^clickstreamRunnerRun/.test(id))!;
    expect(run.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^LandingZoneclickstreamFunction/)]));
    const [, validator] = ofType(forward.kinesis, 'AWS::Lambda::Function').find(([id]) => /^LandingZoneclickstreamFunction/.test(id))!;
    expect(validator.DependsOn ?? []).not.toContain(runId);
  });

  test('recording the release (schemas/releases/clickstream/v2.schema.json) changes nothing in the templates', () => {
    fs.copyFileSync(path.join(edited, 'clickstream.schema.json'), path.join(edited, 'releases', 'clickstream', 'v2.schema.json'));
    const recorded = synth(edited);
    expect(recorded.landingZone.Resources).toEqual(after.landingZone.Resources);
    expect(recorded.kinesis.Resources).toEqual(after.kinesis.Resources);
  });

  test("each stack with a landing zone outputs each source's schema ARN for publishers", () => {
    expect(after.landingZone.Outputs).toMatchObject({
      clickstreamSchemaArn: { Value: { 'Fn::GetAtt': [expect.stringMatching(/^LandingZoneclickstreamSchema/), 'Arn'] } },
      ordersSchemaArn: { Value: { 'Fn::GetAtt': [expect.stringMatching(/^LandingZoneordersSchema/), 'Arn'] } },
    });
    expect(Object.keys(after.kinesis.Outputs)).toContain('clickstreamSchemaArn');
  });
});
