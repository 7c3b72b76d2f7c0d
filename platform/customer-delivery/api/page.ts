import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, Shard, _Record } from '@aws-sdk/client-kinesis';
import { Cursor, CursorError } from './cursor';

/**
 * One bounded page of a source's delivery stream: ListShards, then for each shard one GetShardIterator and ONE
 * GetRecords (a page, not a stream: the API never loops on a shard), merged oldest first across shards and cut at the
 * page's limits. The cursor records, per shard, the last event returned, so the next page continues exactly there: no
 * gaps, no repeats. A child shard (after a reshard) is read only once its parents are read to their end, so the events
 * of a partition key keep their order across the reshard.
 */

/** GetRecords returns at most 10,000 records (and 10 MB) per call. */
export const GET_RECORDS_MAX = 10_000;
/**
 * Bytes of events in one response, at most: a Lambda response is at most 6 MB (API Gateway's is 10 MB). One event is
 * always returned, whatever its size (a Kinesis record is at most 1 MiB by default, 1.4 MB as base64).
 */
export const MAX_PAGE_BYTES = 5 * 1024 * 1024;
/** Shards read at once. */
export const SHARD_CONCURRENCY = 8;

export interface PageRequest {
  streamName: string;
  streamArn: string;
  source: string;
  limit: number;
  /** The previous page's cursor, or where a first page starts. */
  start: { cursor: Cursor } | { since: Date };
  maxBytes?: number;
  now?: () => number;
  /** Aborts the page's Kinesis calls (the page then fails with DeadlineError). */
  signal?: AbortSignal;
}

/** The page could not be read before its deadline (a slow or hung Kinesis call). */
export class DeadlineError extends Error {
  constructor() {
    super('the page was not read in time');
    this.name = 'DeadlineError';
  }
}

export interface Page {
  /** Each event as JSON text: the record's data as written when it is JSON (numbers keep every digit), else `{"raw":"<base64>"}`. */
  events: string[];
  cursor: Cursor;
  /** Shards this page read (one GetRecords each). */
  shards: number;
  /** How far behind the newest event of the stream the page ends, across shards (0: caught up). */
  millisBehindLatest: number;
}

interface ShardRead {
  shardId: string;
  records: _Record[];
  nextIterator?: string;
  /** GetRecords returned no next iterator: the shard is closed and nothing is left after these records. */
  ended: boolean;
  millisBehind: number;
  /** The read used the iterator the cursor held (not one from the cursor's position). */
  fromStoredIterator: boolean;
}

type Kinesis = Pick<KinesisClient, 'send'>;

export async function readPage(kinesis: Kinesis, request: PageRequest): Promise<Page> {
  const now = request.now ?? Date.now;
  const prior: Cursor =
    'cursor' in request.start
      ? request.start.cursor
      : { source: request.source, since: request.start.since.getTime(), positions: {}, iterators: {}, done: [] };

  const shards = await listShards(kinesis, request);
  const listed = new Set(shards.map((s) => s.ShardId!));
  // Shards trimmed from the stream (older than its retention) drop out of the cursor.
  const done = new Set(prior.done.filter((id) => listed.has(id)));
  const parentsOf = new Map(
    shards.map((s) => [s.ShardId!, [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p && listed.has(p))]),
  );

  // Read every shard whose parents are done, in rounds: a parent that reaches its end in this page lets its children
  // be read in the same page (each shard is still read once).
  const reads = new Map<string, ShardRead>();
  let waiting = shards.map((s) => s.ShardId!).filter((id) => !done.has(id));
  for (;;) {
    const ready = waiting.filter((id) => parentsOf.get(id)!.every((p) => done.has(p) || reads.get(p)?.ended));
    if (ready.length === 0) break;
    waiting = waiting.filter((id) => !ready.includes(id));
    const results = await mapConcurrently(ready, SHARD_CONCURRENCY, (id) => readShard(kinesis, request, prior, id));
    for (const read of results) reads.set(read.shardId, read);
  }

  const taken = merge(reads, parentsOf, done, request.limit, request.maxBytes ?? MAX_PAGE_BYTES);
  return {
    events: taken.events,
    cursor: nextCursor(prior, listed, done, reads, taken.count),
    shards: reads.size,
    millisBehindLatest: behind(reads, taken.count, now()),
  };
}

