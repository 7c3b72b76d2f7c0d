import { z } from 'zod';
import { flag, integer, list, text } from '../../platform/config/settings';
import { noDataMinutesSetting } from '../../platform/pipeline/alarm-settings';
import { visibilityTimeoutProblem } from './consumer/config';
import { QUEUE_TO_S3_DEFAULTS as D } from './construct/defaults';

/**
 * The `queueToS3` section: Pipeline 1, SNS → SQS → consumer service on EKS → S3. The stack builds one topic, one
 * queue (with its dead-letter queue), one consumer Deployment and one Glue table for the source that lists
 * `queueToS3` (exactly one: the pipeline carries one source), on a new EKS cluster or an existing one.
 */

const messagingSchema = z.strictObject({
  /** FIFO topic and queues (content-based deduplication, ordered per message group), instead of standard ones. */
  fifo: flag().default(D.fifo),
  /**
   * Seconds a received message stays invisible. Must exceed the consumer's flush age by a margin: the consumer keeps
   * extending it while a message is buffered, so this is the redelivery delay after a crash.
   */
  visibilityTimeoutSeconds: integer(10, 43_200).default(D.visibilityTimeout.toSeconds()),
  /** Receives before a message is moved to the dead-letter queue. */
  maxReceiveCount: integer(1, 1000).default(D.maxReceiveCount),
  /** Days the queue keeps an unconsumed message (the dead-letter queue keeps 14). */
  retentionDays: integer(1, 14).default(D.retentionPeriod.toDays()),
});

const consumerSchema = z.strictObject({
  /** A batch is written to S3 when it holds this many messages ... */
  flushMaxMessages: integer(1, 1_000_000).default(D.consumer.flushMaxMessages),
  /** ... or this many seconds after its first message arrived (the platform's end-to-end target is under 10 s). */
  flushMaxAgeSeconds: integer(1, 900).default(D.consumer.flushMaxAge.toSeconds()),
  /** Replicas when the queue is empty (0 lets KEDA scale the consumer to zero). */
  minReplicas: integer(0, 100).default(D.consumer.minReplicas),
  /** Replicas at most. */
  maxReplicas: integer(1, 500).default(D.consumer.maxReplicas),
  /** KEDA target: visible messages per replica (its SQS scaler's `queueLength`). */
  messagesPerReplica: integer(1, 1_000_000).default(D.consumer.messagesPerReplica),
  /** Container CPU request in millicores (the limit is twice this). */
  cpuMillicores: integer(100, 16_000).default(D.consumer.cpuMillicores),
  /** Container memory request = limit, in MiB (the consumer buffers up to 2 × flushMaxMessages messages). */
  memoryMiB: integer(128, 65_536).default(D.consumer.memoryMiB),
});

const clusterSchema = z.strictObject({
  /** Kubernetes version of a new cluster (the kubectl layer matches it: @aws-cdk/lambda-layer-kubectl-v35). */
  version: z.literal('1.35', { error: 'expected "1.35" (the kubectl layer the project ships)' }).default('1.35'),
  /** Deploy into this existing EKS cluster instead of creating one (with its kubectl provider: the two settings below). */
  existingClusterName: text(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'an EKS cluster name').optional(),
  /** With `existingClusterName`: the service token (Lambda ARN) of the kubectl provider that manages that cluster. */
  kubectlProviderArn: text(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]{1,64}(:[\w$-]+)?$/, 'a Lambda function ARN').optional(),
  /** With `existingClusterName`: the IAM role of that kubectl provider's handler (it has an access entry on the cluster). */
  kubectlRoleArn: text(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'an IAM role ARN').optional(),
  /** With `existingClusterName`: whether KEDA is already installed there (then the stack does not install it). */
  kedaInstalled: flag().default(false),
});

const alarmsSchema = z.strictObject({
  /** Minutes without a message published to the topic (once messages have flowed) before the no-data alarm fires. */
  noDataMinutes: noDataMinutesSetting(),
  /** Age of the oldest message in the queue above which the lag alarm fires. */
  maxMessageAgeSeconds: integer(10, 1_209_600).default(D.alarms.maxMessageAge.toSeconds()),
});

export const queueToS3Schema = z
  .strictObject({
    messaging: messagingSchema.default(() => messagingSchema.parse({})),
    consumer: consumerSchema.default(() => consumerSchema.parse({})),
    cluster: clusterSchema.default(() => clusterSchema.parse({})),
    alarms: alarmsSchema.default(() => alarmsSchema.parse({})),
    /**
     * Availability zones of a new cluster's VPC (names, two or more), e.g. "us-east-1b,us-east-1c". EKS refuses
     * cluster subnets in the zone ids use1-az3, usw1-az2 and cac1-az3, and a zone name maps to a different id in each
     * account (`aws ec2 describe-availability-zones` shows both). Unset: the stack picks two zones EKS supports at
     * deploy time.
     */
    availabilityZones: list(text(/^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/, 'an availability zone name such as us-east-1b')).optional(),
  })
  .superRefine((section, ctx) => {
    const visibility = section.messaging.visibilityTimeoutSeconds;
    const problem = visibilityTimeoutProblem(visibility, { setting: 'consumer.flushMaxAgeSeconds', seconds: section.consumer.flushMaxAgeSeconds });
    if (problem) ctx.addIssue({ code: 'custom', path: ['messaging', 'visibilityTimeoutSeconds'], input: visibility, message: problem });
    if (section.consumer.minReplicas > section.consumer.maxReplicas) {
      ctx.addIssue({
        code: 'custom',
        path: ['consumer', 'minReplicas'],
        input: section.consumer.minReplicas,
        message: `expected at most consumer.maxReplicas (${section.consumer.maxReplicas})`,
      });
    }
    const zones = section.availabilityZones;
    if (zones && (zones.length < 2 || new Set(zones).size !== zones.length)) {
      ctx.addIssue({ code: 'custom', path: ['availabilityZones'], input: zones, message: 'expected at least two different zone names (EKS needs subnets in two zones)' });
    }
    if (zones && section.cluster.existingClusterName) {
      ctx.addIssue({ code: 'custom', path: ['availabilityZones'], input: zones, message: 'expected no zones with cluster.existingClusterName (the zones place a new cluster)' });
    }
    const { existingClusterName, kubectlProviderArn, kubectlRoleArn } = section.cluster;
    const given = [existingClusterName, kubectlProviderArn, kubectlRoleArn].filter(Boolean).length;
    if (given !== 0 && given !== 3) {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster'],
        input: section.cluster,
        message: 'expected cluster.existingClusterName, cluster.kubectlProviderArn and cluster.kubectlRoleArn together, or none of them',
      });
    }
  });

export type QueueToS3Config = z.output<typeof queueToS3Schema>;
