import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EksSupportedZones } from './zones';
import { addPipelineVpc } from '../../../platform/pipeline-vpc';

/** The Kubernetes version of a new cluster and the kubectl layer that matches it (kubectl must be within one minor). */
export const KUBERNETES_VERSION = eks.KubernetesVersion.V1_35;

export interface ConsumerClusterProps {
  readonly clusterProps?: Partial<eks.ClusterProps>;
  /** Of the data the cluster keeps: the VPC's flow logs. The cluster itself is always destroyed with the stack. */
  readonly dataRemovalPolicy: RemovalPolicy;
  /** Of the VPC's flow logs. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Zones of the new VPC (two or more names whose zone ids EKS supports). @default two picked at deploy time by
   * `EksSupportedZones`
   */
  readonly availabilityZones?: string[];
}

/**
 * A new EKS cluster for the consumer: EKS Auto Mode (AWS runs the nodes, scales them for pending pods, patches and
 * recycles them; the Pod Identity agent is built in), Kubernetes 1.35, in private subnets of a VPC of its own (NAT
 * egress for images and the KEDA chart, an S3 gateway endpoint for the data), API endpoint private only (the kubectl
 * provider runs in the VPC), all control-plane log types, Kubernetes secrets encrypted with a customer-managed key.
 *
 * Compute is never retained, whatever `allowDataDestruction` says: a retained cluster (with its security group,
 * kubectl functions and Helm/manifest resources) keeps billing after a destroy and leaves a failed first deploy in
 * ROLLBACK_FAILED, since `DeletionPolicy: Retain` also applies on the rollback of a failed create. The cluster holds
 * no pipeline data (the queue and the bucket do), so everything under it, and the key of its etcd secrets, goes.
 */
export class ConsumerCluster extends Construct {
  readonly cluster: eks.Cluster;
  readonly vpc: ec2.IVpc;
  readonly secretsKey: kms.IKey;
  /** Picks the new VPC's zones at deploy time (absent with `availabilityZones` or `clusterProps.vpc`). */
  readonly zonePicker?: EksSupportedZones;

  constructor(scope: Construct, id: string, props: ConsumerClusterProps) {
    super(scope, id);
    const { clusterProps = {}, dataRemovalPolicy, logRetention } = props;
    // Not `maxAzs` (the first names of Fn::GetAZs): EKS refuses some zone ids, and names map to ids per account.
    if (!clusterProps.vpc && !props.availabilityZones) this.zonePicker = new EksSupportedZones(this, 'Zones', { count: 2 });
    // Private subnets of /19: with Auto Mode every pod takes a VPC address.
    this.vpc =
      clusterProps.vpc ??
      addPipelineVpc(this, {
        logRetention,
        removalPolicy: dataRemovalPolicy,
        availabilityZones: props.availabilityZones ?? this.zonePicker!.zones,
        privateCidrMask: 19,
      });
    this.secretsKey = (clusterProps.secretsEncryptionKey as kms.IKey | undefined) ?? new kms.Key(this, 'SecretsKey', {
      description: `Encrypts the Kubernetes secrets of ${this.node.path}`,
      enableKeyRotation: true,
      // It encrypts only the etcd of this cluster, which is deleted with the stack (KMS waits 30 days before deleting it).
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.cluster = new eks.Cluster(this, 'Cluster', {
      version: KUBERNETES_VERSION,
      defaultCapacityType: eks.DefaultCapacityType.AUTOMODE,
      compute: { nodePools: ['system', 'general-purpose'] },
      vpc: this.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      endpointAccess: eks.EndpointAccess.PRIVATE,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      secretsEncryptionKey: this.secretsKey,
      kubectlProviderOptions: { kubectlLayer: new KubectlV35Layer(this, 'KubectlLayer') },
      // Applied to every resource under the cluster (its roles, security group, kubectl provider and its log groups,
      // Helm charts and manifests): stated, because log groups alone would otherwise default to Retain.
      removalPolicy: RemovalPolicy.DESTROY,
      ...clusterProps,
    });
    // Managed node groups and self-managed capacity need the Pod Identity agent as an add-on (Auto Mode has it built in).
    const autoMode = clusterProps.defaultCapacityType === undefined || clusterProps.defaultCapacityType === eks.DefaultCapacityType.AUTOMODE;
    if (!autoMode) void this.cluster.eksPodIdentityAgent;
  }
}
