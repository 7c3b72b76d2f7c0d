import * as path from 'path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { suppressCfnLint } from '../../../platform/compliance';
import { PROJECT_ROOT } from '../../../platform/paths';


export interface HandlerProviderProps {
  /** Folder under handlers/ holding index.ts. */
  readonly handler: string;
  /** What the resource does (descriptions, acknowledgement reasons). */
  readonly purpose: string;
  /** `isComplete` polling: the Provider framework's waiter (Step Functions) runs it until done or `totalTimeout`. */
  readonly isComplete?: { queryInterval: Duration; totalTimeout: Duration };
  readonly timeout?: Duration;
  readonly network?: { vpc: ec2.IVpc; vpcSubnets: ec2.SubnetSelection; securityGroups: ec2.ISecurityGroup[] };
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A custom-resource provider backed by one of this project's TypeScript handlers (handlers/<name>/index.ts), bundled
 * with esbuild and the AWS SDK inside (a Lambda runtime's SDK can change under us), on Node.js 22 arm64, with a role of
 * its own that the caller grants exactly what the handler needs.
 */
export class HandlerProvider extends Construct {
  readonly role: iam.Role;
  readonly provider: cr.Provider;
  readonly functions: nodejs.NodejsFunction[] = [];

  constructor(scope: Construct, id: string, props: HandlerProviderProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: props.purpose });
    logGroup.grantWrite(this.role);
    if (props.network) {
      // Lambda's network-interface actions support no resource scoping.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
          resources: ['*'],
        }),
      );
      Validations.of(this.role.node.tryFindChild('DefaultPolicy') ?? this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${props.purpose}: runs in the VPC; Lambda's network-interface actions support no resource scoping.`,
      });
    }
    const fn = (name: string, handler: string) => {
      const f = new nodejs.NodejsFunction(this, name, {
        description: `${props.purpose} (${handler})`,
        entry: path.join(PROJECT_ROOT, 'pipelines', 'msk-to-iceberg', 'handlers', props.handler, 'index.ts'),
        handler,
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: props.timeout ?? Duration.minutes(1),
        role: this.role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment: { NODE_OPTIONS: '--enable-source-maps' },
        ...props.network,
        bundling: { minify: true, sourceMap: true, target: 'node22', bundleAwsSDK: true },
      });
      suppressCfnLint(f, 'W3005', "CDK makes a function depend on its role and the role's policy; the policy dependency is needed, the role's is redundant but harmless.");
      Validations.of(f).acknowledge({ id: 'AwsSolutions-L1', reason: 'Node.js 22 (LTS to April 2027) is the runtime the platform builds, bundles and tests its handlers for.' });
      this.functions.push(f);
      return f;
    };
    const onEvent = fn('OnEvent', props.isComplete ? 'onEvent' : 'handler');
    const isComplete = props.isComplete ? fn('IsComplete', 'isComplete') : undefined;
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: props.isComplete?.queryInterval,
      totalTimeout: props.isComplete?.totalTimeout,
      logGroup,
    });
    acknowledgeFramework(this.provider, props.purpose);
  }

  get serviceToken(): string {
    return this.provider.serviceToken;
  }
}


/**
 * The CDK Provider framework's own functions, roles and waiter: CDK-managed, acknowledged where they are. Its policies
 * invoke the handler and framework functions by version (`<arn>:*`); the waiter state machine cannot enable X-Ray.
 */
function acknowledgeFramework(provider: cr.Provider, purpose: string): void {
  const stack = Stack.of(provider);
  const scope = provider.node.scope as Construct;
  const functions = scope.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function);
  const versions = functions.map((f) => `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(`${f.functionArn}:*`))}]`);
  for (const child of provider.node.findAll()) {
    if (child instanceof lambda.Function) {
      Validations.of(child).acknowledge({ id: 'AwsSolutions-L1', reason: `CDK's custom-resource Provider framework function (${purpose}); its runtime is CDK's choice.` });
      suppressCfnLint(child, 'W3005', "CDK's Provider framework function depends on its role and the role's policy; only the policy dependency matters.");
    }
    if (child instanceof iam.Role) {
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: `CDK's Provider framework role (${purpose}): CDK-managed, logging only.`,
      });
      const policy = child.node.tryFindChild('DefaultPolicy');
      for (const id of policy ? versions : []) {
        Validations.of(policy!).acknowledge({ id, reason: `CDK's Provider framework (${purpose}) invokes its own functions, by version.` });
      }
    }
    if (child instanceof sfn.CfnStateMachine) {
      suppressCfnLint(child, 'W3005', "CDK's Provider framework makes its waiter state machine depend on its role, which it also references.");
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-SF1',
        reason: `CDK's Provider framework waiter (${purpose}) only polls the isComplete function, which logs every poll to our log group; state-machine logging would add log-delivery actions on "*".`,
      });
      Validations.of(child).acknowledge({ id: 'AwsSolutions-SF2', reason: `CDK's Provider framework waiter (${purpose}) polls one Lambda function: X-Ray adds nothing and the framework offers no switch.` });
    }
  }
}