async function listShards(kinesis: Kinesis, request: PageRequest): Promise<Shard[]> {
  const shards: Shard[] = [];
  let NextToken: string | undefined;
  do {
    // With a NextToken, ListShards takes no stream.
    const input = NextToken ? { NextToken } : { StreamName: request.streamName, StreamARN: request.streamArn };
    const page = await bounded(request, (options) => kinesis.send(new ListShardsCommand(input), options));
    shards.push(...(page.Shards ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return shards;
}

async function readShard(kinesis: Kinesis, request: PageRequest, prior: Cursor, shardId: string): Promise<ShardRead> {
  const fromCursor = 'cursor' in request.start;
  const stored = prior.iterators[shardId];
  if (stored) {
    try {
      return { ...(await getRecords(kinesis, request, shardId, stored)), fromStoredIterator: true };
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'InvalidArgumentException') throw new CursorError(`cursor holds an iterator of ${shardId} that is not one of this stream`);
      if (name !== 'ExpiredIteratorException') throw err;
      // Older than 5 minutes: start again from the position the cursor holds for the shard.
    }
  }
  const sequence = prior.positions[shardId];
  const input = new GetShardIteratorCommand({
    StreamName: request.streamName,
    StreamARN: request.streamArn,
    ShardId: shardId,
    ...(sequence
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: sequence }
      : { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(prior.since) }),
  });
  let iterator: string | undefined;
  try {
    iterator = (await bounded(request, (options) => kinesis.send(input, options))).ShardIterator;
  } catch (err) {
    if (fromCursor && (err as Error).name === 'InvalidArgumentException') {
      throw new CursorError(`cursor holds a position on ${shardId} that is not one of this stream's (or no longer is): start again with since`);
    }
    throw err;
  }
  if (!iterator) throw new Error(`GetShardIterator returned no iterator for ${shardId}`);
  return { ...(await getRecords(kinesis, request, shardId, iterator)), fromStoredIterator: false };
}

async function getRecords(kinesis: Kinesis, request: PageRequest, shardId: string, iterator: string): Promise<Omit<ShardRead, 'fromStoredIterator'>> {
  // The stream's ARN too, as AWS recommends: the request names the stream it reads (an iterator from a cursor is opaque
  // to us; customers cannot get iterators of their own: the stream's policy gives them no GetShardIterator).
  const input = new GetRecordsCommand({ ShardIterator: iterator, StreamARN: request.streamArn, Limit: Math.min(request.limit, GET_RECORDS_MAX) });
  const response = await bounded(request, (options) => kinesis.send(input, options));
  return {
    shardId,
    records: response.Records ?? [],
    nextIterator: response.NextShardIterator,
    ended: !response.NextShardIterator,
    millisBehind: response.MillisBehindLatest ?? 0,
  };
}

const arrival = (record: _Record) => record.ApproximateArrivalTimestamp?.getTime() ?? 0;

/**
 * Takes events oldest first across shards (by arrival time), each shard's in its order, until the page holds `limit`
 * events or `maxBytes`. A child shard's events are taken only after every event of its parents.
 */
function merge(
  reads: Map<string, ShardRead>,
  parentsOf: Map<string, string[]>,
  done: Set<string>,
  limit: number,
  maxBytes: number,
): { events: string[]; count: Map<string, number> } {
  const count = new Map([...reads.keys()].map((id) => [id, 0]));
  const exhausted = (id: string) => {
    const read = reads.get(id);
    return read ? read.ended && count.get(id) === read.records.length : done.has(id);
  };
  const events: string[] = [];
  let bytes = 0;
  while (events.length < limit) {
    let next: ShardRead | undefined;
    for (const read of reads.values()) {
      const head = read.records[count.get(read.shardId)!];
      if (!head || !parentsOf.get(read.shardId)!.every(exhausted)) continue;
      const best = next?.records[count.get(next.shardId)!];
      if (!best || arrival(head) < arrival(best) || (arrival(head) === arrival(best) && read.shardId < next!.shardId)) next = read;
    }
    if (!next) break;
    const text = eventText(next.records[count.get(next.shardId)!]);
    const size = Buffer.byteLength(text) + 1;
    if (events.length > 0 && bytes + size > maxBytes) break;
    events.push(text);
    bytes += size;
    count.set(next.shardId, count.get(next.shardId)! + 1);
  }
  return { events, count };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The record's data as JSON text when it is UTF-8 JSON (unchanged, so large numbers keep their digits), else `{"raw":"<base64>"}`. */
export function eventText(record: _Record): string {
  const data = record.Data ?? new Uint8Array();
  try {
    const text = utf8.decode(data);
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify({ raw: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') });
  }
}

function nextCursor(prior: Cursor, listed: Set<string>, done: Set<string>, reads: Map<string, ShardRead>, count: Map<string, number>): Cursor {
  const next: Cursor = { source: prior.source, since: prior.since, positions: {}, iterators: {}, done: [] };
  for (const id of listed) {
    const read = reads.get(id);
    const position = prior.positions[id];
    if (done.has(id)) {
      next.done.push(id);
    } else if (!read) {
      // Not read in this page (a parent is not done yet): as it was.
      if (position) next.positions[id] = position;
      if (prior.iterators[id]) next.iterators[id] = prior.iterators[id];
    } else if (read.ended && count.get(id) === read.records.length) {
      next.done.push(id);
    } else if (count.get(id)! > 0) {
      next.positions[id] = read.records[count.get(id)! - 1].SequenceNumber!;
    } else {
      if (position) next.positions[id] = position;
      if (read.records.length > 0) {
        // Events read but none fitted in the page: the same read again next time (its iterator, if still valid).
        if (read.fromStoredIterator) next.iterators[id] = prior.iterators[id];
      } else if (read.nextIterator && (read.millisBehind > 0 || read.fromStoredIterator)) {
        // Nothing here, but the shard goes on: keep the progress through this stretch without records.
        next.iterators[id] = read.nextIterator;
      }
    }
  }
  return next;
}

function behind(reads: Map<string, ShardRead>, count: Map<string, number>, now: number): number {
  let max = 0;
  for (const read of reads.values()) {
    const taken = count.get(read.shardId)!;
    if (taken < read.records.length) max = Math.max(max, 1, now - arrival(read.records[taken]));
    else if (!read.ended) max = Math.max(max, read.millisBehind);
  }
  return max;
}

/**
 * A Kinesis call given the request's signal, failing with DeadlineError as soon as the signal aborts (whether or not
 * the call heeds it).
 */
function bounded<T>({ signal }: PageRequest, send: (options: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T> {
  if (!signal) return send({});
  if (signal.aborted) return Promise.reject(new DeadlineError());
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new DeadlineError());
    signal.addEventListener('abort', abort, { once: true });
    send({ abortSignal: signal })
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', abort));
  });
}

async function mapConcurrently<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < items.length) {
      const i = nextIndex++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
