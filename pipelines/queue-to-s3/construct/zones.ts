import { CustomResource, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EKS_UNSUPPORTED_ZONE_IDS } from '../handlers/eks-zones/zones';
import { HandlerProvider } from '../../../platform/functions';
import { fromRoot } from '../../../platform/paths';

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
    const [logRetention, removalPolicy] = [logs.RetentionDays.ONE_MONTH, RemovalPolicy.DESTROY];
    const provider = new HandlerProvider(this, 'Handler', {
      entry: fromRoot('pipelines', 'queue-to-s3', 'handlers', 'eks-zones', 'index.ts'),
      purpose: 'Picks the availability zones of the EKS cluster: available zones whose ids EKS supports',
      timeout: Duration.seconds(30),
      // The EC2 client is the Lambda runtime's: the project does not depend on @aws-sdk/client-ec2 (see index.ts).
      bundling: { externalModules: ['@aws-sdk/client-ec2'] },
      logRetention,
      removalPolicy,
      // The released log group (Zones/Logs) keeps its logical id.
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logRetention, removalPolicy }),
    });
    provider.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeAvailabilityZones'], resources: ['*'] }));
    Validations.of(provider.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:DescribeAvailabilityZones supports no resource-level permissions (Service Authorization Reference: resource type "*").',
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::EksSupportedZones',
      properties: { Count: props.count, UnsupportedZoneIds: EKS_UNSUPPORTED_ZONE_IDS },
    });
    this.zones = Array.from({ length: props.count }, (_, i) => this.resource.getAttString(`Zone${i}`));
  }
}
