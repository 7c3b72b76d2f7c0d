/** Retry pacing shared by the writers: exponential backoff with full jitter. */
export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** Upper bound of the delay before the first retry. */
  baseDelayMs: number;
  /** Upper bound of any delay. */
  maxDelayMs: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_RETRY_POLICY: Omit<RetryPolicy, 'maxAttempts'> = { baseDelayMs: 100, maxDelayMs: 5_000 };

/**
 * "Full jitter": a uniformly random delay between 0 and min(cap, base * 2^(retry-1)). Spreads out retries of many
 * concurrent producers best (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function fullJitterDelay(retry: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor((policy.random ?? Math.random)() * ceiling);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Thrown when events could not be published after every attempt; the invocation must fail so nothing is lost. */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly unpublished: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PublishError';
  }
}
