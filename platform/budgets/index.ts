import { createHash } from 'node:crypto';
import { Resource, Stack, Token } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as ce from 'aws-cdk-lib/aws-ce';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IDependable } from 'constructs';
import { BudgetsConfig, monthlyLimitUsd } from './config';
import { AwsPipelineKey } from '../../pipelines';

export { budgetsSchema, BUDGET_DEFAULTS } from './config';
export type { BudgetsConfig } from './config';

/**
 * The cost allocation tag that carries a resource's stack: CloudFormation applies it to every resource it creates
 * that supports tags ("CloudFormation resource tagging", aws-properties-resource-tags: "CloudFormation automatically
 * creates the following stack-level tags with the aws: prefix: aws:cloudformation:logical-id, aws:cloudformation:stack-id,
 * aws:cloudformation:stack-name"). Filtering on it needs no change to any resource's tags: a new user tag would
 * change every resource's Tags, and some types replace the resource on a tag change (AWS::MSK::ServerlessCluster's
 * Tags are create-only), which would lose data on the next deploy. It must be activated as a cost allocation tag
 * (Billing console, "AWS-generated cost allocation tags"; management account only): README.md.
 */
export const STACK_NAME_TAG = 'aws:cloudformation:stack-name';

/** Props of `PipelineBudget`: the `budgets` settings, the stack's pipeline and the topic notified. */
export interface PipelineBudgetProps {
  /** The `budgets` settings. */
  readonly settings: BudgetsConfig;
  /** The stack's pipeline in the registry, whose `monthlyLimitUsdPerStack` entry applies. @default the default limit */
  readonly pipeline?: AwsPipelineKey;
  /** Where budget and anomaly notifications go: the stack's alarm topic (PipelineMonitoring.alarmTopic). */
  readonly topic: sns.ITopic;
}

/**
 * A monthly AWS Budgets cost budget of one stack (its costs: the resources tagged with its stack name, in its region)
 * with an actual and a forecast notification, and a Cost Anomaly Detection monitor of the same costs with an
 * immediate alert subscription; both notify the alarm topic, and the `emails` directly. The topic's policy (and its
 * key's, when the topic is ours and encrypted) lets AWS Budgets and Cost Anomaly Detection publish for this account.
 */
export class PipelineBudget extends Construct {
  /** The monthly cost budget of the stack, with its actual and forecast notifications. */
  readonly budget: budgets.CfnBudget;
  /** The Cost Anomaly Detection monitor of the stack's costs (only with `anomalyDetection.enabled`). */
  readonly anomalyMonitor?: ce.CfnAnomalyMonitor;
  /** The monitor's alert subscriptions: immediate to the topic, and a daily summary to the `emails` if any. */
  readonly anomalySubscriptions: ce.CfnAnomalySubscription[] = [];
  /** The monthly limit in USD. */
  readonly limitUsd: number;

  constructor(scope: Construct, id: string, props: PipelineBudgetProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { settings, topic } = props;
    if (!Token.isUnresolved(topic.env.account) && !Token.isUnresolved(stack.account) && topic.env.account !== stack.account) {
      // "Amazon SNS topics must be in the same account as the Budgets you're configuring" (budgets-sns-policy).
      throw new Error(
        `budgets: the alarm topic (alarmTopicArn) is in account ${topic.env.account}, the stack ${stack.stackName} in ${stack.account}; AWS Budgets notifies only a topic of its own account: use a topic of ${stack.account}, or set budgets.enabled to false`,
      );
    }
    this.allowPublishing(topic, settings.anomalyDetection.enabled);
    this.limitUsd = monthlyLimitUsd(settings, props.pipeline);

    const subscribers: budgets.CfnBudget.SubscriberProperty[] = [
      { subscriptionType: 'SNS', address: topic.topicArn },
      ...settings.emails.map((address) => ({ subscriptionType: 'EMAIL', address })),
    ];
    const notifications: budgets.CfnBudget.NotificationWithSubscribersProperty[] = [
      { notificationType: 'ACTUAL', threshold: settings.actualPercent },
      { notificationType: 'FORECASTED', threshold: settings.forecastPercent },
    ].map((n) => ({ notification: { ...n, comparisonOperator: 'GREATER_THAN', thresholdType: 'PERCENTAGE' }, subscribers }));

    this.budget = new budgets.CfnBudget(this, 'Resource', {
      budget: {
        budgetName: this.budgetName(notifications),
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: this.limitUsd, unit: 'USD' },
        // Cost filters "TagKeyValue": ["<tag key>$<tag value>"] (AWS Budgets user guide, budgets-create-filters);
        // AWS-generated tags keep their "aws:" key, user-defined ones take a "user:" prefix. Budgets are per account,
        // not per region: the Region filter keeps a same-named stack of another region out.
        costFilters: { TagKeyValue: [`${STACK_NAME_TAG}$${stack.stackName}`], Region: [stack.region] },
      },
      notificationsWithSubscribers: notifications,
    });
    // AWS Budgets checks that it may publish when the notification is created: the topic policy and key first (the
    // topic itself is ordered by the Ref of its ARN).
    this.budget.node.addDependency(...publishingGrants(topic));

