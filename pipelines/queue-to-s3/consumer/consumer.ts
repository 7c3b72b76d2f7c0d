/**
 * The consumer's logic: long-poll SQS, buffer messages as NDJSON lines per (output, partition), write each batch to S3
 * as gzip objects, and delete the messages only once their object is durable. Freshness canaries go in no object: once
 * their batch is durable, each gets a receipt (platform/freshness) and is deleted. Clients, clock and pacing are
 * injected (createConsumer(deps)); service.ts wires the real ones. Delivery is at least once: see README.md.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { receiptBody, receiptKey } from '../../../platform/freshness/contract';
import { fullJitterDelay, RetryPolicy } from '../../../platform/handlers/backoff';
import { Batch, chunks, Destinations, HeldMessage, ObjectGroup } from './batch';
import type { ConsumerConfig } from './config';
import type { ConsumerMetrics, FlushTrigger } from './metrics';
import { batchIdOf, CanaryRecord, toRecord } from './records';

const gzip = promisify(gzipCallback);

/** The logging the consumer needs (Powertools' Logger has it). */
export type LogFields = { [key: string]: unknown };
export interface Log {
  debug(message: string, ...extra: LogFields[]): void;
  info(message: string, ...extra: LogFields[]): void;
  warn(message: string, ...extra: LogFields[]): void;
  error(message: string, ...extra: LogFields[]): void;
}

export type ConsumerSettings = Pick<
  ConsumerConfig,
  | 'queueUrl'
  | 'outputBucket'
  | 'outputPrefix'
  | 'errorBucket'
  | 'errorPrefix'
  | 'canary'
  | 'flushMaxMessages'
  | 'flushMaxBytes'
  | 'flushMaxAgeMs'
  | 'visibilityTimeoutSeconds'
  | 'receiveWaitSeconds'
  | 'pollers'
  | 'maxBufferedMessages'
  | 'flushConcurrency'
>;

export interface ConsumerDeps {
  sqs: SQSClient;
  s3: S3Client;
  config: ConsumerSettings;
  metrics: ConsumerMetrics;
  logger: Log;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
  uuid?: () => string;
  /** Pacing of DeleteMessageBatch retries of failed entries (after the SDK's own retries). */
  deleteRetry?: RetryPolicy;
  /** Pacing of polling after a failed ReceiveMessage (throttling, network). */
  receiveBackoff?: RetryPolicy;
}

export interface PollResult {
  received: number;
  /** Set after a failed receive: how long the poller should pause. */
  backoffMs?: number;
}

export interface Health extends LogFields {
  status: 'ok' | 'stopping' | 'stopped';
  /** Messages in memory (buffered or being written). */
  held: number;
  lastReceiveAt?: string;
  lastFlushAt?: string;
  consecutiveFailedFlushes: number;
}

export interface Consumer {
  /** Starts the pollers and the maintenance timer (age flushes, visibility extension). */
  start(): void;
  /**
   * Graceful stop: stops polling (the long polls under way are let finish, at most RECEIVE_WAIT_SECONDS, so the
   * messages they return are not stranded invisible until their visibility timeout), flushes what is buffered, and
   * waits for every write and delete. Resolves with the number of messages still held (0 when everything was written
   * and deleted).
   */
  stop(): Promise<{ held: number }>;
  /** One ReceiveMessage call, its messages buffered (and flushed when a batch fills). */
  pollOnce(signal?: AbortSignal): Promise<PollResult>;
  /** Flushes a batch that has reached its age and extends the visibility of messages whose lease runs low. */
  tick(): Promise<void>;
  /** Flushes the open batch (if any) and waits until every batch is written and deleted. */
  flush(trigger?: FlushTrigger): Promise<void>;
  health(): Health;
}

const RECEIVE_ATTRIBUTES = ['SentTimestamp', 'ApproximateReceiveCount'] as const;
const DELETE_CONCURRENCY = 16;

export const DEFAULT_DELETE_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 };
export const DEFAULT_RECEIVE_BACKOFF: RetryPolicy = { maxAttempts: Infinity, baseDelayMs: 200, maxDelayMs: 10_000 };

