import * as path from 'path';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { ENV, FAILED_STATES, METRICS_NAMESPACE, RESTARTER_SERVICE } from '../handlers/glue-streaming-job/contract';
import { suppressCfnLint } from '../../../platform/compliance';
import { StreamingJob } from './job';
import { PROJECT_ROOT } from '../../../platform/paths';

const RUNNER_ENTRY = path.join(PROJECT_ROOT, 'pipelines', 'kinesis-to-delta-lake', 'handlers', 'glue-streaming-job', 'index.ts');

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
  readonly controlFunction: nodejs.NodejsFunction;
  readonly restarter: nodejs.NodejsFunction;
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

    this.controlFunction = this.runnerFunction('Control', 'onEvent', Duration.minutes(15), props, {
      [ENV.startupCheckSeconds]: String(props.startupCheck.toSeconds()),
    });
    this.allow(this.controlFunction, job, ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun']);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.controlFunction,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy }),
    });
    this.run = new CustomResource(this, 'Run', {
      serviceToken: provider.serviceToken,
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
    this.acknowledgeProvider(provider);

    this.restarter = this.runnerFunction('Restarter', 'restart', Duration.minutes(1), props, {
      [ENV.jobName]: job.jobName,
      [ENV.maxRestartsPerHour]: String(props.maxRestartsPerHour),
      [ENV.serviceName]: RESTARTER_SERVICE,
      [ENV.metricsNamespace]: METRICS_NAMESPACE,
    });
    this.allow(this.restarter, job, ['glue:StartJobRun', 'glue:GetJobRuns']);
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

  private runnerFunction(id: string, handler: string, timeout: Duration, props: JobRunnerProps, environment: Record<string, string>): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: props.logRetention, removalPolicy: props.removalPolicy });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${id} of the Glue streaming job ${props.job.jobName}`,
    });
    logGroup.grantWrite(role);
    const fn = new nodejs.NodejsFunction(this, id, {
      description: `${id === 'Control' ? 'Starts, restarts on update and stops' : 'Restarts after failures'} the Glue streaming job ${props.job.jobName}`,
      entry: RUNNER_ENTRY,
      handler,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...environment },
      // The bundle carries the AWS SDK it was tested with (see test/integration/validator-bundle.test.ts).
      bundling: { minify: true, sourceMap: true, target: 'node22', bundleAwsSDK: true },
      ...(handler === 'restart' ? { retryAttempts: 2, onFailure: new SqsDestination(this.deadLetterQueue) } : {}),
    });
    suppressCfnLint(fn, 'W3005', "CDK makes a function depend on its role and the role's policy; the policy dependency is needed, the role's is redundant but harmless.");
    Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: 'Node.js 22 (LTS to April 2027) is the runtime the platform builds, bundles and tests its handlers for.' });
    return fn;
  }

  /**
   * Glue job-run actions on this one job only. These functions make no S3 request (the job's code and data are the
   * job role's business), so the ListBucket-or-403 question of S3 (issue 15, finding 2) does not arise for them.
   */
  private allow(fn: nodejs.NodejsFunction, job: StreamingJob, actions: string[]): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [job.jobArn] }));
  }

  /** The CDK provider framework's own function: CDK-managed role and runtime. */
  private acknowledgeProvider(provider: cr.Provider): void {
    const framework = provider.node.tryFindChild('framework-onEvent');
    if (!framework) return;
    suppressCfnLint(framework, 'W3005', "The CDK provider framework's function depends on its role and the role's policy; only the policy dependency matters.");
    Validations.of(framework).acknowledge({ id: 'AwsSolutions-L1', reason: "The CDK provider framework's function; CDK chooses and updates its runtime." });
    Validations.of(framework).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "The CDK provider framework's function (runs at deployment only); its role is CDK-managed.",
    });
    const policy = framework.node.tryFindChild('ServiceRole')?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      const invoked = flattenCfnReference(Stack.of(this).resolve(`${this.controlFunction.functionArn}:*`));
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${invoked}]`, reason: 'The CDK provider framework invokes the control function (any version of it).' });
    }
  }
}
