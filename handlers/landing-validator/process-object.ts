import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ObjectFormat, readObjectRecords, UnreadableObjectError } from '../shared/object-records';
import { MAX_RECORD_BYTES, Publisher } from '../shared/publisher';
import { RawRecord } from '../shared/raw-record';
import { Validator } from '../shared/schema-validator';
import { classify, Classified, Rules } from './classify';
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
 * Returns once all output is durable (broker acknowledged, error file stored). An object that cannot be decoded is
 * quarantined whole. Any other failure throws `ObjectFailedError` after cleaning up, so the invocation fails and is
 * retried; reruns overwrite the same error keys.
 */
export async function processObject(ref: ObjectRef, deps: ProcessorDeps): Promise<ObjectOutcome> {
  const outcome: ObjectOutcome = { status: 'processed', read: 0, valid: 0, invalid: 0, published: 0, retried: 0 };
  const opened = await openObject(deps.s3, ref);
  if (!opened) return { ...outcome, status: 'missing' };
  const { body } = opened;

  let publisher: Publisher | undefined;
  const errors = new InvalidEventsFile(deps.s3, deps.errorBucket, invalidEventsKey(deps.source, ref));
  let unreadable: UnreadableObjectError | undefined;
  try {
    publisher = await deps.createPublisher();
    const rules: Rules = {
      validate: deps.validate,
      idField: deps.idField,
      partitionKeyField: deps.partitionKeyField,
      checkPartitionKey: (key) => publisher?.checkPartitionKey(key),
      maxRecordBytes: MAX_RECORD_BYTES,
    };
    try {
      const description = { key: ref.key, contentEncoding: opened.contentEncoding, contentType: opened.contentType };
      const object = await readObjectRecords(body, description, MAX_RECORD_BYTES);
      outcome.format = object.format;
      outcome.compressed = object.compressed;
      for await (const batch of object.batches) {
        for (const raw of batch) {
          outcome.read++;
          const result = classify(raw, rules);
          if (result.valid) {
            outcome.valid++;
            const sending = publisher.add(result.event); // a promise only when a full batch goes out
            if (sending) await sending;
          } else {
            outcome.invalid++;
            await errors.write(invalidRecord(deps.source, ref, raw, result));
          }
        }
      }
    } catch (err) {
      if (!(err instanceof UnreadableObjectError)) throw err;
      unreadable = err;
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

  if (unreadable) {
    const keys = await quarantineObject(
      deps.s3,
      deps.errorBucket,
      {
        source: deps.source,
        bucket: ref.bucket,
        key: ref.key,
        versionId: ref.versionId,
        etag: ref.etag,
        eventTime: ref.eventTime,
        reason: unreadable.message,
        eventsReadBeforeFailure: outcome.read,
        eventsPublishedBeforeFailure: outcome.published,
      },
      ref,
    ).catch((err: unknown) => {
      throw new ObjectFailedError(ref, outcome, err);
    });
    Object.assign(outcome, { status: 'quarantined', quarantineKey: keys.object, quarantineReason: unreadable.message });
  }
  return outcome;
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
    ...(result.eventId !== undefined ? { eventId: result.eventId } : {}),
    reasons: result.reasons,
    raw: raw.bytes.toString('utf8'),
    ...(badEncoding ? { rawBase64: raw.bytes.toString('base64') } : {}),
    rawBytes: raw.byteLength,
    ...(raw.truncated ? { rawTruncated: true as const } : {}),
  };
}
