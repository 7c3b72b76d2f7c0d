import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ObjectFormat, readObjectRecords, UnreadableObjectError } from '../../handlers/object-records';
import { MAX_RECORD_BYTES, Publisher } from '../../handlers/publisher';
import { RawRecord } from '../../handlers/raw-record';
import { Validator } from '../../handlers/schema-validator';
import { Classified, classifyRecord, Rules } from './classify';
import { InvalidEventRecord, InvalidEventsFile, invalidEventsKey, quarantineObject } from './error-output';
import { ObjectRef } from './s3-events';

export interface ProcessorDeps {
  s3: S3Client;
  source: string;
  errorBucket: string;
  validate: Validator;
  idField: string;
  partitionKeyField: string;
  /** A fresh writer per object (it counts that object's events), sharing the container's client. */
  createPublisher: () => Promise<Publisher>;
}

export interface ObjectOutcome {
  /** `missing`: the object (or the version the event names) no longer exists, so there is nothing to read. */
  status: 'processed' | 'quarantined' | 'missing';
  format?: ObjectFormat;
  compressed?: boolean;
  /** Compression layers removed, outermost first, and the text encoding, when not plain UTF-8. */
  encodings?: string[];
  charset?: string;
  read: number;
  valid: number;
  invalid: number;
  published: number;
  retried: number;
  /** Error-bucket keys written, if any. */
  invalidEventsKey?: string;
  quarantineKey?: string;
  quarantineReason?: string;
}

/** Processing stopped part-way (e.g. publishing failed after every retry); `outcome` tells what was done. */
export class ObjectFailedError extends Error {
  constructor(
    readonly ref: ObjectRef,
    readonly outcome: ObjectOutcome,
    cause: unknown,
  ) {
    super(`s3://${ref.bucket}/${ref.key}: ${(cause as Error).message}`, { cause });
    this.name = 'ObjectFailedError';
  }
}

/**
 * Validates one object: every event is read, classified, and either published or written to the error bucket.
 * Returns once all output is durable (broker acknowledged, error file stored). An object that cannot be decoded, or
 * holds a record too long to keep, is quarantined whole (its other events are processed as usual); an object outside
 * the source's prefix is not read, only recorded with its reason. Any other failure throws `ObjectFailedError` after cleaning up, so the invocation fails and is
 * retried; reruns overwrite the same error keys.
 */
export async function processObject(ref: ObjectRef, deps: ProcessorDeps): Promise<ObjectOutcome> {
  const outcome: ObjectOutcome = { status: 'processed', read: 0, valid: 0, invalid: 0, published: 0, retried: 0 };
  const prefix = `${deps.source}/`;
  if (!ref.key.startsWith(prefix)) {
    // Only a misconfigured notification sends another source's object here: publishing it would put its events on
    // the wrong stream, and this function may not even read it. It is left where it is, with a reason next to it.
    const reason = `the object is not under this source's prefix "${prefix}": an S3 notification is misconfigured; it was not read`;
    return quarantine(ref, deps, outcome, reason, false);
  }
  const opened = await openObject(deps.s3, ref);
  if (!opened) return { ...outcome, status: 'missing' };
  const { body } = opened;

  let publisher: Publisher | undefined;
  const errors = new InvalidEventsFile(deps.s3, deps.errorBucket, invalidEventsKey(deps.source, ref));
  let unreadable: string | undefined;
  try {
    publisher = await deps.createPublisher();
    const p = publisher;
    const rules: Rules = {
      validate: deps.validate,
      idField: deps.idField,
      partitionKeyField: deps.partitionKeyField,
      checkPartitionKey: (key) => p.checkPartitionKey(key),
      checkSize: (event) => p.checkSize(event),
    };
    // Not async: a valid event costs no promise unless the writer makes the caller wait (a full batch).
    const handle = (raw: RawRecord, result: Classified): Promise<void> | undefined => {
      if (result.valid) {
        outcome.valid++;
        return p.add(result.event);
      }
      outcome.invalid++;
      // Its bytes beyond the first MiB are only in the object: keep the object whole (the rest goes on as usual).
      if (raw.truncated) unreadable ??= `the record at line ${raw.line} is ${raw.byteLength} bytes, more than the ${MAX_RECORD_BYTES} bytes that can be kept (a missing line break?): the object is quarantined so that nothing is lost; its other events were processed as usual`;
      return errors.write(invalidRecord(deps.source, ref, raw, result));
    };
    try {
      const description = { key: ref.key, contentEncoding: opened.contentEncoding, contentType: opened.contentType };
      const object = await readObjectRecords(body, description, MAX_RECORD_BYTES);
      outcome.format = object.format;
      outcome.compressed = object.encodings.length > 0;
      if (object.encodings.length > 0) outcome.encodings = object.encodings;
      if (object.charset !== 'utf-8') outcome.charset = object.charset;
      for await (const batch of object.batches) {
        for (const raw of batch) {
          // Several JSON values on one NDJSON line (a missing line break) come back as events of their own.
          for (const [record, result] of classifyRecord(raw, rules, object.format)) {
            outcome.read++;
            const waiting = handle(record, result);
            if (waiting) await waiting;
          }
        }
      }
    } catch (err) {
      if (!(err instanceof UnreadableObjectError)) throw err;
      unreadable = unreadable ? `${err.message}; also, ${unreadable}` : err.message;
    }
    // Durable before done: what was read up to here is published and written even if the rest is unreadable.
    await publisher.flush();
    await errors.complete();
  } catch (err) {
    body.destroy();
    await errors.abort();
    throw new ObjectFailedError(ref, { ...outcome, ...counters(publisher) }, err);
  } finally {
    Object.assign(outcome, counters(publisher));
  }
  if (errors.written > 0) outcome.invalidEventsKey = errors.key;
  return unreadable ? quarantine(ref, deps, outcome, unreadable, true) : outcome;
}

