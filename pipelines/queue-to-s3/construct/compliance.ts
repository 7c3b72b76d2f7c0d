import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { suppressCfnLint } from '../../../platform/compliance';
import { IConstruct } from 'constructs';
import { ConsumerCluster } from './cluster';

const policy = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;

/**
 * cdk-nag acknowledgements for what aws-eks-v2 creates with a new cluster, each on its one resource with the reason.
 * Listed in platform/compliance/README.md.
 */
export function acknowledgeClusterFindings(created: ConsumerCluster): void {
  const cluster = created.cluster;
  const find = (path: string): IConstruct => {
    const found = path.split('/').reduce<IConstruct | undefined>((c, id) => c?.node.tryFindChild(id), cluster);
    if (!found) throw new Error(`${cluster.node.path}/${path}: not found (aws-eks-v2 changed its construct tree)`);
    return found;
  };
  const ack = (path: string, ids: string[], reason: string) => {
    for (const id of ids) Validations.of(find(path)).acknowledge({ id, reason });
  };

  ack(
    'Role',
    ['AmazonEKSClusterPolicy', 'AmazonEKSComputePolicy', 'AmazonEKSBlockStoragePolicy', 'AmazonEKSLoadBalancingPolicy', 'AmazonEKSNetworkingPolicy'].map(policy),
    'The EKS cluster role of an Auto Mode cluster must carry these AWS-maintained policies (EKS documentation); EKS manages nodes, storage, load balancing and networking with them.',
  );
  ack(
    'ClusternodePoolRole',
    ['AmazonEKSWorkerNodePolicy', 'AmazonEC2ContainerRegistryReadOnly'].map(policy),
    'The Auto Mode node role: the AWS-maintained policies EKS requires for nodes to join the cluster and pull images.',
  );
  const kubectlHandler = 'KubectlProvider/Handler';
  const stack = Stack.of(cluster);
  const hasEcrPublic = stack.getLogicalId(find('KubectlProvider/Handler/HasEcrPublic') as CfnElement);
  ack(
    `${kubectlHandler}/ServiceRole`,
    [
      policy('AmazonEC2ContainerRegistryReadOnly'),
      policy('service-role/AWSLambdaBasicExecutionRole'),
      policy('service-role/AWSLambdaVPCAccessExecutionRole'),
      `AwsSolutions-IAM4[Policy::${JSON.stringify(ecrPublicPolicy(hasEcrPublic))}]`,
    ],
    "aws-eks-v2's kubectl provider (runs kubectl and helm at deploy time, inside the VPC): CDK manages its role and policies.",
  );
  ack(kubectlHandler, ['AwsSolutions-L1'], "aws-eks-v2's kubectl provider picks its own Python runtime, matched to its kubectl layer.");
  ack(
    'KubectlProvider/Provider/framework-onEvent/ServiceRole',
    [policy('service-role/AWSLambdaBasicExecutionRole'), policy('service-role/AWSLambdaVPCAccessExecutionRole')],
    "The custom-resource framework of aws-eks-v2's kubectl provider: CDK manages its role.",
  );
  const handlerArn = stack.getLogicalId(find(`${kubectlHandler}/Resource`) as CfnElement);
  ack(
    'KubectlProvider/Provider/framework-onEvent/ServiceRole/DefaultPolicy',
    [`AwsSolutions-IAM5[Resource::<${handlerArn}.Arn>:*]`],
    'The custom-resource framework invokes the kubectl handler, any version of it (CDK-generated policy).',
  );
  // cfn-lint W3005 (a DependsOn that a Ref or GetAtt already implies): harmless, in resources CDK generates.
  suppressCfnLint(find('Resource'), 'W3005', 'aws-eks-v2 makes the cluster depend explicitly on its subnets, which it also references.');
  for (const fn of [`${kubectlHandler}/Resource`, 'KubectlProvider/Provider/framework-onEvent/Resource']) {
    suppressCfnLint(find(fn), 'W3005', "CDK makes the kubectl provider's functions depend on the roles they already reference.");
  }
  ack(
    'Resource',
    ['CloudFormation-Validate::W9009'],
    'aws-eks-v2 renders secrets encryption as EncryptionConfig[].Resources ["secrets"], the value the EKS API still requires.',
  );
}

/** The managed-policy entry aws-eks-v2 adds to the kubectl handler's role: ECR Public read-only, where the partition has it. */
function ecrPublicPolicy(conditionId: string): unknown {
  return {
    'Fn::If': [
      conditionId,
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly']] },
      { Ref: 'AWS::NoValue' },
    ],
  };
}
