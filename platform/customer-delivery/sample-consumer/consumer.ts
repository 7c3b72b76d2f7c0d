/**
 * A sample customer consumer of a Kinesis delivery stream, for the customer's own account: it reads through the
 * customer's enhanced fan-out consumer (dedicated 2 MB/s per shard, pushed over HTTP/2 with SubscribeToShard) and hands
 * each event to a callback, once. Documentation as much as code: README.md walks through it.
 *
 *   npx tsx platform/customer-delivery/sample-consumer/consumer.ts \
 *     --stream-arn arn:aws:kinesis:eu-west-1:111122223333:stream/NAME \
 *     --consumer-arn arn:aws:kinesis:eu-west-1:111122223333:stream/NAME/consumer/CUSTOMER:1700000000 \
 *     --id-field event_id [--checkpoint-file positions.json]
 *
 * (`GET /customers/<customer>` of the delivery API gives the ARNs and the id field of each source.)
 */
import * as fs from 'node:fs';
import { setTimeout as wait } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  ChildShard,
  KinesisClient,
  ListShardsCommand,
  Shard,
  StartingPosition,
  SubscribeToShardCommand,
  SubscribeToShardEventStream,
  _Record,
} from '@aws-sdk/client-kinesis';

/** One delivered event, with where it came from. */
export interface DeliveredEvent {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  arrivalTimestamp?: string;
  /** The event (parsed JSON), or `{ raw: "<base64>" }` for a record that is not JSON. */
  event: unknown;
}

/** Where each shard was left: the sequence number to continue after, or SHARD_END for a shard read to its end. */
export interface Checkpoints {
  get(shardId: string): string | undefined;
  set(shardId: string, position: string): void;
}
export const SHARD_END = 'SHARD_END';

export interface ConsumerOptions {
  kinesis: Pick<KinesisClient, 'send'>;
  streamArn: string;
  consumerArn: string;
  /** The event field that identifies an event (the catalog's `idField`): the deduplication key. */
  idField: string;
  onEvent: (event: DeliveredEvent) => void | Promise<void>;
  /** Default: in memory (a restart reads every shard from its oldest record again). */
  checkpoints?: Checkpoints;
  /** Event ids remembered for deduplication (default 100,000): duplicates further apart than this get through. */
  dedupWindow?: number;
  signal?: AbortSignal;
  /** Status lines (re-subscriptions, reshards, retries); default: stderr. */
  log?: (message: string) => void;
  /** Injectable for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Kinesis refuses a second SubscribeToShard of the same consumer and shard within 5 seconds of the previous one
 * (ResourceInUseException): wait at least that long. A little more, so that the retry is not refused again.
 */
export const RESOURCE_IN_USE_WAIT_MS = 5_500;
/** Other failures (network, throttling, InternalFailure): exponential backoff from 1 s up to 30 s. */
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** Errors another attempt cannot fix: the consumer stops and says why. */
const FATAL = new Set([
  'AccessDeniedException',
  'InvalidArgumentException',
  'ResourceNotFoundException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
]);

/** The last `size` ids seen, oldest forgotten first. */
export class DedupWindow {
  private readonly ids = new Set<string>();
  constructor(private readonly size: number) {}

  /** True when `id` was seen (within the window); otherwise remembers it. */
  seen(id: string): boolean {
    if (this.ids.has(id)) return true;
    this.ids.add(id);
    if (this.ids.size > this.size) this.ids.delete(this.ids.values().next().value!);
    return false;
  }
}

/** Thrown by `run` when the callback fails: the events from that one on were not processed. */
export class CallbackError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'CallbackError';
  }
}

export class DeliveryConsumer {
  private readonly checkpoints: Checkpoints;
  private readonly dedup: DedupWindow;
  private readonly stop = new AbortController();
  private readonly log: (message: string) => void;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Parents of each known shard, and the shards read to their end or started. */
  private readonly parents = new Map<string, string[]>();
  private readonly ended = new Set<string>();
  private readonly started = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private failure: unknown;

