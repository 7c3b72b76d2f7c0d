/**
 * docs/adding-a-pipeline.md, checked for every pipeline of the registry (pipelines/index.ts): what a new pipeline
 * must have that a machine can see. Its configuration section, a stack that synthesizes (behind cdk-nag) with a
 * dashboard and alarms that link its runbook, its README and runbook, its tests, and its stateful ids recorded. That
 * every alarm's runbook URL resolves to a section is test/platform/runbook-links.test.ts's; cfn-lint, checkov and the
 * platform's template rules are test/compliance's, over the same app.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { buildAwsApp } from '../../platform/aws-app';
import { configSchema, isBuilt, parseConfig, readCdkJsonContext } from '../../platform/config';
import { buildGcpApp } from '../../platform/gcp-app';
import { PROJECT_ROOT } from '../../platform/paths';
import { Pipeline, PIPELINES, SOURCE_PIPELINE_KEYS, stackName } from '../../pipelines';
import { testApp } from '../support/aws';

/** The registry, read through its interface (fields one cloud lacks read as undefined). */
const REGISTRY: readonly Pipeline[] = PIPELINES;
const exists = (file: string) => fs.existsSync(path.join(PROJECT_ROOT, file));
const config = parseConfig(readCdkJsonContext());


/** "Runbook: <URL>.md#<section>" in an alarm's description or an alert's documentation: the runbook file it links. */
const RUNBOOK_LINK = /Runbook: (\S+?\.md)#[\w-]+/;

/** Per stack name: the alarm texts and whether it has a dashboard. */
interface Monitored {
  readonly alarms: string[];
  readonly dashboards: number;
}

/** The AWS app as cdk.json configures it (cdk-nag's gate included: an unacknowledged finding fails this synth). */
function awsStacks(): Record<string, Monitored & { id: string }> {
  const app = testApp({ 'aws:cdk:bundling-stacks': [], alarmEmails: ['oncall@example.com'] });
  buildAwsApp(app, parseConfig(app.node.getAllContext()));
  const assembly = app.synth();
  return Object.fromEntries(
    assembly.stacks.map((stack) => {
      const resources: { Type: string; Properties?: { AlarmDescription?: string } }[] = Object.values(
        JSON.parse(fs.readFileSync(path.join(assembly.directory, stack.templateFile), 'utf8')).Resources,
      );
      const alarms = resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm' || r.Type === 'AWS::CloudWatch::CompositeAlarm');
      return [
        stack.stackName,
        {
          id: stack.id,
          alarms: alarms.map((a) => a.Properties?.AlarmDescription ?? ''),
          dashboards: resources.filter((r) => r.Type === 'AWS::CloudWatch::Dashboard').length,
        },
      ];
    }),
  );
}

/** The Google Cloud app as cdk.json configures it (bin/gcp.ts), each stack as Terraform JSON. */
function gcpStacks(): Record<string, Monitored> {
  const app = Testing.app();
  buildGcpApp(app, config);
  const stacks = app.node.children.filter((c): c is TerraformStack => c instanceof TerraformStack);
  return Object.fromEntries(
    stacks.map((stack) => {
      const resources = JSON.parse(Testing.synth(stack)).resource as Record<string, Record<string, { documentation?: { content?: string } }>>;
      const monitoring = {
        alarms: Object.values(resources.google_monitoring_alert_policy ?? {}).map((a) => a.documentation?.content ?? ''),
        dashboards: Object.keys(resources.google_monitoring_dashboard ?? {}).length,
      };
      return [stack.node.id, monitoring];
    }),
  );
}

const aws = awsStacks();
const gcp = gcpStacks();
const monitored = (entry: Pipeline): Monitored => (entry.cloud === 'aws' ? aws : gcp)[stackName(entry, config)];

