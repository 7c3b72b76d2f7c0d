import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { readJsonArray } from './json-array-reader';
import { readNdjson } from './ndjson-reader';
import { RawRecord, toBuffer } from './raw-record';

/** The object cannot be decoded at all (e.g. corrupt gzip): it must be quarantined, not retried. */
export class UnreadableObjectError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnreadableObjectError';
  }
}

export interface ObjectDescription {
  key: string;
  contentEncoding?: string;
  contentType?: string;
}

export type ObjectFormat = 'ndjson' | 'json-array';

export interface ObjectRecords {
  compressed: boolean;
  format: ObjectFormat;
  /** The records, in batches: all those found in one chunk of the body (per-record async steps would cost more than validating). */
  batches: AsyncIterable<RawRecord[]>;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const LF = 0x0a;
const isWhitespace = (b: number): boolean => b === 0x20 || b === LF || b === 0x0d || b === 0x09;

/**
 * Turns an object's body into its records, streaming: gunzips it when the key ends in `.gz`, the Content-Encoding or
 * Content-Type says gzip, or the bytes start with the gzip magic number; reads a `.json` object whose first
 * significant character is `[` as a JSON array, anything else as NDJSON. An empty object has no records.
 * Decompression failures surface as `UnreadableObjectError` while iterating `batches`.
 */
export async function readObjectRecords(
  body: AsyncIterable<Uint8Array>,
  object: ObjectDescription,
  maxRecordBytes: number,
): Promise<ObjectRecords> {
  const key = object.key.toLowerCase();
  const raw = new ChunkReader(body);
  const magic = await raw.head(GZIP_MAGIC.length);
  const compressed =
    magic.length > 0 &&
    (key.endsWith('.gz') ||
      /gzip/i.test(object.contentEncoding ?? '') ||
      /gzip/i.test(object.contentType ?? '') ||
      magic.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC));

  // A byte order mark and leading whitespace carry no data; dropping them here (counting the lines) lets the format
  // be told from the first significant byte and gives both readers a clean start.
  const text = compressed ? new ChunkReader(gunzip(raw.rest())) : raw;
  if ((await text.head(UTF8_BOM.length)).subarray(0, UTF8_BOM.length).equals(UTF8_BOM)) text.drop(UTF8_BOM.length);
  let firstLine = 1;
  let first: number | undefined;
  for (let head = await text.head(1); head.length > 0 && first === undefined; head = await text.head(1)) {
    let i = 0;
    while (i < head.length && isWhitespace(head[i])) if (head[i++] === LF) firstLine++;
    text.drop(i);
    first = head[i];
  }

  const format: ObjectFormat = key.replace(/\.gz$/, '').endsWith('.json') && first === 0x5b ? 'json-array' : 'ndjson';
  const options = { maxRecordBytes, firstLine };
  return {
    compressed,
    format,
    batches: format === 'json-array' ? readJsonArray(text.rest(), options) : readNdjson(text.rest(), options),
  };
}

/** Streams a gzip (possibly multi-member) body; a corrupt or truncated stream becomes an `UnreadableObjectError`. */
async function* gunzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const inflater = createGunzip();
  // Errors of the source (e.g. a dropped S3 connection) reach `inflater` through the pipeline and are rethrown as is.
  pipeline(source, inflater, () => undefined);
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_')) throw new UnreadableObjectError(`invalid gzip data: ${(err as Error).message}`, { cause: err });
    throw err;
  }
}

/** Lets the start of a stream be inspected, then hands out the whole rest, inspected bytes included. */
class ChunkReader {
  private readonly source: AsyncIterator<Uint8Array>;
  private pending: Buffer[] = [];
  private ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.source = source[Symbol.asyncIterator]();
  }

  /** At least `n` bytes from the current position (fewer at the end of the stream). */
  async head(n: number): Promise<Buffer> {
    let buffered = this.pending.reduce((sum, c) => sum + c.length, 0);
    while (buffered < n && !this.ended) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else {
        const chunk = toBuffer(next.value);
        this.pending.push(chunk);
        buffered += chunk.length;
      }
    }
    if (this.pending.length > 1) this.pending = [Buffer.concat(this.pending)];
    return this.pending[0] ?? Buffer.alloc(0);
  }

  /** Consumes `n` bytes of what `head` returned. */
  drop(n: number): void {
    const rest = (this.pending[0] ?? Buffer.alloc(0)).subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
  }

  async *rest(): AsyncGenerator<Buffer> {
    try {
      yield* this.pending;
      this.pending = [];
      while (!this.ended) {
        const next = await this.source.next();
        if (next.done) this.ended = true;
        else yield toBuffer(next.value);
      }
    } finally {
      // Abandoned early (e.g. publishing failed): release the source, such as the S3 connection.
      if (!this.ended) await this.source.return?.();
    }
  }
}
