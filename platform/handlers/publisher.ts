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
 * Where valid events go. Writers batch internally: `add` returns a promise only when the caller must wait (a full
 * batch cannot be sent yet), so the common case costs no asynchronous step; `flush` returns only once every event
 * added so far is durably stored by the broker (or throws a `PublishError`).
 */
export interface Publisher {
  /** Why the broker would refuse this partition key, or `undefined` if it is acceptable. */
  checkPartitionKey(key: string): string | undefined;
  /** Why the broker would refuse this event for its size, or `undefined` if it fits. */
  checkSize(event: OutboundEvent): string | undefined;
  add(event: OutboundEvent): Promise<void> | undefined;
  flush(): Promise<void>;
  /** Events acknowledged by the broker so far. */
  readonly published: number;
  /** Events sent again after a failed attempt so far. */
  readonly retried: number;
}

/**
 * Longest record the readers keep in memory (and the Kinesis record limit, partition key included). A longer record
 * cannot be kept whole, so its object is quarantined.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** Runs one broker call with a deadline: a call that hangs is abandoned with a retriable `TimeoutError`. */
export async function withTimeout<T>(ms: number, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`${what} did not complete within ${ms} ms`);
      err.name = 'TimeoutError';
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    // The race also covers a client that ignores the abort signal.
    return await Promise.race([call(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
