import { Annotations, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import {
  AlarmWithAnnotation,
  CompositeAlarmOperator,
  DefaultDashboardFactory,
  DefaultDashboards,
  MonitoringFacade,
  noopAction,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { DEFAULT_NO_DATA_MINUTES } from '../pipeline/alarm-settings';
import { DEFAULT_DOCS_URL, runbookUrl } from '../pipeline/runbook';

/** Props of `PipelineMonitoring`: the name its alarms and dashboard carry, where alarms notify, where runbooks are. */
export interface PipelineMonitoringProps {
  /**
   * Prefixes every alarm name and names the dashboard; unique per account and region.
   * @default the stack name
   */
  readonly pipelineName?: string;
  /**
   * Where the docs are published (the `docsUrl` setting): alarms link `<docsUrl>/runbooks/<runbook>.md#<section>`
   * (`runbook()`). @default DEFAULT_DOCS_URL, the repository's docs folder
   */
  readonly docsUrl?: string;
  /**
   * The link of an alarm that names no runbook section of its own. @default none: every alarm names its section
   * (test/platform/runbook-links.test.ts checks that each one does)
   */
  readonly runbookLink?: string;
  /** E-mail addresses subscribed to the alarm topic. @default none (synth warns) */
  readonly alarmEmails?: string[];
  /** Send alarms to this topic instead of creating one (its policies must let CloudWatch publish). */
  readonly existingAlarmTopic?: sns.ITopic;
}

/** Props of `PipelineMonitoring.addNoDataAlarm`: the events metric and how long a silence may last. */
export interface NoDataAlarmProps {
  /** The events metric; its period is ignored (the alarm sets its own). */
  readonly metric: cloudwatch.Metric;
  /** Alarm name suffix, e.g. "clickstream-no-data". */
  readonly name: string;
  /** Minutes without events, once events have flowed, before the alarm fires. @default DEFAULT_NO_DATA_MINUTES */
  readonly noDataMinutes?: number;
  /** The runbook section of this alarm (`monitoring.runbook(...)(SECTION.noData)`). */
  readonly runbookLink: string;
  /** What stopped, for the alarm description ("No clickstream events were read"). */
  readonly description: string;
  /**
   * Events the platform itself sends through the metric's path (freshness canaries: platform/freshness
   * `canaryCount`), subtracted from it so that the alarm still fires when publishers fall silent. Only for a metric
   * that counts canaries; an exit that counts them apart needs none. @default none
   */
  readonly canaries?: cloudwatch.Metric;
  /**
   * The smallest sum over the period that counts as data (a rate metric, such as DMS's rows per second, sums to a
   * fraction for a single change). @default 1
   */
  readonly threshold?: number;
}

/**
 * The words every pipeline uses for the same kind of alarm: each is a runbook section (a heading of
 * docs/runbooks/<pipeline>.md), so an operator meets the same word for the same trouble in every pipeline.
 */
export const SECTION = {
  /** "No data": nothing arrived for `noDataMinutes`, although data had been flowing. */
  noData: 'no-data',
  /** "Lag: <which>": data waits too long (iterator age, consumer lag, oldest message, CDC latency, freshness). */
  lag: (which: string) => `lag-${which}`,
  /** "Rejected records": records failed validation or parsing and went to the error location. */
  rejectedRecords: 'rejected-records',
  /** "Dead-letter queue not empty": deliveries or invocations failed after their retries. */
  deadLetterQueue: 'dead-letter-queue-not-empty',
} as const;

export { DEFAULT_NO_DATA_MINUTES } from '../pipeline/alarm-settings';

/** How long a source may be silent before its no-data alarm disarms (a silent source is then treated as retired). */
export const NO_DATA_ARMED_HOURS = 24;

/**
 * Alarms and a dashboard for one pipeline, on cdk-monitoring-constructs.
 *
 * Constructs add their monitors through `facade` (`monitoring.facade.monitorLambdaFunction({...})`); every alarm the
 * facade creates is named `<pipelineName>-...`, links a runbook, notifies `alarmTopic` when it fires and again when it
 * recovers, and every monitor adds its widgets to the pipeline's dashboard.
 */
export class PipelineMonitoring extends Construct {
  /** The SNS topic every alarm notifies (on alarm and on recovery): `existingAlarmTopic`, or the one it creates. */
  readonly alarmTopic: sns.ITopic;
  /** The cdk-monitoring-constructs facade the pipelines' monitors add their alarms and widgets to. */
  readonly facade: MonitoringFacade;
  /** The prefix of every alarm name, and the dashboard's name. */
  readonly pipelineName: string;
  /** The docs location runbook links start with. */
  readonly docsUrl: string;
  private readonly dashboards: DefaultDashboardFactory;
  private readonly noDataAlarms: cloudwatch.CompositeAlarm[] = [];

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    this.pipelineName = props.pipelineName ?? Stack.of(this).stackName;
    this.docsUrl = props.docsUrl ?? DEFAULT_DOCS_URL;
    if (props.existingAlarmTopic && props.alarmEmails?.length) {
      throw new Error(
        `${this.node.path}: give either "existingAlarmTopic" or "alarmEmails", not both: subscribe the e-mails to your own topic`,
      );
    }
    if (!props.existingAlarmTopic && !props.alarmEmails?.length) {
      Annotations.of(this).addWarningV2(
        'stream-foundry:noAlarmRecipients',
        `Alarms of ${this.pipelineName} notify a topic nobody is subscribed to: set "alarmEmails" (or "alarmTopicArn") in cdk.json or with -c.`,
      );
    }
    this.alarmTopic = props.existingAlarmTopic ?? this.createAlarmTopic(props.alarmEmails ?? []);

    const alarmsToTopic = new SnsAlarmActionStrategy({ onAlarmTopic: this.alarmTopic, onOkTopic: this.alarmTopic });
    this.dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: this.pipelineName,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: this.pipelineName,
        actionsEnabled: true,
        action: alarmsToTopic,
        // Count alarms (errors, bad events, DLQ depth) must fire on the first bad period, not after three.
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        runbookLink: props.runbookLink,
      },
      dashboardFactory: this.dashboards,
    });
  }

  /** Links to sections of docs/runbooks/<runbook>.md at the docs location: `runbook('landing-zone')('no-data')`. */
  runbook(runbook: string): (section: string) => string {
    return (section) => runbookUrl(this.docsUrl, runbook, section);
  }

  /** Every alarm that notifies the topic: those of the facade's monitors and the no-data alarms. */
  get alarms(): cloudwatch.AlarmBase[] {
    return [...this.facade.createdAlarms().map((a: AlarmWithAnnotation) => a.alarm), ...this.noDataAlarms];
  }

  /** The pipeline's CloudWatch dashboard. */
  get dashboard(): cloudwatch.Dashboard {
    const dashboard = this.dashboards.getDashboard(DefaultDashboards.DETAIL);
    if (!dashboard) throw new Error(`${this.node.path}: the dashboard was not created`);
    return dashboard;
  }

  /**
   * "No data" for a metric that exists only while data flows (a Lambda's EMF metric, a consumer's count): it fires
   * when no events arrived for `noDataMinutes` although events arrived within the last day, and stays quiet before
   * the first event (a fresh deploy) and once a source has been silent for a day (retired). A composite of two
   * alarms, each on documented missing-data semantics:
   * ```text
   *   silent = sum over noDataMinutes < 1, missing data breaching (ALARM from deploy on: has no actions);
   *   armed  = some event within the last 24 hours, missing data not breaching (no actions either);
   *   no data = silent AND armed: notifies the topic.
   * ```
   */
  addNoDataAlarm(props: NoDataAlarmProps): cloudwatch.CompositeAlarm {
    const noDataMinutes = props.noDataMinutes ?? DEFAULT_NO_DATA_MINUTES;
    const factory = this.facade.createAlarmFactory(this.pipelineName);
    const quiet = { actionOverride: noopAction(), runbookLink: props.runbookLink };
    const silent = factory.addAlarm(this.events(props, Duration.minutes(noDataMinutes)), {
      ...quiet,
      alarmNameSuffix: `${props.name}-silent`,
      alarmDescription: `${props.description} for ${noDataMinutes} minutes (building block of ${props.name}; no actions).`,
      threshold: props.threshold ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
    const armed = factory.addAlarm(this.events(props, Duration.hours(1)), {
      ...quiet,
      alarmNameSuffix: `${props.name}-armed`,
      alarmDescription: `Events arrived within the last ${NO_DATA_ARMED_HOURS} hours (building block of ${props.name}; no actions).`,
      threshold: props.threshold ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluationPeriods: NO_DATA_ARMED_HOURS,
      datapointsToAlarm: 1,
    });
    const composite = factory.addCompositeAlarm([silent, armed], {
      disambiguator: props.name,
      alarmNameSuffix: props.name,
      alarmDescription: `${props.description} for ${noDataMinutes} minutes, after events had been flowing.`,
      compositeOperator: CompositeAlarmOperator.AND,
      runbookLink: props.runbookLink,
    });
    this.noDataAlarms.push(composite);
    return composite;
  }

  /** The no-data alarm's events over `period`: the metric's sum, less the canaries it counted when it counts them. */
  private events(props: NoDataAlarmProps, period: Duration): cloudwatch.Metric | cloudwatch.MathExpression {
    const events = props.metric.with({ statistic: 'Sum', period });
    if (!props.canaries) return events;
    return new cloudwatch.MathExpression({
      expression: 'events - FILL(canaries, 0)',
      usingMetrics: { events, canaries: props.canaries.with({ statistic: 'SampleCount', period }) },
      label: `${props.metric.metricName} without freshness canaries`,
      period,
    });
  }

  private createAlarmTopic(emails: string[]): sns.ITopic {
    // CloudWatch may publish only for this account's alarms of this pipeline (confused-deputy protection).
    const stack = Stack.of(this);
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${this.pipelineName}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
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
        conditions: fromOurAlarms,
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true });
    // The TLS-only topic policy replaces SNS's default one, so CloudWatch needs an explicit grant.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    for (const email of emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }
}
