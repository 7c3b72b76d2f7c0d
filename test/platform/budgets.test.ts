/**
 * A budget per pipeline stack (platform/budgets): the budget, its filter and notifications, the anomaly monitor and
 * its subscriptions, the settings and their errors, and — with the offline IAM evaluator of the permission proof —
 * that the alarm topic (and its key) let AWS Budgets and Cost Anomaly Detection publish for this account only.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildAwsApp } from '../../platform/aws-app';
import { STACK_NAME_TAG } from '../../platform/budgets';
import { BUDGET_DEFAULTS } from '../../platform/budgets/config';
import { parseConfig } from '../../platform/config';
import { PIPELINES } from '../../pipelines';
import { complianceFindings, testApp } from '../support/aws';
import { configProblems } from '../support/config';
import { ACCOUNT, REGION, StackPolicies, synthesizeApp } from '../support/iam-proof';

/** The AWS stacks cdk.json builds, by construct id. */
const AWS_STACKS = PIPELINES.filter((p) => p.cloud === 'aws').map((p) => p.stackId!);

/** Every stack of the app as `cdk synth` builds it from cdk.json plus `context` (assets not bundled), as templates. */
function templates(context: Record<string, unknown> = {}): Record<string, Template> {
  const app = testApp({ ...context, 'aws:cdk:bundling-stacks': [] });
  buildAwsApp(app, parseConfig(app.node.getAllContext()));
  const assembly = app.synth();
  return Object.fromEntries(assembly.stacks.map((s) => [s.id, Template.fromJSON(s.template)]));
}

