import { CappedBuffer, RawRecord, ReaderOptions, toBuffer } from './raw-record';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const LF = 0x0a;
const CR = 0x0d;

const isWhitespace = (b: number): boolean => b === 0x20 || b === LF || b === CR || b === 0x09;

/** Deeper nesting is still followed (as a count), but only this many brackets are remembered to match closers. */
const STACK_LIMIT = 1024;

type Mode =
  | 'top' // between top-level values
  | 'array' // inside a top-level array, between elements
  | 'element' // inside an element of a top-level array
  | 'object' // inside a top-level object (one record)
  | 'loose'; // top-level data that is neither an array nor an object, up to the end of its line

/**
 * Cuts JSON text into records without parsing it, tracking only strings, escapes and brackets: each element of a
 * top-level array is a record, and so is each top-level object. So a `.json` file may hold one array, one
 * (pretty-printed) object, several arrays or objects one after the other, or NDJSON. Records keep their exact bytes
 * (numbers are never re-serialized); memory stays bounded by `maxRecordBytes` whatever the file size.
 *
 * Malformed text must not merge the rest of the file into one record, so the splitter resynchronizes:
 * - a closing bracket that does not match the innermost open one closes up to the matching open one (closers left
 *   out), or if none is open, closes the innermost one (a mistyped closer): one unbalanced bracket breaks only its
 *   own element;
 * - a raw line break inside a string (never valid JSON) ends the value there (an unterminated string), and the next
 *   line starts the next value: one unterminated string breaks only its own lines of a pretty-printed array.
 * The broken elements come out with their bytes, fail to parse and are reported; structural faults (an empty
 * element, a trailing comma, a missing `]`, an object cut off by the end of the file) come out as records with a
 * `problem`. No byte of the text is dropped except whitespace and separators.
 */
export class JsonTextSplitter {
  private readonly record: CappedBuffer;
  private line: number;
  private recordLine = 0;
  private recordBreaks = false; // the current record holds a line break
  private mode: Mode = 'top';
  private inString = false;
  private escaped = false;
  private depth = 0;
  private readonly stack = new Uint8Array(STACK_LIMIT);
  private afterComma = false;
  private elementsInArray = 0;
  private count = 0;

  constructor(options: ReaderOptions) {
    this.record = new CappedBuffer(options.maxRecordBytes);
    this.line = options.firstLine ?? 1;
  }

