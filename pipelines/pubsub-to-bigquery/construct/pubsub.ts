import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { ResolvedProps, TopicReference } from './props';

/** The topic publishers send to: `existingTopic`, or one we create (then also returned as `created`). */
export function buildTopic(
  scope: Construct,
  props: ResolvedProps,
  encryptionGrants: ITerraformDependable[],
): { reference: TopicReference; created?: PubsubTopic } {
  if (props.existingTopic) return { reference: props.existingTopic };
  const created = new PubsubTopic(scope, 'Topic', {
    project: props.projectId,
    name: props.name,
    labels: props.labels,
    kmsKeyName: props.kmsKeyName,
    // Topic retention lets you seek a (new) subscription back in time to replay.
    messageRetentionDuration: messageRetention(props),
    messageStoragePolicy: { allowedPersistenceRegions: [props.region] },
    dependsOn: encryptionGrants,
    ...props.topicProps,
  });
  return { reference: created, created };
}

/** The subscription the Dataflow job reads, `<name>-dataflow`. */
export function buildSubscription(scope: Construct, props: ResolvedProps, topic: TopicReference): PubsubSubscription {
  // No dead-letter or retry policy: Dataflow acknowledges messages itself once they are durably in the pipeline
  // and does not support Pub/Sub dead-letter topics; records that fail go to the template's dead-letter table.
  return new PubsubSubscription(scope, 'Subscription', {
    project: props.projectId,
    name: `${props.name}-dataflow`,
    topic: topic.id,
    labels: props.labels,
    ackDeadlineSeconds: 60,
    messageRetentionDuration: messageRetention(props),
    // Subscriptions expire after 31 days without a subscriber by default; a drained job must not lose its input.
    expirationPolicy: { ttl: '' },
  });
}

/** Topic and subscription keep messages equally long. */
function messageRetention(props: ResolvedProps): string {
  return `${props.messageRetentionHours * 3600}s`;
}
