import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { canaryId, canaryObjectKey } from './contract';

export { canaryObjectKey } from './contract';

/**
 * Publishing canary events: the scheduled canary function and `npm run verify` share this module (bundled into the
 * handler: no CDK imports).
 */

/** How a canary event of one source is made: the source's sample event with its id and event time replaced. */
export interface CanaryTemplate {
  readonly source: string;
  /** A valid event of the source (its first sample event, checked against the schema at synth). */
  readonly template: Record<string, unknown>;
  readonly idField: string;
  /** Set to the publish time, so a partitioned table files the canary under now. */
  readonly eventTimeField?: string;
}

/** Where a pipeline takes events in. */
export type CanaryEntrance =
  /** A landing bucket: a one-line NDJSON file under `<source>/_canary/`, validated and published like any upload. */
  | { readonly kind: 'landing'; readonly bucket: string }
  /** An SNS topic (pipeline 1): the event as the message body, as publishers send it. */
  | { readonly kind: 'topic'; readonly topicArn: string };

/** One canary of one source: what the canary function receives from its schedule, and verify from the stack. */
export interface CanaryTarget extends CanaryTemplate {
  readonly entrance: CanaryEntrance;
}

/** The canary event published at `publishedAtMs`. */
export function canaryEvent(t: CanaryTemplate, publishedAtMs: number): Record<string, unknown> {
  const event: Record<string, unknown> = { ...t.template, [t.idField]: canaryId(publishedAtMs) };
  if (t.eventTimeField) event[t.eventTimeField] = new Date(publishedAtMs).toISOString();
  return event;
}

export interface CanaryClients {
  s3: Pick<S3Client, 'send'>;
  sns: Pick<SNSClient, 'send'>;
}

/** Publishes one canary event now; returns its id. Errors propagate (the schedule's invocation fails, and is retried). */
export async function publishCanary(clients: CanaryClients, target: CanaryTarget, now: () => number = Date.now): Promise<string> {
  const publishedAtMs = now();
  const event = canaryEvent(target, publishedAtMs);
  const id = event[target.idField] as string;
  const body = JSON.stringify(event);
  if (target.entrance.kind === 'landing') {
    await clients.s3.send(
      new PutObjectCommand({ Bucket: target.entrance.bucket, Key: canaryObjectKey(target.source, id), Body: `${body}\n`, ContentType: 'application/x-ndjson' }),
    );
  } else {
    const fifo = target.entrance.topicArn.endsWith('.fifo');
    await clients.sns.send(
      new PublishCommand({
        TopicArn: target.entrance.topicArn,
        Message: body,
        // A FIFO topic needs a group and a deduplication id; the canary id is unique per millisecond.
        ...(fifo ? { MessageGroupId: `${target.source}-canary`, MessageDeduplicationId: id } : {}),
      }),
    );
  }
  return id;
}
