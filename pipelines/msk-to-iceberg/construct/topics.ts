import { CustomResource, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ATTRIBUTE, TopicsProperties } from '../handlers/msk-topics/contract';
import { KafkaCluster } from './cluster';
import { HandlerProvider } from '../../../platform/functions';
import { fromRoot } from '../../../platform/paths';
import { Network } from './network';

export interface TopicsProps {
  readonly cluster: KafkaCluster;
  readonly network: Network;
  readonly topics: { name: string; partitions: number; retentionHours: number }[];
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The pipeline's Kafka topics, created by a custom resource in the VPC (MSK Serverless has no CloudFormation topic
 * resource): missing topics created, partitions grown, retention set; never deleted. Its `bootstrapBrokers`
 * attribute is the cluster's IAM bootstrap string, so whatever connects to the topics also waits for them.
 */
export class KafkaTopics extends Construct {
  readonly resource: CustomResource;
  readonly handler: HandlerProvider;
  /** The cluster's IAM bootstrap brokers (`host:9098,...`). */
  readonly bootstrapBrokers: string;

  constructor(scope: Construct, id: string, props: TopicsProps) {
    super(scope, id);
    const { cluster, network } = props;
    this.handler = new HandlerProvider(this, 'Handler', {
      entry: fromRoot('pipelines', 'msk-to-iceberg', 'handlers', 'msk-topics', 'index.ts'),
      purpose: `Creates the Kafka topics of ${cluster.clusterName}`,
      timeout: Duration.minutes(5),
      network: { vpc: network.vpc, vpcSubnets: network.subnets, securityGroups: [network.clientSecurityGroup] },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = this.handler.role;
    // Finding 2 (S3 listing): the topic creator makes no S3 request, so it needs no ListBucket anywhere.
    // GetBootstrapBrokers has no resource type in the Service Authorization Reference ("specify *"): scoped to the
    // cluster it may be denied. It returns endpoint strings only (test/permissions proves the request).
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kafka:GetBootstrapBrokers'], resources: ['*'] }));
    Validations.of(role.node.tryFindChild('DefaultPolicy')!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'kafka:GetBootstrapBrokers supports no resource-level permissions (Service Authorization Reference); it returns broker endpoint strings only.',
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], resources: [cluster.clusterArn] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'kafka-cluster:CreateTopic',
          'kafka-cluster:DescribeTopic',
          'kafka-cluster:AlterTopic',
          'kafka-cluster:DescribeTopicDynamicConfiguration',
          'kafka-cluster:AlterTopicDynamicConfiguration',
        ],
        resources: props.topics.map((t) => cluster.resourceArn('topic', t.name)),
      }),
    );

    const properties: TopicsProperties = {
      ClusterArn: cluster.clusterArn,
      Topics: props.topics.map((t) => ({ Name: t.name, Partitions: String(t.partitions), RetentionMs: String(t.retentionHours * 3_600_000) })),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.handler.serviceToken,
      resourceType: 'Custom::KafkaTopics',
      properties,
    });
    // The handler connects to the brokers: it needs its permissions and the cluster's security group rule first.
    this.resource.node.addDependency(role.node.tryFindChild('DefaultPolicy')!, network.brokerSecurityGroup);
    this.bootstrapBrokers = this.resource.getAttString(ATTRIBUTE.bootstrapBrokers);
  }
}
