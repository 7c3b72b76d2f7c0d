/**
 * An alarm e-mail must take the operator to the section that explains the alarm. This synthesizes every stack as
 * cdk.json configures it (the five AWS stacks and the Google Cloud Terraform) and requires every alarm (every alert
 * policy) to carry a runbook URL `<docsUrl>/runbooks/<runbook>.md#<section>` whose file exists under docs/ and whose
 * anchor is a heading of that file, by GitHub's anchor rules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdktf';
import { buildAwsApp } from '../../platform/aws-app';
import { parseConfig, readCdkJsonContext } from '../../platform/config';
import { PROJECT_ROOT } from '../../platform/paths';
import { PubSubToBigQueryStack } from '../../pipelines/pubsub-to-bigquery/stack';
import { testApp } from '../support/aws';
import { EXAMPLE_CUSTOMERS } from '../support/customers';

const DOCS = path.join(PROJECT_ROOT, 'docs');
const DOCS_URL = parseConfig(readCdkJsonContext()).docsUrl;

/** GitHub's anchor of a heading, written out here independently of the code under test. */
const githubAnchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

/** The anchors of a Markdown file's headings (outside code blocks). */
function anchorsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8').replace(/^```[^]*?^```/gm, '');
  return (text.match(/^#{1,6} .+$/gm) ?? []).map((h) => githubAnchor(h.replace(/^#+ /, '')));
}

/** Problems of one runbook link, none when it resolves to an existing section under docs/. */
function problemsOf(link: string | undefined, docsUrl = DOCS_URL): string[] {
  if (!link) return ['no runbook link'];
  const match = new RegExp(`^${docsUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/(runbooks/[a-z0-9-]+\\.md)#([a-z0-9-]+)$`).exec(link);
  if (!match) return [`${link}: not <docsUrl>/runbooks/<runbook>.md#<section>`];
  const [, file, anchor] = match;
  if (!fs.existsSync(path.join(DOCS, file))) return [`${link}: docs/${file} does not exist`];
  return anchorsOf(path.join(DOCS, file)).includes(anchor) ? [] : [`${link}: docs/${file} has no heading with anchor #${anchor}`];
}

type Resource = { Type: string; Properties: { AlarmName: string; AlarmDescription?: string } };

/** Alarm name -> its runbook link, for every alarm of every AWS stack the app builds from `context`. */
function awsAlarms(context: Record<string, unknown> = {}): Map<string, string | undefined> {
  const app = testApp({ 'aws:cdk:bundling-stacks': [], alarmEmails: ['oncall@example.com'], ...context });
  buildAwsApp(app, parseConfig(app.node.getAllContext()));
  const assembly = app.synth();
  const alarms = new Map<string, string | undefined>();
  for (const stack of assembly.stacks) {
    const resources: Record<string, Resource> = JSON.parse(fs.readFileSync(path.join(assembly.directory, stack.templateFile), 'utf8')).Resources;
    for (const r of Object.values(resources)) {
      if (r.Type !== 'AWS::CloudWatch::Alarm' && r.Type !== 'AWS::CloudWatch::CompositeAlarm') continue;
      const description = r.Properties.AlarmDescription ?? '';
      // CloudWatch refuses descriptions over 1024 characters: the link must fit.
      expect([r.Properties.AlarmName, description.length <= 1024]).toEqual([r.Properties.AlarmName, true]);
      alarms.set(r.Properties.AlarmName, /Runbook: (\S+)/.exec(description)?.[1]);
    }
  }
  return alarms;
}

describe('every alarm links the runbook section that explains it', () => {
  // With customers, so that the delivery layer's alarms are among them (cdk.json configures none).
  const alarms = awsAlarms({ customers: EXAMPLE_CUSTOMERS });

  test('the AWS app builds the five AWS stacks, each with alarms', () => {
    const stacks = new Set([...alarms.keys()].map((name) => /^stream-foundry-dev-(landing-zone|kinesis-to-delta-lake|rds-cdc-to-s3|msk-to-iceberg|queue-to-s3)-/.exec(name)?.[1]));
    expect([...stacks].sort()).toEqual(['kinesis-to-delta-lake', 'landing-zone', 'msk-to-iceberg', 'queue-to-s3', 'rds-cdc-to-s3']);
  });

  test('AWS: every alarm, composite and building block, carries <docsUrl>/runbooks/<runbook>.md#<existing section>', () => {
    const problems = [...alarms].flatMap(([name, link]) => problemsOf(link).map((p) => `${name}: ${p}`));
    expect(problems).toEqual([]);
  });

  test('Google Cloud: every alert policy documents <docsUrl>/runbooks/<runbook>.md#<existing section>', () => {
    const stack = new PubSubToBigQueryStack(Testing.app(), 'gcp', parseConfig(readCdkJsonContext()));
    const policies = JSON.parse(Testing.synth(stack)).resource.google_monitoring_alert_policy as Record<string, { display_name: string; documentation: { content: string } }>;
    expect(Object.keys(policies).length).toBeGreaterThan(0);
    const problems = Object.values(policies).flatMap((p) => problemsOf(/Runbook: (\S+)$/.exec(p.documentation.content)?.[1]).map((e) => `${p.display_name}: ${e}`));
    expect(problems).toEqual([]);
  });

  test('the links follow the docsUrl setting', () => {
    const docsUrl = 'https://docs.example.com/stream-foundry/docs';
    const links = [...awsAlarms({ docsUrl, 'sources.orders.pipelines': ['landingZone'], 'sources.clickstream.pipelines': ['gcp'] }).values()];
    expect(links.length).toBeGreaterThan(0);
    expect(links.flatMap((link) => problemsOf(link, docsUrl))).toEqual([]);
  });

  test('the anchor rule is GitHub\'s: lower case, punctuation dropped, spaces to "-"', () => {
    expect(githubAnchor('Lag: iterator age')).toBe('lag-iterator-age');
    expect(githubAnchor('Dead-letter queue not empty')).toBe('dead-letter-queue-not-empty');
    expect(githubAnchor('Deploy: availability zones')).toBe('deploy-availability-zones');
  });
});
