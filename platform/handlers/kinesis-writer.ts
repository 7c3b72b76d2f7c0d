import { KinesisClient, PutRecordsCommand, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { fullJitterDelay, PublishError, RetryPolicy, sleep as realSleep } from './backoff';
import { MAX_RECORD_BYTES, OutboundEvent, Publisher, withTimeout } from './publisher';

/** PutRecords limits (Kinesis Data Streams API reference). */
export const KINESIS_LIMITS = {
  recordsPerCall: 500,
  /** Per call, partition keys included. */
  bytesPerCall: 5 * 1024 * 1024,
  /** Per record, partition key included. */
  bytesPerRecord: MAX_RECORD_BYTES,
  /** Partition keys are 1 to 256 Unicode characters. */
  partitionKeyChars: 256,
} as const;

/**
 * Errors of a whole PutRecords call that another attempt cannot fix: fail at once instead of backing off for
 * seconds. Anything else (throttling, LimitExceeded, InternalFailure, network, time-outs) is retried.
 */
const PERMANENT_ERRORS = new Set([
  'AccessDeniedException',
  'InvalidArgumentException',
  'ResourceNotFoundException',
  'ValidationException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
]);

export const KINESIS_WRITER_DEFAULTS = {
  /** Calls in flight at once: at ~25 ms per call, 8 calls of 500 records move up to 160,000 events/s, more than the SDK's own CPU cost per call allows. */
  concurrency: 8,
  /** A 5 MiB call takes well under a second; a call still open after this is hung. */
  callTimeoutMs: 10_000,
  /** Bytes buffered or in flight before `add` makes the caller wait: bounds memory whatever the record sizes. */
  maxPendingBytes: 48 * 1024 * 1024,
};

/**
 * The Kinesis client the validator uses (the benchmark too). HTTP/1.1 keep-alive is all PutRecords needs (HTTP/2
 * matters only for SubscribeToShard), and it also works against kinesalite. A connection that cannot be opened, or a
 * socket idle for `timeoutMs`, fails the call (the writer also bounds each call). The writer owns retries (only
 * failed entries, full jitter), so the SDK makes one attempt. The SDK's logger middleware is removed: it filters
 * every request for logging, a third of the client's CPU time on a 500-record call, and the function never logs
 * through the SDK.
 */
export function createKinesisClient({ timeoutMs, ...config }: { timeoutMs: number } & ConstructorParameters<typeof KinesisClient>[0]): KinesisClient {
  const client = new KinesisClient({
    requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: timeoutMs }),
    maxAttempts: 1,
    ...config,
  });
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

export interface KinesisWriterOptions {
  client: Pick<KinesisClient, 'send'>;
  streamArn: string;
  retry: RetryPolicy;
  concurrency?: number;
  callTimeoutMs?: number;
  maxPendingBytes?: number;
}

/** Records of one set of partition keys: one call in flight at a time, so those keys keep their order. */
interface Lane {
  batch: PutRecordsRequestEntry[];
  batchBytes: number;
  /** `added` when the batch got its first record. */
  since: number;
  sending?: Promise<void>;
}

/**
 * Publishes events with PutRecords, in calls that respect the service limits, several calls in flight at once.
 *
 * Ordering: events are spread over `concurrency` lanes by a hash of their partition key, and a lane sends one call at
 * a time, so the events of one partition key reach the stream in file order. The exception is a partial failure: a
 * failed entry is sent again after its lane's later entries of the same call, so it lands after them (as with any
 * PutRecords retry). Across partition keys there is no order, as on Kinesis itself.
 *
 * When a call partly fails, only the failed entries are sent again, after a full-jitter backoff; a call that does
 * not answer within `callTimeoutMs` is abandoned and retried; when attempts run out it throws a `PublishError`.
 */
export class KinesisWriter implements Publisher {
  private readonly lanes: Lane[];
  private readonly streamName: string;
  private readonly callTimeoutMs: number;
  private readonly maxPendingBytes: number;
  private pendingBytes = 0;
  private added = 0;
  private publishedCount = 0;
  private retriedCount = 0;
  private failure?: unknown;

