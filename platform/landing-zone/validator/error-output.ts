import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { CopyObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Reason } from './classify';
import { ObjectRef } from './s3-events';

/** One line of an invalid-events file: everything needed to understand, fix and replay one rejected event. */
export interface InvalidEventRecord {
  source: string;
  bucket: string;
  key: string;
  versionId?: string;
  etag?: string;
  /** 1-based line where the event starts in the (decompressed) object. */
  line: number;
  /** 1-based element index, for JSON array objects. */
  element?: number;
  /** 1-based position among several JSON values on one NDJSON line. */
  part?: number;
  /** The event's id when it could be read, to match it with a corrected resend. */
  eventId?: string;
  reasons: Reason[];
  /** The raw text; invalid UTF-8 sequences shown as U+FFFD (exact bytes in `rawBase64`). */
  raw: string;
  /** Exact bytes, only for events rejected for bad encoding. */
  rawBase64?: string;
  /** Length of the whole raw event in bytes. */
  rawBytes: number;
  /** `raw` holds only the start of an event too large to keep in memory. */
  rawTruncated?: true;
}

/** Identifies one version of one object: same inputs, same error keys, so a rerun overwrites instead of adding. */
export function objectFingerprint(ref: Pick<ObjectRef, 'bucket' | 'key' | 'versionId' | 'etag'>): string {
  return createHash('sha256')
    .update(`${ref.bucket}\n${ref.key}\n${ref.versionId ?? ''}\n${ref.etag ?? ''}`)
    .digest('hex')
    .slice(0, 32);
}

const partition = (source: string, ref: ObjectRef): string => `source=${source}/date=${ref.eventTime.slice(0, 10)}`;

/** `invalid/source=<source>/date=<event date>/<fingerprint>.ndjson` */
export const invalidEventsKey = (source: string, ref: ObjectRef): string =>
  `invalid/${partition(source, ref)}/${objectFingerprint(ref)}.ndjson`;

/** `quarantine/source=<source>/date=<event date>/<fingerprint>/{<file name>,reason.json}` */
export function quarantineKeys(source: string, ref: ObjectRef): { object: string; reason: string } {
  const folder = `quarantine/${partition(source, ref)}/${objectFingerprint(ref)}`;
  // Keep the original file name for humans, shortened (by whole characters: cutting a surrogate pair would make the
  // key invalid) so the key stays far below S3's 1,024-byte limit; never named like the reason file beside it.
  const chars = [...(ref.key.split('/').pop() || 'object')];
  let name = chars.slice(-100).join('');
  if (name === 'reason.json') name = 'object-reason.json';
  return { object: `${folder}/${name}`, reason: `${folder}/reason.json` };
}

/**
 * Streams invalid-event records as NDJSON to one error-bucket object. Nothing is sent until the first record; small
 * files go up with one PutObject, large ones as a multipart upload in 5 MiB parts, so memory stays bounded.
 */
export class InvalidEventsFile {
  private body?: PassThrough;
  private upload?: Upload;
  private settled?: Promise<void>;
  private failure?: unknown;
  private count = 0;

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    readonly key: string,
  ) {}

  get written(): number {
    return this.count;
  }

  async write(record: InvalidEventRecord): Promise<void> {
    if (!this.body) this.start();
    const body = this.body as PassThrough;
    this.count++;
    if (!body.write(`${JSON.stringify(record)}\n`)) {
      // If the upload fails it stops reading and 'drain' never comes: wait for whichever happens first.
      await Promise.race([once(body, 'drain'), this.settled]);
    }
    this.throwIfFailed();
  }

  /** Makes the file durable; returns only once S3 has stored it. */
  async complete(): Promise<void> {
    if (!this.body) return;
    this.body.end();
    await this.settled;
    this.throwIfFailed();
  }

  /** Gives up the upload (no partial object, no orphaned multipart parts). */
  async abort(): Promise<void> {
    if (!this.upload) return;
    await this.upload.abort().catch(() => undefined);
    this.body?.destroy();
    await this.settled;
  }

  private start(): void {
    this.body = new PassThrough();
    this.upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: this.key, Body: this.body, ContentType: 'application/x-ndjson' },
      queueSize: 2,
    });
    this.settled = this.upload.done().then(
      () => undefined,
      (err: unknown) => {
        this.failure = err;
      },
    );
  }

  private throwIfFailed(): void {
    if (this.failure) {
      throw new Error(`writing invalid events to s3://${this.bucket}/${this.key} failed: ${(this.failure as Error).message}`, {
        cause: this.failure,
      });
    }
  }
}

export interface QuarantineReason {
  source: string;
  bucket: string;
  key: string;
  versionId?: string;
  etag?: string;
  eventTime: string;
  reason: string;
  /** Events handled before the object turned out unreadable: valid ones were published, invalid ones written. */
  eventsReadBeforeFailure: number;
  eventsPublishedBeforeFailure: number;
  /** Absent when the object was not copied (it is not this source's: left where it is). */
  quarantinedCopy?: string;
}

/**
 * Copies an unreadable object whole into the error bucket, next to a `reason.json`. The copy is pinned to the version
 * (or ETag) that was read. CopyObject handles objects up to 5 GiB; a larger one makes the call fail, which fails the
 * invocation and so lands the event in the dead-letter queue.
 */
export async function quarantineObject(
  s3: S3Client,
  errorBucket: string,
  details: Omit<QuarantineReason, 'quarantinedCopy'>,
  ref: ObjectRef,
  { copy = true }: { copy?: boolean } = {},
): Promise<{ object: string; reason: string }> {
  const keys = quarantineKeys(details.source, ref);
  if (copy) await s3.send(
    new CopyObjectCommand({
      Bucket: errorBucket,
      Key: keys.object,
      // URL-encoded, slashes kept as they are (as in S3's own examples).
      CopySource: `${ref.bucket}/${encodeURIComponent(ref.key).replace(/%2F/g, '/')}${ref.versionId ? `?versionId=${encodeURIComponent(ref.versionId)}` : ''}`,
      ...(ref.versionId || !ref.etag ? {} : { CopySourceIfMatch: `"${ref.etag}"` }),
    }),
  );
  const reason: QuarantineReason = { ...details, ...(copy ? { quarantinedCopy: `s3://${errorBucket}/${keys.object}` } : {}) };
  await s3.send(
    new PutObjectCommand({
      Bucket: errorBucket,
      Key: keys.reason,
      Body: `${JSON.stringify(reason, null, 2)}\n`,
      ContentType: 'application/json',
    }),
  );
  return keys;
}
