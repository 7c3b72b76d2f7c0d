/** A valid event ready to publish. */
export interface OutboundEvent {
  /** Value of the source's id field, for deduplication downstream. */
  id: string;
  /** Kinesis partition key / Kafka message key. */
  partitionKey: string;
  /** The event's JSON text, one line. */
  data: Buffer;
}

/**
 * Where valid events go. Writers batch internally: `add` returns a promise only when it sends a full batch (await
 * it before adding more), so the common case costs no asynchronous step; `flush` returns only once every event added
 * so far is durably stored by the broker (or throws a `PublishError`).
 */
export interface Publisher {
  /** Why the broker would refuse this partition key, or `undefined` if it is acceptable. */
  checkPartitionKey(key: string): string | undefined;
  add(event: OutboundEvent): Promise<void> | undefined;
  flush(): Promise<void>;
  /** Events acknowledged by the broker so far. */
  readonly published: number;
  /** Events sent again after a failed attempt so far. */
  readonly retried: number;
}

/** Largest event, partition key included: the Kinesis record limit, also applied to Kafka (MSK's default message.max.bytes). */
export const MAX_RECORD_BYTES = 1024 * 1024;