describe('the registry', () => {
  test('names each pipeline, configuration key and stack id once', () => {
    for (const field of ['key', 'name', 'stackId'] as const) {
      const values = REGISTRY.map((p) => p[field]).filter(Boolean);
      expect(new Set(values).size).toBe(values.length);
    }
  });

  test('lists every folder under pipelines/', () => {
    const folders = fs.readdirSync(path.join(PROJECT_ROOT, 'pipelines'), { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(folders.map((d) => d.name).sort()).toEqual(REGISTRY.filter((p) => p.readme.startsWith('pipelines/')).map((p) => p.name).sort());
  });

  test('the AWS app builds exactly its AWS pipelines from cdk.json, under their ids and stack names', () => {
    const expected = REGISTRY.filter((p) => p.cloud === 'aws').map((p) => [stackName(p, config), p.stackId]);
    expect(Object.entries(aws).map(([name, { id }]) => [name, id]).sort()).toEqual(expected.sort());
  });

  test('the Google Cloud app builds exactly its Google Cloud pipelines from cdk.json, under their stack names', () => {
    expect(Object.keys(gcp).sort()).toEqual(REGISTRY.filter((p) => p.cloud === 'gcp').map((p) => stackName(p, config)).sort());
  });

  test('an app builds no stack for a pipeline no source feeds: an AWS-only configuration has no Google Cloud stack', () => {
    const awsOnly = parseConfig({ ...readCdkJsonContext(), gcp: undefined, 'sources.clickstream.pipelines': ['landingZone', 'kinesisToDeltaLake'] });
    const app = Testing.app();
    expect(buildGcpApp(app, awsOnly)).toEqual([]);
    expect(app.node.children.filter((c) => c instanceof TerraformStack)).toEqual([]);
  });
});

describe.each(REGISTRY.map((p) => [p.name, p] as const))('%s meets docs/adding-a-pipeline.md', (name, entry) => {
  const folder = path.dirname(entry.readme);

  test('1. its configuration section is in the schema, and cdk.json builds it', () => {
    expect(Object.keys(configSchema.shape)).toContain(entry.key);
    expect(config[entry.key as keyof typeof config]).toBeDefined();
    if (entry.builtWhen === 'a source feeds it') expect(SOURCE_PIPELINE_KEYS).toContain(entry.key);
    expect(isBuilt(entry as (typeof PIPELINES)[number], config)).toBe(true);
  });

  test('2-4. its folder holds config.ts, stack.ts and the construct', () => {
    for (const file of ['config.ts', 'stack.ts', 'construct/index.ts', 'construct/props.ts']) expect(`${folder}/${file}: ${exists(`${folder}/${file}`)}`).toBe(`${folder}/${file}: true`);
  });

  test('4. its stack synthesizes (AWS: behind cdk-nag) with a dashboard and alarms', () => {
    const stack = monitored(entry);
    expect(stack).toBeDefined();
    expect(stack.dashboards).toBeGreaterThan(0);
    expect(stack.alarms.length).toBeGreaterThan(0);
  });

  // That every alarm carries a runbook URL resolving to a section: runbook-links.test.ts, over the same stacks.
  test('7-8. its alarms link its own runbook', () => {
    const linked = monitored(entry).alarms.map((text) => RUNBOOK_LINK.exec(text)?.[1] ?? '');
    expect(linked.some((file) => file.endsWith(entry.runbook.replace(/^docs\//, '')))).toBe(true);
  });

  test('8. its runbook exists, in docs/runbooks/<name>.md', () => {
    expect(entry.runbook).toBe(`docs/runbooks/${name}.md`);
    expect(exists(entry.runbook)).toBe(true);
  });

  test('9. its README exists, and the top README links it and lists its stack', () => {
    expect(exists(entry.readme)).toBe(true);
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`](${entry.readme})`);
    expect(readme).toContain(`${entry.stackId ? `\`${entry.stackId}\` → ` : ''}\`stream-foundry-<env>-${name}\``);
  });

  test('10. its construct and stack tests exist, the stack with a snapshot', () => {
    const tests = `test/${folder}`;
    for (const file of ['construct.test.ts', 'stack.test.ts', '__snapshots__/stack.test.ts.snap']) expect(`${tests}/${file}: ${exists(`${tests}/${file}`)}`).toBe(`${tests}/${file}: true`);
  });

  test('11. its stack and construct are public: exported from the library entry point of its cloud', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = (file: string): Record<string, unknown> => require(path.join(PROJECT_ROOT, file));
    const library = Object.values(load(entry.cloud === 'aws' ? 'index.ts' : 'gcp.ts'));
    const classes = (file: string) => Object.entries(load(file)).filter(([, value]) => typeof value === 'function' && /^class /.test(String(value)));
    const stacks = classes(`${folder}/stack.ts`).filter(([name]) => name.endsWith('Stack'));
    expect(stacks.length).toBeGreaterThan(0);
    for (const [name, stack] of stacks) expect(`${name}: ${library.includes(stack)}`).toBe(`${name}: true`);
    expect(classes(`${folder}/construct/index.ts`).filter(([, construct]) => library.includes(construct)).length).toBeGreaterThan(0);
  });

  if (entry.cloud === 'aws') {
    test('10. its stateful resources are recorded (test/platform/stateful-ids.json)', () => {
      const recorded = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'test/platform/stateful-ids.json'), 'utf8'));
      expect(Object.keys(recorded)).toContain(stackName(entry, config));
    });
  }
});