  constructor(private readonly options: ConsumerOptions) {
    if (!options.consumerArn.startsWith(`${options.streamArn}/consumer/`)) {
      throw new Error(`consumer ${options.consumerArn} is not a consumer of stream ${options.streamArn}`);
    }
    this.checkpoints = options.checkpoints ?? memoryCheckpoints();
    this.dedup = new DedupWindow(options.dedupWindow ?? 100_000);
    this.log = options.log ?? ((message) => process.stderr.write(`${message}\n`));
    this.sleep = options.sleep ?? ((ms, signal) => wait(ms, undefined, { signal }));
    options.signal?.addEventListener('abort', () => this.stop.abort(), { once: true });
  }

  /** Reads until `signal` aborts (resolves) or an error no retry can fix (rejects). */
  async run(): Promise<void> {
    // Every shard the stream still holds. A shard whose parent is also listed waits for that parent's end, so the
    // events of a partition key keep their order across a reshard.
    for (const shard of await this.listShards()) {
      const id = shard.ShardId!;
      this.parents.set(id, [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => !!p));
      if (this.checkpoints.get(id) === SHARD_END) this.ended.add(id);
    }
    for (const id of this.parents.keys()) this.startWhenReady(id);
    while (this.running.size > 0) await Promise.race(this.running);
    if (this.failure) throw this.failure;
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.options.kinesis.send(new ListShardsCommand(NextToken ? { NextToken } : { StreamARN: this.options.streamArn }));
      shards.push(...(page.Shards ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return shards;
  }

  /** Starts reading `shardId` unless it is read already, ended, or waits for a parent that is not read to its end. */
  private startWhenReady(shardId: string): void {
    if (this.started.has(shardId) || this.ended.has(shardId) || this.stop.signal.aborted) return;
    // A parent we do not know is gone from the stream (older than its retention): nothing to wait for.
    const waiting = (this.parents.get(shardId) ?? []).filter((p) => this.parents.has(p) && !this.ended.has(p));
    if (waiting.length > 0) return;
    this.started.add(shardId);
    const reading: Promise<void> = this.readShard(shardId)
      .catch((err: unknown) => {
        this.failure ??= err;
        this.stop.abort();
      })
      .finally(() => this.running.delete(reading));
    this.running.add(reading);
  }

  /**
   * One shard, subscription after subscription: each lasts up to 5 minutes, and the next starts after the last
   * position the previous one reported (ContinuationSequenceNumber, which moves on even when no records come).
   */
  private async readShard(shardId: string): Promise<void> {
    const { kinesis, consumerArn } = this.options;
    const signal = this.stop.signal;
    let position = this.checkpoints.get(shardId);
    let failures = 0;
    while (!signal.aborted) {
      const StartingPosition: StartingPosition = position ? { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: position } : { Type: 'TRIM_HORIZON' };
      try {
        const { EventStream } = await kinesis.send(new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: shardId, StartingPosition }), {
          abortSignal: signal,
        });
        for await (const item of EventStream ?? []) {
          const event = item.SubscribeToShardEvent ?? throwStreamError(item);
          for (const record of event.Records ?? []) await this.deliver(shardId, record);
          failures = 0;
          if (!event.ContinuationSequenceNumber) {
            // The end of a closed shard (a reshard): its children take over once all their parents are read.
            this.checkpoints.set(shardId, SHARD_END);
            this.ended.add(shardId);
            this.shardEnded(shardId, event.ChildShards ?? []);
            return;
          }
          position = event.ContinuationSequenceNumber;
          this.checkpoints.set(shardId, position);
          if (signal.aborted) return;
        }
        // The subscription ended (its 5 minutes are up): subscribe again from `position`.
      } catch (err) {
        if (signal.aborted) return;
        const name = (err as Error).name;
        if (err instanceof CallbackError || FATAL.has(name)) throw err;
        if (name === 'ResourceInUseException') {
          // The previous subscription of this shard is still open, or began less than 5 s ago.
          this.log(`${shardId}: subscription in use, subscribing again in ${RESOURCE_IN_USE_WAIT_MS / 1000} s`);
          await this.pause(RESOURCE_IN_USE_WAIT_MS);
        } else {
          failures += 1;
          const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failures - 1));
          this.log(`${shardId}: ${name}: ${(err as Error).message}; subscribing again in ${delay / 1000} s`);
          await this.pause(delay);
        }
      }
    }
  }

  private shardEnded(shardId: string, children: ChildShard[]): void {
    this.log(`${shardId}: read to its end; child shards ${children.map((c) => c.ShardId).join(', ') || 'none'}`);
    for (const child of children) {
      if (!this.parents.has(child.ShardId!)) this.parents.set(child.ShardId!, child.ParentShards ?? [shardId]);
      // A child of a merge starts when the second parent ends.
      this.startWhenReady(child.ShardId!);
    }
  }

  private async deliver(shardId: string, record: _Record): Promise<void> {
    const event = decode(record.Data);
    const id = idOf(event, this.options.idField);
    if (id !== undefined && this.dedup.seen(id)) return;
    try {
      await this.options.onEvent({
        shardId,
        sequenceNumber: record.SequenceNumber!,
        partitionKey: record.PartitionKey!,
        arrivalTimestamp: record.ApproximateArrivalTimestamp?.toISOString(),
        event,
      });
    } catch (err) {
      throw new CallbackError(`the event callback failed on ${shardId} at ${record.SequenceNumber}`, { cause: err });
    }
  }

  private async pause(ms: number): Promise<void> {
    try {
      await this.sleep(ms, this.stop.signal);
    } catch (err) {
      if (!this.stop.signal.aborted) throw err;
    }
  }
}

