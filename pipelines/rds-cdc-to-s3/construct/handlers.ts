import * as path from 'path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { suppressCfnLint } from '../../../platform/compliance';
import { PROJECT_ROOT } from '../../../platform/paths';


export interface HandlerProviderProps {
  /** Folder under handlers/ with an index.ts exporting onEvent and isComplete. */
  readonly handler: 'dms-task-control' | 'dms-account-roles';
  readonly description: string;
  /** What the handler may do (nothing else: its role has only these and its log group). */
  readonly statements: iam.PolicyStatement[];
  /** IAM5 findings of the handler's own policy (`Resource::...`) and why each is needed. */
  readonly acknowledgements?: Readonly<Record<string, string>>;
  readonly queryInterval: Duration;
  readonly totalTimeout: Duration;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A custom-resource provider (CDK Provider framework, with isComplete polling) backed by one of our TypeScript handlers:
 * onEvent and isComplete are two functions bundled from the same entry, SDK included, Node.js 22 on arm64.
 */
export class HandlerProvider extends Construct {
  readonly provider: cr.Provider;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HandlerProviderProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
      inlinePolicies: { handler: new iam.PolicyDocument({ statements: props.statements }) },
    });
    logGroup.grantWrite(this.role);
    const fn = (name: 'onEvent' | 'isComplete') => {
      const f = new nodejs.NodejsFunction(this, name === 'onEvent' ? 'OnEvent' : 'IsComplete', {
        description: `${props.description} (${name})`,
        entry: path.join(PROJECT_ROOT, 'pipelines', 'rds-cdc-to-s3', 'handlers', props.handler, 'index.ts'),
        handler: name,
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.minutes(1),
        role: this.role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment: { NODE_OPTIONS: '--enable-source-maps' },
        // The SDK travels in the bundle: what the runtime happens to ship cannot break a deployment.
        bundling: { minify: true, sourceMap: true, target: 'node22', bundleAwsSDK: true },
      });
      Validations.of(f).acknowledge({ id: 'AwsSolutions-L1', reason: 'Node.js 22 is the runtime these handlers are built and tested for (bundle target node22).' });
      suppressCfnLint(f, 'W3005', 'CDK makes a function depend on its role and its default policy; the explicit role dependency is redundant, not wrong.');
      return f;
    };
    const onEvent = fn('onEvent');
    const isComplete = fn('isComplete');
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: props.queryInterval,
      totalTimeout: props.totalTimeout,
      logGroup: new logs.LogGroup(this, 'FrameworkLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy }),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: new logs.LogGroup(this, 'WaiterLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy }),
        level: sfn.LogLevel.ALL,
      },
    });
    acknowledgeProviderFramework(this.provider, [onEvent, isComplete]);
    for (const [finding, reason] of Object.entries(props.acknowledgements ?? {})) {
      Validations.of(this.role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }

  get serviceToken(): string {
    return this.provider.serviceToken;
  }
}

/** CDK's provider framework (its three functions and the waiter state machine) is CDK-managed code. */
function acknowledgeProviderFramework(provider: cr.Provider, handlers: lambda.IFunction[]): void {
  const invokeAny = (fn: lambda.IFunction) => `Resource::<${Stack.of(provider).resolve(fn.functionArn)['Fn::GetAtt'][0]}.Arn>:*`;
  const frameworkFunctions = ['framework-onEvent', 'framework-isComplete', 'framework-onTimeout'].map((id) => provider.node.findChild(id) as lambda.Function);
  Validations.of(provider).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's custom-resource provider framework functions; their roles are CDK-managed (logs only).",
    },
    ...[...handlers, ...frameworkFunctions.slice(1)].map((fn) => ({
      id: `AwsSolutions-IAM5[${invokeAny(fn)}]`,
      reason: "CDK's provider framework invokes this function and any of its versions (<function ARN>:*).",
    })),
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: "The provider's waiter state machine delivers its logs to CloudWatch Logs (log delivery actions take no resource).",
    },
    { id: 'AwsSolutions-SF2', reason: "CDK's provider waiter state machine only polls isComplete; it logs ALL events to CloudWatch, X-Ray adds nothing." },
  );
  for (const fn of frameworkFunctions) {
    suppressCfnLint(fn, 'W3005', "CDK's provider framework function depends on its role and the role's policy; only the policy dependency matters.");
  }
  suppressCfnLint(
    provider.node.findChild('waiter-state-machine'),
    'W3005',
    "CDK's provider waiter state machine depends on its role and the role's policy; only the policy dependency matters.",
  );
}