const topicPolicy = (template: Template) => Object.values(template.findResources('AWS::SNS::TopicPolicy', { Properties: { Topics: [{ Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') }] } }));

describe('budget per pipeline stack (cdk.json, anomaly detection turned on)', () => {
  // One synthesis of the whole app, made concrete (account, region, names) for the policy evaluation below. Anomaly
  // detection is off by default (member accounts cannot create its monitor): on here, to test it.
  const stacks = synthesizeApp({ 'budgets.anomalyDetection.enabled': 'true' });

  test('by default every stack has its budget and no anomaly monitor (AWS creates tag monitors only in management accounts)', () => {
    for (const template of Object.values(templates({}))) {
      template.resourceCountIs('AWS::Budgets::Budget', 1);
      template.resourceCountIs('AWS::CE::AnomalyMonitor', 0);
      template.resourceCountIs('AWS::CE::AnomalySubscription', 0);
    }
  });

  test('cdk.json builds every AWS pipeline, each with exactly one budget, one anomaly monitor and one alert subscription', () => {
    expect(Object.keys(stacks).sort()).toEqual([...AWS_STACKS].sort());
    for (const stack of Object.values(stacks)) {
      const template = Template.fromJSON(stack.template);
      template.resourceCountIs('AWS::Budgets::Budget', 1);
      template.resourceCountIs('AWS::CE::AnomalyMonitor', 1);
      template.resourceCountIs('AWS::CE::AnomalySubscription', 1);
    }
  });

  test.each(AWS_STACKS)('%s: a monthly cost budget of its own stack and region, actual and forecast at 100%% to its alarm topic', (id) => {
    const stack = stacks[id];
    const budgetId = stack.one('AWS::Budgets::Budget', 'Budget');
    expect(budgetId).toMatch(/^Budget[0-9A-F]{8}$/); // construct id "Budget": one stable logical id per stack
    const topicId = stack.one('AWS::SNS::Topic', 'MonitoringAlarmTopic');
    const budget = stack.resolve(stack.resources[budgetId].Properties);
    const toTopic = [{ SubscriptionType: 'SNS', Address: stack.arn(topicId) }];
    expect(budget).toEqual({
      Budget: {
        BudgetName: expect.stringMatching(new RegExp(`^${stack.stackName}-${REGION}-[0-9a-f]{8}$`)),
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: BUDGET_DEFAULTS.monthlyLimitUsd, Unit: 'USD' },
        CostFilters: { TagKeyValue: [`aws:cloudformation:stack-name$${stack.stackName}`], Region: [REGION] },
      },
      NotificationsWithSubscribers: [
        { Notification: { NotificationType: 'ACTUAL', ComparisonOperator: 'GREATER_THAN', Threshold: 100, ThresholdType: 'PERCENTAGE' }, Subscribers: toTopic },
        { Notification: { NotificationType: 'FORECASTED', ComparisonOperator: 'GREATER_THAN', Threshold: 100, ThresholdType: 'PERCENTAGE' }, Subscribers: toTopic },
      ],
      ResourceTags: expect.arrayContaining([{ Key: 'Project', Value: 'stream-foundry' }]),
    });
    // Created after the topic policy that lets Budgets publish (Budgets checks it when the notification is created).
    expect(stack.resources[budgetId]).toMatchObject({ DependsOn: expect.arrayContaining([stack.one('AWS::SNS::TopicPolicy', 'MonitoringAlarmTopic')]) });
  });

  test.each(AWS_STACKS)('%s: a custom anomaly monitor on the stack-name tag, alerting its alarm topic immediately from $50', (id) => {
    const stack = stacks[id];
    const monitorId = stack.one('AWS::CE::AnomalyMonitor', 'Budget');
    const monitor = stack.resolve(stack.resources[monitorId].Properties);
    expect(monitor.MonitorType).toBe('CUSTOM');
    expect(monitor.MonitorDimension).toBeUndefined();
    expect(JSON.parse(monitor.MonitorSpecification)).toEqual({ Tags: { Key: STACK_NAME_TAG, Values: [stack.stackName], MatchOptions: ['EQUALS'] } });
    const subscription = stack.resources[stack.one('AWS::CE::AnomalySubscription', 'Budget')].Properties;
    expect(subscription.MonitorArnList).toEqual([{ 'Fn::GetAtt': [monitorId, 'MonitorArn'] }]);
    expect(subscription.Frequency).toBe('IMMEDIATE');
    expect(stack.resolve(subscription.Subscribers)).toEqual([{ Type: 'SNS', Address: stack.arn(stack.one('AWS::SNS::Topic', 'MonitoringAlarmTopic')) }]);
    expect(JSON.parse(subscription.ThresholdExpression)).toEqual({
      Dimensions: { Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE', MatchOptions: ['GREATER_THAN_OR_EQUAL'], Values: ['50'] },
    });
  });

  describe('the alarm topic and its key, evaluated offline (iam-simulate)', () => {
    /** The decision for `service` calling `action` on the stack's alarm topic (or its key) from `sourceAccount`. */
    async function decision(stack: StackPolicies, service: string, action: string, context: Record<string, string>): Promise<string> {
      const topicArn = stack.arn(stack.one('AWS::SNS::Topic', 'MonitoringAlarmTopic'));
      const resource = action.startsWith('kms:') ? stack.keyFor(topicArn)! : topicArn;
      expect(resource).toBeDefined();
      const statements = stack.resourcePolicies().get(resource);
      const response = await runSimulation(
        {
          request: { principal: service, action, resource: { resource, accountId: ACCOUNT }, contextVariables: { 'aws:SecureTransport': 'true', ...context } },
          identityPolicies: [],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: { Version: '2012-10-17', Statement: statements },
        },
        {},
      );
      if (response.resultType === 'error') throw new Error(JSON.stringify(response.errors));
      return response.overallResult;
    }
    const budgetsFor = (account: string) => ({ 'aws:SourceAccount': account, 'aws:SourceArn': `arn:aws:budgets::${account}:budget/any` });
    const anomaliesFor = (account: string) => ({ 'aws:SourceAccount': account, 'aws:SourceArn': `arn:aws:ce::${account}:anomalysubscription/any` });
    const OTHER = '210987654321';

    test.each(AWS_STACKS)('%s: budgets.amazonaws.com and costalerts.amazonaws.com may publish for this account, with the key', async (id) => {
      const stack = stacks[id];
      for (const action of ['sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt']) {
        expect([action, await decision(stack, 'budgets.amazonaws.com', action, budgetsFor(ACCOUNT))]).toEqual([action, 'Allowed']);
        expect([action, await decision(stack, 'costalerts.amazonaws.com', action, anomaliesFor(ACCOUNT))]).toEqual([action, 'Allowed']);
      }
    });

    test('not for another account, and no other service principal may publish', async () => {
      const stack = stacks.LandingZone;
      expect(await decision(stack, 'budgets.amazonaws.com', 'sns:Publish', budgetsFor(OTHER))).not.toBe('Allowed');
      expect(await decision(stack, 'costalerts.amazonaws.com', 'sns:Publish', anomaliesFor(OTHER))).not.toBe('Allowed');
      expect(await decision(stack, 'budgets.amazonaws.com', 'kms:GenerateDataKey', budgetsFor(OTHER))).not.toBe('Allowed');
      // Each service within its own ARN space: budgets of this account, anomaly subscriptions of this account.
      expect(await decision(stack, 'budgets.amazonaws.com', 'sns:Publish', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': `arn:aws:ce::${ACCOUNT}:x` })).not.toBe('Allowed');
      expect(await decision(stack, 'costalerts.amazonaws.com', 'sns:Publish', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': `arn:aws:ce::${ACCOUNT}:anomalymonitor/x` })).not.toBe('Allowed');
      expect(await decision(stack, 'costalerts.amazonaws.com', 'kms:Decrypt', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': `arn:aws:budgets::${ACCOUNT}:x` })).not.toBe('Allowed');
      for (const service of ['events.amazonaws.com', 'sns.amazonaws.com', 's3.amazonaws.com']) {
        expect([service, await decision(stack, service, 'sns:Publish', { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': `arn:aws:events:${REGION}:${ACCOUNT}:rule/x` })]).toEqual([service, 'ImplicitlyDenied']);
      }
    });
  });
});

describe('budget settings', () => {
  test('per-stack limits, thresholds and e-mails: the budget, the topic and the e-mails are notified, anomalies daily by e-mail too', () => {
    const emails = ['finops@example.com', 'lead@example.com'];
    const all = templates({ budgets: { monthlyLimitUsdPerStack: { landingZone: 42, mskToIceberg: 2500 }, actualPercent: 90, forecastPercent: 80, emails, anomalyDetection: { enabled: true } } });
    const amount = (id: string) => Object.values(all[id].findResources('AWS::Budgets::Budget'))[0].Properties.Budget.BudgetLimit.Amount;
    expect(amount('LandingZone')).toBe(42);
    expect(amount('MskToIceberg')).toBe(2500);
    expect(amount('QueueToS3')).toBe(BUDGET_DEFAULTS.monthlyLimitUsd);
    const subscribers = [{ SubscriptionType: 'SNS', Address: { Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') } }, ...emails.map((Address) => ({ SubscriptionType: 'EMAIL', Address }))];
    all.LandingZone.hasResourceProperties('AWS::Budgets::Budget', {
      NotificationsWithSubscribers: [
        { Notification: Match.objectLike({ NotificationType: 'ACTUAL', Threshold: 90 }), Subscribers: subscribers },
        { Notification: Match.objectLike({ NotificationType: 'FORECASTED', Threshold: 80 }), Subscribers: subscribers },
      ],
    });
    all.LandingZone.resourceCountIs('AWS::CE::AnomalySubscription', 2);
    all.LandingZone.hasResourceProperties('AWS::CE::AnomalySubscription', {
      Frequency: 'DAILY',
      Subscribers: emails.map((Address) => ({ Type: 'EMAIL', Address })),
    });
  });

  test('a changed threshold renames the budget (its notifications are create-only: the replacement must not collide)', () => {
    const name = (context: Record<string, unknown>) => {
      const stack = synthesizeOne('LandingZone', context);
      return JSON.stringify(Object.values(stack.findResources('AWS::Budgets::Budget'))[0].Properties.Budget.BudgetName);
    };
    expect(name({ budgets: { actualPercent: 90 } })).not.toEqual(name({ budgets: { actualPercent: 95 } }));
    expect(name({ budgets: { monthlyLimitUsd: 10 } })).toEqual(name({ budgets: { monthlyLimitUsd: 20 } }));
  });

  test('enabled: false builds no budget, no anomaly monitor and no publishing grant; anomalyDetection.enabled: false keeps the budget', () => {
    const off = templates({ budgets: { enabled: false } });
    for (const template of Object.values(off)) {
      template.resourceCountIs('AWS::Budgets::Budget', 0);
      template.resourceCountIs('AWS::CE::AnomalyMonitor', 0);
      template.resourceCountIs('AWS::CE::AnomalySubscription', 0);
      expect(JSON.stringify(topicPolicy(template))).not.toMatch(/budgets\.amazonaws\.com|costalerts/);
      expect(JSON.stringify(template.findResources('AWS::KMS::Key'))).not.toMatch(/budgets\.amazonaws\.com|costalerts/);
    }
    const noAnomalies = synthesizeOne('QueueToS3', { 'budgets.anomalyDetection.enabled': 'false' });
    noAnomalies.resourceCountIs('AWS::Budgets::Budget', 1);
    noAnomalies.resourceCountIs('AWS::CE::AnomalyMonitor', 0);
    noAnomalies.resourceCountIs('AWS::CE::AnomalySubscription', 0);
    // Without a subscription, Cost Anomaly Detection gets no grant on the topic or its key.
    expect(JSON.stringify(noAnomalies.toJSON())).not.toContain('costalerts');
    expect(JSON.stringify(noAnomalies.toJSON())).toContain('budgets.amazonaws.com');
  });

  test('with alarmTopicArn the budget notifies that topic, whose policies stay the user\'s; a topic of another account fails synth', () => {
    const arn = `arn:aws:sns:${REGION}:${ACCOUNT}:team-alarms`;
    const stack = synthesizeOne('LandingZone', { alarmTopicArn: arn, 'budgets.anomalyDetection.enabled': 'true' });
    stack.hasResourceProperties('AWS::Budgets::Budget', { NotificationsWithSubscribers: Match.arrayWith([Match.objectLike({ Subscribers: [{ SubscriptionType: 'SNS', Address: arn }] })]) });
    stack.hasResourceProperties('AWS::CE::AnomalySubscription', { Subscribers: [{ Type: 'SNS', Address: arn }] });
    expect(JSON.stringify(stack.toJSON())).not.toMatch(/budgets\.amazonaws\.com|costalerts/);
    // Checked when the stack is built (both accounts known), before synthesis.
    const app = testApp({ alarmTopicArn: `arn:aws:sns:${REGION}:210987654321:team-alarms`, account: ACCOUNT, region: REGION, 'aws:cdk:bundling-stacks': [] });
    expect(() => buildAwsApp(app, parseConfig(app.node.getAllContext()))).toThrow(
      /budgets: the alarm topic \(alarmTopicArn\) is in account 210987654321.*AWS Budgets notifies only a topic of its own account/,
    );
  });

  test('-c budgets.monthlyLimitUsd=250 (a string from the command line) sets the default limit', () => {
    expect(parseConfig({ 'budgets.monthlyLimitUsd': '250' }).budgets.monthlyLimitUsd).toBe(250);
    expect(parseConfig({}).budgets).toEqual({
      enabled: true,
      monthlyLimitUsd: 1000,
      monthlyLimitUsdPerStack: {},
      actualPercent: 100,
      forecastPercent: 100,
      emails: [],
      anomalyDetection: { enabled: false, impactUsd: 50 },
    });
  });

  test.each([
    [{ monthlyLimitUsd: 0 }, 'budgets.monthlyLimitUsd: received 0; expected a whole number from 1 to 10000000'],
    [{ monthlyLimitUsd: 'lots' }, 'budgets.monthlyLimitUsd: received "lots"; expected a whole number from 1 to 10000000'],
    [{ monthlyLimitUsdPerStack: { landingZone: 12.5 } }, 'budgets.monthlyLimitUsdPerStack.landingZone: received 12.5; expected a whole number from 1 to 10000000'],
    [{ monthlyLimitUsdPerStack: { gcp: 10 } }, 'budgets.monthlyLimitUsdPerStack: received {"gcp":10}; unknown setting(s) gcp'],
    [{ forecastPercent: 0 }, 'budgets.forecastPercent: received 0; expected a whole number from 1 to 1000'],
    [{ actualPercent: 'high' }, 'budgets.actualPercent: received "high"; expected a whole number from 1 to 1000'],
    [{ emails: ['not-an-address'] }, 'budgets.emails.0: received "not-an-address"; expected an e-mail address'],
    [{ emails: Array.from({ length: 11 }, (_, i) => `a${i}@example.com`) }, 'budgets.emails: received'],
    [{ anomalyDetection: { impactUsd: -5 } }, 'budgets.anomalyDetection.impactUsd: received -5; expected a whole number from 1 to 1000000'],
    [{ anomalyDetection: { enabled: 'yes' } }, 'budgets.anomalyDetection.enabled: received "yes"; expected true or false'],
    [{ limit: 5 }, 'budgets: received'],
  ])('%j fails synth naming the setting', (budgets, problem) => {
    const problems = configProblems({ budgets });
    expect(problems).toEqual([expect.stringContaining(problem)]);
    if (problem.endsWith('received')) expect(problems[0]).toMatch(/at most 10 e-mail addresses|unknown setting\(s\) limit/);
  });

  test('cdk-nag AwsSolutions finds nothing with every budget option on', () => {
    const app = testApp({ 'aws:cdk:bundling-stacks': [], budgets: { emails: ['finops@example.com'], monthlyLimitUsdPerStack: { queueToS3: 300 } } });
    buildAwsApp(app, parseConfig(app.node.getAllContext()));
    expect(complianceFindings(app)).toEqual([]);
  });
});

/** One stack of the app, synthesized with `context` (only that stack built: the stacks reference nothing of each other). */
function synthesizeOne(id: string, context: Record<string, unknown>): Template {
  const app = testApp({ ...context, 'aws:cdk:bundling-stacks': [] });
  const entry = PIPELINES.find((p) => p.cloud === 'aws' && p.stackId === id);
  if (entry?.cloud !== 'aws') throw new Error(`no AWS stack ${id}`);
  buildAwsApp(app, parseConfig(app.node.getAllContext()), [entry.key]);
  return Template.fromStack(app.node.findChild(id) as never);
}
