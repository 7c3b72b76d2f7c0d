/**
 * The platform's function toolkit: every Lambda function of this repository that runs our TypeScript is a
 * `BundledFunction`, and every custom resource is served by a `HandlerProvider`. What they share (runtime, bundling,
 * logging, network access, the compliance acknowledgements) is written here once. Handler code lives beside each
 * pipeline (pipelines/<name>/handlers/<handler>/index.ts); custom-resource handlers build on
 * platform/handlers/custom-resource.ts.
 */
import * as fs from 'fs';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, IConstruct } from 'constructs';
import { suppressCfnLint } from '../compliance';
import { fromRoot, sourceModule } from '../paths';

/** Where a function runs when it must reach something inside a VPC (Kafka brokers). */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** How long a function's logs are kept, and what happens to them when the stack goes. */
export interface FunctionLogging {
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

export interface BundledFunctionProps extends Pick<lambda.FunctionOptions, 'description' | 'memorySize' | 'timeout' | 'environment' | 'retryAttempts' | 'maxEventAge' | 'onFailure'> {
  /** The handler module (`.../handlers/<name>/index.ts`). */
  readonly entry: string;
  /** The export of `entry` to run. Default `onEvent`. */
  readonly handler?: string;
  /** Its role: `functionRole` makes one that may write its log group and nothing else. */
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;
  readonly network?: FunctionNetwork;
  /** What a function adds to the bundling: files copied beside the bundle, modules left to the runtime. */
  readonly bundling?: Pick<nodejs.BundlingOptions, 'commandHooks' | 'externalModules'>;
}

/** A role Lambda assumes that may write to `logGroup` and nothing else, until the caller grants what the code needs. */
export function functionRole(scope: Construct, id: string, description: string, logGroup: logs.ILogGroup): iam.Role {
  const role = new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
  logGroup.grantWrite(role);
  return role;
}

/**
 * A Node.js 22 function on arm64 bundled by esbuild (minified, with source maps, the AWS SDK inside: what the Lambda
 * runtime happens to ship, and when it changes, cannot fail an invocation), logging JSON to its own log group.
 */
export class BundledFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    const { network, bundling, ...options } = props;
    super(scope, id, {
      ...options,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(1),
      handler: props.handler ?? 'onEvent',
      entry: sourceModule(props.entry),
      // In the repository, its lock file; installed as a package, the app's (NodejsFunction finds it from the working directory).
      depsLockFilePath: REPOSITORY_LOCK_FILE,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      ...network,
      bundling: { minify: true, sourceMap: true, target: 'node22', bundleAwsSDK: true, ...bundling },
    });
    if (network) allowNetworkInterfaces(props.role, props.description ?? id);
    suppressCfnLint(this, 'W3005', "CDK makes a function depend on its role and the role's policy; the policy dependency is needed, the role's is redundant but harmless.");
    Validations.of(this).acknowledge({ id: 'AwsSolutions-L1', reason: 'Node.js 22 (LTS to April 2027) is the runtime the platform builds, bundles and tests its handlers for.' });
  }
}

/** The repository's lock file; absent from the installed package. */
const REPOSITORY_LOCK_FILE = fs.existsSync(fromRoot('package-lock.json')) ? fromRoot('package-lock.json') : undefined;

const withNetworkInterfaces = new WeakSet<iam.IRole>();

/** A function in a VPC: Lambda manages its network interfaces with its role, and these actions support no resource scoping. */
function allowNetworkInterfaces(role: iam.IRole, purpose: string): void {
  if (withNetworkInterfaces.has(role)) return;
  withNetworkInterfaces.add(role);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: ['*'],
    }),
  );
  Validations.of(role.node.tryFindChild('DefaultPolicy') ?? role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: `${purpose}: runs in a VPC; Lambda's network-interface actions support no resource scoping.`,
  });
}

export interface HandlerProviderProps extends FunctionLogging {
  /** The handler module: it exports `onEvent`, and `isComplete` when `isComplete` is set. */
  readonly entry: string;
  /** What the resource does: the role's and the functions' descriptions, the acknowledgements' reasons. */
  readonly purpose: string;
  /** Asynchronous resources: the framework's waiter (Step Functions) polls `isComplete` until done or `totalTimeout`. */
  readonly isComplete?: { queryInterval: Duration; totalTimeout: Duration };
  /** Of each handler function. Default 1 minute. */
  readonly timeout?: Duration;
  readonly environment?: Record<string, string>;
  readonly network?: FunctionNetwork;
  readonly bundling?: BundledFunctionProps['bundling'];
  /** The handler's log group. Default: this provider's `Logs`. Given only to keep a released log group's logical id. */
  readonly logGroup?: logs.ILogGroup;
  /** The framework's log group. Default: this provider's `FrameworkLogs`. Given only to keep a released log group's logical id. */
  readonly frameworkLogGroup?: logs.ILogGroup;
}

