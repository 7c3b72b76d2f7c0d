import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface CdcNetworkProps {
  readonly existingVpc?: ec2.IVpc;
  readonly subnets?: ec2.SubnetSelection;
  readonly createVpcEndpoints?: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Where the database and DMS live: private subnets with no route to the internet (a new VPC has isolated subnets in two
 * AZs, no NAT), the gateway endpoint for S3 and the interface endpoint for Secrets Manager that DMS needs there (DMS
 * guide, "Configuring VPC endpoints for AWS DMS": required since 3.4.7), and the DMS security group. The database's
 * security group lets in only what `allowDatabaseFrom` names.
 */
export class CdcNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The replication instance's security group: the only network identity allowed to reach the database. */
  readonly dmsSecurityGroup: ec2.SecurityGroup;
  readonly secretsManagerEndpoint?: ec2.InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: CdcNetworkProps) {
    super(scope, id);
    if (props.existingVpc) {
      this.vpc = props.existingVpc;
      this.subnets = props.subnets ?? {
        subnetType: props.existingVpc.privateSubnets.length > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
      };
    } else {
      if (props.subnets) throw new Error(`${this.node.path}: "subnets" selects subnets of "existingVpc"; give both or neither`);
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      });
      const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
      vpc.addFlowLog('RejectedTraffic', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      });
      this.vpc = vpc;
      this.subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    }

    this.dmsSecurityGroup = new ec2.SecurityGroup(this, 'DmsSecurityGroup', {
      vpc: this.vpc,
      description: 'DMS replication instance: reaches the source database, S3 and Secrets Manager; accepts nothing',
      // Private subnets: egress reaches the VPC (database, endpoints), never the internet without a NAT.
      allowAllOutbound: true,
    });

    if (props.createVpcEndpoints ?? !props.existingVpc) {
      this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [this.subnets] });
      this.secretsManagerEndpoint = this.vpc.addInterfaceEndpoint('SecretsManager', {
        service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets: this.subnets,
        privateDnsEnabled: true,
        // Only DMS (below) and the secret's rotation function (CdcDatabase opens it: SecretRotation does not) may connect.
        open: false,
      });
      this.secretsManagerEndpoint.connections.allowDefaultPortFrom(this.dmsSecurityGroup, 'DMS reads the source secret');
    }
  }
}
