import { pipeline } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import { readJsonText } from './json-text-reader';
import { readNdjson } from './ndjson-reader';
import { RawRecord, toBuffer } from './raw-record';

/** The object cannot be decoded (corrupt or unsupported compression or encoding): it must be quarantined, not retried. */
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

/** `ndjson`: one event per line. `json`: JSON text: array elements and top-level objects are events. */
export type ObjectFormat = 'ndjson' | 'json';

export interface ObjectRecords {
  /** Compression layers removed, outermost first (e.g. `['gzip', 'gzip']` for a double-gzipped file). */
  encodings: Compression[];
  /** The text encoding the object was written in (UTF-16 is transcoded to UTF-8). */
  charset: 'utf-8' | 'utf-16le' | 'utf-16be';
  format: ObjectFormat;
  /** The records, in batches: all those found in one chunk of the body (per-record async steps would cost more than validating). */
  batches: AsyncIterable<RawRecord[]>;
}

type Compression = 'gzip' | 'deflate' | 'deflate-raw' | 'br';

/** Compressed inside compressed inside compressed is surely a mistake; deeper nesting is quarantined. */
const MAX_COMPRESSION_LAYERS = 3;
const LF = 0x0a;
const isWhitespace = (b: number): boolean => b === 0x20 || b === LF || b === 0x0d || b === 0x09;
const startsWith = (head: Buffer, bytes: number[]): boolean => head.length >= bytes.length && bytes.every((b, i) => head[i] === b);

