import { CappedBuffer, RawRecord, ReaderOptions, toBuffer } from './raw-record';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a byte stream into NDJSON lines, yielded in batches (the lines completed by each chunk). Lines are split on the LF byte, which never occurs inside a multi-byte UTF-8
 * sequence, so a character split across two chunks is reassembled before anything decodes it. A trailing CR (CRLF
 * files) is removed; blank lines are skipped but still counted, so `line` always matches what an editor shows. Memory stays bounded by `maxRecordBytes` whatever the line length.
 */
export async function* readNdjson(
  source: AsyncIterable<Uint8Array | string>,
  { maxRecordBytes, firstLine = 1 }: ReaderOptions,
): AsyncGenerator<RawRecord[]> {
  const pending = new CappedBuffer(maxRecordBytes);
  let line = firstLine;

  const finish = (bytes: Buffer, byteLength: number, truncated: boolean): RawRecord | undefined => {
    if (!truncated && bytes.length > 0 && bytes[bytes.length - 1] === CR) {
      bytes = bytes.subarray(0, -1);
      byteLength -= 1;
    }
    const record = isBlank(bytes) && !truncated ? undefined : { line, bytes, byteLength, truncated };
    line += 1;
    return record;
  };

  for await (const chunk of source) {
    const buf = toBuffer(chunk);
    const batch: RawRecord[] = [];
    let start = 0;
    for (let lf = buf.indexOf(LF, start); lf !== -1; lf = buf.indexOf(LF, start)) {
      let record: RawRecord | undefined;
      if (pending.length === 0) {
        // Fast path: the whole line is inside this chunk, no copy.
        record = finish(buf.subarray(start, lf), lf - start, lf - start > maxRecordBytes);
        if (record?.truncated) record.bytes = record.bytes.subarray(0, maxRecordBytes);
      } else {
        pending.append(buf.subarray(start, lf));
        const { length, truncated } = pending;
        record = finish(pending.take(), length, truncated);
      }
      if (record) batch.push(record);
      start = lf + 1;
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
