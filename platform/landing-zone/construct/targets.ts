import { Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { ENV } from '../validator/contract';

/** What a target contributes to a validator function: its environment, network placement and permissions. */
export interface TargetBinding {
  readonly environment: Record<string, string>;
  /** Set for targets reachable only inside a VPC (MSK). */
  readonly network?: { vpc: ec2.IVpc; vpcSubnets?: ec2.SubnetSelection; securityGroups?: ec2.ISecurityGroup[] };
}

/** Props of `LandingTarget.kafka`: the brokers, topic, authentication and TLS a validator writes with. */
export interface KafkaTargetProps {
  /** Bootstrap brokers, comma-separated (for MSK with IAM: the cluster's `BootstrapBrokerStringSaslIam`). */
  readonly bootstrapBrokers: string;
  /** The topic the valid events are written to. */
  readonly topic: string;
  /** ARN of the MSK cluster; required with IAM authentication, to grant exactly this cluster and topic. */
  readonly clusterArn?: string;
  /** `iam`: MSK IAM (SASL OAUTHBEARER). `none`: unauthenticated (a self-managed cluster on a private network). @default 'iam' */
  readonly authentication?: 'iam' | 'none';
  /** TLS to the brokers. @default true */
  readonly tls?: boolean;
  /**
   * The brokers' `message.max.bytes`: the validator sizes batches and rejects larger records to fit it.
   * @default the validator's default, MSK's 1,048,588 bytes
   */
  readonly maxMessageBytes?: number;
  /** The VPC the brokers are reachable in; the validator runs in it. */
  readonly vpc: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security groups allowed to reach the brokers. @default a new group with egress only */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** Where a source's valid events are published. */
export abstract class LandingTarget {
  /** A Kinesis data stream: `PutRecords` batches, failed entries retried. */
  static kinesis(stream: kinesis.IStream): LandingTarget {
    return new KinesisTarget(stream);
  }

  /** A Kafka topic (Amazon MSK or self-managed): producer with acks=all. */
  static kafka(props: KafkaTargetProps): LandingTarget {
    return new KafkaTarget(props);
  }

  /** `kinesis` or `kafka`, as the validator's TARGET variable. */
  abstract readonly kind: 'kinesis' | 'kafka';

  /** Grants `role` what publishing needs and returns the function's settings. */
  abstract bind(role: iam.IRole): TargetBinding;
}

class KinesisTarget extends LandingTarget {
  readonly kind = 'kinesis';

  constructor(readonly stream: kinesis.IStream) {
    super();
  }

  bind(role: iam.IRole): TargetBinding {
    this.stream.grant(role, 'kinesis:PutRecords');
    // A stream under a customer-managed key needs it to encrypt; under aws/kinesis no grant is needed.
    this.stream.encryptionKey?.grant(role, 'kms:GenerateDataKey');
    return { environment: { [ENV.target]: 'kinesis', [ENV.kinesisStreamArn]: this.stream.streamArn } };
  }
}

class KafkaTarget extends LandingTarget {
  readonly kind = 'kafka';

  constructor(private readonly props: KafkaTargetProps) {
    super();
  }

  bind(role: iam.IRole): TargetBinding {
    const { props } = this;
    const authentication = props.authentication ?? 'iam';
    if (authentication === 'iam') {
      if (!props.clusterArn) {
        throw new Error(`LandingTarget.kafka: "clusterArn" is required with authentication "iam" (topic "${props.topic}")`);
      }
      // arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID -> arn:aws:kafka:REGION:ACCOUNT:topic/NAME/UUID/TOPIC
      const [prefix, clusterPath] = [0, 1].map((i) => Fn.select(i, Fn.split(':cluster/', props.clusterArn!)));
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['kafka-cluster:Connect'], resources: [props.clusterArn] }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
          resources: [Fn.join('', [prefix, ':topic/', clusterPath, '/', props.topic])],
        }),
      );
    }
    return {
      environment: {
        [ENV.target]: 'kafka',
        [ENV.kafkaBootstrapServers]: props.bootstrapBrokers,
        [ENV.kafkaTopic]: props.topic,
        [ENV.kafkaAuth]: authentication,
        [ENV.kafkaTls]: String(props.tls ?? true),
        ...(props.maxMessageBytes ? { [ENV.kafkaMaxMessageBytes]: String(props.maxMessageBytes) } : {}),
      },
      network: {
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: props.securityGroups,
      },
    };
  }
}
