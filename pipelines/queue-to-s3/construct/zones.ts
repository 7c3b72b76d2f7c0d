import * as path from 'path';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { EKS_UNSUPPORTED_ZONE_IDS } from '../handlers/eks-zones/zones';
import { suppressCfnLint } from '../../../platform/compliance';
import { PROJECT_ROOT } from '../../../platform/paths';


/**
 * `count` availability zone names that EKS accepts for cluster subnets, chosen at deploy time
 * (`Custom::EksSupportedZones`, pipelines/queue-to-s3/consumer/eks-zones): an environment-agnostic stack cannot know at
 * synth which ids its zone names map to in the deploying account, and `Fn::GetAZs` may put an id EKS refuses
 * (`use1-az3`, `usw1-az2`, `cac1-az3`) among the first two. `zones` are tokens a VPC takes as its availabilityZones.
 */
export class EksSupportedZones extends Construct {
  readonly zones: string[];
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: { count: number }) {
    super(scope, id);
    const purpose = 'Picks the availability zones of the EKS cluster: available zones whose ids EKS supports';
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: purpose });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeAvailabilityZones'], resources: ['*'] }));
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:DescribeAvailabilityZones supports no resource-level permissions (Service Authorization Reference: resource type "*").',
    });
    const fn = new nodejs.NodejsFunction(this, 'Function', {
      description: purpose,
      entry: path.join(PROJECT_ROOT, 'pipelines', 'queue-to-s3', 'handlers', 'eks-zones', 'index.ts'),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(30),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // @aws-sdk/* stays external: the handler uses the runtime's EC2 client (see its index.ts).
      bundling: { minify: true, target: 'node22' },
    });
    Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: 'Node.js 22 (LTS to April 2027) is the runtime the platform builds and tests its handlers for.' });
    suppressCfnLint(fn, 'W3005', "CDK makes a function depend on its role and the role's policy; the policy dependency is needed, the role's is redundant but harmless.");

    const provider = new cr.Provider(this, 'Provider', { onEventHandler: fn, logGroup });
    acknowledgeProviderFramework(provider, fn);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::EksSupportedZones',
      properties: { Count: props.count, UnsupportedZoneIds: EKS_UNSUPPORTED_ZONE_IDS },
    });
    this.zones = Array.from({ length: props.count }, (_, i) => this.resource.getAttString(`Zone${i}`));
  }
}

/** The CDK Provider framework's function and role: CDK-managed; it invokes the handler by version (`<arn>:*`). */
function acknowledgeProviderFramework(provider: cr.Provider, handler: lambda.IFunction): void {
  const stack = Stack.of(provider);
  for (const child of provider.node.findAll()) {
    if (child instanceof lambda.Function) {
      Validations.of(child).acknowledge({ id: 'AwsSolutions-L1', reason: "CDK's custom-resource Provider framework function: its runtime is CDK's choice." });
      suppressCfnLint(child, 'W3005', "CDK's Provider framework function depends on its role and the role's policy; only the policy dependency matters.");
    }
    if (child instanceof iam.Role) {
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's Provider framework role: CDK-managed, logging only.",
      });
      const policy = child.node.tryFindChild('DefaultPolicy');
      if (policy) {
        Validations.of(policy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(`${handler.functionArn}:*`))}]`,
          reason: "CDK's Provider framework invokes the zone picker function, by version.",
        });
      }
    }
  }
}
