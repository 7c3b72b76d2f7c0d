/**
 * Pure functions from an SQS message to the line it becomes and where that line goes. No I/O.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { canaryPublishedAt } from '../../../platform/freshness/contract';

/** `data`: the body is valid JSON and goes to the data prefix; `error`: it is not, and goes to the error prefix. */
export type Output = 'data' | 'error';

/** A message that becomes a line of an object. */
export interface LineRecord {
  output: Output;
  /** `dt=YYYY-MM-DD/hour=HH` (UTC) of the time the message was sent to the queue. */
  partition: string;
  /** One NDJSON line, without the line feed. */
  line: string;
}

/** A freshness canary (platform/freshness): in no object; a receipt once its batch is written. */
export interface CanaryRecord {
  output: 'canary';
  id: string;
  /** The publish time its id carries (epoch ms). */
  publishedAtMs: number;
}

export type MessageRecord = LineRecord | CanaryRecord;

/** `dt=YYYY-MM-DD/hour=HH` in UTC. */
export function partitionOf(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2026-11-22T09:41:07.123Z
  return `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/**
 * When the message entered the queue (its `SentTimestamp` attribute), so a redelivered message lands in the same
 * partition as its first delivery would have; `fallbackMs` (the receive time) when the attribute is missing.
 */
export function sentAt(message: Message, fallbackMs: number): number {
  const sent = Number(message.Attributes?.SentTimestamp);
  return Number.isFinite(sent) && sent > 0 ? sent : fallbackMs;
}

/**
 * The line a message becomes. A valid JSON body is kept as it is (re-serialized only when it spans several lines,
 * which NDJSON does not allow); anything else becomes an error line that keeps the body verbatim with the reason.
 * With `idField`, a JSON object whose `idField` holds a canary id is a canary, recognised by the id alone.
 */
export function toRecord(message: Message, receivedAtMs: number): LineRecord;
export function toRecord(message: Message, receivedAtMs: number, idField: string | undefined): MessageRecord;
export function toRecord(message: Message, receivedAtMs: number, idField?: string): MessageRecord {
  const sent = sentAt(message, receivedAtMs);
  const partition = partitionOf(sent);
  const body = message.Body ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    return {
      output: 'error',
      partition,
      line: JSON.stringify({
        reason: body.trim() === '' ? 'invalid_json: empty body' : `invalid_json: ${(err as Error).message}`,
        messageId: message.MessageId,
        sentTimestamp: new Date(sent).toISOString(),
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0) || undefined,
        body,
      }),
    };
  }
  if (idField !== undefined && typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const id = (parsed as Record<string, unknown>)[idField];
    const publishedAtMs = canaryPublishedAt(id);
    if (publishedAtMs !== undefined) return { output: 'canary', id: id as string, publishedAtMs };
  }
  const multiline = body.includes('\n') || body.includes('\r');
  return { output: 'data', partition, line: multiline ? JSON.stringify(parsed) : body.trim() };
}

/**
 * The object key of one batch's lines for one partition: `<prefix>dt=YYYY-MM-DD/hour=HH/<batchId>.ndjson.gz`.
 * `batchId` starts with the batch's opening time, so keys sort by time within a partition.
 */
export function objectKey(prefix: string, partition: string, batchId: string): string {
  return `${prefix}${partition}/${batchId}.ndjson.gz`;
}

/** `20261122T094107123Z-<uuid>`: time-ordered and unique across processes and restarts. */
export function batchIdOf(openedAtMs: number, uuid: string): string {
  return `${new Date(openedAtMs).toISOString().replace(/[-:.]/g, '')}-${uuid}`;
}
