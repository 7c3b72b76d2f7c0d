import { Duration } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DataSource } from '../../../platform/data-source';
import { PipelineMonitoring } from '../../../platform/pipeline-monitoring';
import { SecureBucketProps } from '../../../platform/secure-bucket';

/** Container images the consumer pod runs: stock public images, no image build (see the README). */
export interface ConsumerImages {
  /** Runs the consumer bundle with plain `node`. @default DEFAULT_IMAGES.node */
  readonly node?: string;
  /** The init container that copies the bundle from S3 into the pod. @default DEFAULT_IMAGES.awsCli */
  readonly awsCli?: string;
}

/** Stock images, pinned to exact tags (pin a digest too, `image:tag@sha256:...`, for byte-for-byte repeatable pods). */
export const DEFAULT_IMAGES: Required<ConsumerImages> = {
  node: 'public.ecr.aws/docker/library/node:22.23.3-alpine3.24',
  awsCli: 'public.ecr.aws/aws-cli/aws-cli:2.36.49',
};

/** KEDA, installed by the construct with its Helm chart (pinned) unless the cluster already runs it. */
export const KEDA_CHART = { repository: 'https://kedacore.github.io/charts', chart: 'keda', version: '2.20.2', namespace: 'keda', operatorServiceAccount: 'keda-operator' };

/** The consumer service on EKS: batching, scaling, pod size (the service's own settings: consumer/consumer.ts). */
export interface ConsumerOptions {
  /** Flush a batch at this many messages. @default QUEUE_TO_S3_DEFAULTS.consumer.flushMaxMessages */
  readonly flushMaxMessages?: number;
  /** ... or this long after its first message. @default QUEUE_TO_S3_DEFAULTS.consumer.flushMaxAge */
  readonly flushMaxAge?: Duration;
  /** Replicas with an empty queue (0: scale to zero). @default QUEUE_TO_S3_DEFAULTS.consumer.minReplicas */
  readonly minReplicas?: number;
  /** @default QUEUE_TO_S3_DEFAULTS.consumer.maxReplicas */
  readonly maxReplicas?: number;
  /** KEDA's target of visible messages per replica. @default QUEUE_TO_S3_DEFAULTS.consumer.messagesPerReplica */
  readonly messagesPerReplica?: number;
  /** CPU request in millicores; the limit is twice this. @default QUEUE_TO_S3_DEFAULTS.consumer.cpuMillicores */
  readonly cpuMillicores?: number;
  /** Memory request and limit, MiB. @default QUEUE_TO_S3_DEFAULTS.consumer.memoryMiB */
  readonly memoryMiB?: number;
  /** Extra environment variables of the consumer container (names from pipelines/queue-to-s3/consumer/contract.ts). */
  readonly environment?: Record<string, string>;
}

/** Thresholds of the pipeline's no-data and lag alarms. */
export interface QueueToS3AlarmSettings {
  /** Minutes without a message published (once messages flowed) before the no-data alarm. @default 60 */
  readonly noDataMinutes?: number;
  /** Age of the oldest queued message above which the lag alarm fires. @default QUEUE_TO_S3_DEFAULTS.alarms.maxMessageAge */
  readonly maxMessageAge?: Duration;
}

/**
 * Props of `QueueToS3Consumer`: the source, the topic and queues, the cluster (new or existing), the consumer, output
 * and alarms.
 */
export interface QueueToS3ConsumerProps {
  /**
   * The data source the messages belong to: its name names the topic's purpose, the Glue table and the S3 prefix; the
   * Glue table's columns come from its schema's top-level properties; the consumer finds the freshness canaries by
   * their id in its `idField` and writes their receipts under `_freshness/<name>/`.
   */
  readonly source: Pick<DataSource, 'name' | 'schemaFile' | 'idField'>;
  /** FIFO topic and queues with content-based deduplication. @default QUEUE_TO_S3_DEFAULTS.fifo */
  readonly fifo?: boolean;
  /** The queue's visibility timeout (the consumer extends it while a message is buffered). @default QUEUE_TO_S3_DEFAULTS.visibilityTimeout */
  readonly visibilityTimeout?: Duration;
  /** Receives before a message moves to the dead-letter queue. @default QUEUE_TO_S3_DEFAULTS.maxReceiveCount */
  readonly maxReceiveCount?: number;
  /** How long the queue keeps an unconsumed message. @default QUEUE_TO_S3_DEFAULTS.retentionPeriod */
  readonly retentionPeriod?: Duration;

  /** Deploy into this cluster (it must have a kubectl provider, and the EKS Pod Identity agent). */
  readonly existingCluster?: eks.ICluster;
  /** Overrides merged over the defaults of the cluster this construct creates (Auto Mode, private endpoint, Kubernetes 1.35). */
  readonly clusterProps?: Partial<eks.ClusterProps>;
  /**
   * Availability zone names of the new cluster's VPC: two or more, whose zone ids EKS supports (not `use1-az3`,
   * `usw1-az2`, `cac1-az3`). @default two picked at deploy time from the account's zones EKS supports
   */
  readonly availabilityZones?: string[];
  /** Whether to install KEDA (Helm). @default true for a new cluster, false for an existing one */
  readonly installKeda?: boolean;
  /**
   * With KEDA already installed: the IAM role its operator runs as (through Pod Identity or IRSA), which is granted
   * `sqs:GetQueueAttributes` on this queue. @default none: grant it yourself
   */
  readonly kedaOperatorRole?: iam.IRole;
  /**
   * Install the amazon-cloudwatch-observability add-on (Container Insights), whose pod metrics the "consumer errors"
   * and "no healthy pods" alarms read. @default true for a new cluster, false for an existing one (install it there)
   */
  readonly containerInsights?: boolean;
  /** Kubernetes namespace of the consumer. @default QUEUE_TO_S3_DEFAULTS.namespace */
  readonly namespace?: string;

  /** The consumer service's batching, scaling and pod size. @default each option's default */
  readonly consumer?: ConsumerOptions;
  /** The container images the pod runs. @default DEFAULT_IMAGES */
  readonly images?: ConsumerImages;

  /** Output bucket: bring your own XOR override the SecureBucket defaults. @default a new SecureBucket */
  readonly existingOutputBucket?: s3.IBucket;
  /**
   * Overrides merged over the output bucket it creates (XOR `existingOutputBucket`). @default a SecureBucket with its
   * defaults
   */
  readonly outputBucketProps?: SecureBucketProps;

  /** Alarm thresholds. @default each option's default */
  readonly alarms?: QueueToS3AlarmSettings;
  /** Share the pipeline's alarm topic and dashboard. @default a PipelineMonitoring of its own */
  readonly monitoring?: PipelineMonitoring;
  /** Delete buckets, queues and their keys with the stack (compute, the cluster included, is always deleted). @default false */
  readonly allowDestroy?: boolean;
}
