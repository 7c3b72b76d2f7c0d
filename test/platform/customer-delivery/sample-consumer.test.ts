/**
 * The sample consumer's subscription logic against a mocked Kinesis client (strict: a command no test answers fails).
 * No local emulator serves SubscribeToShard to SDK v3 (kinesalite lacks it; kinesis-mock's npm build fails it with an
 * HTTP/2 protocol error), so each subscription's event stream is an async iterable of the events Kinesis sends.
 */
import {
  ChildShard,
  KinesisClient,
  ListShardsCommand,
  StartingPosition,
  SubscribeToShardCommand,
  SubscribeToShardEvent,
  SubscribeToShardEventStream,
  _Record,
} from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  CallbackError,
  Checkpoints,
  DedupWindow,
  DeliveredEvent,
  DeliveryConsumer,
  memoryCheckpoints,
  RESOURCE_IN_USE_WAIT_MS,
  SHARD_END,
} from '../../../platform/customer-delivery/sample-consumer/consumer';

const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:999988887777:stream/delivery-orders';
const CONSUMER_ARN = `${STREAM_ARN}/consumer/acme:1700000000`;
const S0 = 'shardId-000000000000';
const S1 = 'shardId-000000000001';
const S2 = 'shardId-000000000002';
const S3 = 'shardId-000000000003';

const kinesis = mockClient(KinesisClient);
beforeEach(() => {
  kinesis.reset();
  kinesis.onAnyCommand().rejects(new Error('unexpected Kinesis command'));
});