/**
 * A custom-resource provider (CDK's Provider framework) backed by one of our handlers: `onEvent` and, for an
 * asynchronous resource, `isComplete` are two BundledFunctions of the same entry sharing one role (`role`: grant it
 * exactly what the handler needs) and one log group; the framework logs to its own group, and its waiter logs every
 * execution to `WaiterLogs`.
 */
export class HandlerProvider extends Construct {
  readonly role: iam.Role;
  readonly provider: cr.Provider;
  readonly onEvent: BundledFunction;
  readonly isComplete?: BundledFunction;

  constructor(scope: Construct, id: string, props: HandlerProviderProps) {
    super(scope, id);
    const logging = { retention: props.logRetention, removalPolicy: props.removalPolicy };
    const logGroup = props.logGroup ?? new logs.LogGroup(this, 'Logs', logging);
    this.role = functionRole(this, 'Role', props.purpose, logGroup);
    const handler = (fnId: string, name: string) =>
      new BundledFunction(this, fnId, {
        description: `${props.purpose} (${name})`,
        entry: props.entry,
        handler: name,
        timeout: props.timeout,
        environment: props.environment,
        network: props.network,
        bundling: props.bundling,
        role: this.role,
        logGroup,
      });
    this.onEvent = handler('OnEvent', 'onEvent');
    this.isComplete = props.isComplete ? handler('IsComplete', 'isComplete') : undefined;
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEvent,
      isCompleteHandler: this.isComplete,
      queryInterval: props.isComplete?.queryInterval,
      totalTimeout: props.isComplete?.totalTimeout,
      logGroup: props.frameworkLogGroup ?? new logs.LogGroup(this, 'FrameworkLogs', logging),
      ...(props.isComplete && {
        disableWaiterStateMachineLogging: false,
        waiterStateMachineLogOptions: { destination: new logs.LogGroup(this, 'WaiterLogs', logging), level: sfn.LogLevel.ALL },
      }),
    });
    acknowledgeFramework(this, props.purpose);
  }

  get serviceToken(): string {
    return this.provider.serviceToken;
  }
}

/**
 * CDK's Provider framework (its functions, roles and waiter state machine) is CDK-managed code: acknowledged where it
 * is. Its policies invoke our handler functions and its own by version (`<function ARN>:*`).
 */
function acknowledgeFramework(scope: HandlerProvider, purpose: string): void {
  const stack = Stack.of(scope);
  const all = scope.node.findAll();
  const functions = all.filter((c): c is lambda.Function => c instanceof lambda.Function);
  const invokes = functions.map((f) => `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(`${f.functionArn}:*`))}]`);
  const framework = scope.provider.node.findAll();
  const acknowledge = (c: IConstruct, id: string, reason: string) => Validations.of(c).acknowledge({ id, reason: `CDK's Provider framework (${purpose}): ${reason}` });
  for (const child of framework) {
    if (child instanceof lambda.Function) {
      acknowledge(child, 'AwsSolutions-L1', "its function's runtime is CDK's choice.");
      suppressCfnLint(child, 'W3005', "CDK's Provider framework function depends on its role and the role's policy; only the policy dependency matters.");
    }
    if (child instanceof iam.Role) {
      acknowledge(child, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'a CDK-managed role, logging only.');
      for (const id of invokes) acknowledge(child, id, 'invokes the handler and its own functions, by version.');
      // The waiter's log delivery actions (logs:CreateLogDelivery, ...) take no resource.
      acknowledge(child, 'AwsSolutions-IAM5[Resource::*]', 'the waiter state machine delivers its logs to CloudWatch Logs (log delivery actions take no resource).');
    }
    if (child instanceof sfn.CfnStateMachine) {
      suppressCfnLint(child, 'W3005', "CDK's Provider framework makes its waiter state machine depend on its role, which it also references.");
      acknowledge(child, 'AwsSolutions-SF2', 'the waiter only polls isComplete and logs every execution; X-Ray adds nothing and the framework offers no switch.');
    }
  }
}
