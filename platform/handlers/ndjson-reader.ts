import { CappedBuffer, RawRecord, ReaderOptions, toBuffer } from './raw-record';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a byte stream into NDJSON lines, yielded in batches (the lines completed by each chunk). A line ends at LF,
 * CRLF or a lone CR (old Mac line endings): a raw CR can never be inside a JSON text's strings, so splitting on it
 * never cuts an event, and a CR-only file does not become one giant line. Both bytes never occur inside a multi-byte
 * UTF-8 sequence, so a character split across two chunks is reassembled before anything decodes it. Blank lines are
 * skipped but still counted, so `line` always matches what an editor shows. Memory stays bounded by
 * `maxRecordBytes` whatever the line length: a longer line comes out `truncated`.
 */
export async function* readNdjson(
  source: AsyncIterable<Uint8Array | string>,
  { maxRecordBytes, firstLine = 1 }: ReaderOptions,
): AsyncGenerator<RawRecord[]> {
  const pending = new CappedBuffer(maxRecordBytes);
  let line = firstLine;
  let skipLf = false; // the previous chunk ended with CR: an LF starting this one completes that CRLF

  const finish = (bytes: Buffer, byteLength: number, truncated: boolean): RawRecord | undefined => {
    const record = isBlank(bytes) && !truncated ? undefined : { line, bytes, byteLength, truncated };
    line += 1;
    return record;
  };
  const lineOf = (buf: Buffer, start: number, end: number): RawRecord | undefined => {
    if (pending.length === 0) {
      // Fast path: the whole line is inside this chunk, no copy.
      const record = finish(buf.subarray(start, end), end - start, end - start > maxRecordBytes);
      if (record?.truncated) record.bytes = record.bytes.subarray(0, maxRecordBytes);
      return record;
    }
    pending.append(buf.subarray(start, end));
    const { length, truncated } = pending;
    return finish(pending.take(), length, truncated);
  };

  for await (const chunk of source) {
    const buf = toBuffer(chunk);
    const batch: RawRecord[] = [];
    let start = 0;
    if (skipLf && buf.length > 0 && buf[0] === LF) start = 1;
    skipLf = false;
    if (buf.indexOf(CR, start) === -1) {
      // The usual chunk: LF line ends only.
      for (let lf = buf.indexOf(LF, start); lf !== -1; lf = buf.indexOf(LF, start)) {
        const record = lineOf(buf, start, lf);
        if (record) batch.push(record);
        start = lf + 1;
      }
    } else {
      let cr = buf.indexOf(CR, start);
      let lf = buf.indexOf(LF, start);
      while (cr !== -1 || lf !== -1) {
        const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
        const record = lineOf(buf, start, end);
        if (record) batch.push(record);
        start = end + 1;
        if (end === cr) {
          if (start < buf.length && buf[start] === LF) start++; // CRLF is one line end
          else if (start === buf.length) skipLf = true;
        }
        if (cr !== -1 && cr < start) cr = buf.indexOf(CR, start);
        if (lf !== -1 && lf < start) lf = buf.indexOf(LF, start);
      }
    }
    if (start < buf.length) pending.append(buf.subarray(start));
    if (batch.length > 0) yield batch;
  }
  if (pending.length > 0) {
    const { length, truncated } = pending;
    const record = finish(pending.take(), length, truncated);
    if (record) yield [record];
  }
}

function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== CR) return false;
  }
  return true;
}
