import { z } from 'zod';

/**
 * Where the next page of a source's events starts, per shard. Opaque to customers (base64url of JSON), but readable:
 *
 * - `p`: shard id → sequence number of the last event returned from it (the next page reads AFTER_SEQUENCE_NUMBER);
 * - `t`: the first page's `since` (epoch ms), where shards with no position start (AT_TIMESTAMP), so a shard that had
 *   nothing on the first page, or that appears later (a reshard), loses nothing written since;
 * - `i`: shard id → shard iterator, for a shard whose read returned no events while behind the tip: GetRecords may
 *   take several calls to cross a part of a shard with no records, and a page makes one per shard, so the iterator
 *   keeps that progress. It expires after 5 minutes; the page then starts from `p`/`t` again;
 * - `d`: shards read to their end (closed by a reshard, every event returned): never read again, and their children
 *   may now be read;
 * - `s`: the source, so that a cursor is not used on another source's stream.
 */
export interface Cursor {
  source: string;
  since: number;
  positions: Record<string, string>;
  iterators: Record<string, string>;
  done: string[];
}

/** Kinesis shard ids are `shardId-` and 12 digits. */
const SHARD_ID = /^shardId-\d{1,20}$/;
const shardMap = <T extends z.ZodType<string>>(value: T) =>
  z.record(z.string().regex(SHARD_ID), value).refine((m) => Object.keys(m).length <= 10_000);

const encoded = z.strictObject({
  v: z.literal(1),
  s: z.string().min(1).max(64),
  t: z.number().int().nonnegative(),
  p: shardMap(z.string().regex(/^\d{1,129}$/)),
  i: shardMap(z.string().regex(/^[A-Za-z0-9+/=]{1,512}$/)).optional(),
  d: z.array(z.string().regex(SHARD_ID)).max(10_000).optional(),
});

/** A cursor that is malformed or belongs to another source: the request is wrong (400). */
export class CursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CursorError';
  }
}

export function encodeCursor(cursor: Cursor): string {
  const json: z.input<typeof encoded> = { v: 1, s: cursor.source, t: cursor.since, p: cursor.positions };
  if (Object.keys(cursor.iterators).length > 0) json.i = cursor.iterators;
  if (cursor.done.length > 0) json.d = cursor.done;
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

export function decodeCursor(text: string, source: string): Cursor {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new CursorError('cursor is not a cursor this API returned (not base64url)');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError('cursor is not a cursor this API returned');
  }
  const parsed = encoded.safeParse(json);
  if (!parsed.success) throw new CursorError('cursor is not a cursor this API returned');
  const c = parsed.data;
  if (c.s !== source) throw new CursorError(`cursor belongs to source "${c.s}", not "${source}"`);
  return { source: c.s, since: c.t, positions: c.p, iterators: c.i ?? {}, done: c.d ?? [] };
}
