import { gunzipSync } from 'node:zlib';
import { PutObjectCommand, PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityBatchCommandInput,
  DeleteMessageBatchCommand,
  DeleteMessageBatchCommandInput,
  ReceiveMessageCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { canaryId, receiptBody, receiptKey } from '../../../../platform/freshness/contract';
import { createConsumer, ConsumerSettings } from '../../../../pipelines/queue-to-s3/consumer/consumer';
import { METRIC } from '../../../../pipelines/queue-to-s3/consumer/contract';
import { createMetrics } from '../../../../pipelines/queue-to-s3/consumer/metrics';
import { deferred, MemoryLog, messages, QUEUE_URL, sqsMessage, T0, until, valueOf } from './fixtures';

const sqsMock = mockClient(SQSClient);
const s3Mock = mockClient(S3Client);

const SETTINGS: ConsumerSettings = {
  queueUrl: QUEUE_URL,
  outputBucket: 'lake',
  outputPrefix: 'clicks/',
  errorBucket: 'lake-errors',
  errorPrefix: 'errors/',
  flushMaxMessages: 25,
  flushMaxBytes: 1024 * 1024,
  flushMaxAgeMs: 5_000,
  visibilityTimeoutSeconds: 30,
  receiveWaitSeconds: 20,
  pollers: 1,
  maxBufferedMessages: 50,
  flushConcurrency: 2,
};

/** A consumer on the mocked clients with a hand-driven clock. */
function setup(overrides: Partial<ConsumerSettings> = {}) {
  const clock = { now: T0 };
  const metrics = createMetrics();
  const log = new MemoryLog();
  let ids = 0;
  const consumer = createConsumer({
    sqs: new SQSClient({ region: 'eu-west-1' }),
    s3: new S3Client({ region: 'eu-west-1' }),
    config: { ...SETTINGS, ...overrides },
    metrics,
    logger: log,
    now: () => clock.now,
    uuid: () => `u${++ids}`,
    deleteRetry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    receiveBackoff: { maxAttempts: Infinity, baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.5 },
  });
  return { consumer, metrics, log, clock };
}

/** Each call of ReceiveMessage returns the next of `batches`, then nothing. */
function receives(...batches: ReturnType<typeof messages>[]) {
  const mock = sqsMock.on(ReceiveMessageCommand);
  for (const batch of batches) mock.resolvesOnce({ Messages: batch });
  mock.resolves({ Messages: [] });
}

const puts = () => s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input as PutObjectCommandInput);
const linesOf = (input: PutObjectCommandInput) => gunzipSync(input.Body as Buffer).toString('utf8').split('\n').slice(0, -1);
const deletedHandles = () =>
  sqsMock
    .commandCalls(DeleteMessageBatchCommand)
    .flatMap((c) => (c.args[0].input as DeleteMessageBatchCommandInput).Entries!.map((e) => e.ReceiptHandle));

beforeEach(() => {
  sqsMock.reset();
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
  sqsMock.on(DeleteMessageBatchCommand).callsFake((input: DeleteMessageBatchCommandInput) => ({
    Successful: input.Entries!.map((e) => ({ Id: e.Id })),
    Failed: [],
  }));
  sqsMock.on(ChangeMessageVisibilityBatchCommand).callsFake((input: ChangeMessageVisibilityBatchCommandInput) => ({
    Successful: input.Entries!.map((e) => ({ Id: e.Id })),
    Failed: [],
  }));
});

