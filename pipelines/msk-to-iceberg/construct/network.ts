import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { suppressCfnLint } from '../../../platform/compliance';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

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
    this.vpc = props.existingVpc ?? this.createVpc(props);
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

  private createVpc(props: NetworkProps): ec2.Vpc {
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup), trafficType: ec2.FlowLogTrafficType.ALL } },
      ...props.vpcProps,
    });
    // CDK's singleton that removes the default security group's rules (feature flag restrictDefaultSecurityGroup).
    const restrictor = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    const handler = restrictor?.node.tryFindChild('Handler');
    if (handler) {
      suppressCfnLint(handler, 'W3005', "CDK's default-security-group restrictor depends on its role, which it also references.");
    }
    return vpc;
  }
}
