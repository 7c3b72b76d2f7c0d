import type { Message } from '@aws-sdk/client-sqs';
import type { Counter, Gauge } from 'prom-client';
import type { Log, LogFields } from '../../../../pipelines/queue-to-s3/consumer/consumer';

export const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/clicks';
/** 2026-11-20T09:30:00Z */
export const T0 = Date.UTC(2026, 10, 20, 9, 30, 0);

/** An SQS message as ReceiveMessage returns it; `sentAt` becomes the SentTimestamp attribute. */
export function sqsMessage(n: number, options: { body?: string; sentAt?: number; receiveCount?: number; handle?: string } = {}): Message {
  return {
    MessageId: `m-${n}`,
    ReceiptHandle: options.handle ?? `rh-${n}`,
    Body: options.body ?? JSON.stringify({ event_id: `e-${n}`, n }),
    Attributes: { SentTimestamp: String(options.sentAt ?? T0), ApproximateReceiveCount: String(options.receiveCount ?? 1) },
  };
}

export const messages = (from: number, count: number, options: Parameters<typeof sqsMessage>[1] = {}) =>
  Array.from({ length: count }, (_, i) => sqsMessage(from + i, options));

/** A Log that remembers what was logged, for assertions. */
export class MemoryLog implements Log {
  readonly entries: Array<{ level: string; message: string; extra: LogFields }> = [];
  debug = (message: string, ...extra: LogFields[]) => this.push('debug', message, extra);
  info = (message: string, ...extra: LogFields[]) => this.push('info', message, extra);
  warn = (message: string, ...extra: LogFields[]) => this.push('warn', message, extra);
  error = (message: string, ...extra: LogFields[]) => this.push('error', message, extra);
  private push(level: string, message: string, extra: LogFields[]) {
    this.entries.push({ level, message, extra: Object.assign({}, ...extra) });
  }
  at(level: string): string[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.message);
  }
}

/** The value of a counter or gauge for the given labels (0 when never set). */
export async function valueOf(metric: Counter<string> | Gauge<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want));
  return match?.value ?? 0;
}

/** A promise with its resolve/reject exposed. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks (and I/O callbacks such as zlib's) run. */
export const settle = async (turns = 20) => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Waits (a few event-loop turns at a time, at most ~5 s) until `condition` holds; fails the test otherwise. */
export async function until(condition: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}