export function createConsumer(deps: ConsumerDeps): Consumer {
  const { sqs, s3, config, metrics, logger } = deps;
  const now = deps.now ?? Date.now;
  const uuid = deps.uuid ?? randomUUID;
  const deleteRetry = deps.deleteRetry ?? DEFAULT_DELETE_RETRY;
  const receiveBackoff = deps.receiveBackoff ?? DEFAULT_RECEIVE_BACKOFF;
  const sleep = deleteRetry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const leaseMs = config.visibilityTimeoutSeconds * 1000;
  const destinations: Destinations = config;

  /** Every message in memory, by MessageId: in the open batch or in one being written. */
  const held = new Map<string, HeldMessage>();
  let open: Batch | undefined;
  const sealed: Array<{ batch: Batch; trigger: FlushTrigger }> = [];
  const writing = new Set<Promise<void>>();
  let capacityWaiters: Array<() => void> = [];
  let lastExtensionScan = 0;
  let lastReceiveAt: number | undefined;
  let lastFlushAt: number | undefined;
  let consecutiveFailedFlushes = 0;
  let consecutiveReceiveErrors = 0;
  let state: Health['status'] = 'ok';
  const abort = new AbortController();
  let pollers: Promise<void>[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopping: Promise<{ held: number }> | undefined;

  const setBuffered = () => metrics.buffered.set(held.size);

  function release(messages: HeldMessage[]): void {
    for (const m of messages) if (held.get(m.messageId) === m) held.delete(m.messageId);
    setBuffered();
    if (held.size < config.maxBufferedMessages) {
      const waiters = capacityWaiters;
      capacityWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  function accept(message: Message, leaseStart: number, receivedAt: number): void {
    const { MessageId: messageId, ReceiptHandle: receiptHandle } = message;
    if (!messageId || !receiptHandle) {
      logger.warn('Received a message without id or receipt handle; ignored', { messageId });
      return;
    }
    const visibleUntil = leaseStart + leaseMs;
    const existing = held.get(messageId);
    if (existing) {
      // Its lease ran out and it came back while still held: keep one line, and the new handle (the old one is void).
      existing.receiptHandle = receiptHandle;
      existing.visibleUntil = visibleUntil;
      logger.warn('Message received again while held; kept once with its new receipt handle', { messageId });
      return;
    }
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    if (receiveCount > 1) logger.info('Redelivered message', { messageId, receiveCount });
    const entry: HeldMessage = { messageId, receiptHandle, visibleUntil, record: toRecord(message, receivedAt, config.canary?.idField) };
    held.set(messageId, entry);
    const batch = (open ??= new Batch(batchIdOf(receivedAt, uuid()), receivedAt));
    batch.add(entry);
    if (batch.size >= config.flushMaxMessages) seal('size');
    else if (batch.bytes >= config.flushMaxBytes) seal('bytes');
  }

  function seal(trigger: FlushTrigger): void {
    if (!open || open.size === 0) return;
    sealed.push({ batch: open, trigger });
    open = undefined;
    pump();
  }

  function pump(): void {
    while (writing.size < config.flushConcurrency && sealed.length > 0) {
      const { batch, trigger } = sealed.shift()!;
      const job: Promise<void> = writeBatch(batch, trigger).finally(() => {
        writing.delete(job);
        pump();
      });
      writing.add(job);
    }
  }

  async function idle(): Promise<void> {
    while (writing.size > 0 || sealed.length > 0) {
      pump();
      await Promise.all([...writing]);
    }
  }

  async function writeBatch(batch: Batch, trigger: FlushTrigger): Promise<void> {
    const started = now();
    metrics.batchAge.observe(Math.max(0, started - batch.openedAt) / 1000);
    metrics.batchSize.observe(batch.size);
    metrics.batchBytes.observe(batch.bytes);
    let ok = true;
    try {
      const results = await Promise.all(batch.groups(destinations).map(writeGroup));
      ok = results.every((r) => r.writtenAt !== undefined && r.undeleted === 0);
      const canaries = batch.canaries();
      if (canaries.length > 0) {
        // Committed when the last object became durable (a batch of canaries only: now, it has nothing to write).
        const written = results.every((r) => r.writtenAt !== undefined);
        const committedAtMs = results.length > 0 ? Math.max(...results.map((r) => r.writtenAt ?? 0)) : now();
        ok = (await commitCanaries(canaries, written ? committedAtMs : undefined)) && ok;
      }
    } catch (err) {
      // writeGroup handles its own failures; this is a bug guard so that nothing stays held forever.
      ok = false;
      logger.error('Unexpected error while flushing a batch', { batchId: batch.id, error: err as Error });
      release(batch.messages);
    }
    const finished = now();
    metrics.flushDuration.observe(Math.max(0, finished - started) / 1000);
    metrics.flushes.inc({ trigger, result: ok ? 'ok' : 'failed' });
    lastFlushAt = finished;
    consecutiveFailedFlushes = ok ? 0 : consecutiveFailedFlushes + 1;
    logger.debug('Batch flushed', { batchId: batch.id, trigger, messages: batch.size, bytes: batch.bytes, ok, ms: finished - started });
  }

  /** Writes one object; deletes its messages once S3 has it. Returns when the object was written (unset: it was not) and how many messages stay undeleted. */
  async function writeGroup(group: ObjectGroup): Promise<{ writtenAt?: number; undeleted: number }> {
    const count = group.messages.length;
    try {
      const body = await gzip(Buffer.from(`${group.lines.join('\n')}\n`));
      await s3.send(
        new PutObjectCommand({ Bucket: group.bucket, Key: group.key, Body: body, ContentType: 'application/x-ndjson' }),
      );
    } catch (err) {
      // Not deleted and no longer extended: the messages reappear when their lease ends and are written again then;
      // one that keeps failing moves to the dead-letter queue through the queue's maxReceiveCount.
      metrics.failed.inc({ stage: 'write' }, count);
      logger.error('Writing an object failed; its messages will reappear after their visibility timeout', {
        bucket: group.bucket,
        key: group.key,
        messages: count,
        error: err as Error,
      });
      release(group.messages);
      return { undeleted: count };
    }
    const writtenAt = now();
    metrics.written.inc({ output: group.output }, count);
    const undeleted = await deleteMessages(group.messages);
    if (undeleted > 0) {
      logger.error('Messages written but not deleted; they will be written again after their visibility timeout', {
        bucket: group.bucket,
        key: group.key,
        undeleted,
      });
    }
    return { writtenAt, undeleted };
  }

  /**
   * The canaries of a batch committed at `committedAtMs` (undefined: some object of the batch was not written, so it
   * is not committed): one receipt each, then the delete. A canary whose batch or receipt failed is released like a
   * message whose write failed: it comes back after its lease and is receipted with a later batch (a receipt written
   * twice is harmless: same id, another commit time). True when every canary was receipted and deleted.
   */
  async function commitCanaries(canaries: Array<HeldMessage & { record: CanaryRecord }>, committedAtMs: number | undefined): Promise<boolean> {
    if (committedAtMs === undefined) {
      metrics.failed.inc({ stage: 'write' }, canaries.length);
      logger.warn('Batch not written; its canaries get no receipt and will reappear after their visibility timeout', {
        canaries: canaries.map((m) => m.record.id),
      });
      release(canaries);
      return false;
    }
    // Canary records exist only when the config names the canary's source and id field.
    const source = config.canary!.source;
    const receipted: HeldMessage[] = [];
    await forEachLimit(canaries, DELETE_CONCURRENCY, async (m) => {
      const receipt = { source, id: m.record.id, publishedAtMs: m.record.publishedAtMs, committedAtMs };
      const key = receiptKey(receipt);
      try {
        await s3.send(
          new PutObjectCommand({ Bucket: config.outputBucket, Key: key, Body: receiptBody(receipt), ContentType: 'application/json' }),
        );
        receipted.push(m);
      } catch (err) {
        metrics.failed.inc({ stage: 'receipt' });
        logger.error('Writing a canary receipt failed; the canary will reappear after its visibility timeout', {
          bucket: config.outputBucket,
          key,
          error: err as Error,
        });
        release([m]);
      }
    });
    metrics.canariesCommitted.inc(receipted.length);
    const undeleted = await deleteMessages(receipted);
    if (undeleted > 0) logger.error('Canaries receipted but not deleted; they will be receipted again after their visibility timeout', { undeleted });
    return receipted.length === canaries.length && undeleted === 0;
  }

  /** Deletes in batches of 10, retrying failed entries that SQS marks as not the sender's fault. Returns how many stay undeleted. */
  async function deleteMessages(messages: HeldMessage[]): Promise<number> {
    let undeleted = 0;
    await forEachLimit(chunks(messages, 10), DELETE_CONCURRENCY, async (chunk) => {
      let remaining = chunk;
      for (let attempt = 1; remaining.length > 0; attempt++) {
        let failedIds: Map<string, { senderFault: boolean; code?: string }>;
        try {
          const result = await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: config.queueUrl,
              Entries: remaining.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle })),
            }),
          );
          failedIds = new Map((result.Failed ?? []).map((f) => [f.Id!, { senderFault: !!f.SenderFault, code: f.Code }]));
        } catch (err) {
          failedIds = new Map(remaining.map((_, i) => [String(i), { senderFault: false, code: (err as Error).name }]));
        }
        const deleted = remaining.filter((_, i) => !failedIds.has(String(i)));
        metrics.deleted.inc(deleted.length);
        release(deleted);
        const retryable = remaining.filter((_, i) => failedIds.get(String(i))?.senderFault === false);
        const permanent = remaining.filter((_, i) => failedIds.get(String(i))?.senderFault === true);
        if (permanent.length > 0) {
          // E.g. ReceiptHandleIsInvalid: the lease was lost; the message will be (or was) delivered again.
          logger.warn('Delete refused for messages whose lease was lost', {
            messageIds: permanent.map((m) => m.messageId),
            codes: [...new Set([...failedIds.values()].filter((f) => f.senderFault).map((f) => f.code))],
          });
          metrics.failed.inc({ stage: 'delete' }, permanent.length);
          undeleted += permanent.length;
          release(permanent);
        }
        remaining = retryable;
        if (remaining.length > 0 && attempt >= deleteRetry.maxAttempts) {
          metrics.failed.inc({ stage: 'delete' }, remaining.length);
          undeleted += remaining.length;
          release(remaining);
          break;
        }
        if (remaining.length > 0) await sleep(fullJitterDelay(attempt, deleteRetry));
      }
    });
    return undeleted;
  }

  /** Extends the lease of held messages that have less than half of it left. */
  async function extendLeases(t: number): Promise<void> {
    const due = [...held.values()].filter((m) => !m.extending && m.visibleUntil - t < leaseMs / 2);
    if (due.length === 0) return;
    await forEachLimit(chunks(due, 10), DELETE_CONCURRENCY, async (chunk) => {
      for (const m of chunk) m.extending = true;
      const requested = now();
      try {
        const result = await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: config.queueUrl,
            Entries: chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle, VisibilityTimeout: config.visibilityTimeoutSeconds })),
          }),
        );
        const failed = new Map((result.Failed ?? []).map((f) => [f.Id!, f]));
        const extended = chunk.filter((_, i) => !failed.has(String(i)));
        for (const m of extended) m.visibleUntil = Math.max(m.visibleUntil, requested + leaseMs);
        metrics.visibilityExtensions.inc(extended.length);
        if (failed.size > 0) {
          metrics.failed.inc({ stage: 'visibility' }, failed.size);
          logger.warn('Visibility extension refused; these messages may be delivered again while held', {
            messageIds: chunk.filter((_, i) => failed.has(String(i))).map((m) => m.messageId),
            codes: [...new Set([...failed.values()].map((f) => f.Code))],
          });
        }
      } catch (err) {
        metrics.failed.inc({ stage: 'visibility' }, chunk.length);
        logger.warn('Visibility extension failed; retried on the next tick', { messages: chunk.length, error: err as Error });
      } finally {
        for (const m of chunk) m.extending = false;
      }
    });
  }

  async function pollOnce(signal?: AbortSignal): Promise<PollResult> {
    const leaseStart = now();
    try {
      const result = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: config.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: config.receiveWaitSeconds,
          VisibilityTimeout: config.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: [...RECEIVE_ATTRIBUTES],
        }),
        { abortSignal: signal },
      );
      const receivedAt = now();
      lastReceiveAt = receivedAt;
      consecutiveReceiveErrors = 0;
      const messages = result.Messages ?? [];
      if (messages.length > 0) metrics.received.inc(messages.length);
      for (const message of messages) accept(message, leaseStart, receivedAt);
      setBuffered();
      return { received: messages.length };
    } catch (err) {
      if (signal?.aborted) return { received: 0 };
      const code = (err as Error).name || 'Error';
      metrics.receiveErrors.inc({ code });
      consecutiveReceiveErrors++;
      const backoffMs = fullJitterDelay(Math.min(consecutiveReceiveErrors, 16), receiveBackoff);
      logger.warn('ReceiveMessage failed; pausing this poller', { code, backoffMs, error: err as Error });
      return { received: 0, backoffMs };
    }
  }

  function waitForCapacity(): Promise<void> {
    if (held.size < config.maxBufferedMessages || abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => capacityWaiters.push(resolve));
  }

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });

  async function pollLoop(): Promise<void> {
    while (!abort.signal.aborted) {
      await waitForCapacity();
      if (abort.signal.aborted) break;
      // No abort signal: a receive that SQS has answered must reach us, or its messages stay invisible for nothing.
      const { backoffMs } = await pollOnce();
      if (backoffMs) await pause(backoffMs);
    }
  }

  async function tick(): Promise<void> {
    const t = now();
    if (open && t - open.openedAt >= config.flushMaxAgeMs) seal('age');
    // Scanning every held message costs O(n): do it a few times per lease, not on every tick.
    if (t - lastExtensionScan >= Math.min(leaseMs / 8, 5_000)) {
      lastExtensionScan = t;
      await extendLeases(t);
    }
  }

  const tickMs = Math.max(10, Math.min(1_000, config.flushMaxAgeMs / 10, leaseMs / 8));

  return {
    start() {
      if (pollers.length > 0 || abort.signal.aborted) throw new Error('consumer already started');
      // Ticks do not wait for one another: a slow visibility call must not delay an age flush (a message being
      // extended is skipped by the next scan, so requests never pile up for the same message).
      timer = setInterval(() => {
        tick().catch((err) => logger.error('Maintenance tick failed', { error: err as Error }));
      }, tickMs);
      pollers = Array.from({ length: config.pollers }, () => pollLoop());
      logger.info('Consumer started', { queueUrl: config.queueUrl, pollers: config.pollers, tickMs });
    },
    stop() {
      return (stopping ??= (async () => {
        state = 'stopping';
        abort.abort();
        for (const wake of capacityWaiters) wake();
        capacityWaiters = [];
        await Promise.all(pollers);
        if (timer) clearInterval(timer);
        seal('shutdown');
        // Keep leases alive while the last batches are written.
        const keepAlive = setInterval(() => void extendLeases(now()).catch(() => undefined), Math.max(100, leaseMs / 4));
        try {
          await idle();
        } finally {
          clearInterval(keepAlive);
        }
        state = 'stopped';
        return { held: held.size };
      })());
    },
    pollOnce,
    tick,
    async flush(trigger = 'size') {
      seal(trigger);
      await idle();
    },
    health: () => ({
      status: state,
      held: held.size,
      lastReceiveAt: lastReceiveAt === undefined ? undefined : new Date(lastReceiveAt).toISOString(),
      lastFlushAt: lastFlushAt === undefined ? undefined : new Date(lastFlushAt).toISOString(),
      consecutiveFailedFlushes,
    }),
  };
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
