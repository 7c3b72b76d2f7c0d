import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { suppressRestrictDefaultSgLint } from '../compliance';

export interface PipelineVpcProps {
  /** Of the flow-log group. */
  readonly logRetention: logs.RetentionDays;
  /** Of the flow-log group (the VPC itself holds no data). */
  readonly removalPolicy: RemovalPolicy;
  /** The zones of its subnets. @default the region's first two (`maxAzs: 2`) */
  readonly availabilityZones?: string[];
  /** Prefix length of each private subnet. @default 20 (4,096 addresses) */
  readonly privateCidrMask?: number;
  /** Overrides merged over the VPC's props. */
  readonly overrides?: ec2.VpcProps;
}

/**
 * The VPC a pipeline creates when it is given none, for workloads in private subnets that reach AWS APIs: a public
 * /24 and a private subnet per zone, one NAT gateway for egress, a free S3 gateway endpoint (data traffic stays off the
 * NAT), and flow logs of all traffic to a log group of its own. Created in `scope` as `FlowLogs` and `Vpc`, so a
 * deployed VPC keeps its logical ids.
 */
export function addPipelineVpc(scope: Construct, props: PipelineVpcProps): ec2.Vpc {
  const flowLogs = new logs.LogGroup(scope, 'FlowLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    ...(props.availabilityZones ? { availabilityZones: props.availabilityZones } : { maxAzs: 2 }),
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: props.privateCidrMask ?? 20 },
    ],
    gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
    ...props.overrides,
  });
  suppressRestrictDefaultSgLint(vpc);
  return vpc;
}