  /** The records completed by this chunk. */
  push(buf: Buffer): RawRecord[] {
    const out: RawRecord[] = [];
    let start = 0; // first byte of `buf` that belongs to the current record
    const open = (at: number) => {
      this.recordLine = this.line;
      this.recordBreaks = false;
      start = at;
    };
    const close = (end: number, problem?: string) => {
      this.record.append(buf.subarray(start, end));
      out.push(this.take(problem));
      start = end;
    };

    for (let i = 0; i < buf.length; i++) {
      const b = buf[i];
      const mode = this.mode;
      if (mode === 'element' || mode === 'object') {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (b === BACKSLASH) this.escaped = true;
          else if (b === QUOTE) this.inString = false;
          else if (b === LF || b === CR) {
            // Unterminated string: JSON strings never hold raw line breaks. The value is broken; the next line most
            // likely starts the next one (pretty-printed arrays put one value per line or more).
            close(i);
            if (b === LF) this.line++;
            start = i + 1;
            this.mode = mode === 'element' ? 'array' : 'top';
            this.afterComma = false;
          }
          continue;
        }
        if (b === QUOTE) {
          this.inString = true;
        } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
          if (this.depth < STACK_LIMIT) this.stack[this.depth] = b;
          this.depth++;
        } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
          if (this.depth === 0) {
            // Only in an array element: `]` ends the element and the array; a stray `}` is part of the element.
            if (b === CLOSE_BRACKET) {
              close(i);
              this.endArray();
            }
            continue;
          }
          this.closeTo(b === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET);
          if (this.depth === 0 && mode === 'object') {
            close(i + 1);
            this.mode = 'top';
          }
        } else if (this.depth === 0 && b === COMMA) {
          close(i);
          start = i + 1;
          this.mode = 'array';
          this.afterComma = true;
        } else if (b === LF || b === CR) {
          this.recordBreaks = true;
          if (b === LF) this.line++;
        }
        continue;
      }

      if (b === LF) this.line++;
      if (mode === 'loose') {
        if (b === LF || b === CR) {
          close(i);
          this.mode = 'top';
        }
        continue;
      }
      if (isWhitespace(b)) continue;
      if (mode === 'array') {
        if (b === CLOSE_BRACKET) {
          if (this.afterComma && this.elementsInArray > 0) out.push(this.problem('trailing comma in JSON array'));
          this.mode = 'top';
        } else if (b === COMMA) {
          if (this.afterComma || this.elementsInArray === 0) out.push(this.problem('empty element in JSON array'));
          this.afterComma = true;
        } else {
          this.elementsInArray++;
          this.afterComma = false;
          this.mode = 'element';
          open(i);
          i--; // the element's first byte goes through the element rules
        }
        continue;
      }
      // Top level.
      if (b === OPEN_BRACKET) {
        this.mode = 'array';
        this.afterComma = false;
        this.elementsInArray = 0;
      } else {
        open(i);
        this.mode = b === OPEN_BRACE ? 'object' : 'loose';
        if (b === OPEN_BRACE) i--;
      }
    }
    if (this.mode === 'element' || this.mode === 'object' || this.mode === 'loose') this.record.append(buf.subarray(start));
    return out;
  }

  /** What is left at the end of the text. */
  end(): RawRecord[] {
    const out: RawRecord[] = [];
    if (this.mode === 'element' || this.mode === 'object') {
      if (this.depth > 0 || this.inString) {
        out.push(this.take('the object ends inside this JSON value (unbalanced brackets or an unterminated string)'));
      } else {
        out.push(this.take()); // a complete scalar element
        out.push(this.problem('unterminated JSON array: missing closing bracket'));
      }
    } else if (this.mode === 'loose') {
      out.push(this.take());
    } else if (this.mode === 'array') {
      out.push(this.problem('unterminated JSON array: missing closing bracket'));
    }
    this.mode = 'top';
    return out;
  }

  /**
   * Closes the innermost open bracket of `opener`'s kind, and any opened after it (their closers were left out). If
   * none is open, the closer was mistyped: it closes the innermost bracket, whatever its kind.
   */
  private closeTo(opener: number): void {
    if (this.depth > STACK_LIMIT) {
      this.depth--; // beyond what is remembered, trust the closer
      return;
    }
    for (let d = this.depth - 1; d >= 0; d--) {
      if (this.stack[d] === opener) {
        this.depth = d;
        return;
      }
    }
    this.depth--;
  }

  private endArray(): void {
    this.mode = 'top';
    this.inString = false;
  }

  private take(problem?: string): RawRecord {
    const { truncated, length } = this.record;
    let bytes = this.record.take();
    let end = bytes.length;
    while (end > 0 && isWhitespace(bytes[end - 1])) end--;
    bytes = bytes.subarray(0, end);
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    const multiline = this.recordBreaks && bytes.some((b) => b === LF || b === CR);
    this.recordBreaks = false;
    return {
      line: this.recordLine,
      ...(this.mode === 'element' || this.mode === 'array' ? { element: ++this.count } : {}),
      bytes,
      byteLength: truncated ? length : end,
      truncated,
      ...(multiline ? { multiline: true as const } : {}),
      ...(problem ? { problem } : {}),
    };
  }

  private problem(problem: string): RawRecord {
    return { line: this.line, element: ++this.count, bytes: Buffer.alloc(0), byteLength: 0, truncated: false, problem };
  }
}

/** `JsonTextSplitter` over a byte stream, yielding the records each chunk completes. */
export async function* readJsonText(source: AsyncIterable<Uint8Array | string>, options: ReaderOptions): AsyncGenerator<RawRecord[]> {
  const splitter = new JsonTextSplitter(options);
  for await (const chunk of source) {
    const records = splitter.push(toBuffer(chunk));
    if (records.length > 0) yield records;
  }
  const last = splitter.end();
  if (last.length > 0) yield last;
}

/** Splits one line (or any short text) into its top-level JSON values: `{...}{...}` is two records. */
export function splitJsonValues(bytes: Buffer, options: ReaderOptions): RawRecord[] {
  const splitter = new JsonTextSplitter(options);
  return [...splitter.push(bytes), ...splitter.end()];
}
