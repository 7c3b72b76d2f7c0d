import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface PodIdentityProps {
  readonly cluster: eks.ICluster;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly description: string;
}

/**
 * An IAM role for one Kubernetes service account through EKS Pod Identity: the role trusts `pods.eks.amazonaws.com`
 * only for this account's cluster (`aws:SourceAccount`, `aws:SourceArn`), and the association binds it to the one
 * service account. Pods started before the association exists get no credentials: make workloads depend on it.
 */
export class PodIdentity extends Construct {
  readonly role: iam.Role;
  readonly association: eks.CfnPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: PodIdentityProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      description: props.description,
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': props.cluster.clusterArn },
        },
      }),
    });
    // Pod Identity passes session tags (cluster, namespace, service account): the trust must allow sts:TagSession.
    this.role.assumeRolePolicy!.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:TagSession'],
        principals: [new iam.ServicePrincipal('pods.eks.amazonaws.com')],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': props.cluster.clusterArn },
        },
      }),
    );
    this.association = new eks.CfnPodIdentityAssociation(this, 'Association', {
      clusterName: props.cluster.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      roleArn: this.role.roleArn,
    });
  }
}
