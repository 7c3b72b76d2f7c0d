import { CustomResource, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, FAILED_STATES, METRICS_NAMESPACE, RESTARTER_SERVICE } from '../handlers/glue-streaming-job/contract';
import { BundledFunction, functionRole, HandlerProvider } from '../../../platform/functions';
import { fromRoot } from '../../../platform/paths';
import { StreamingJob } from './job';

const RUNNER_ENTRY = fromRoot('pipelines', 'kinesis-to-delta-lake', 'handlers', 'glue-streaming-job', 'index.ts');

/** How often the restarter also checks on its own (EventBridge delivers Glue's events on a best-effort basis). */
export const RESTART_CHECK_INTERVAL = Duration.minutes(5);

export interface JobRunnerProps {
  readonly job: StreamingJob;
  readonly maxRestartsPerHour: number;
  readonly startupCheck: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * What CloudFormation cannot do for a streaming job: run it.
 *  - `run`: a custom resource whose properties are the job's definition. Create starts a run; any change of the job
 *    (script or package asset, arguments, version, workers) is an Update that stops the running run and starts one
 *    on the new definition, resuming from the checkpoint; Delete stops it. CloudFormation updates the job first (the
 *    resource depends on it), so the new run always gets the new script.
 *  - `restarter`: on "Glue Job State Change" events of the job (FAILED, TIMEOUT, ERROR, EXPIRED) and every
 *    5 minutes (which also catches a run that ended SUCCEEDED and any event EventBridge did not deliver), starts a new run when the last one ended without being stopped on purpose, with backoff and at most
 *    `maxRestartsPerHour` (then it alarms). STOPPED runs are never restarted: deployments stop runs themselves, and an
 *    operator may pause the stream.
 */
export class JobRunner extends Construct {
  readonly run: CustomResource;
  readonly controlFunction: BundledFunction;
  readonly restarter: BundledFunction;
  readonly stateChangeRule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: JobRunnerProps) {
    super(scope, id);
    const { job } = props;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the restarter (Lambda on-failure destination and EventBridge targets).' });

    const logging = { retention: props.logRetention, removalPolicy: props.removalPolicy };
    // The log groups keep the ids of the released version (Runner/ControlLogs, Runner/ProviderLogs).
    const control = new HandlerProvider(this, 'Control', {
      entry: RUNNER_ENTRY,
      purpose: `Starts, restarts on update and stops the Glue streaming job ${job.jobName}`,
      timeout: Duration.minutes(15),
      environment: { [ENV.startupCheckSeconds]: String(props.startupCheck.toSeconds()) },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      logGroup: new logs.LogGroup(this, 'ControlLogs', logging),
      frameworkLogGroup: new logs.LogGroup(this, 'ProviderLogs', logging),
    });
    this.controlFunction = control.onEvent;
    this.allow(control.role, job, ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun']);
    this.run = new CustomResource(this, 'Run', {
      serviceToken: control.serviceToken,
      resourceType: 'Custom::GlueStreamingJobRun',
      properties: {
        JobName: job.job.ref,
        // Any change here is an Update: the running run is replaced by one on the new definition.
        Definition: {
          ScriptLocation: (job.job.command as { scriptLocation: string }).scriptLocation,
          GlueVersion: job.job.glueVersion,
          WorkerType: job.job.workerType,
          NumberOfWorkers: job.job.numberOfWorkers,
          Arguments: job.arguments,
        },
      },
    });
    // The new run needs the job's permissions in place, not only the job.
    this.run.node.addDependency(job.role);

    const restarterLogs = new logs.LogGroup(this, 'RestarterLogs', logging);
    this.restarter = new BundledFunction(this, 'Restarter', {
      description: `Restarts after failures the Glue streaming job ${job.jobName}`,
      entry: RUNNER_ENTRY,
      handler: 'restart',
      role: functionRole(this, 'RestarterRole', `Restarter of the Glue streaming job ${job.jobName}`, restarterLogs),
      logGroup: restarterLogs,
      environment: {
        [ENV.jobName]: job.jobName,
        [ENV.maxRestartsPerHour]: String(props.maxRestartsPerHour),
        [ENV.serviceName]: RESTARTER_SERVICE,
        [ENV.metricsNamespace]: METRICS_NAMESPACE,
      },
      retryAttempts: 2,
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    this.allow(this.restarter.role!, job, ['glue:StartJobRun', 'glue:GetJobRuns']);
    const target = new targets.LambdaFunction(this.restarter, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 4, maxEventAge: Duration.hours(1) });
    this.stateChangeRule = new events.Rule(this, 'OnJobEnded', {
      description: `Restarts ${job.jobName} when a run ends without being stopped on purpose`,
      eventPattern: {
        source: ['aws.glue'],
        detailType: ['Glue Job State Change'],
        detail: { jobName: [job.jobName], state: [...FAILED_STATES] },
      },
      targets: [target],
    });
    new events.Rule(this, 'Check', {
      description: `Checks every ${RESTART_CHECK_INTERVAL.toMinutes()} minutes that ${job.jobName} runs (missed events, backed-off restarts)`,
      schedule: events.Schedule.rate(RESTART_CHECK_INTERVAL),
      targets: [target],
    });
  }

  /**
   * Glue job-run actions on this one job only. These functions make no S3 request (the job's code and data are the
   * job role's business), so the ListBucket-or-403 question of S3 (issue 15, finding 2) does not arise for them.
   */
  private allow(role: iam.IRole, job: StreamingJob, actions: string[]): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [job.jobArn] }));
  }
}
