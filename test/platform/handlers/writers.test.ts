import { KinesisClient, PutRecordsCommand, PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { Producer, ProducerRecord } from 'kafkajs';
import { fullJitterDelay, PublishError, RetryPolicy } from '../../../platform/handlers/backoff';
import { KafkaWriter, kafkaRecordSize } from '../../../platform/handlers/kafka-writer';
import { KinesisWriter, streamNameFromArn } from '../../../platform/handlers/kinesis-writer';
import { OutboundEvent } from '../../../platform/handlers/publisher';

const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/clicks';
const event = (i: number, size = 20, key = `k${i}`): OutboundEvent => ({
  id: `id-${i}`,
  partitionKey: key,
  data: Buffer.from(`{"i":${i}}`.padEnd(size, ' ')),
});

/** Records sleeps instead of waiting, so backoff is asserted exactly and tests stay fast. */
function fakeRetry(maxAttempts: number, random = 0.5): RetryPolicy & { slept: number[] } {
  const slept: number[] = [];
  return { maxAttempts, baseDelayMs: 100, maxDelayMs: 1000, random: () => random, sleep: async (ms) => void slept.push(ms), slept };
}

const sentKeys = (input: PutRecordsCommandInput) => input.Records?.map((r) => r.PartitionKey);

describe('fullJitterDelay', () => {
  it('is uniform between 0 and the capped exponential ceiling', () => {
    const policy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((retry) => fullJitterDelay(retry, { ...policy, random: () => 0.999 }))).toEqual([99, 199, 399, 799, 999]);
    expect(fullJitterDelay(3, { ...policy, random: () => 0 })).toBe(0);
  });
});

