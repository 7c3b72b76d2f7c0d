/**
 * The freshness layer in every AWS pipeline stack as `cdk synth` builds it from cdk.json: a canary schedule per source
 * into the right entrance, the reporter on the buckets the exits write receipts to, an SLO alarm per source with its
 * runbook, the outputs `npm run verify` reads; and with `freshness.enabled` false, only those outputs.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildAwsApp } from '../../../platform/aws-app';
import { parseConfig } from '../../../platform/config';
import { testApp } from '../../support/aws';
import { configProblems } from '../../support/config';

jest.setTimeout(300_000);

function templates(context: Record<string, unknown> = {}): Record<string, Template> {
  const app = testApp({ ...context, 'aws:cdk:bundling-stacks': [] });
  buildAwsApp(app, parseConfig(app.node.getAllContext()));
  return Object.fromEntries(app.synth().stacks.map((s) => [s.id, Template.fromJSON(s.template)]));
}

/** Stack id -> [source, entrance kind]: pipelines 1, 2 and 5 publish canaries; pipeline 3's heartbeat is its own. */
const CANARIES: Record<string, [string, 'landing' | 'topic'][]> = {
  QueueToS3: [['orders', 'topic']],
  KinesisToDeltaLake: [['clickstream', 'landing']],
  MskToIceberg: [['orders', 'landing']],
};

describe('freshness on (the default)', () => {
  const stacks = templates();

  test.each(Object.entries(CANARIES))('%s: a schedule per source, every minute, into its entrance', (stackId, canaries) => {
    const t = stacks[stackId];
    const rules = t.findResources('AWS::Events::Rule', { Properties: { Description: Match.stringLikeRegexp('^Freshness canary of ') } });
    expect(Object.keys(rules)).toHaveLength(canaries.length);
    for (const [source, kind] of canaries) {
      const [rule] = Object.values(rules).filter((r) => r.Properties.Description === `Freshness canary of ${source}`);
      expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
      const [target] = rule.Properties.Targets;
      expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 });
      expect(JSON.stringify(target.Input)).toContain(`\\"entrance\\":{\\"kind\\":\\"${kind}\\"`);
    }
  });

  test.each(Object.keys(CANARIES))('%s: the canary may write only its sources\' _canary/ prefixes (or publish to the topic)', (stackId) => {
    const t = stacks[stackId];
    const [policy] = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^FreshnessCanaryRole') } }));
    const actions = policy.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    expect(actions.sort()).toEqual(
      stackId === 'QueueToS3' ? ['kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sns:Publish'] : ['kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:PutObject'],
    );
    const objects = JSON.stringify(policy.Properties.PolicyDocument.Statement.find((s: { Action: string }) => s.Action === 's3:PutObject')?.Resource ?? '');
    for (const [source, kind] of CANARIES[stackId]) if (kind === 'landing') expect(objects).toContain(`/${source}/_canary/*`);
  });

  test.each(['QueueToS3', 'KinesisToDeltaLake', 'MskToIceberg', 'RdsCdcToS3'])('%s: receipts under _freshness/ notify the reporter; an SLO alarm per source', (stackId) => {
    const t = stacks[stackId];
    const notifications = Object.values(t.findResources('Custom::S3BucketNotifications')).flatMap((n) => n.Properties.NotificationConfiguration.LambdaFunctionConfigurations ?? []);
    const toReporter = notifications.filter((c: { LambdaFunctionArn: { 'Fn::GetAtt': string[] } }) => c.LambdaFunctionArn['Fn::GetAtt']?.[0]?.startsWith('FreshnessReporter'));
    expect(toReporter.length).toBeGreaterThan(0);
    for (const c of toReporter) expect(c).toMatchObject({ Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: '_freshness/' }] } } });
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Freshness' } }));
    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms) {
      expect(a.Properties).toMatchObject({
        Namespace: 'StreamFoundry/Freshness',
        ExtendedStatistic: 'p95',
        Period: 900,
        Threshold: 10,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        AlarmName: expect.stringMatching(/-freshness-slo-Critical$/),
      });
      expect(a.Properties.AlarmDescription).toMatch(/runbooks\/[a-z0-9-]+\.md#lag-freshness/);
      const dims = Object.fromEntries(a.Properties.Dimensions.map((d: { Name: string; Value: unknown }) => [d.Name, d.Value]));
      expect(Object.keys(dims).sort()).toEqual(['Pipeline', 'Source', 'service']);
      expect(dims.service).toBe('freshness-reporter');
    }
    const outputs = Object.keys(t.findOutputs('*')).filter((k) => k.startsWith('Freshness'));
    expect(outputs.filter((k) => k.endsWith('Receipts')).length).toBe(alarms.length);
  });

  test('canary files and receipts expire after a week (measurements, read within minutes)', () => {
    const rules = Object.values(stacks.KinesisToDeltaLake.findResources('AWS::S3::Bucket')).flatMap((b) => b.Properties.LifecycleConfiguration?.Rules ?? []);
    expect(rules).toEqual(expect.arrayContaining([
      expect.objectContaining({ Id: 'expire-clickstream-canaries', Prefix: 'clickstream/_canary/', ExpirationInDays: 7, Status: 'Enabled' }),
      expect.objectContaining({ Id: 'expire-freshness-receipts', Prefix: '_freshness/', ExpirationInDays: 7, Status: 'Enabled' }),
    ]));
  });
});

test('freshness off: no canary, reporter or SLO alarm anywhere; the outputs verify reads stay', () => {
  const stacks = templates({ 'freshness.enabled': 'false' });
  for (const [id, t] of Object.entries(stacks)) {
    expect(Object.keys(t.findResources('AWS::Lambda::Function')).filter((k) => k.startsWith('Freshness'))).toEqual([]);
    expect(Object.keys(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Freshness' } }))).toEqual([]);
    if (CANARIES[id]) expect(Object.keys(t.findOutputs('*')).filter((k) => k.startsWith('Freshness')).sort()).toEqual(CANARIES[id].flatMap(([s]) => [`Freshness${s}Entrance`, `Freshness${s}Receipts`]).sort());
  }
});

test('bad settings fail synth naming the setting and the expected value', () => {
  expect(configProblems({ 'freshness.intervalMinutes': '0' })).toEqual([expect.stringMatching(/^freshness\.intervalMinutes: .*1.*60/)]);
  expect(configProblems({ 'freshness.targetSeconds': 'fast' })).toEqual([expect.stringMatching(/^freshness\.targetSeconds: /)]);
  expect(configProblems({ 'freshness.windowMinutes': '2' })).toEqual([expect.stringMatching(/^freshness\.windowMinutes: .*5/)]);
  expect(configProblems({ 'freshness.every': '1' })).toEqual([expect.stringMatching(/freshness.*every/)]);
});
