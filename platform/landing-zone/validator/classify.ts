import { isUtf8 } from 'node:buffer';
import { splitJsonValues } from '../../handlers/json-text-reader';
import type { ObjectFormat } from '../../handlers/object-records';
import { MAX_RECORD_BYTES, OutboundEvent } from '../../handlers/publisher';
import { RawRecord } from '../../handlers/raw-record';
import { Validator } from '../../handlers/schema-validator';

export type ReasonType =
  | 'schema'
  | 'invalid_json'
  | 'bad_encoding'
  | 'too_large'
  | 'too_deep'
  | 'missing_id'
  | 'missing_partition_key'
  | 'invalid_partition_key';

/** Why an event was rejected. Schema reasons carry Ajv's instance path, keyword and params. */
export interface Reason {
  type: ReasonType;
  message: string;
  instancePath?: string;
  keyword?: string;
  params?: Record<string, unknown>;
  /** The configured field a `missing_id` / `*_partition_key` reason is about. */
  field?: string;
}

export interface Rules {
  validate: Validator;
  idField: string;
  partitionKeyField: string;
  /** The publisher's own partition key rules (Kinesis: 1 to 256 characters). */
  checkPartitionKey: (key: string) => string | undefined;
  /** The publisher's size limit (Kinesis: 1 MiB with the key; Kafka: the broker's message.max.bytes). */
  checkSize: (event: OutboundEvent) => string | undefined;
}

/**
 * Deepest nesting accepted. JSON.stringify, deep-equality checks (`uniqueItems`, `enum`, `const`) and recursive
 * schemas recurse once per level, so unbounded depth would overflow the stack and fail the whole object on every
 * retry; real events nest a few levels.
 */
export const MAX_NESTING_DEPTH = 512;
/** A record nesting deeper than the limit has more than this many bytes (an opening and a closing bracket per level). */
const SHORTEST_TOO_DEEP = 2 * (MAX_NESTING_DEPTH + 1);

export type Classified = { valid: true; event: OutboundEvent } | { valid: false; reasons: Reason[]; eventId?: string };

const LF = 0x0a;
const CR = 0x0d;

/**
 * Decides whether one raw record is a publishable event, and if not, every reason why. Checks that make later ones
 * meaningless (too large to read whole, not UTF-8, not JSON) stop early; the others are all reported together.
 */
export function classify(raw: RawRecord, rules: Rules): Classified {
  if (raw.problem) return { valid: false, reasons: [{ type: 'invalid_json', message: raw.problem }] };
  if (raw.truncated) {
    const message = `record is ${raw.byteLength} bytes, over the ${raw.bytes.length}-byte limit`;
    return { valid: false, reasons: [{ type: 'too_large', message }] };
  }
  // Decoding replaces invalid sequences with U+FFFD, so only text containing one needs the exact check; pure ASCII
  // decodes to a one-byte string, where that search costs nothing.
  const text = raw.bytes.toString('utf8');
  if (text.includes('\ufffd') && !isUtf8(raw.bytes)) {
    return { valid: false, reasons: [{ type: 'bad_encoding', message: 'record is not valid UTF-8' }] };
  }

  if (raw.bytes.length >= SHORTEST_TOO_DEEP && nestingDepth(raw.bytes, MAX_NESTING_DEPTH) > MAX_NESTING_DEPTH) {
    const message = `record nests more than ${MAX_NESTING_DEPTH} levels of arrays and objects`;
    return { valid: false, reasons: [{ type: 'too_deep', message }] };
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { valid: false, reasons: [{ type: 'invalid_json', message: (err as Error).message }] };
  }

  let violations: ReturnType<Validator>;
  try {
    violations = rules.validate(value);
  } catch (err) {
    // A recursive schema on data just under the depth limit could still exhaust the stack: reject the event, not the object.
    if (!(err instanceof RangeError)) throw err;
    return { valid: false, reasons: [{ type: 'too_deep', message: `validating the record failed: ${err.message}` }] };
  }
  const reasons: Reason[] = violations ? violations.map((v) => ({ type: 'schema', ...v })) : [];
  const id = keyField(value, rules.idField);
  if (typeof id !== 'string') {
    reasons.push({ type: 'missing_id', field: rules.idField, message: id.problem });
  }
  const partitionKey = keyField(value, rules.partitionKeyField);
  if (typeof partitionKey !== 'string') {
    reasons.push({ type: 'missing_partition_key', field: rules.partitionKeyField, message: partitionKey.problem });
  } else {
    const problem = rules.checkPartitionKey(partitionKey);
    if (problem) reasons.push({ type: 'invalid_partition_key', field: rules.partitionKeyField, message: problem });
  }

  // A pretty-printed event loses its line breaks and indentation (so every record is one line), nothing else: its
  // bytes are published as written, never re-serialized, so numbers beyond 2^53 and escapes stay exactly as sent.
  const data = raw.multiline ? compactJson(raw.bytes) : raw.bytes;
  if (typeof id === 'string' && typeof partitionKey === 'string') {
    const problem = rules.checkSize({ id, partitionKey, data });
    if (problem) reasons.push({ type: 'too_large', message: problem });
  }

  if (reasons.length > 0 || typeof id !== 'string' || typeof partitionKey !== 'string') {
    return { valid: false, reasons, ...(typeof id === 'string' ? { eventId: id } : {}) };
  }
  return { valid: true, event: { id, partitionKey, data } };
}

