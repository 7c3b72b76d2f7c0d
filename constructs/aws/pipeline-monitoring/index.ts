import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { AlarmWithAnnotation, DefaultDashboardFactory, MonitoringFacade, SnsAlarmActionStrategy } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';

export interface PipelineMonitoringProps {
  /** Name of the pipeline: prefixes every alarm name and names the dashboard (e.g. "sf-dev-landing-zone"). */
  readonly pipelineName: string;
  /** E-mail addresses subscribed to the alarm topic. @default none */
  readonly alarmEmails?: string[];
  /** Where operators find what each alarm means and what to do; added to every alarm's description. */
  readonly runbookLink?: string;
  /** Send alarms to this topic instead of creating one (its key policy must let CloudWatch publish). */
  readonly existingAlarmTopic?: sns.ITopic;
}

/**
 * Alarms and a dashboard for one pipeline, on cdk-monitoring-constructs.
 *
 * Constructs add their monitors through `facade` (`monitoring.facade.monitorLambdaFunction({...})`); every alarm the
 * facade creates notifies `alarmTopic` when it fires and again when it recovers, and every monitor adds its widgets
 * to the pipeline's dashboard.
 */
export class PipelineMonitoring extends Construct {
  readonly alarmTopic: sns.ITopic;
  readonly facade: MonitoringFacade;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    if (props.existingAlarmTopic && props.alarmEmails?.length) {
      throw new Error(
        `${this.node.path}: give either "existingAlarmTopic" or "alarmEmails", not both: subscribe the e-mails to your own topic`,
      );
    }
    this.alarmTopic = props.existingAlarmTopic ?? this.createAlarmTopic(props.alarmEmails ?? []);

    const alarmsToTopic = new SnsAlarmActionStrategy({ onAlarmTopic: this.alarmTopic, onOkTopic: this.alarmTopic });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: props.pipelineName,
        actionsEnabled: true,
        action: alarmsToTopic,
        // Count alarms (errors, bad events, DLQ depth) must fire on the first bad period, not after three.
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        runbookLink: props.runbookLink,
      },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: props.pipelineName,
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
      }),
    });
  }

  /** Every alarm created through the facade so far. */
  get alarms(): AlarmWithAnnotation[] {
    return this.facade.createdAlarms();
  }

  /** The pipeline's CloudWatch dashboard. */
  get dashboard(): cloudwatch.Dashboard {
    const dashboard = this.facade.createdDashboard();
    if (!dashboard) throw new Error(`${this.node.path}: the dashboard was not created`);
    return dashboard;
  }

  private createAlarmTopic(emails: string[]): sns.ITopic {
    // SNS's AWS-managed key does not let CloudWatch publish; a customer-managed key with a CloudWatch grant does.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm topic of ${this.node.path}`,
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'], // in a key policy, "*" means this key
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true });
    // The TLS-only topic policy replaces SNS's default one, so CloudWatch needs an explicit, account-scoped grant.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': Stack.of(this).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }),
    );
    for (const email of emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }
}
