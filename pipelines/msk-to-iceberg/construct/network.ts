import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { addPipelineVpc } from '../../../platform/pipeline-vpc';

export interface NetworkProps {
  readonly existingVpc?: ec2.IVpc;
  readonly vpcProps?: ec2.VpcProps;
  readonly interfaceEndpoints?: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The VPC everything Kafka-facing runs in (brokers, Flink, the topic creator, the validators), and two security groups:
 * clients (egress only) and brokers (IAM port 9098 from the clients only).
 *
 * A VPC of our own: public + private subnets, NAT gateway egress (the job reaches S3, Glue, STS and CloudWatch Logs,
 * the topic creator the MSK API), a free S3 gateway endpoint (warehouse traffic stays off the NAT), flow logs, and
 * optionally interface endpoints for STS, Glue, CloudWatch Logs and the MSK API.
 */
export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  readonly clientSecurityGroup: ec2.SecurityGroup;
  readonly brokerSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.existingVpc && props.vpcProps) throw new Error(`${scope.node.path}: give either "existingVpc" or "vpcProps", not both`);
    this.vpc =
      props.existingVpc ??
      addPipelineVpc(this, { logRetention: props.logRetention, removalPolicy: props.removalPolicy, overrides: props.vpcProps });
    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'Clients', {
      vpc: this.vpc,
      description: 'Kafka clients of the pipeline (Flink, topic creator, validators): egress to the brokers and AWS APIs',
      allowAllOutbound: true,
    });
    this.brokerSecurityGroup = new ec2.SecurityGroup(this, 'Brokers', {
      vpc: this.vpc,
      description: 'MSK brokers: IAM-authenticated Kafka (9098) from the pipeline clients only',
      allowAllOutbound: false,
    });
    this.brokerSecurityGroup.addIngressRule(this.clientSecurityGroup, ec2.Port.tcp(9098), 'Kafka over TLS with IAM authentication');
    if (props.interfaceEndpoints && !props.existingVpc) this.addInterfaceEndpoints(this.vpc as ec2.Vpc);
  }

  /** STS, Glue, CloudWatch Logs and the MSK API inside the VPC, reachable over HTTPS from the pipeline's clients only. */
  private addInterfaceEndpoints(vpc: ec2.Vpc): void {
    const endpoints = new ec2.SecurityGroup(this, 'Endpoints', { vpc, description: 'Interface endpoints: HTTPS from the pipeline clients', allowAllOutbound: false });
    endpoints.addIngressRule(this.clientSecurityGroup, ec2.Port.tcp(443), 'AWS APIs over HTTPS');
    const services: [string, ec2.InterfaceVpcEndpointAwsService][] = [
      ['Sts', ec2.InterfaceVpcEndpointAwsService.STS],
      ['Glue', ec2.InterfaceVpcEndpointAwsService.GLUE],
      ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ['Kafka', ec2.InterfaceVpcEndpointAwsService.KAFKA],
    ];
    for (const [name, service] of services) {
      vpc.addInterfaceEndpoint(name, { service, privateDnsEnabled: true, subnets: this.subnets, securityGroups: [endpoints], open: false });
    }
  }
}