describe('receiving', () => {
  test('asks for 10 messages with the configured long poll and visibility, and their sent time and receive count', async () => {
    receives(messages(1, 3));
    const { consumer, metrics } = setup();
    expect(await consumer.pollOnce()).toEqual({ received: 3 });
    expect(sqsMock).toHaveReceivedCommandWith(ReceiveMessageCommand, {
      QueueUrl: QUEUE_URL,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 20,
      VisibilityTimeout: 30,
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    });
    expect(await valueOf(metrics.received)).toBe(3);
    expect(await valueOf(metrics.buffered)).toBe(3);
    expect(consumer.health()).toMatchObject({ status: 'ok', held: 3 });
  });

  test('a throttled receive pauses the poller with backoff, counts the error, loses nothing, and the next receive works', async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .rejectsOnce(new SQSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: {}, message: 'Rate exceeded' }))
      .rejectsOnce(new SQSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: {}, message: 'Rate exceeded' }))
      .resolvesOnce({ Messages: messages(1, 2) })
      .resolves({ Messages: [] });
    const { consumer, metrics, log } = setup();
    const first = await consumer.pollOnce();
    const second = await consumer.pollOnce();
    expect(first).toEqual({ received: 0, backoffMs: 50 }); // full jitter: 0.5 x min(1000, 100 x 2^0)
    expect(second).toEqual({ received: 0, backoffMs: 100 }); // grows with consecutive failures
    expect(await valueOf(metrics.receiveErrors, { code: 'ThrottlingException' })).toBe(2);
    expect(log.at('warn')).toContain('ReceiveMessage failed; pausing this poller');
    expect(await consumer.pollOnce()).toEqual({ received: 2 });
    await consumer.flush();
    expect(puts().flatMap(linesOf)).toHaveLength(2);
    expect(deletedHandles()).toEqual(['rh-1', 'rh-2']);
    // After a success the backoff starts over.
    sqsMock.on(ReceiveMessageCommand).rejectsOnce(new SQSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: {} }));
    expect(await consumer.pollOnce()).toEqual({ received: 0, backoffMs: 50 });
  });
});

describe('batching and flushing', () => {
  test('flushes on size: exactly FLUSH_MAX_MESSAGES lines per object, the rest stays buffered', async () => {
    receives(messages(1, 10), messages(11, 10), messages(21, 10));
    const { consumer, metrics } = setup({ flushMaxMessages: 25 });
    for (let i = 0; i < 3; i++) await consumer.pollOnce();
    await until(() => deletedHandles().length === 25, '25 deletes');
    expect(puts()).toHaveLength(1);
    expect(linesOf(puts()[0]).map((l) => JSON.parse(l).n)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(consumer.health().held).toBe(5);
    // Deleted in batches of 10, each entry with its own receipt handle.
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand).map((c) => c.args[0].input.Entries!.length)).toEqual([10, 10, 5]);
    expect(await valueOf(metrics.flushes, { trigger: 'size', result: 'ok' })).toBe(1);
    await consumer.flush();
    expect(puts()).toHaveLength(2);
    expect(linesOf(puts()[1])).toHaveLength(5);
    expect(new Set(deletedHandles()).size).toBe(30);
    expect(consumer.health().held).toBe(0);
    expect(await valueOf(metrics.deleted)).toBe(30);
    expect(await valueOf(metrics.written, { output: 'data' })).toBe(30);
  });

  test('flushes on bytes', async () => {
    const big = (n: number) => sqsMessage(n, { body: JSON.stringify({ n, pad: 'x'.repeat(400) }) });
    receives([big(1), big(2), big(3)]);
    const { consumer, metrics } = setup({ flushMaxMessages: 1000, flushMaxBytes: 1024 });
    await consumer.pollOnce();
    await until(() => puts().length === 1, 'a put');
    expect(linesOf(puts()[0])).toHaveLength(3); // 3 x ~420 bytes crosses 1024 at the third message
    expect(await valueOf(metrics.flushes, { trigger: 'bytes', result: 'ok' })).toBe(1);
  });

  test('flushes on age: not before FLUSH_MAX_AGE_MS after the first message, then on the next tick', async () => {
    receives(messages(1, 3), messages(4, 2));
    const { consumer, clock, metrics } = setup({ flushMaxAgeMs: 5_000 });
    await consumer.pollOnce();
    clock.now += 3_000;
    await consumer.pollOnce();
    clock.now += 1_999; // 4.999 s after the first message
    await consumer.tick();
    await consumer.tick();
    expect(puts()).toHaveLength(0);
    clock.now += 1;
    await consumer.tick();
    await until(() => deletedHandles().length === 5, '5 deletes');
    expect(puts()).toHaveLength(1);
    expect(linesOf(puts()[0])).toHaveLength(5);
    expect(await valueOf(metrics.flushes, { trigger: 'age', result: 'ok' })).toBe(1);
    const ageHistogram = await metrics.batchAge.get();
    expect(ageHistogram.values.find((v) => v.metricName === `${METRIC.batchAge}_sum`)?.value).toBe(5);
    // The clock restarts with the next batch's first message.
    receives(messages(6, 1));
    await consumer.pollOnce();
    clock.now += 4_000;
    await consumer.tick();
    expect(puts()).toHaveLength(1);
  });

  test('partitions by the hour the message was sent (UTC): one object per dt/hour, lines in the right one', async () => {
    const at = (iso: string) => Date.parse(iso);
    receives([
      sqsMessage(1, { sentAt: at('2026-11-20T09:59:59.999Z') }),
      sqsMessage(2, { sentAt: at('2026-11-20T10:00:00.000Z') }),
      sqsMessage(3, { sentAt: at('2026-11-20T09:00:00.000Z') }),
      sqsMessage(4, { sentAt: at('2026-12-31T23:30:00.000Z') }),
    ]);
    const { consumer } = setup();
    await consumer.pollOnce();
    await consumer.flush();
    const byKey = Object.fromEntries(puts().map((p) => [p.Key, linesOf(p).map((l) => JSON.parse(l).n)]));
    expect(byKey).toEqual({
      'clicks/dt=2026-11-20/hour=09/20261120T093000000Z-u1.ndjson.gz': [1, 3],
      'clicks/dt=2026-11-20/hour=10/20261120T093000000Z-u1.ndjson.gz': [2],
      'clicks/dt=2026-12-31/hour=23/20261120T093000000Z-u1.ndjson.gz': [4],
    });
    expect(puts().every((p) => p.Bucket === 'lake' && p.ContentType === 'application/x-ndjson')).toBe(true);
  });

  test('a message received again while still held (lease lost) is written once and deleted with its newest handle', async () => {
    receives([sqsMessage(1), sqsMessage(2)], [sqsMessage(1, { handle: 'rh-1-again', receiveCount: 2 })]);
    const { consumer, metrics } = setup();
    await consumer.pollOnce();
    await consumer.pollOnce();
    await consumer.flush();
    expect(puts().flatMap(linesOf).map((l) => JSON.parse(l).n)).toEqual([1, 2]);
    expect(deletedHandles().sort()).toEqual(['rh-1-again', 'rh-2']);
    expect(await valueOf(metrics.received)).toBe(3);
  });

  test('polling pauses while MAX_BUFFERED_MESSAGES are held and resumes when a flush frees them', async () => {
    sqsMock.on(ReceiveMessageCommand).callsFake(async () => ({ Messages: messages(Math.floor(Math.random() * 1e9), 10) }));
    const put = deferred<object>();
    s3Mock.on(PutObjectCommand).callsFake(() => put.promise);
    const { consumer } = setup({ flushMaxMessages: 20, maxBufferedMessages: 20, flushMaxAgeMs: 60_000, visibilityTimeoutSeconds: 120 });
    consumer.start();
    await until(() => s3Mock.commandCalls(PutObjectCommand).length === 1, 'the first put');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(2); // 20 held: no third receive
    expect(consumer.health().held).toBe(20);
    put.resolve({});
    await until(() => sqsMock.commandCalls(ReceiveMessageCommand).length > 2, 'polling to resume');
    s3Mock.on(PutObjectCommand).resolves({});
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [] });
    expect(await consumer.stop()).toEqual({ held: 0 });
  });
});