  constructor(private readonly options: KinesisWriterOptions) {
    // Sent alongside StreamARN: the API accepts both, and emulators such as kinesalite only know StreamName.
    this.streamName = streamNameFromArn(options.streamArn);
    const concurrency = options.concurrency ?? KINESIS_WRITER_DEFAULTS.concurrency;
    this.lanes = Array.from({ length: concurrency }, () => ({ batch: [], batchBytes: 0, since: 0 }));
    this.callTimeoutMs = options.callTimeoutMs ?? KINESIS_WRITER_DEFAULTS.callTimeoutMs;
    this.maxPendingBytes = options.maxPendingBytes ?? KINESIS_WRITER_DEFAULTS.maxPendingBytes;
  }

  get published(): number {
    return this.publishedCount;
  }

  get retried(): number {
    return this.retriedCount;
  }

  checkPartitionKey(key: string): string | undefined {
    if (key.length === 0) return 'partition key is empty';
    // `length` counts UTF-16 units, never fewer than characters: only long keys need the exact count.
    if (key.length > KINESIS_LIMITS.partitionKeyChars && [...key].length > KINESIS_LIMITS.partitionKeyChars) {
      return `partition key is longer than ${KINESIS_LIMITS.partitionKeyChars} characters`;
    }
    return undefined;
  }

  checkSize(event: OutboundEvent): string | undefined {
    const size = recordSize(event);
    return size > KINESIS_LIMITS.bytesPerRecord
      ? `record is ${size} bytes with its partition key, over the ${KINESIS_LIMITS.bytesPerRecord}-byte Kinesis limit`
      : undefined;
  }

  add(event: OutboundEvent): Promise<void> | undefined {
    this.throwIfFailed();
    const size = recordSize(event);
    if (size > KINESIS_LIMITS.bytesPerRecord) {
      // The handler rejects such events before they get here; this guards the writer's own contract.
      throw new RangeError(`record ${event.id} is ${size} bytes, over the ${KINESIS_LIMITS.bytesPerRecord}-byte limit`);
    }
    const lane = this.lanes[this.lanes.length === 1 ? 0 : laneOf(event.partitionKey, this.lanes.length)];
    const full = lane.batch.length === KINESIS_LIMITS.recordsPerCall || lane.batchBytes + size > KINESIS_LIMITS.bytesPerCall;
    let wait: Promise<void> | undefined;
    if (full) wait = lane.sending ? this.sendAfter(lane) : (this.send(lane), undefined);
    if (lane.batch.length === 0) lane.since = this.added;
    lane.batch.push({ Data: event.data, PartitionKey: event.partitionKey });
    lane.batchBytes += size;
    this.pendingBytes += size;
    if (++this.added % KINESIS_LIMITS.recordsPerCall === 0 && !wait) this.sendStale();
    if (!wait && this.pendingBytes > this.maxPendingBytes) wait = this.oneCallDone();
    return wait;
  }

  /**
   * Sends the batch of an idle lane once it has waited for two batches' worth of records: a record's bytes are a
   * slice of the chunk it was read from, so batches that wait long (rare partition keys, or every lane when the
   * broker answers fast) would keep many chunks in memory. When calls are slow, lanes are busy and batches fill up
   * while they wait, so calls stay large exactly when their number matters.
   */
  private sendStale(): void {
    const oldest = this.added - 2 * KINESIS_LIMITS.recordsPerCall;
    for (const lane of this.lanes) {
      if (!lane.sending && lane.batch.length > 0 && lane.since < oldest) this.send(lane);
    }
  }

  async flush(): Promise<void> {
    for (;;) {
      this.throwIfFailed();
      for (const lane of this.lanes) if (!lane.sending && lane.batch.length > 0) this.send(lane);
      const inFlight = this.lanes.map((l) => l.sending).filter((p): p is Promise<void> => p !== undefined);
      if (inFlight.length === 0) return;
      await Promise.all(inFlight);
    }
  }

