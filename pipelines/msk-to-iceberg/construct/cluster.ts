import { Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { MskToIcebergClusterOptions } from './props';
import { Network } from './network';

export interface KafkaClusterProps {
  readonly clusterName: string;
  readonly network: Network;
  readonly options: MskToIcebergClusterOptions;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The MSK cluster, IAM authentication only. Serverless by default (no brokers to size or patch, pay per throughput
 * and partition); provisioned brokers (TLS in transit between clients and brokers and inside the cluster, broker logs
 * to CloudWatch) as an option.
 */
export class KafkaCluster extends Construct {
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly resource: msk.CfnServerlessCluster | msk.CfnCluster;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    const { network, options } = props;
    const subnetIds = network.vpc.selectSubnets(network.subnets).subnetIds;
    const securityGroups = [network.brokerSecurityGroup.securityGroupId];
    this.clusterName = props.clusterName;
    if (options.type === 'serverless') {
      const cluster = new msk.CfnServerlessCluster(this, 'Serverless', {
        clusterName: props.clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds, securityGroups }],
      });
      // Always deleted with the stack, as compute is: a retained cluster would keep billing per cluster-hour and keep
      // its fixed name, so the next deploy after a destroy would fail. Its topics are a buffer of at most their
      // retention; files uploaded through the landing zone stay in the retained landing bucket.
      cluster.applyRemovalPolicy(RemovalPolicy.DESTROY);
      this.resource = cluster;
      this.clusterArn = cluster.attrArn;
    } else {
      const brokerLogs = new logs.LogGroup(this, 'BrokerLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
      const cluster = new msk.CfnCluster(this, 'Provisioned', {
        clusterName: props.clusterName,
        kafkaVersion: options.kafkaVersion ?? '3.9.x',
        numberOfBrokerNodes: options.brokerNodes ?? 2,
        brokerNodeGroupInfo: {
          clientSubnets: subnetIds,
          securityGroups,
          instanceType: options.instanceType ?? 'kafka.m7g.large',
          storageInfo: { ebsStorageInfo: { volumeSize: options.volumeSizeGiB ?? 100 } },
        },
        clientAuthentication: { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
        encryptionInfo: { encryptionInTransit: { clientBroker: 'TLS', inCluster: true } },
        loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } } },
      });
      cluster.applyRemovalPolicy(RemovalPolicy.DESTROY);
      this.resource = cluster;
      this.clusterArn = cluster.attrArn;
    }
  }

  /** `arn:…:cluster/NAME/UUID` → `arn:…:<kind>/NAME/UUID/<name>`: the IAM resource of a topic or group. */
  resourceArn(kind: 'topic' | 'group', name: string): string {
    const [prefix, clusterPath] = [0, 1].map((i) => Fn.select(i, Fn.split(':cluster/', this.clusterArn)));
    return Fn.join('', [prefix, `:${kind}/`, clusterPath, `/${name}`]);
  }
}