describe('delete after write', () => {
  test('no message is deleted before its object is written; all are deleted after', async () => {
    receives(messages(1, 12));
    const put = deferred<object>();
    s3Mock.on(PutObjectCommand).callsFake(() => put.promise);
    const { consumer } = setup();
    await consumer.pollOnce();
    const flushed = consumer.flush();
    await until(() => s3Mock.commandCalls(PutObjectCommand).length === 1, 'the put');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    put.resolve({ ETag: '"e"' });
    await flushed;
    expect(deletedHandles().sort()).toEqual(messages(1, 12).map((m) => m.ReceiptHandle).sort());
  });

  test('objects of different partitions are deleted independently: a failed one does not hold back the others', async () => {
    receives([sqsMessage(1, { sentAt: T0 }), sqsMessage(2, { sentAt: T0 + 3_600_000 })]);
    s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      if (input.Key!.includes('hour=10')) throw new Error('SlowDown');
      return {};
    });
    const { consumer, metrics } = setup();
    await consumer.pollOnce();
    await consumer.flush();
    expect(deletedHandles()).toEqual(['rh-1']);
    expect(await valueOf(metrics.failed, { stage: 'write' })).toBe(1);
    expect(await valueOf(metrics.flushes, { trigger: 'size', result: 'failed' })).toBe(1);
  });

  test('S3 put fails: nothing is deleted, nothing stays held or extended, and the messages are written when they come back', async () => {
    receives(messages(1, 5), messages(1, 5, { receiveCount: 2 }));
    s3Mock.on(PutObjectCommand).rejectsOnce(new Error('InternalError')).resolves({});
    const { consumer, metrics, log, clock } = setup();
    await consumer.pollOnce();
    await consumer.flush();
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    expect(await valueOf(metrics.failed, { stage: 'write' })).toBe(5);
    expect(consumer.health()).toMatchObject({ held: 0, consecutiveFailedFlushes: 1 });
    expect(log.at('error')).toContain('Writing an object failed; its messages will reappear after their visibility timeout');
    // Their lease is left to run out (that is the retry delay); no extension keeps them hidden.
    clock.now += 29_000;
    await consumer.tick();
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(0);
    // SQS delivers them again (a message that keeps failing reaches the DLQ through maxReceiveCount).
    await consumer.pollOnce();
    await consumer.flush();
    expect(puts()).toHaveLength(2);
    expect(deletedHandles()).toHaveLength(5);
    expect(consumer.health()).toMatchObject({ held: 0, consecutiveFailedFlushes: 0 });
  });

  test('delete fails partially: retryable entries are retried until deleted', async () => {
    receives(messages(1, 10));
    let call = 0;
    sqsMock.on(DeleteMessageBatchCommand).callsFake((input: DeleteMessageBatchCommandInput) => {
      call++;
      const entries = input.Entries!;
      // First call: entries 3 and 7 fail with a server-side error; they succeed on the retry.
      const failing = call === 1 ? entries.filter((_, i) => i === 3 || i === 7) : [];
      return {
        Successful: entries.filter((e) => !failing.includes(e)).map((e) => ({ Id: e.Id })),
        Failed: failing.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })),
      };
    });
    const { consumer, metrics } = setup();
    await consumer.pollOnce();
    await consumer.flush();
    const calls = sqsMock.commandCalls(DeleteMessageBatchCommand).map((c) => c.args[0].input.Entries!.map((e) => e.ReceiptHandle));
    expect(calls).toEqual([messages(1, 10).map((m) => m.ReceiptHandle), ['rh-4', 'rh-8']]);
    expect(await valueOf(metrics.deleted)).toBe(10);
    expect(await valueOf(metrics.failed, { stage: 'delete' })).toBe(0);
    expect(await valueOf(metrics.flushes, { trigger: 'size', result: 'ok' })).toBe(1);
  });

  test('delete refused for a lost lease (sender fault) is not retried; persistent failures stop after the attempts', async () => {
    receives(messages(1, 10));
    sqsMock.on(DeleteMessageBatchCommand).callsFake((input: DeleteMessageBatchCommandInput) => {
      const entries = input.Entries!;
      const lost = entries.filter((e) => e.ReceiptHandle === 'rh-2');
      const throttled = entries.filter((e) => e.ReceiptHandle === 'rh-5');
      return {
        Successful: entries.filter((e) => !lost.includes(e) && !throttled.includes(e)).map((e) => ({ Id: e.Id })),
        Failed: [
          ...lost.map((e) => ({ Id: e.Id, SenderFault: true, Code: 'ReceiptHandleIsInvalid' })),
          ...throttled.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'ServiceUnavailable' })),
        ],
      };
    });
    const { consumer, metrics, log } = setup();
    await consumer.pollOnce();
    await consumer.flush();
    const calls = sqsMock.commandCalls(DeleteMessageBatchCommand).map((c) => c.args[0].input.Entries!.map((e) => e.ReceiptHandle));
    expect(calls).toEqual([messages(1, 10).map((m) => m.ReceiptHandle), ['rh-5'], ['rh-5']]); // 3 attempts in all
    expect(await valueOf(metrics.deleted)).toBe(8);
    expect(await valueOf(metrics.failed, { stage: 'delete' })).toBe(2);
    expect(await valueOf(metrics.flushes, { trigger: 'size', result: 'failed' })).toBe(1);
    expect(consumer.health().held).toBe(0);
    expect(log.at('error')).toContain('Messages written but not deleted; they will be written again after their visibility timeout');
  });

  test('a DeleteMessageBatch call that throws is retried as a whole', async () => {
    receives(messages(1, 4));
    sqsMock
      .on(DeleteMessageBatchCommand)
      .rejectsOnce(new Error('socket hang up'))
      .callsFake((input: DeleteMessageBatchCommandInput) => ({ Successful: input.Entries!.map((e) => ({ Id: e.Id })) }));
    const { consumer, metrics } = setup();
    await consumer.pollOnce();
    await consumer.flush();
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(2);
    expect(await valueOf(metrics.deleted)).toBe(4);
  });
});