/** An error event inside the subscription's stream (KMS, InternalFailure, ResourceInUse...), thrown as such. */
function throwStreamError(item: SubscribeToShardEventStream): never {
  const [name, detail] = Object.entries(item).find(([, v]) => v !== undefined) ?? ['UnknownEvent', {}];
  const error = new Error((detail as { message?: string })?.message ?? name);
  error.name = name;
  throw error;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The record's data as JSON, or `{ raw: "<base64>" }` when it is not (nothing is dropped). */
export function decode(data: Uint8Array | undefined): unknown {
  const bytes = data ?? new Uint8Array();
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    return { raw: Buffer.from(bytes).toString('base64') };
  }
}

function idOf(event: unknown, idField: string): string | undefined {
  const id = event && typeof event === 'object' ? (event as Record<string, unknown>)[idField] : undefined;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

export function memoryCheckpoints(): Checkpoints {
  const positions = new Map<string, string>();
  return { get: (id) => positions.get(id), set: (id, position) => void positions.set(id, position) };
}

/** Checkpoints in a JSON file, rewritten (atomically: a temporary file renamed over it) after every batch. */
export function fileCheckpoints(file: string): Checkpoints {
  const positions: Record<string, string> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  return {
    get: (id) => positions[id],
    set: (id, position) => {
      positions[id] = position;
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(positions, null, 2));
      fs.renameSync(`${file}.tmp`, file);
    },
  };
}

/** The command line: events as JSON lines on stdout, status on stderr; Ctrl-C stops. */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'stream-arn': { type: 'string' },
      'consumer-arn': { type: 'string' },
      'id-field': { type: 'string' },
      'checkpoint-file': { type: 'string' },
      'dedup-window': { type: 'string' },
    },
    strict: true,
  });
  const streamArn = values['stream-arn'];
  const consumerArn = values['consumer-arn'];
  const idField = values['id-field'];
  if (!streamArn || !consumerArn || !idField) {
    throw new Error('usage: consumer.ts --stream-arn ARN --consumer-arn ARN --id-field FIELD [--checkpoint-file FILE] [--dedup-window N]');
  }
  const dedupWindow = values['dedup-window'] === undefined ? undefined : Number(values['dedup-window']);
  if (dedupWindow !== undefined && !(Number.isInteger(dedupWindow) && dedupWindow > 0)) throw new Error('--dedup-window: expected a positive whole number');
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  // The default request handler of the Kinesis client speaks HTTP/2, which SubscribeToShard needs.
  const kinesis = new KinesisClient({ region: streamArn.split(':')[3] });
  const consumer = new DeliveryConsumer({
    kinesis,
    streamArn,
    consumerArn,
    idField,
    checkpoints: values['checkpoint-file'] ? fileCheckpoints(values['checkpoint-file']) : undefined,
    dedupWindow,
    signal: stop.signal,
    onEvent: (event) => void process.stdout.write(`${JSON.stringify(event)}\n`),
  });
  try {
    await consumer.run();
  } finally {
    kinesis.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const cause = (err as Error).cause ? ` (${String((err as Error).cause)})` : '';
    process.stderr.write(`consumer.ts: ${(err as Error).message ?? err}${cause}\n`);
    process.exit(1);
  });
}
