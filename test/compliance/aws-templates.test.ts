/**
 * Rules over every CloudFormation template the AWS app synthesizes, as `cdk synth` builds it from cdk.json: what a
 * first `cdk deploy` would meet. cfn-lint (AWS's CloudFormation linter, pinned in scripts/setup/requirements.txt)
 * catches deploy-time failures cdk-nag does not look for; the rules below hold every pipeline to the platform's bar.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { CFN_LINT_REASONS } from '../../platform/compliance';
import { buildAwsApp } from '../../platform/aws-app';
import { parseConfig } from '../../platform/config';
import { testApp } from '../support/aws';
import { EXAMPLE_CUSTOMERS } from '../support/customers';
import { PROJECT_ROOT } from '../../platform/paths';
import { PIPELINES, stackName } from '../../pipelines';

const CFN_LINT = path.join(PROJECT_ROOT, '.venv', 'bin', 'cfn-lint');

interface Resource {
  Type: string;
  Properties?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  Metadata?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * The whole app, with every pipeline a source feeds and customers reading two of them (the delivery layer: cdk.json
 * configures no customer); bundling is skipped (the bundle has tests of its own).
 */
function synthesizeApp(): { app: App; templates: Record<string, { file: string; resources: Record<string, Resource> }> } {
  const context: Record<string, unknown> = { 'aws:cdk:bundling-stacks': [], alarmEmails: ['oncall@example.com'], customers: EXAMPLE_CUSTOMERS };
  const app = testApp(context);
  buildAwsApp(app, parseConfig(app.node.getAllContext()));
  const assembly = app.synth();
  const templates = Object.fromEntries(
    assembly.stacks.map((stack) => {
      const file = path.join(assembly.directory, stack.templateFile);
      return [stack.stackName, { file, resources: JSON.parse(fs.readFileSync(file, 'utf8')).Resources }];
    }),
  );
  return { app, templates };
}

describe('every synthesized AWS template', () => {
  const { templates } = synthesizeApp();
  const each = Object.entries(templates);

  test('the app synthesizes every AWS pipeline of the registry (pipelines/index.ts), as cdk.json configures them all', () => {
    const registered = PIPELINES.filter((p) => p.cloud === 'aws').map((p) => stackName(p, { project: 'stream-foundry', environment: 'dev' }));
    expect(Object.keys(templates).sort()).toEqual(registered.sort());
  });

  test('passes cfn-lint with no error and no warning (suppressions are per resource, with a reason)', () => {
    expect(fs.existsSync(CFN_LINT)).toBe(true); // installed by `npm test` (scripts/setup/python-venv.sh)
    const run = spawnSync(CFN_LINT, ['--format', 'parseable', ...each.map(([, t]) => t.file)], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
    expect(run.status).toBe(0);
    for (const [, { resources }] of each) {
      for (const [id, resource] of Object.entries(resources)) {
        const suppressed: string[] = resource.Metadata?.['cfn-lint']?.config?.ignore_checks ?? [];
        for (const rule of suppressed) expect(`${id} ${rule}: ${resource.Metadata?.[CFN_LINT_REASONS]?.[rule] ?? ''}`).toMatch(/: .{20,}/);
      }
    }
  });

  // Each alarm's runbook URL and its section: test/platform/runbook-links.test.ts.
  test.each(each)('%s: every alarm is named after its stack', (stackName, { resources }) => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' || r.Type === 'AWS::CloudWatch::CompositeAlarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.Properties!.AlarmName).toMatch(new RegExp(`^${stackName}-`));
  });

  test.each(each)('%s: every alarm reaches someone: it notifies a topic, or it is a building block of one that does', (_, { resources }) => {
    const composites = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::CompositeAlarm');
    const rules = JSON.stringify(composites.map((c) => c.Properties!.AlarmRule));
    for (const [id, alarm] of Object.entries(resources)) {
      if (alarm.Type === 'AWS::CloudWatch::CompositeAlarm') expect(alarm.Properties!.AlarmActions).toHaveLength(1);
      if (alarm.Type !== 'AWS::CloudWatch::Alarm') continue;
      if (alarm.Properties!.AlarmActions) expect(alarm.Properties!.OKActions).toEqual(alarm.Properties!.AlarmActions);
      else expect(rules).toContain(`"${id}"`);
    }
  });

  test.each(each)('%s: every service principal in a key policy is scoped to this account', (_, { resources }) => {
    for (const key of Object.values(resources).filter((r) => r.Type === 'AWS::KMS::Key')) {
      for (const statement of key.Properties!.KeyPolicy.Statement.filter((s: { Principal: { Service?: unknown } }) => s.Principal.Service)) {
        expect(statement.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
        expect(statement.Condition?.ArnLike?.['aws:SourceArn']).toBeDefined();
      }
    }
  });
});
