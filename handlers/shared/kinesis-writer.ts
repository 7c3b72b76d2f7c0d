import { KinesisClient, PutRecordsCommand, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { fullJitterDelay, PublishError, RetryPolicy, sleep as realSleep } from './backoff';
import { MAX_RECORD_BYTES, OutboundEvent, Publisher } from './publisher';

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
 * seconds. Anything else (throttling, LimitExceeded, InternalFailure, network) is retried.
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

export interface KinesisWriterOptions {
  client: Pick<KinesisClient, 'send'>;
  streamArn: string;
  retry: RetryPolicy;
}

/**
 * Publishes events with PutRecords, in calls that respect the service limits. When a call partly fails, only the
 * failed entries are sent again, after a full-jitter backoff; when attempts run out it throws a `PublishError`.
 * Calls are sent one at a time, so records keep their file order per shard except where a retry reorders them.
 */
export class KinesisWriter implements Publisher {
  private batch: PutRecordsRequestEntry[] = [];
  private batchBytes = 0;
  private publishedCount = 0;
  private retriedCount = 0;
  private readonly streamName: string;

  constructor(private readonly options: KinesisWriterOptions) {
    // Sent alongside StreamARN: the API accepts both, and emulators such as kinesalite only know StreamName.
    this.streamName = streamNameFromArn(options.streamArn);
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

  add(event: OutboundEvent): Promise<void> | undefined {
    const size = recordSize(event);
    if (size > KINESIS_LIMITS.bytesPerRecord) {
      // The handler rejects such events before they get here; this guards the writer's own contract.
      throw new RangeError(`record ${event.id} is ${size} bytes, over the ${KINESIS_LIMITS.bytesPerRecord}-byte limit`);
    }
    // flush() takes the full batch at once, so this event can start the next batch while that one is sent.
    const full = this.batch.length === KINESIS_LIMITS.recordsPerCall || this.batchBytes + size > KINESIS_LIMITS.bytesPerCall;
    const sending = full ? this.flush() : undefined;
    this.batch.push({ Data: event.data, PartitionKey: event.partitionKey });
    this.batchBytes += size;
    return sending;
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    await this.putWithRetries(batch);
  }

  private async putWithRetries(entries: PutRecordsRequestEntry[]): Promise<void> {
    const { retry } = this.options;
    let pending = entries;
    let lastError = '';
    for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
      if (attempt > 1) {
        this.retriedCount += pending.length;
        await (retry.sleep ?? realSleep)(fullJitterDelay(attempt - 1, retry));
      }
      try {
        const response = await this.options.client.send(
          new PutRecordsCommand({ StreamARN: this.options.streamArn, StreamName: this.streamName, Records: pending }),
        );
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
          throw new PublishError(`PutRecords to ${this.options.streamArn} failed: ${lastError}`, pending.length, { cause: err });
        }
      }
    }
    throw new PublishError(
      `PutRecords to ${this.options.streamArn}: ${pending.length} records still unpublished after ${retry.maxAttempts} attempts; last error: ${lastError}`,
      pending.length,
    );
  }
}

/** Size that counts against the Kinesis limits: data plus the partition key's UTF-8 bytes. */
export const recordSize = (event: Pick<OutboundEvent, 'data' | 'partitionKey'>): number =>
  event.data.length + Buffer.byteLength(event.partitionKey, 'utf8');

export function streamNameFromArn(arn: string): string {
  const match = /^arn:[\w-]+:kinesis:[\w-]+:\d{12}:stream\/([a-zA-Z0-9_.-]{1,128})$/.exec(arn);
  if (!match) throw new Error(`not a Kinesis stream ARN: ${arn}`);
  return match[1];
}
