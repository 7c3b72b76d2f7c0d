import { CappedBuffer, RawRecord, ReaderOptions, toBuffer } from './raw-record';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const LF = 0x0a;

const isWhitespace = (b: number): boolean => b === 0x20 || b === LF || b === 0x0d || b === 0x09;

/**
 * Cuts a stream holding one top-level JSON array (`[ {...}, {...} ]`) into its elements, without parsing them: it
 * only tracks strings, escapes and nesting depth to find the commas that separate elements. Each element comes out
 * as raw bytes, like an NDJSON line, so one malformed element becomes one invalid record instead of failing the
 * whole file, and memory stays bounded by `maxRecordBytes` whatever the file size. Structural faults (an empty
 * element, a missing closing bracket, data after the array) come out as records with a `problem`.
 *
 * The caller has checked that the first non-whitespace byte is `[`.
 */
export async function* readJsonArray(
  source: AsyncIterable<Uint8Array | string>,
  { maxRecordBytes, firstLine = 1 }: ReaderOptions,
): AsyncGenerator<RawRecord[]> {
  const element = new CappedBuffer(maxRecordBytes);
  let line = firstLine;
  let elementLine = 0;
  let elementCount = 0;
  let state: 'before-array' | 'in-array' | 'after-array' = 'before-array';
  let depth = 0; // nesting inside the current element
  let inString = false;
  let escaped = false;
  let started = false; // the current element has a non-whitespace byte
  let afterComma = false;
  let trailing: { line: number; bytes: CappedBuffer } | undefined;

  const problemRecord = (problem: string, at: number, bytes: Buffer = Buffer.alloc(0), byteLength = 0): RawRecord => ({
    line: at,
    element: ++elementCount,
    bytes,
    byteLength,
    truncated: false,
    problem,
  });

  const takeElement = (problem?: string): RawRecord => {
    const truncated = element.truncated;
    const byteLength = element.length;
    let bytes = element.take();
    let end = bytes.length;
    while (end > 0 && isWhitespace(bytes[end - 1])) end--;
    bytes = bytes.subarray(0, end);
    started = false;
    return {
      line: elementLine,
      element: ++elementCount,
      bytes,
      byteLength: truncated ? byteLength : end,
      truncated,
      ...(problem ? { problem } : {}),
    };
  };

  for await (const chunk of source) {
    const buf = toBuffer(chunk);
    const batch: RawRecord[] = [];
    let segmentStart = 0; // start of the bytes of `buf` that belong to the current element
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i];
      if (state === 'in-array') {
        if (inString) {
          if (escaped) escaped = false;
          else if (b === BACKSLASH) escaped = true;
          else if (b === QUOTE) inString = false;
          else if (b === LF) line++; // invalid inside a string, but keep the count right
          continue;
        }
        if (depth === 0 && (b === COMMA || b === CLOSE_BRACKET)) {
          if (started) {
            element.append(buf.subarray(segmentStart, i));
            batch.push(takeElement());
          } else if (b === COMMA || afterComma) {
            batch.push(problemRecord(b === COMMA ? 'empty element in JSON array' : 'trailing comma in JSON array', line));
          }
          afterComma = b === COMMA;
          if (b === CLOSE_BRACKET) state = 'after-array';
          segmentStart = i + 1;
          continue;
        }
        if (b === LF) line++;
        if (!started) {
          if (isWhitespace(b)) {
            segmentStart = i + 1;
            continue;
          }
          started = true;
          elementLine = line;
          segmentStart = i;
        }
        if (b === QUOTE) inString = true;
        else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
        else if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && depth > 0) depth--;
      } else if (state === 'before-array') {
        if (b === LF) line++;
        if (b === OPEN_BRACKET) state = 'in-array';
        segmentStart = i + 1;
      } else if (trailing) {
        trailing.bytes.append(buf.subarray(i));
        break;
      } else if (!isWhitespace(b)) {
        trailing = { line, bytes: new CappedBuffer(maxRecordBytes) };
        trailing.bytes.append(buf.subarray(i));
        break;
      } else if (b === LF) {
        line++;
      }
    }
    if (state === 'in-array' && started) element.append(buf.subarray(segmentStart));
    if (batch.length > 0) yield batch;
  }

  const last: RawRecord[] = [];
  if (state === 'in-array') {
    if (started && (depth > 0 || inString)) {
      last.push(takeElement('unterminated JSON array: the object ends inside this element'));
    } else {
      // A complete last element is still an event; the missing bracket is reported on its own.
      if (started) last.push(takeElement());
      last.push(problemRecord('unterminated JSON array: missing closing bracket', line));
    }
  } else if (trailing) {
    const { length, truncated } = trailing.bytes;
    last.push({ ...problemRecord('data after the end of the JSON array', trailing.line, trailing.bytes.take(), length), truncated });
  }
  if (last.length > 0) yield last;
}