/**
 * The events one record of an object holds, each with its verdict: the record itself, or, for an NDJSON line that is
 * not JSON because several JSON values share it (a missing line break), each of those values as an event of its own
 * (`part`, 1-based). The validator (process-object.ts) and `npm run validate` (scripts/validate.ts) both call this.
 */
export function classifyRecord(raw: RawRecord, rules: Rules, format: ObjectFormat): Array<[RawRecord, Classified]> {
  const result = classify(raw, rules);
  if (!result.valid && format === 'ndjson' && !raw.truncated && result.reasons[0]?.type === 'invalid_json') {
    const parts = splitJsonValues(raw.bytes, { maxRecordBytes: MAX_RECORD_BYTES, firstLine: raw.line });
    if (parts.length > 1) {
      return parts.map((part, i) => {
        const record: RawRecord = { ...part, line: raw.line, part: i + 1 };
        delete record.element;
        return [record, classify(record, rules)];
      });
    }
  }
  return [[raw, result]];
}

/**
 * How deeply arrays and objects nest, counted up to `limit + 1`. Few records hold more than `limit` brackets at all,
 * and counting them is a native search, so the exact scan (strings skipped) runs only for those.
 */
export function nestingDepth(bytes: Buffer, limit: number): number {
  let brackets = 0;
  for (let i = bytes.indexOf(0x7b); i !== -1 && brackets <= limit; i = bytes.indexOf(0x7b, i + 1)) brackets++;
  for (let i = bytes.indexOf(0x5b); i !== -1 && brackets <= limit; i = bytes.indexOf(0x5b, i + 1)) brackets++;
  if (brackets <= limit) return brackets;
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (b === 0x7d || b === 0x5d) depth--;
  }
  return max;
}

/** JSON text without the whitespace between tokens; strings (and so every other byte) stay exactly as they are. */
export function compactJson(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      out[n++] = b;
      if (b === 0x5c) out[n++] = bytes[++i];
      else if (b === 0x22) inString = false;
    } else if (b !== 0x20 && b !== LF && b !== CR && b !== 0x09) {
      out[n++] = b;
      if (b === 0x22) inString = true;
    }
  }
  return out.subarray(0, n);
}

/** A top-level string or number field as text, or why it is unusable (scripts/replay.ts keys replayed events with it too). */
export function keyField(value: unknown, field: string): string | { problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: `event is not a JSON object, so it has no "${field}" field` };
  }
  const v = (value as Record<string, unknown>)[field];
  if (v === undefined || v === null) return { problem: `field "${field}" is missing` };
  if (typeof v === 'string') return v.length > 0 ? v : { problem: `field "${field}" is empty` };
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return { problem: `field "${field}" must be a string or a number, got ${Array.isArray(v) ? 'array' : typeof v}` };
}
