/**
 * A batch: the messages buffered since the last flush, grouped by output (data or error) and partition, and its
 * freshness canaries apart (they go in no object). Pure data; the consumer decides when to seal and write it.
 */
import { CanaryRecord, MessageRecord, objectKey, Output } from './records';

/** A message held in memory until its line is durable in S3 and it is deleted from the queue. */
export interface HeldMessage {
  messageId: string;
  /** The newest receipt handle: a message received again while held gets the new one (the old one is void). */
  receiptHandle: string;
  /** When the current lease ends (epoch ms): the message reappears in the queue then unless extended or deleted. */
  visibleUntil: number;
  record: MessageRecord;
  /** An extension request for it is under way. */
  extending?: boolean;
}

/** The lines of one object to write, and the messages to delete once it is durable. */
export interface ObjectGroup {
  output: Output;
  partition: string;
  key: string;
  bucket: string;
  lines: string[];
  messages: HeldMessage[];
}

export interface Destinations {
  outputBucket: string;
  outputPrefix: string;
  errorBucket: string;
  errorPrefix: string;
}

export class Batch {
  readonly messages: HeldMessage[] = [];
  /** Bytes of the lines (UTF-16 length as a cheap, close bound for the mostly-ASCII JSON), line feeds included. */
  bytes = 0;

  constructor(
    readonly id: string,
    readonly openedAt: number,
  ) {}

  get size(): number {
    return this.messages.length;
  }

  add(message: HeldMessage): void {
    this.messages.push(message);
    if (message.record.output !== 'canary') this.bytes += message.record.line.length + 1;
  }

  /** One group per (output, partition), in first-seen order; canaries are in none. */
  groups(to: Destinations): ObjectGroup[] {
    const byKey = new Map<string, ObjectGroup>();
    for (const message of this.messages) {
      if (message.record.output === 'canary') continue;
      const { output, partition, line } = message.record;
      const id = `${output} ${partition}`;
      let group = byKey.get(id);
      if (!group) {
        const [bucket, prefix] = output === 'data' ? [to.outputBucket, to.outputPrefix] : [to.errorBucket, to.errorPrefix];
        group = { output, partition, bucket, key: objectKey(prefix, partition, this.id), lines: [], messages: [] };
        byKey.set(id, group);
      }
      group.lines.push(line);
      group.messages.push(message);
    }
    return [...byKey.values()];
  }

  /** The freshness canaries, each with its record: receipted once the batch's objects are written. */
  canaries(): Array<HeldMessage & { record: CanaryRecord }> {
    return this.messages.filter((m): m is HeldMessage & { record: CanaryRecord } => m.record.output === 'canary');
  }
}

/** Splits `items` into chunks of at most `size` (SQS batch calls take 10 entries). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
