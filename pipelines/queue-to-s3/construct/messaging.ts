import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface MessagingProps {
  readonly topicName: string;
  readonly fifo: boolean;
  readonly visibilityTimeout: Duration;
  readonly maxReceiveCount: number;
  readonly retentionPeriod: Duration;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * SNS topic → SQS queue (raw message delivery) → dead-letter queue, all encrypted with one customer-managed key.
 *
 * The key is the point: SNS encrypts what it delivers to an encrypted queue with the queue's key, so the key policy
 * must let `sns.amazonaws.com` use it. The AWS-managed `alias/aws/sqs` key cannot be granted to SNS: deliveries to a
 * queue encrypted with it fail silently. Here SNS may use the key only for this account's topic (`aws:SourceAccount`,
 * `aws:SourceArn`); the topic has a fixed name so the key policy can name it without a dependency cycle.
 */
export class Messaging extends Construct {
  readonly key: kms.Key;
  readonly topic: sns.Topic;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly subscription: sns.Subscription;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { fifo, removalPolicy } = props;
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the topic and queues of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy,
    });
    const topicArn = stack.formatArn({ service: 'sns', resource: props.topicName });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SnsDeliversToTheEncryptedQueues',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'], // in a key policy, "*" means this key
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': topicArn } },
      }),
    );

    const fifoProps = fifo ? { fifo: true, contentBasedDeduplication: true } : {};
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...fifoProps,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue: of the consumer queue (redrive) and of the SNS subscription.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...fifoProps,
      encryptionMasterKey: this.key,
      dataKeyReuse: Duration.hours(1), // fewer KMS calls for the consumer's receives
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: props.retentionPeriod,
      receiveMessageWaitTime: Duration.seconds(20),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
      removalPolicy,
    });

    this.topic = new sns.Topic(this, 'Topic', {
      topicName: props.topicName,
      masterKey: this.key,
      enforceSSL: true,
      ...(fifo ? { fifo: true, contentBasedDeduplication: true } : {}),
    });
    // The subscription without CDK's SqsSubscription helper: that one adds an unscoped SNS statement to the key policy.
    this.subscription = new sns.Subscription(this, 'Subscription', {
      topic: this.topic,
      protocol: sns.SubscriptionProtocol.SQS,
      endpoint: this.queue.queueArn,
      rawMessageDelivery: true,
      deadLetterQueue: this.deadLetterQueue,
    });
    // Only this topic may send to the queue (the subscription's dead-letter queue gets the same grant from CDK).
    this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.topic.topicArn } },
      }),
    );
    this.subscription.node.addDependency(this.queue.node.tryFindChild('Policy') ?? this.queue);
  }
}