describe('KinesisWriter', () => {
  const kinesis = mockClient(KinesisClient);
  beforeEach(() => kinesis.reset());

  // One call at a time, so the calls below come in a known order (the concurrent lanes are tested at the end).
  const writer = (retry = fakeRetry(8)) =>
    new KinesisWriter({ client: kinesis as unknown as KinesisClient, streamArn: STREAM_ARN, retry, concurrency: 1 });

  it('sends StreamARN and StreamName, and counts what landed', async () => {
    kinesis.on(PutRecordsCommand).resolves({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1' }, { SequenceNumber: '2' }] });
    const w = writer();
    await w.add(event(1));
    await w.add(event(2));
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordsCommand, 0);
    await w.flush();
    expect(kinesis).toHaveReceivedCommandWith(PutRecordsCommand, {
      StreamARN: STREAM_ARN,
      StreamName: 'clicks',
      Records: [
        { PartitionKey: 'k1', Data: event(1).data },
        { PartitionKey: 'k2', Data: event(2).data },
      ],
    });
    expect([w.published, w.retried]).toEqual([2, 0]);
  });

  it('resends only the failed entries, with full-jitter backoff, until all land', async () => {
    kinesis
      .on(PutRecordsCommand)
      .resolvesOnce({
        FailedRecordCount: 2,
        Records: [
          { SequenceNumber: '1' },
          { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' },
          { SequenceNumber: '3' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
        ],
      })
      .resolvesOnce({ FailedRecordCount: 1, Records: [{ ErrorCode: 'ProvisionedThroughputExceededException' }, { SequenceNumber: '4' }] })
      .resolvesOnce({ FailedRecordCount: 0, Records: [{ SequenceNumber: '2' }] });
    const retry = fakeRetry(8);
    const w = writer(retry);
    for (const i of [1, 2, 3, 4]) await w.add(event(i));
    await w.flush();

    const calls = kinesis.commandCalls(PutRecordsCommand).map((c) => sentKeys(c.args[0].input));
    expect(calls).toEqual([['k1', 'k2', 'k3', 'k4'], ['k2', 'k4'], ['k2']]);
    expect(retry.slept).toEqual([50, 100]); // random 0.5 × ceilings 100, 200
    expect([w.published, w.retried]).toEqual([4, 3]);
  });

  it('retries a throttled call as a whole', async () => {
    const throttled = Object.assign(new Error('Rate exceeded for shard'), { name: 'ProvisionedThroughputExceededException' });
    kinesis
      .on(PutRecordsCommand)
      .rejectsOnce(throttled)
      .resolvesOnce({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1' }, { SequenceNumber: '2' }] });
    const w = writer();
    await w.add(event(1));
    await w.add(event(2));
    await w.flush();
    expect(kinesis.commandCalls(PutRecordsCommand).map((c) => sentKeys(c.args[0].input))).toEqual([
      ['k1', 'k2'],
      ['k1', 'k2'],
    ]);
    expect([w.published, w.retried]).toEqual([2, 2]);
  });

  it('throws PublishError when attempts run out, naming what is unpublished', async () => {
    kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
      FailedRecordCount: 1,
      Records: input.Records!.map((r) =>
        r.PartitionKey === 'k2' ? { ErrorCode: 'ProvisionedThroughputExceededException' } : { SequenceNumber: '9' },
      ),
    }));
    const retry = fakeRetry(3);
    const w = writer(retry);
    await w.add(event(1));
    await w.add(event(2));
    const error = await w.flush().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).unpublished).toBe(1);
    expect((error as Error).message).toBe(
      `PutRecords to ${STREAM_ARN}: 1 records still unpublished after 3 attempts; last error: 1 of 1 records failed (ProvisionedThroughputExceededException)`,
    );
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordsCommand, 3);
    expect([w.published, w.retried]).toEqual([1, 2]);
  });

  it('fails at once on errors a retry cannot fix', async () => {
    kinesis.on(PutRecordsCommand).rejects(Object.assign(new Error('Stream clicks not found'), { name: 'ResourceNotFoundException' }));
    const w = writer();
    await w.add(event(1));
    await expect(w.flush()).rejects.toThrow(`PutRecords to ${STREAM_ARN} failed: ResourceNotFoundException: Stream clicks not found`);
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordsCommand, 1);
  });

  it('splits batches at 500 records', async () => {
    kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
      FailedRecordCount: 0,
      Records: input.Records!.map(() => ({ SequenceNumber: '1' })),
    }));
    const w = writer();
    for (let i = 0; i < 1201; i++) await w.add(event(i));
    await w.flush();
    expect(kinesis.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.Records!.length)).toEqual([500, 500, 201]);
    expect(w.published).toBe(1201);
  });

  it('splits batches at 5 MiB, partition keys included', async () => {
    kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
      FailedRecordCount: 0,
      Records: input.Records!.map(() => ({ SequenceNumber: '1' })),
    }));
    const w = writer();
    // 10 records of exactly 512 KiB (data + 4-byte key) fill 5 MiB; the 11th must go in a second call.
    const key = 'kkkk';
    for (let i = 0; i < 11; i++) await w.add({ id: `${i}`, partitionKey: key, data: Buffer.alloc(512 * 1024 - 4, 0x20) });
    // Same with one byte more per record: only 9 fit.
    for (let i = 0; i < 10; i++) await w.add({ id: `${i}`, partitionKey: key, data: Buffer.alloc(512 * 1024 - 3, 0x20) });
    await w.flush();
    const calls = kinesis.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.Records!);
    expect(calls.map((records) => records.length)).toEqual([10, 9, 2]);
    for (const records of calls) {
      const bytes = records.reduce((sum, r) => sum + r.Data!.length + Buffer.byteLength(r.PartitionKey!), 0);
      expect(bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    }
  });

  it('refuses a record over 1 MiB including its key, and checks partition keys', () => {
    const w = writer();
    expect(() => w.add({ id: 'x', partitionKey: 'ab', data: Buffer.alloc(1024 * 1024 - 1) })).toThrow(
      'record x is 1048577 bytes, over the 1048576-byte limit',
    );
    expect(w.checkPartitionKey('')).toBe('partition key is empty');
    expect(w.checkPartitionKey('🚀'.repeat(256))).toBeUndefined(); // 512 UTF-16 units, 256 characters
    expect(w.checkPartitionKey('a'.repeat(257))).toBe('partition key is longer than 256 characters');
  });

  it('keeps several calls in flight, each partition key in file order in one lane', async () => {
    let inFlight = 0;
    let most = 0;
    const calls: string[][] = [];
    const client = {
      send: async (command: PutRecordsCommand) => {
        inFlight++;
        most = Math.max(most, inFlight);
        calls.push(command.input.Records!.map((r) => Buffer.from(r.Data!).toString().trim()));
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { FailedRecordCount: 0, Records: command.input.Records!.map(() => ({ SequenceNumber: '1' })) };
      },
    };
    const w = new KinesisWriter({ client: client as unknown as KinesisClient, streamArn: STREAM_ARN, retry: fakeRetry(3), concurrency: 4 });
    for (let i = 0; i < 20_000; i++) {
      const waiting = w.add(event(i, 20, `user-${i % 37}`));
      if (waiting) await waiting;
    }
    await w.flush();
    expect(w.published).toBe(20_000);
    expect(most).toBe(4);
    // Per key, the order in which records were sent is the file order.
    const seen = new Map<string, number>();
    for (const call of calls) {
      for (const record of call) {
        const i = JSON.parse(record).i as number;
        const key = `user-${i % 37}`;
        expect(i).toBeGreaterThan(seen.get(key) ?? -1);
        seen.set(key, i);
      }
    }
    expect(calls.every((c) => c.length <= 500)).toBe(true);
  });

  it('sends the batch of an idle lane once it has waited two batches long (records pin their chunk in memory)', async () => {
    const sent: string[] = [];
    const client = {
      send: async (command: PutRecordsCommand) => {
        sent.push(...command.input.Records!.map((r) => r.PartitionKey!));
        return { FailedRecordCount: 0, Records: command.input.Records!.map(() => ({ SequenceNumber: '1' })) };
      },
    };
    const w = new KinesisWriter({ client: client as unknown as KinesisClient, streamArn: STREAM_ARN, retry: fakeRetry(3), concurrency: 8 });
    await w.add(event(0, 20, 'rare'));
    for (let i = 1; i <= 1500; i++) {
      const waiting = w.add(event(i, 20, 'hot'));
      if (waiting) await waiting;
      await Promise.resolve();
    }
    expect(sent).toContain('rare'); // before any flush
    await w.flush();
    expect(sent).toHaveLength(1501);
  });

  it('makes the caller wait when the bytes buffered or in flight reach the bound', async () => {
    const pending: Array<() => void> = [];
    const client = {
      send: (command: PutRecordsCommand) =>
        new Promise((resolve) =>
          pending.push(() => resolve({ FailedRecordCount: 0, Records: command.input.Records!.map(() => ({ SequenceNumber: '1' })) })),
        ),
    };
    const w = new KinesisWriter({ client: client as unknown as KinesisClient, streamArn: STREAM_ARN, retry: fakeRetry(3), concurrency: 4, maxPendingBytes: 50_000 });
    let added = 0;
    let waited: Promise<void> | undefined;
    while (!waited) {
      waited = w.add(event(added++, 1000, `k${added % 13}`));
    }
    expect(added).toBeLessThanOrEqual(52); // stopped at the bound, not at a full 500-record batch
    let released = false;
    void waited.then(() => (released = true));
    await new Promise((r) => setImmediate(r));
    expect(released).toBe(false);
    pending.shift()!(); // one call completes: the caller may go on
    await waited;
    while (pending.length > 0 || !released) {
      pending.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    const flushing = w.flush();
    for (let i = 0; i < 20 && pending.length >= 0; i++) {
      pending.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await flushing;
    expect(w.published).toBe(added);
  });

  it('abandons a call that hangs, retries it, and fails loudly when attempts run out', async () => {
    const client = { send: jest.fn(() => new Promise<never>(() => undefined)) };
    const retry = fakeRetry(3);
    const w = new KinesisWriter({ client: client as unknown as KinesisClient, streamArn: STREAM_ARN, retry, callTimeoutMs: 20 });
    await w.add(event(1));
    await expect(w.flush()).rejects.toThrow(/1 records still unpublished after 3 attempts; last error: TimeoutError: PutRecords did not complete within 20 ms/);
    expect(client.send).toHaveBeenCalledTimes(3);
    // Each attempt got an abort signal that fired.
    expect((client.send.mock.calls as unknown as Array<[unknown, { abortSignal: AbortSignal }]>).every(([, o]) => o.abortSignal.aborted)).toBe(true);
  });

  it('parses stream names from ARNs', () => {
    expect(streamNameFromArn('arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b_c-d')).toBe('a.b_c-d');
    expect(() => streamNameFromArn('clicks')).toThrow('not a Kinesis stream ARN: clicks');
  });
});