let seq = 0;
function record(id: string | undefined, data: Uint8Array = Buffer.from(JSON.stringify({ event_id: id, n: seq }))): _Record {
  seq += 1;
  return { SequenceNumber: String(1000 + seq), PartitionKey: `k-${id}`, Data: data, ApproximateArrivalTimestamp: new Date(1_700_000_000_000 + seq) };
}
const event = (Records: _Record[], ContinuationSequenceNumber: string | undefined, ChildShards?: ChildShard[]): SubscribeToShardEventStream => ({
  SubscribeToShardEvent: { Records, ContinuationSequenceNumber, MillisBehindLatest: 0, ...(ChildShards ? { ChildShards } : {}) } as SubscribeToShardEvent,
});
const child = (ShardId: string, ParentShards: string[]): ChildShard => ({ ShardId, ParentShards, HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' } });
async function* eventStream(...items: SubscribeToShardEventStream[]): AsyncIterable<SubscribeToShardEventStream> {
  for (const item of items) yield item;
}
/** The subscription of `shardId` from `position` (TRIM_HORIZON or after a sequence number) answers `items`. */
function subscription(shardId: string, position: string | undefined, ...items: SubscribeToShardEventStream[]) {
  const StartingPosition = position ? { Type: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: position } : { Type: 'TRIM_HORIZON' as const };
  return kinesis.on(SubscribeToShardCommand, { ConsumerARN: CONSUMER_ARN, ShardId: shardId, StartingPosition }).resolvesOnce({ EventStream: eventStream(...items) });
}
const listShards = (...shards: Array<{ id: string; parent?: string; adjacent?: string }>) =>
  kinesis.on(ListShardsCommand, { StreamARN: STREAM_ARN }).resolves({
    Shards: shards.map((s) => ({
      ShardId: s.id,
      ParentShardId: s.parent,
      AdjacentParentShardId: s.adjacent,
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' },
      SequenceNumberRange: { StartingSequenceNumber: '0' },
    })),
  });
const subscribedTo = () => kinesis.commandCalls(SubscribeToShardCommand).map((c) => [c.args[0].input.ShardId, c.args[0].input.StartingPosition]);

function consumer(options: { checkpoints?: Checkpoints; onEvent?: (e: DeliveredEvent) => void; signal?: AbortSignal; dedupWindow?: number } = {}) {
  const delivered: DeliveredEvent[] = [];
  const waits: number[] = [];
  const checkpoints = options.checkpoints ?? memoryCheckpoints();
  const c = new DeliveryConsumer({
    kinesis: new KinesisClient({ region: 'eu-west-1' }),
    streamArn: STREAM_ARN,
    consumerArn: CONSUMER_ARN,
    idField: 'event_id',
    checkpoints,
    dedupWindow: options.dedupWindow,
    signal: options.signal,
    log: () => undefined,
    onEvent: (e) => {
      delivered.push(e);
      options.onEvent?.(e);
    },
    // No real waiting; a runaway retry loop fails the test instead of spinning.
    sleep: async (ms) => {
      waits.push(ms);
      if (waits.length > 10) throw new Error('retried more than 10 times');
    },
  });
  return { c, delivered, waits, checkpoints, ids: () => delivered.map((d) => (d.event as { event_id?: string }).event_id ?? d.event) };
}

describe('DeliveryConsumer', () => {
  it('re-subscribes after a subscription ends, from its ContinuationSequenceNumber, and delivers each event id once', async () => {
    listShards({ id: S0 });
    const stop = new AbortController();
    const raw = record(undefined, new Uint8Array([0xff, 0x00]));
    const e2 = record('e2');
    // First subscription (5 minutes): two batches; e2 comes twice (at-least-once delivery upstream).
    subscription(S0, undefined, event([record('e1'), e2], '1500'), event([record('e2'), raw, record('e3')], '1600'));
    // Second: from where the first left off, even though the last record's sequence number is lower.
    subscription(S0, '1600', event([record('e3'), record('e4')], '1700'));
    const { c, delivered, ids, checkpoints } = consumer({ signal: stop.signal, onEvent: (e) => (e.event as { event_id?: string }).event_id === 'e4' && stop.abort() });
    await c.run();
    expect(ids()).toEqual(['e1', 'e2', { raw: Buffer.from([0xff, 0x00]).toString('base64') }, 'e3', 'e4']);
    expect(delivered[1]).toMatchObject({ shardId: S0, sequenceNumber: e2.SequenceNumber, partitionKey: 'k-e2', arrivalTimestamp: e2.ApproximateArrivalTimestamp!.toISOString() });
    expect(subscribedTo()).toEqual([
      [S0, { Type: 'TRIM_HORIZON' }],
      [S0, { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '1600' }],
    ]);
    expect(checkpoints.get(S0)).toBe('1700');
  });

  it('starts after the checkpointed position of a shard, and skips shards read to their end', async () => {
    listShards({ id: S0 }, { id: S1, parent: S0 }, { id: S2, parent: S0 });
    const checkpoints = memoryCheckpoints();
    checkpoints.set(S0, SHARD_END);
    checkpoints.set(S1, '4242');
    subscription(S1, '4242', event([record('a')], undefined, []));
    subscription(S2, undefined, event([record('b')], undefined, []));
    const { c, ids } = consumer({ checkpoints });
    await c.run();
    expect(ids().sort()).toEqual(['a', 'b']);
    expect(subscribedTo()).toEqual([
      [S1, { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '4242' }],
      [S2, { Type: 'TRIM_HORIZON' }],
    ]);
  });

  it('follows child shards after a reshard: children after their parent\'s end, a merged child once after both parents', async () => {
    // S0 splits into S1 and S2, which later merge into S3. ListShards (at start) knows only S0, S1 and S2.
    listShards({ id: S0 }, { id: S1, parent: S0 }, { id: S2, parent: S0 });
    subscription(S0, undefined, event([record('p1'), record('p2')], '2000'), event([], undefined, [child(S1, [S0]), child(S2, [S0])]));
    subscription(S1, undefined, event([record('c1')], '3000'), event([], undefined, [child(S3, [S1, S2])]));
    subscription(S2, undefined, event([record('c2')], '3100'), event([record('c3')], undefined, [child(S3, [S1, S2])]));
    subscription(S3, undefined, event([record('m1')], undefined, []));
    const { c, ids, checkpoints } = consumer();
    await c.run(); // resolves: every shard was read to its end
    const order = ids();
    expect(order.slice(0, 2)).toEqual(['p1', 'p2']);
    expect(order.at(-1)).toBe('m1');
    expect(order.slice(2, 5).sort()).toEqual(['c1', 'c2', 'c3']);
    expect(subscribedTo().map(([shardId]) => shardId)).toEqual([S0, S1, S2, S3]);
    for (const shardId of [S0, S1, S2, S3]) expect(checkpoints.get(shardId)).toBe(SHARD_END);
  });

  it(`waits ${RESOURCE_IN_USE_WAIT_MS} ms (at least 5 s) after ResourceInUseException, thrown or in the event stream; backs off on other failures`, async () => {
    listShards({ id: S0 });
    const inUse = Object.assign(new Error('Another active subscription exists for this consumer'), { name: 'ResourceInUseException' });
    const internal = Object.assign(new Error('Internal failure'), { name: 'InternalFailureException' });
    const from = (StartingPosition: StartingPosition) => kinesis.on(SubscribeToShardCommand, { ConsumerARN: CONSUMER_ARN, ShardId: S0, StartingPosition });
    // Refused at once; then a subscription that reports ResourceInUse in its stream after one batch.
    from({ Type: 'TRIM_HORIZON' })
      .rejectsOnce(inUse)
      .resolvesOnce({ EventStream: eventStream(event([record('x1')], '500'), { ResourceInUseException: { name: 'ResourceInUseException', message: 'in use' } } as SubscribeToShardEventStream) });
    from({ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '500' })
      .rejectsOnce(internal)
      .resolvesOnce({ EventStream: eventStream(event([record('x2')], undefined, [])) });
    const { c, ids, waits } = consumer();
    await c.run();
    expect(RESOURCE_IN_USE_WAIT_MS).toBeGreaterThanOrEqual(5_000);
    expect(waits).toEqual([RESOURCE_IN_USE_WAIT_MS, RESOURCE_IN_USE_WAIT_MS, 1_000]);
    expect(ids()).toEqual(['x1', 'x2']);
    expect(subscribedTo()).toHaveLength(4);
  });

  it('stops with the error when a retry cannot help: the consumer is gone', async () => {
    listShards({ id: S0 });
    kinesis.on(SubscribeToShardCommand).rejectsOnce(Object.assign(new Error('Consumer not found'), { name: 'ResourceNotFoundException' }));
    const { c, waits } = consumer();
    await expect(c.run()).rejects.toThrow('Consumer not found');
    expect(waits).toEqual([]);
  });

  it('stops with the error when the callback fails, without checkpointing that batch', async () => {
    listShards({ id: S0 });
    subscription(S0, undefined, event([record('ok'), record('bad')], '900'));
    const { c, checkpoints } = consumer({
      onEvent: (e) => {
        if ((e.event as { event_id: string }).event_id === 'bad') throw new Error('downstream is down');
      },
    });
    const failure = c.run();
    await expect(failure).rejects.toBeInstanceOf(CallbackError);
    await expect(failure).rejects.toMatchObject({ cause: new Error('downstream is down') });
    expect(checkpoints.get(S0)).toBeUndefined(); // the batch is not checkpointed: a restart delivers it again
  });

  it('refuses a consumer ARN of another stream', () => {
    expect(() => new DeliveryConsumer({ kinesis: new KinesisClient({}), streamArn: STREAM_ARN, consumerArn: `${STREAM_ARN}-other/consumer/acme:1`, idField: 'id', onEvent: () => undefined })).toThrow(
      'is not a consumer of stream',
    );
  });
});

describe('DedupWindow', () => {
  it('remembers the last N ids only', () => {
    const window = new DedupWindow(2);
    expect(['a', 'b', 'a', 'c', 'b', 'a'].map((id) => window.seen(id))).toEqual([false, false, true, false, true, false]);
  });
});
