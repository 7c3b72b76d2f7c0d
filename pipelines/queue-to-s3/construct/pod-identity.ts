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
 * (`sts:AssumeRole` with `sts:TagSession`) only for this account, this cluster, this namespace and service account (the
 * session tags Pod Identity sets), and the association binds it to that service account. Pods started before the association exists get no credentials: make workloads depend on it.
 */
export class PodIdentity extends Construct {
  readonly role: iam.Role;
  readonly association: eks.CfnPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: PodIdentityProps) {
    super(scope, id);
    // EKS Pod Identity assumes the role with session tags naming the cluster, namespace and service account: the
    // trust admits only this account's association for this one service account of this cluster.
    this.role = new iam.Role(this, 'Role', {
      description: props.description,
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': Stack.of(this).account,
            'aws:RequestTag/eks-cluster-arn': props.cluster.clusterArn,
            'aws:RequestTag/kubernetes-namespace': props.namespace,
            'aws:RequestTag/kubernetes-service-account': props.serviceAccount,
          },
        },
      }).withSessionTags(),
    });
    this.association = new eks.CfnPodIdentityAssociation(this, 'Association', {
      clusterName: props.cluster.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      roleArn: this.role.roleArn,
    });
  }
}
