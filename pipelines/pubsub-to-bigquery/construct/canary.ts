import { Construct } from 'constructs';
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { canaryId } from '../../../platform/freshness/contract';
import { SERVICE_ACCOUNT_PROPAGATION } from './iam';
import { accountId } from './names';
import { TimeSleep } from './propagation';
import { ResolvedProps, TopicReference } from './props';

/**
 * The canary id of this pipeline's canary events. A Cloud Scheduler job sends the same body every time, so the id
 * cannot carry the publish time (platform/freshness/contract.ts puts it in the last 12 hex digits): they are all
 * zero here, and the publish time is the Pub/Sub message's own publishTime, which the template takes as the event's
 * timestamp (it reads without a timestamp attribute), i.e. what Dataflow's data watermark is made of.
 */
export const STATIC_CANARY_ID = canaryId(0);

/** Pub/Sub's publish method (REST v1), which the scheduler calls for the canary. */
const PUBSUB_API = 'https://pubsub.googleapis.com/v1';
/** The narrowest OAuth scope for publishing (Pub/Sub's API reference lists it for topics.publish). */
const PUBSUB_SCOPE = 'https://www.googleapis.com/auth/pubsub';

/** The freshness canary: a known event published to the topic on a schedule, whose arrival measures freshness. */
export interface CanaryProps {
  /** Minutes between canary events (1-60). */
  readonly intervalMinutes: number;
  /**
   * A valid event of the source (e.g. its first sample): the canary sends it with its `idField` set to
   * `STATIC_CANARY_ID`, so it passes the same checks as any event and the UDF drops it before BigQuery.
   */
  readonly event: Record<string, unknown>;
}

/** What the canary is made of. */
export interface FreshnessCanary {
  readonly job: CloudSchedulerJob;
  /** The identity the scheduler publishes as: roles/pubsub.publisher on the topic, nothing else. */
  readonly serviceAccount: ServiceAccount;
  readonly publisherGrant: PubsubTopicIamMember;
  /** The message data the canary publishes (JSON). */
  readonly body: string;
}

/** The unix-cron schedule for one run every `minutes`. A divisor of 60 keeps the gap even across the hour. */
export function canarySchedule(minutes: number): string {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 60) {
    throw new Error(`canary.intervalMinutes must be an integer from 1 to 60, got ${minutes}`);
  }
  return minutes === 60 ? '0 * * * *' : `*/${minutes} * * * *`;
}

/** The canary event: the given event with its id field set to the canary id. */
export function canaryMessage(event: Record<string, unknown>, idField: string): string {
  return JSON.stringify({ ...event, [idField]: STATIC_CANARY_ID });
}

/**
 * A Cloud Scheduler job that publishes one canary event to the topic every `intervalMinutes`.
 *
 * Not a `pubsub_target`: a Pub/Sub target publishes as the Cloud Scheduler service agent, whose role lets it publish
 * to every topic of the project (Cloud Scheduler access control: anyone who may create jobs "can create jobs that
 * publish to any Pub/Sub topics within the project"). An HTTP target calling Pub/Sub's publish method with an OAuth
 * token of its own service account publishes as that account, which holds roles/pubsub.publisher on this topic only.
 */
export function buildCanary(
  scope: Construct,
  props: ResolvedProps,
  topic: TopicReference,
  canary: CanaryProps,
  idField: string,
): FreshnessCanary {
  const serviceAccount = new ServiceAccount(scope, 'CanaryServiceAccount', {
    project: props.projectId,
    accountId: accountId('canary-', props.name),
    displayName: `Freshness canary of ${props.name}`,
    description: 'Publishes the freshness canary event to the pipeline topic (Cloud Scheduler).',
  });
  const visible = new TimeSleep(scope, 'CanaryServiceAccountPropagation', {
    createDuration: SERVICE_ACCOUNT_PROPAGATION,
    dependsOn: [serviceAccount],
    triggers: { account: serviceAccount.uniqueId },
  });
  const publisherGrant = new PubsubTopicIamMember(scope, 'CanaryPublisher', {
    // The topic's full id names its project too (an existingTopic may live elsewhere).
    topic: topic.id,
    role: 'roles/pubsub.publisher',
    member: `serviceAccount:${serviceAccount.email}`,
    dependsOn: [visible],
  });
  const body = canaryMessage(canary.event, idField);
  const publishRequest = {
    messages: [
      {
        data: Buffer.from(body).toString('base64'),
        // As scripts/publish-pubsub-samples.ts publishes; they travel to the dead-letter table if ever needed there.
        attributes: { eventId: STATIC_CANARY_ID, canary: 'true' },
      },
    ],
  };
  const job = new CloudSchedulerJob(scope, 'Canary', {
    project: props.projectId,
    region: props.region,
    name: `${props.name}-freshness-canary`,
    description: `Freshness canary: publishes one canary event (id ${STATIC_CANARY_ID}) to ${props.name}; the Dataflow job's UDF drops it before BigQuery.`,
    schedule: canarySchedule(canary.intervalMinutes),
    timeZone: 'Etc/UTC',
    attemptDeadline: '30s',
    // A retried publish would be measured from its own (later) publish time anyway; the next run comes soon enough.
    retryConfig: { retryCount: 0 },
    httpTarget: {
      uri: `${PUBSUB_API}/${topic.id}:publish`,
      httpMethod: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify(publishRequest)).toString('base64'),
      oauthToken: { serviceAccountEmail: serviceAccount.email, scope: PUBSUB_SCOPE },
    },
    dependsOn: [publisherGrant],
  });
  return { job, serviceAccount, publisherGrant, body };
}
