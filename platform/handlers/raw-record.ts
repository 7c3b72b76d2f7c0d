/**
 * One event as it appears in an uploaded object, before any decoding or parsing: the readers in this folder cut a
 * byte stream into these without ever holding more than one record (capped) in memory.
 */
export interface RawRecord {
  /** 1-based line of the object where the record starts. */
  line: number;
  /** 1-based position in a JSON array file; absent for NDJSON. */
  element?: number;
  /** 1-based position among several JSON values found on one NDJSON line (a missing line break). */
  part?: number;
  /** The record's bytes without line terminator; only the first `maxRecordBytes` of them when `truncated`. */
  bytes: Buffer;
  /** Length of the whole record in bytes, also when `truncated`. */
  byteLength: number;
  /** The record was longer than the reader's cap, so `bytes` is a prefix and the record cannot be parsed. */
  truncated: boolean;
  /** The record spans several lines (pretty-printed JSON text; never an NDJSON line). */
  multiline?: true;
  /** A structural problem of the file found at this position (JSON array readers only), e.g. a missing element. */
  problem?: string;
}

export interface ReaderOptions {
  /** Longest record kept whole; longer ones are reported `truncated` with their first `maxRecordBytes` bytes. */
  maxRecordBytes: number;
  /** Line number of the first byte of the stream (leading blank lines may have been skipped already). */
  firstLine?: number;
}

/** Collects a record's pieces (which may span many chunks), keeping at most `max` bytes but counting all of them. */
export class CappedBuffer {
  private pieces: Buffer[] = [];
  private kept = 0;
  length = 0;

  constructor(private readonly max: number) {}

  append(piece: Buffer): void {
    this.length += piece.length;
    const room = this.max - this.kept;
    if (room <= 0 || piece.length === 0) return;
    const part = piece.length <= room ? piece : piece.subarray(0, room);
    this.pieces.push(part);
    this.kept += part.length;
  }

  get truncated(): boolean {
    return this.length > this.max;
  }

  /** The kept bytes; resets the buffer. */
  take(): Buffer {
    const out = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.kept);
    this.pieces = [];
    this.kept = 0;
    this.length = 0;
    return out;
  }
}

export const toBuffer = (chunk: Uint8Array | string): Buffer =>
  typeof chunk === 'string'
    ? Buffer.from(chunk, 'utf8')
    : Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