describe('visibility', () => {
  test('extends the lease of buffered messages once less than half of it is left, with the newest receipt handles', async () => {
    receives(messages(1, 12));
    const { consumer, clock, metrics } = setup({ visibilityTimeoutSeconds: 30, flushMaxAgeMs: 600_000, flushMaxMessages: 1000 });
    await consumer.pollOnce();
    clock.now += 14_000; // 16 s of 30 left
    await consumer.tick();
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(0);
    // Leases are scanned every 1/8 of the visibility timeout (3.75 s here), so an extension is sent with 3/8 to 1/2 left.
    clock.now += 4_000; // 12 s left
    await consumer.tick();
    const calls = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 2]);
    expect(calls[0]).toMatchObject({ QueueUrl: QUEUE_URL });
    expect(calls.flatMap((c) => c.Entries!)).toEqual(
      messages(1, 12).map((m, i) => ({ Id: String(i % 10), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 30 })),
    );
    expect(await valueOf(metrics.visibilityExtensions)).toBe(12);
    // Extended to 30 s from now: not again until half of that has passed.
    clock.now += 10_000; // 20 s left
    await consumer.tick();
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(2);
    clock.now += 6_000; // 14 s left
    await consumer.tick();
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(4);
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });

  test('keeps extending while the object is being written, and stops once the messages are deleted', async () => {
    receives(messages(1, 3));
    const put = deferred<object>();
    s3Mock.on(PutObjectCommand).callsFake(() => put.promise);
    const { consumer, clock } = setup({ visibilityTimeoutSeconds: 30 });
    await consumer.pollOnce();
    const flushed = consumer.flush();
    await until(() => s3Mock.commandCalls(PutObjectCommand).length === 1, 'the put');
    clock.now += 20_000;
    await consumer.tick();
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(1);
    put.resolve({});
    await flushed;
    clock.now += 20_000;
    await consumer.tick();
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(1);
  });

  test('a refused extension is counted and logged; the message is still written and deleted', async () => {
    receives(messages(1, 2));
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({
      Successful: [{ Id: '0' }],
      Failed: [{ Id: '1', SenderFault: true, Code: 'MessageNotInflight' }],
    });
    const { consumer, clock, metrics, log } = setup({ visibilityTimeoutSeconds: 30 });
    await consumer.pollOnce();
    clock.now += 16_000;
    await consumer.tick();
    expect(await valueOf(metrics.visibilityExtensions)).toBe(1);
    expect(await valueOf(metrics.failed, { stage: 'visibility' })).toBe(1);
    expect(log.entries.find((e) => e.message.startsWith('Visibility extension refused'))?.extra).toMatchObject({
      messageIds: ['m-2'],
      codes: ['MessageNotInflight'],
    });
    await consumer.flush();
    expect(deletedHandles()).toEqual(['rh-1', 'rh-2']);
  });
});