    if (settings.anomalyDetection.enabled) this.anomalyMonitor = this.addAnomalyDetection(settings, topic);
  }

  /**
   * Budgets names are unique per account and NotificationsWithSubscribers is create-only: a changed threshold or
   * e-mail replaces the budget, and CloudFormation creates the new one before deleting the old, so the name carries a
   * digest of the notifications (and the region: budgets are global to the account, stacks are regional).
   */
  private budgetName(notifications: budgets.CfnBudget.NotificationWithSubscribersProperty[]): string {
    const stack = Stack.of(this);
    const digest = createHash('sha256').update(JSON.stringify(stack.resolve(notifications))).digest('hex').slice(0, 8);
    return `${stack.stackName}-${stack.region}-${digest}`;
  }

  private addAnomalyDetection(settings: BudgetsConfig, topic: sns.ITopic): ce.CfnAnomalyMonitor {
    const stack = Stack.of(this);
    // A CUSTOM (customer managed) monitor on the stack-name cost allocation tag: one AWS services (DIMENSIONAL SERVICE)
    // monitor is allowed per account, so per-stack monitors are custom ones (up to 500 per account).
    const monitor = new ce.CfnAnomalyMonitor(this, 'AnomalyMonitor', {
      monitorName: `${stack.stackName} (${stack.region})`,
      monitorType: 'CUSTOM',
      monitorSpecification: stack.toJsonString({ Tags: { Key: STACK_NAME_TAG, Values: [stack.stackName], MatchOptions: ['EQUALS'] } }),
    });
    const threshold = JSON.stringify({
      Dimensions: { Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE', MatchOptions: ['GREATER_THAN_OR_EQUAL'], Values: [String(settings.anomalyDetection.impactUsd)] },
    });
    // IMMEDIATE alerts go to an SNS topic only; e-mail subscribers take DAILY or WEEKLY summaries (AnomalySubscription Frequency).
    const immediate = new ce.CfnAnomalySubscription(this, 'AnomalyAlerts', {
      subscriptionName: `${stack.stackName} (${stack.region}) anomalies`,
      frequency: 'IMMEDIATE',
      monitorArnList: [monitor.attrMonitorArn],
      subscribers: [{ type: 'SNS', address: topic.topicArn }],
      thresholdExpression: threshold,
    });
    immediate.node.addDependency(...publishingGrants(topic));
    this.anomalySubscriptions.push(immediate);
    if (settings.emails.length > 0) {
      this.anomalySubscriptions.push(
        new ce.CfnAnomalySubscription(this, 'AnomalyEmails', {
          subscriptionName: `${stack.stackName} (${stack.region}) anomalies by e-mail`,
          frequency: 'DAILY',
          monitorArnList: [monitor.attrMonitorArn],
          subscribers: settings.emails.map((address) => ({ type: 'EMAIL', address })),
          thresholdExpression: threshold,
        }),
      );
    }
    return monitor;
  }

  /**
   * Lets AWS Budgets and Cost Anomaly Detection publish to the topic for this account only: the statements their user
   * guides give (budgets-sns-policy: aws:SourceAccount and aws:SourceArn arn:<partition>:budgets::<account>:*;
   * ad-SNS: costalerts.amazonaws.com with aws:SourceAccount, and aws:SourceArn of this account's anomaly
   * subscriptions, arn:<partition>:ce::<account>:anomalysubscription/<id> in the Service Authorization Reference),
   * and the topic's key to both. A topic we import
   * (alarmTopicArn) keeps its own policies: README.md says what to add there.
   */
  private allowPublishing(topic: sns.ITopic, anomalyAlerts: boolean): void {
    const stack = Stack.of(this);
    const fromThisAccount = (sourceArn: string) => ({ StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': sourceArn } });
    const grants = [
      { sid: 'Budgets', service: 'budgets.amazonaws.com', conditions: fromThisAccount(`arn:${stack.partition}:budgets::${stack.account}:*`) },
      // Cost Anomaly Detection only when its subscription exists: no grant to a service that has nothing to send.
      ...(anomalyAlerts
        ? [{ sid: 'CostAnomalyDetection', service: 'costalerts.amazonaws.com', conditions: fromThisAccount(`arn:${stack.partition}:ce::${stack.account}:anomalysubscription/*`) }]
        : []),
    ];
    for (const { sid, service, conditions } of grants) {
      const principals = [new iam.ServicePrincipal(service)];
      topic.addToResourcePolicy(new iam.PolicyStatement({ sid: `${sid}Publish`, principals, actions: ['sns:Publish'], resources: [topic.topicArn], conditions }));
      // Publishing to a topic encrypted with a customer-managed key needs the publisher to use the key (SNS developer
      // guide, sns-key-management: kms:GenerateDataKey* and kms:Decrypt), with the same scope.
      topic.masterKey?.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `${sid}PublishEncrypted`,
          principals,
          actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          resources: ['*'], // in a key policy, "*" means this key
          conditions,
        }),
      );
    }
  }
}

/** What lets the services publish to `topic`: its policy and its key, when they are in this app (none for an imported topic). */
function publishingGrants(topic: sns.ITopic): IDependable[] {
  const policy = topic.node.tryFindChild('Policy');
  const key = topic.masterKey && Resource.isOwnedResource(topic.masterKey) ? [topic.masterKey] : [];
  return [...(policy ? [policy] : []), ...key];
}