/** Formats recognized by their first bytes that this reader cannot decode: quarantined with their name. */
const UNSUPPORTED_MAGIC: Array<[string, number[]]> = [
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zip', [0x50, 0x4b, 0x03, 0x04]],
  ['7z', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
  ['UTF-32 (big-endian)', [0x00, 0x00, 0xfe, 0xff]],
  ['UTF-32 (little-endian)', [0xff, 0xfe, 0x00, 0x00]],
];

/** A zlib stream header (RFC 1950): deflate method, window ≤ 32 KiB, header checksum. Never the start of JSON text. */
const isZlibHeader = (head: Buffer): boolean => head.length >= 2 && (head[0] & 0x0f) === 8 && head[0] >> 4 <= 7 && (head[0] * 256 + head[1]) % 31 === 0;

/**
 * Turns an object's body into its records, streaming.
 *
 * Compression is recognized by the bytes (gzip, also multi-member; zlib deflate), or by Content-Encoding (`gzip`,
 * `deflate`, raw deflate, `br`), layer after layer (a double-gzipped file is read). A file the key, Content-Encoding
 * or Content-Type says is gzip must be gzip. Data after the end of a compressed stream, other than zero padding, is
 * never ignored: the object is unreadable. Text is UTF-8 (a BOM is dropped) or UTF-16 with a BOM or recognizable
 * without one (RFC 4627 section 3), transcoded to UTF-8. Anything else recognizable (zstd, bzip2, xz, zip, UTF-32, an
 * unknown Content-Encoding) is unreadable. Unreadable objects surface as `UnreadableObjectError`, from this call or
 * while iterating `batches`.
 *
 * A `.json` object is read as JSON text (arrays, objects, or several of them); anything else as NDJSON.
 */
export async function readObjectRecords(
  body: AsyncIterable<Uint8Array>,
  object: ObjectDescription,
  maxRecordBytes: number,
): Promise<ObjectRecords> {
  const key = object.key.toLowerCase();
  const declared = declaredEncodings(object);
  const encodings: Compression[] = [];
  let text = new ChunkReader(body);
  for (;;) {
    const head = await text.head(8);
    if (head.length === 0) break;
    const layer = encodings.length;
    let compression: Compression | undefined;
    if (startsWith(head, [0x1f, 0x8b])) compression = 'gzip';
    else if (isZlibHeader(head)) compression = 'deflate';
    else if (layer === 0 && declared.deflate) compression = 'deflate-raw';
    else if (layer === 0 && declared.br) compression = 'br';
    else if (layer === 0 && (declared.gzip || /\.gz$/.test(key))) {
      throw new UnreadableObjectError('the object is declared gzip (by its key, Content-Encoding or Content-Type) but is not gzip data');
    }
    if (!compression) break;
    if (layer === MAX_COMPRESSION_LAYERS) throw new UnreadableObjectError(`more than ${MAX_COMPRESSION_LAYERS} layers of compression`);
    encodings.push(compression);
    text = new ChunkReader(decompress(text.rest(), compression));
  }

  let head = await text.head(4);
  const unsupported = UNSUPPORTED_MAGIC.find(([, magic]) => startsWith(head, magic));
  if (unsupported) throw new UnreadableObjectError(`unsupported format: ${unsupported[0]}`);

  let charset: ObjectRecords['charset'] = 'utf-8';
  if (startsWith(head, [0xef, 0xbb, 0xbf])) text.drop(3);
  else if (startsWith(head, [0xff, 0xfe])) charset = 'utf-16le';
  else if (startsWith(head, [0xfe, 0xff])) charset = 'utf-16be';
  else if (head.length >= 2 && head[0] !== 0 && head[1] === 0) charset = 'utf-16le'; // RFC 4627 3: "xx 00 xx 00"
  else if (head.length >= 2 && head[0] === 0 && head[1] !== 0) charset = 'utf-16be'; // "00 xx 00 xx"
  if (charset !== 'utf-8') {
    text = new ChunkReader(utf16ToUtf8(text.rest(), charset));
    head = await text.head(1);
  }

  // Leading whitespace carries no data; dropping it here (counting the lines) gives the readers a clean start.
  let firstLine = 1;
  for (head = await text.head(1); head.length > 0; head = await text.head(1)) {
    let i = 0;
    while (i < head.length && isWhitespace(head[i])) if (head[i++] === LF) firstLine++;
    text.drop(i);
    if (i < head.length) break;
  }

  const format: ObjectFormat = key.replace(/\.(gz|gzip|zz|deflate|br)$/, '').endsWith('.json') ? 'json' : 'ndjson';
  const options = { maxRecordBytes, firstLine };
  return {
    encodings,
    charset,
    format,
    batches: format === 'json' ? readJsonText(text.rest(), options) : readNdjson(text.rest(), options),
  };
}

/** What Content-Encoding (and a gzip Content-Type) declare; an encoding this reader does not know is unreadable. */
function declaredEncodings(object: ObjectDescription): { gzip: boolean; deflate: boolean; br: boolean } {
  const declared = { gzip: /gzip/i.test(object.contentType ?? ''), deflate: false, br: false };
  for (const token of (object.contentEncoding ?? '').split(',').map((t) => t.trim().toLowerCase())) {
    if (token === 'gzip' || token === 'x-gzip') declared.gzip = true;
    else if (token === 'deflate') declared.deflate = true;
    else if (token === 'br') declared.br = true;
    // aws-chunked is S3's upload framing, already removed; identity means none.
    else if (token !== '' && token !== 'identity' && token !== 'aws-chunked') {
      throw new UnreadableObjectError(`unsupported Content-Encoding "${token}"`);
    }
  }
  return declared;
}

/**
 * Streams one compression layer. A corrupt or truncated stream becomes an `UnreadableObjectError`, and so does data
 * after its end: Node's gunzip silently stops at the first byte that does not start another gzip member, which would
 * drop whatever follows. Zero padding (gzip(1) ignores it too) is allowed.
 */
async function* decompress(source: AsyncIterable<Buffer>, kind: Compression): AsyncGenerator<Buffer> {
  const inflater =
    kind === 'gzip' ? createGunzip() : kind === 'deflate' ? createInflate() : kind === 'deflate-raw' ? createInflateRaw() : createBrotliDecompress();
  const input = source[Symbol.asyncIterator]();
  const tally = { bytes: 0, lastNonZero: -1, done: false };
  const note = (chunk: Buffer) => {
    let i = chunk.length - 1;
    while (i >= 0 && chunk[i] === 0) i--;
    if (i >= 0) tally.lastNonZero = tally.bytes + i;
    tally.bytes += chunk.length;
  };
  // Feeds the inflater without letting it end the underlying source early: what it leaves unread is read below.
  async function* feed(): AsyncGenerator<Buffer> {
    for (;;) {
      const next = await input.next();
      if (next.done) {
        tally.done = true;
        return;
      }
      note(next.value);
      yield next.value;
    }
  }
  // Errors of the source (e.g. a dropped S3 connection) reach `inflater` through the pipeline and are rethrown as is.
  const piped = new Promise<void>((resolve) => pipeline(feed(), inflater, () => resolve()));
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code.startsWith('ERR_BROTLI') || code === 'ERR__ERROR_FORMAT_PADDING_1') {
      throw new UnreadableObjectError(`invalid ${kind} data: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
  await piped;
  while (!tally.done) {
    const next = await input.next();
    if (next.done) tally.done = true;
    else note(next.value);
  }
  const consumed = inflater.bytesWritten;
  if (tally.lastNonZero >= consumed) {
    throw new UnreadableObjectError(
      `${tally.bytes - consumed} bytes of data after the end of the ${kind} stream (from byte ${consumed} of ${tally.bytes}): not read, so the object is quarantined`,
    );
  }
}

/** Transcodes UTF-16 to UTF-8 (the BOM dropped); unpaired surrogates or an odd byte count make it unreadable. */
async function* utf16ToUtf8(source: AsyncIterable<Buffer>, charset: 'utf-16le' | 'utf-16be'): AsyncGenerator<Buffer> {
  const decoder = new TextDecoder(charset, { fatal: true });
  const decode = (chunk?: Buffer): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch (err) {
      throw new UnreadableObjectError(`invalid ${charset.toUpperCase()} text: ${(err as Error).message}`, { cause: err });
    }
  };
  for await (const chunk of source) {
    const text = decode(chunk);
    if (text.length > 0) yield Buffer.from(text, 'utf8');
  }
  const rest = decode();
  if (rest.length > 0) yield Buffer.from(rest, 'utf8');
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