describe('messages that are not JSON', () => {
  test('are written verbatim with the reason to the error bucket and prefix, then deleted; valid ones go to the data prefix', async () => {
    receives([
      sqsMessage(1),
      sqsMessage(2, { body: '{"event_id": "truncated' }),
      sqsMessage(3, { body: '' }),
      sqsMessage(4, { body: 'plain text, "quoted"\nsecond line' }),
      sqsMessage(5),
    ]);
    const { consumer, metrics } = setup();
    await consumer.pollOnce();
    await consumer.flush();
    const [data, errors] = [puts().find((p) => p.Bucket === 'lake')!, puts().find((p) => p.Bucket === 'lake-errors')!];
    expect(data.Key).toBe('clicks/dt=2026-11-20/hour=09/20261120T093000000Z-u1.ndjson.gz');
    expect(linesOf(data).map((l) => JSON.parse(l).n)).toEqual([1, 5]);
    expect(errors.Key).toBe('errors/dt=2026-11-20/hour=09/20261120T093000000Z-u1.ndjson.gz');
    const errorLines = linesOf(errors).map((l) => JSON.parse(l));
    expect(errorLines).toEqual([
      expect.objectContaining({ messageId: 'm-2', body: '{"event_id": "truncated', reason: expect.stringMatching(/^invalid_json: /) }),
      expect.objectContaining({ messageId: 'm-3', body: '', reason: 'invalid_json: empty body' }),
      expect.objectContaining({ messageId: 'm-4', body: 'plain text, "quoted"\nsecond line', receiveCount: 1 }),
    ]);
    expect(errorLines[0].sentTimestamp).toBe('2026-11-20T09:30:00.000Z');
    expect(deletedHandles().sort()).toEqual(['rh-1', 'rh-2', 'rh-3', 'rh-4', 'rh-5']);
    expect(await valueOf(metrics.written, { output: 'data' })).toBe(2);
    expect(await valueOf(metrics.written, { output: 'error' })).toBe(3);
  });
});

