/**
 * The contract between the MskToIceberg construct (pipelines/msk-to-iceberg/construct/topics.ts) and this handler: the
 * custom resource's properties and what it returns. CloudFormation passes every property value as a string.
 */
export interface TopicSpec {
  readonly Name: string;
  /** Partitions the topic must have at least (an existing topic is grown, never shrunk). */
  readonly Partitions: string;
  /** The topic's `retention.ms`. */
  readonly RetentionMs: string;
}

export interface TopicsProperties {
  /** The MSK cluster (Serverless or provisioned) whose IAM bootstrap brokers the handler looks up. */
  readonly ClusterArn: string;
  readonly Topics: TopicSpec[];
}

/** Attributes of the custom resource (`getAttString`). */
export const ATTRIBUTE = {
  /** `BootstrapBrokerStringSaslIam` of the cluster (port 9098): what the application and the validators connect to. */
  bootstrapBrokers: 'BootstrapBrokers',
} as const;