describe('KafkaWriter', () => {
  const producer = (outcomes: Array<Error | undefined>) => {
    const sends: ProducerRecord[] = [];
    const fake = {
      send: jest.fn(async (record: ProducerRecord) => {
        sends.push(record);
        const outcome = outcomes.shift();
        if (outcome) throw outcome;
        return [];
      }),
    };
    return { fake: fake as unknown as Pick<Producer, 'send'>, sends };
  };

  it('sends keyed messages with the event id header, waiting for all in-sync replicas', async () => {
    const { fake, sends } = producer([]);
    const w = new KafkaWriter({ producer: fake, topic: 'clicks', retry: fakeRetry(3) });
    await w.add(event(1));
    await w.add(event(2));
    await w.flush();
    expect(sends).toEqual([
      {
        topic: 'clicks',
        acks: -1,
        messages: [
          { key: 'k1', value: event(1).data, headers: { 'event-id': 'id-1' } },
          { key: 'k2', value: event(2).data, headers: { 'event-id': 'id-2' } },
        ],
      },
    ]);
    expect([w.published, w.retried]).toEqual([2, 0]);
  });

  it('batches by message count and by record-batch bytes as the broker counts them', async () => {
    const { fake, sends } = producer([]);
    // length 1 + attributes 1 + timestamp delta ≤10 + offset delta ≤5 + key 1+1 + value 1+20 + headers 1+(1+8)+(1+4).
    expect(kafkaRecordSize(event(1, 20, 'k'))).toBe(55);
    const w = new KafkaWriter({ producer: fake, topic: 't', retry: fakeRetry(3), maxBatchMessages: 3, maxMessageBytes: 61 + 2 * 55 + 10 });
    for (let i = 0; i < 5; i++) await w.add(event(i, 20, 'k')); // two fit in a batch
    await w.flush();
    expect(sends.map((s) => s.messages.length)).toEqual([2, 2, 1]);
    expect(w.published).toBe(5);
  });

  it('refuses a record that cannot fit one record batch of message.max.bytes, naming the limit', () => {
    const w = new KafkaWriter({ producer: producer([]).fake, topic: 't', retry: fakeRetry(3) });
    const big = { id: 'id', partitionKey: 'k', data: Buffer.alloc(1024 * 1024, 0x61) };
    expect(w.checkSize(big)).toMatch(/^record is 10486\d\d bytes as a Kafka record batch .* over the broker's 1048588-byte message.max.bytes$/);
    expect(w.checkSize({ ...big, data: Buffer.alloc(1_048_588 - 61 - 40, 0x61) })).toBeUndefined();
    expect(() => w.add(big)).toThrow(RangeError);
  });

  it('abandons a produce request that hangs, retries it, then fails', async () => {
    const hung = { send: jest.fn(() => new Promise<never>(() => undefined)) };
    const w = new KafkaWriter({ producer: hung as unknown as Pick<Producer, 'send'>, topic: 't', retry: fakeRetry(2), callTimeoutMs: 20 });
    await w.add(event(1));
    await expect(w.flush()).rejects.toThrow(/Kafka produce did not complete within 20 ms/);
    expect(hung.send).toHaveBeenCalledTimes(2);
  });

  it('retries a failed send with backoff, then fails when attempts run out', async () => {
    const broken = Object.assign(new Error('Connection error: ECONNREFUSED'), { retriable: true });
    const { fake, sends } = producer([broken, undefined]);
    const retry = fakeRetry(3);
    const w = new KafkaWriter({ producer: fake, topic: 't', retry });
    await w.add(event(1));
    await w.flush();
    expect(sends).toHaveLength(2);
    expect(retry.slept).toEqual([50]);
    expect([w.published, w.retried]).toEqual([1, 1]);

    const failing = producer([broken, broken, broken]);
    const w2 = new KafkaWriter({ producer: failing.fake, topic: 't', retry: fakeRetry(3) });
    await w2.add(event(1));
    await expect(w2.flush()).rejects.toThrow('producing 1 messages to Kafka topic t failed: Connection error: ECONNREFUSED');
    expect(failing.sends).toHaveLength(3);
    expect([w2.published, w2.retried]).toEqual([0, 2]);
  });

  it('does not retry errors Kafka marks as not retriable', async () => {
    const denied = Object.assign(new Error('Not authorized to access topics: [t]'), { retriable: false });
    const { fake, sends } = producer([denied]);
    const w = new KafkaWriter({ producer: fake, topic: 't', retry: fakeRetry(5) });
    await w.add(event(1));
    await expect(w.flush()).rejects.toBeInstanceOf(PublishError);
    expect(sends).toHaveLength(1);
  });
});