describe('graceful stop', () => {
  test('stops polling, flushes what is buffered, deletes it, and reports nothing held', async () => {
    let served = 0;
    sqsMock.on(ReceiveMessageCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return { Messages: served < 7 ? messages(++served * 100, 3) : [] };
    });
    const { consumer, metrics } = setup({ pollers: 2, flushMaxAgeMs: 600_000, flushMaxMessages: 1000 });
    consumer.start();
    await until(() => served >= 7, 'seven receives');
    expect(puts()).toHaveLength(0);
    const stopping = consumer.stop();
    expect(consumer.health().status).toBe('stopping');
    expect(await stopping).toEqual({ held: 0 });
    expect(consumer.health().status).toBe('stopped');
    const receivesAtStop = sqsMock.commandCalls(ReceiveMessageCommand).length;
    expect(puts().flatMap(linesOf)).toHaveLength(21);
    expect(deletedHandles()).toHaveLength(21);
    expect(await valueOf(metrics.flushes, { trigger: 'shutdown', result: 'ok' })).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(receivesAtStop);
    expect(() => consumer.start()).toThrow('consumer already started');
  });
});

describe('freshness canaries', () => {
  const CANARY = { canary: { source: 'clicks', idField: 'event_id' } };
  const PUBLISHED = T0 - 2_000;
  const canaryMessage = (n: number, publishedAt = PUBLISHED) => sqsMessage(n, { body: JSON.stringify({ event_id: canaryId(publishedAt), n }) });
  const receiptPuts = () => puts().filter((p) => p.Key!.startsWith('_freshness/'));
  const dataPuts = () => puts().filter((p) => !p.Key!.startsWith('_freshness/'));

  test('stay out of the data object; once it is written, each gets its receipt at the commit time, then is deleted', async () => {
    receives([sqsMessage(1), canaryMessage(2), sqsMessage(3)]);
    const order: string[] = [];
    const dataPut = deferred<object>();
    s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      order.push(`put ${input.Key}`);
      return input.Key!.startsWith('clicks/') ? dataPut.promise : {};
    });
    sqsMock.on(DeleteMessageBatchCommand).callsFake((input: DeleteMessageBatchCommandInput) => {
      order.push(`delete ${input.Entries!.map((e) => e.ReceiptHandle).join(',')}`);
      return { Successful: input.Entries!.map((e) => ({ Id: e.Id })), Failed: [] };
    });
    const { consumer, metrics, clock } = setup(CANARY);
    await consumer.pollOnce();
    const flushed = consumer.flush();
    await until(() => order.length === 1, 'the data put');
    clock.now = T0 + 1_500; // the object becomes durable now
    dataPut.resolve({ ETag: '"e"' });
    await flushed;

    const [data] = dataPuts();
    expect(linesOf(data).map((l) => JSON.parse(l).n)).toEqual([1, 3]);
    const receipt = { source: 'clicks', id: canaryId(PUBLISHED), publishedAtMs: PUBLISHED, committedAtMs: T0 + 1_500 };
    expect(receiptPuts()).toEqual([
      { Bucket: 'lake', Key: receiptKey(receipt), Body: receiptBody(receipt), ContentType: 'application/json' },
    ]);
    expect(receiptKey(receipt)).toBe(`_freshness/clicks/${canaryId(PUBLISHED)}/${T0 + 1_500}.json`);
    expect(JSON.parse(receiptBody(receipt)).freshnessSeconds).toBe(3.5);
    // Data put, its deletes, then the receipt, then the canary's delete: never a receipt for an undurable batch.
    expect(order).toEqual([`put ${data.Key}`, 'delete rh-1,rh-3', `put ${receiptKey(receipt)}`, 'delete rh-2']);
    expect(await valueOf(metrics.canariesCommitted)).toBe(1);
    expect(await valueOf(metrics.written, { output: 'data' })).toBe(2);
    expect(await valueOf(metrics.deleted)).toBe(3);
    expect(await valueOf(metrics.flushes, { trigger: 'size', result: 'ok' })).toBe(1);
    expect(consumer.health().held).toBe(0);
  });

  test('a batch of canaries only writes no data object, only their receipts, and deletes them', async () => {
    receives([canaryMessage(1, PUBLISHED), canaryMessage(2, PUBLISHED + 1)]);
    const { consumer, metrics } = setup(CANARY);
    await consumer.pollOnce();
    await consumer.flush();
    expect(dataPuts()).toEqual([]);
    expect(receiptPuts().map((p) => p.Key)).toEqual([
      `_freshness/clicks/${canaryId(PUBLISHED)}/${T0}.json`,
      `_freshness/clicks/${canaryId(PUBLISHED + 1)}/${T0}.json`,
    ]);
    expect(deletedHandles().sort()).toEqual(['rh-1', 'rh-2']);
    expect(await valueOf(metrics.canariesCommitted)).toBe(2);
    expect(await valueOf(metrics.written, { output: 'data' })).toBe(0);
  });

  test('a failed receipt is not dropped: the canary is neither deleted nor held, and is receipted when it comes back', async () => {
    receives([sqsMessage(1), canaryMessage(2)], [canaryMessage(2, PUBLISHED)].map((m) => ({ ...m, ReceiptHandle: 'rh-2b' })));
    s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      if (input.Key!.startsWith('_freshness/') && receiptPuts().length === 1) throw new Error('SlowDown');
      return {};
    });
    const { consumer, metrics, log, clock } = setup(CANARY);
    await consumer.pollOnce();
    await consumer.flush();
    expect(deletedHandles()).toEqual(['rh-1']); // the business message is durable and deleted
    expect(await valueOf(metrics.failed, { stage: 'receipt' })).toBe(1);
    expect(await valueOf(metrics.canariesCommitted)).toBe(0);
    expect(await valueOf(metrics.flushes, { trigger: 'size', result: 'failed' })).toBe(1);
    expect(consumer.health()).toMatchObject({ held: 0, consecutiveFailedFlushes: 1 });
    expect(log.at('error')).toContain('Writing a canary receipt failed; the canary will reappear after its visibility timeout');
    // SQS delivers it again after its lease; the next batch receipts it (at its own commit time) and deletes it.
    clock.now = T0 + 30_000;
    await consumer.pollOnce();
    await consumer.flush();
    expect(receiptPuts().map((p) => p.Key)).toEqual([
      `_freshness/clicks/${canaryId(PUBLISHED)}/${T0}.json`,
      `_freshness/clicks/${canaryId(PUBLISHED)}/${T0 + 30_000}.json`,
    ]);
    expect(deletedHandles()).toEqual(['rh-1', 'rh-2b']);
    expect(await valueOf(metrics.canariesCommitted)).toBe(1);
  });

  test('a batch whose object was not written commits none of its canaries: no receipt, no delete', async () => {
    receives([sqsMessage(1), canaryMessage(2)]);
    s3Mock.on(PutObjectCommand).rejects(new Error('InternalError'));
    const { consumer, metrics } = setup(CANARY);
    await consumer.pollOnce();
    await consumer.flush();
    expect(receiptPuts()).toEqual([]);
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    expect(await valueOf(metrics.failed, { stage: 'write' })).toBe(2);
    expect(consumer.health().held).toBe(0);
  });

  test('without SOURCE_NAME and ID_FIELD a canary-shaped event is ordinary data', async () => {
    receives([canaryMessage(1)]);
    const { consumer } = setup();
    await consumer.pollOnce();
    await consumer.flush();
    expect(receiptPuts()).toEqual([]);
    expect(linesOf(dataPuts()[0]).map((l) => JSON.parse(l).event_id)).toEqual([canaryId(PUBLISHED)]);
  });
});