/** Records why the object could not be processed whole, with a copy of it when it was read. */
async function quarantine(ref: ObjectRef, deps: ProcessorDeps, outcome: ObjectOutcome, reason: string, copy: boolean): Promise<ObjectOutcome> {
  const details = {
    source: deps.source,
    bucket: ref.bucket,
    key: ref.key,
    versionId: ref.versionId,
    etag: ref.etag,
    eventTime: ref.eventTime,
    reason,
    eventsReadBeforeFailure: outcome.read,
    eventsPublishedBeforeFailure: outcome.published,
  };
  const keys = await quarantineObject(deps.s3, deps.errorBucket, details, ref, { copy }).catch((err: unknown) => {
    throw new ObjectFailedError(ref, outcome, err);
  });
  return { ...outcome, status: 'quarantined', quarantineKey: copy ? keys.object : keys.reason, quarantineReason: reason };
}

const counters = (publisher: Publisher | undefined) => ({
  published: publisher?.published ?? 0,
  retried: publisher?.retried ?? 0,
});

interface OpenedObject {
  body: Readable;
  contentEncoding?: string;
  contentType?: string;
}

const GONE = new Set(['NoSuchKey', 'NoSuchVersion', 'PreconditionFailed']);

/**
 * Opens the exact object the event is about: its version when the bucket is versioned, otherwise the content whose
 * ETag the event carries. If that is gone (deleted, or overwritten: the newer content raises its own event), there is
 * nothing to validate and `undefined` is returned.
 */
async function openObject(s3: S3Client, ref: ObjectRef): Promise<OpenedObject | undefined> {
  try {
    const response = await s3.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        ...(ref.versionId ? { VersionId: ref.versionId } : ref.etag ? { IfMatch: `"${ref.etag}"` } : {}),
      }),
    );
    return {
      body: response.Body as Readable,
      contentEncoding: response.ContentEncoding,
      contentType: response.ContentType,
    };
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (GONE.has((err as Error).name) || status === 412) return undefined;
    throw err;
  }
}

function invalidRecord(
  source: string,
  ref: ObjectRef,
  raw: RawRecord,
  result: Extract<Classified, { valid: false }>,
): InvalidEventRecord {
  const badEncoding = result.reasons.some((r) => r.type === 'bad_encoding');
  return {
    source,
    bucket: ref.bucket,
    key: ref.key,
    ...(ref.versionId ? { versionId: ref.versionId } : {}),
    ...(ref.etag ? { etag: ref.etag } : {}),
    line: raw.line,
    ...(raw.element !== undefined ? { element: raw.element } : {}),
    ...(raw.part !== undefined ? { part: raw.part } : {}),
    ...(result.eventId !== undefined ? { eventId: result.eventId } : {}),
    reasons: result.reasons,
    raw: raw.bytes.toString('utf8'),
    ...(badEncoding ? { rawBase64: raw.bytes.toString('base64') } : {}),
    rawBytes: raw.byteLength,
    ...(raw.truncated ? { rawTruncated: true as const } : {}),
  };
}