  /** The lane's full batch must wait for its call in flight (one call per lane keeps per-key order). */
  private async sendAfter(lane: Lane): Promise<void> {
    const batch = lane.batch;
    const bytes = lane.batchBytes;
    lane.batch = [];
    lane.batchBytes = 0;
    await lane.sending;
    this.throwIfFailed();
    this.start(lane, batch, bytes);
  }

  private send(lane: Lane): void {
    const batch = lane.batch;
    const bytes = lane.batchBytes;
    lane.batch = [];
    lane.batchBytes = 0;
    this.start(lane, batch, bytes);
  }

  private start(lane: Lane, batch: PutRecordsRequestEntry[], bytes: number): void {
    const sending = this.putWithRetries(batch)
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.pendingBytes -= bytes;
        if (lane.sending === sending) lane.sending = undefined;
      });
    lane.sending = sending;
  }

  private async oneCallDone(): Promise<void> {
    const inFlight = this.lanes.map((l) => l.sending).filter((p): p is Promise<void> => p !== undefined);
    if (inFlight.length === 0) {
      // Everything pending is still in batches: send the largest one.
      const lane = this.lanes.reduce((a, b) => (b.batchBytes > a.batchBytes ? b : a));
      this.send(lane);
      await lane.sending;
    } else {
      await Promise.race(inFlight);
    }
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private async putWithRetries(entries: PutRecordsRequestEntry[]): Promise<void> {
    const { retry, client, streamArn } = this.options;
    let pending = entries;
    let lastError = '';
    for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
      if (attempt > 1) {
        this.retriedCount += pending.length;
        await (retry.sleep ?? realSleep)(fullJitterDelay(attempt - 1, retry));
      }
      if (this.failure) return; // another lane gave up: the object fails anyway, stop sending
      try {
        const command = new PutRecordsCommand({ StreamARN: streamArn, StreamName: this.streamName, Records: pending });
        const response = await withTimeout(this.callTimeoutMs, 'PutRecords', (abortSignal) => client.send(command, { abortSignal }));
        const results = response.Records ?? [];
        if (!response.FailedRecordCount) {
          this.publishedCount += pending.length;
          return;
        }
        // Results are in request order; an entry without SequenceNumber failed.
        const failed = pending.filter((_, i) => !results[i]?.SequenceNumber);
        this.publishedCount += pending.length - failed.length;
        const codes = new Set(results.filter((r) => r.ErrorCode).map((r) => r.ErrorCode));
        lastError = `${failed.length} of ${pending.length} records failed (${[...codes].join(', ')})`;
        pending = failed;
      } catch (err) {
        const name = (err as Error).name;
        lastError = `${name}: ${(err as Error).message}`;
        if (PERMANENT_ERRORS.has(name)) {
          throw new PublishError(`PutRecords to ${streamArn} failed: ${lastError}`, pending.length, { cause: err });
        }
      }
    }
    throw new PublishError(
      `PutRecords to ${streamArn}: ${pending.length} records still unpublished after ${retry.maxAttempts} attempts; last error: ${lastError}`,
      pending.length,
    );
  }
}

/**
 * FNV-1a over the key's UTF-16 units, then murmur3's finalizer: FNV's low bits depend only on the characters' low
 * bits, so without it similar keys (`u-1`, `u-2`...) would spread unevenly over the lanes.
 */
function laneOf(key: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % lanes;
}

/** Size that counts against the Kinesis limits: data plus the partition key's UTF-8 bytes. */
export const recordSize = (event: Pick<OutboundEvent, 'data' | 'partitionKey'>): number =>
  event.data.length + Buffer.byteLength(event.partitionKey, 'utf8');

export function streamNameFromArn(arn: string): string {
  const match = /^arn:[\w-]+:kinesis:[\w-]+:\d{12}:stream\/([a-zA-Z0-9_.-]{1,128})$/.exec(arn);
  if (!match) throw new Error(`not a Kinesis stream ARN: ${arn}`);
  return match[1];
}
