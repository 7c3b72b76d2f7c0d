import { isUtf8 } from 'node:buffer';
import { OutboundEvent } from '../shared/publisher';
import { RawRecord } from '../shared/raw-record';
import { Validator } from '../shared/schema-validator';

export type ReasonType =
  | 'schema'
  | 'invalid_json'
  | 'bad_encoding'
  | 'too_large'
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
  /** Largest record, partition key included. */
  maxRecordBytes: number;
}

export type Classified = { valid: true; event: OutboundEvent } | { valid: false; reasons: Reason[]; eventId?: string };

const LF = 0x0a;

/**
 * Decides whether one raw record is a publishable event, and if not, every reason why. Checks that make later ones
 * meaningless (too large to read whole, not UTF-8, not JSON) stop early; the others are all reported together.
 */
export function classify(raw: RawRecord, rules: Rules): Classified {
  if (raw.problem) return { valid: false, reasons: [{ type: 'invalid_json', message: raw.problem }] };
  if (raw.truncated) {
    const message = `record is ${raw.byteLength} bytes, over the ${rules.maxRecordBytes}-byte limit`;
    return { valid: false, reasons: [{ type: 'too_large', message }] };
  }
  // Decoding replaces invalid sequences with U+FFFD, so only text containing one needs the exact check; pure ASCII
  // decodes to a one-byte string, where that search costs nothing.
  const text = raw.bytes.toString('utf8');
  if (text.includes('\ufffd') && !isUtf8(raw.bytes)) {
    return { valid: false, reasons: [{ type: 'bad_encoding', message: 'record is not valid UTF-8' }] };
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { valid: false, reasons: [{ type: 'invalid_json', message: (err as Error).message }] };
  }

  const violations = rules.validate(value);
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

  // An array element may be pretty-printed over several lines: publish it compact, so every record is one line.
  const data = raw.element !== undefined && raw.bytes.includes(LF) ? Buffer.from(JSON.stringify(value)) : raw.bytes;
  const size = data.length + (typeof partitionKey === 'string' ? Buffer.byteLength(partitionKey, 'utf8') : 0);
  if (size > rules.maxRecordBytes) {
    const message = `record is ${size} bytes with its partition key, over the ${rules.maxRecordBytes}-byte limit`;
    reasons.push({ type: 'too_large', message });
  }

  if (reasons.length > 0 || typeof id !== 'string' || typeof partitionKey !== 'string') {
    return { valid: false, reasons, ...(typeof id === 'string' ? { eventId: id } : {}) };
  }
  return { valid: true, event: { id, partitionKey, data } };
}

/** A top-level string or number field as text, or why it is unusable. */
function keyField(value: unknown, field: string): string | { problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: `event is not a JSON object, so it has no "${field}" field` };
  }
  const v = (value as Record<string, unknown>)[field];
  if (v === undefined || v === null) return { problem: `field "${field}" is missing` };
  if (typeof v === 'string') return v.length > 0 ? v : { problem: `field "${field}" is empty` };
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return { problem: `field "${field}" must be a string or a number, got ${Array.isArray(v) ? 'array' : typeof v}` };
}
