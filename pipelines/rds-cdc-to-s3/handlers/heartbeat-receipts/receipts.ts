import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import type { AsyncBuffer } from 'hyparquet';
import { canaryPublishedAt, receiptBody, receiptKey } from '../../../../platform/freshness/contract';
import { HEARTBEAT_SOURCE } from '../heartbeat-writer/contract';

/**
 * The exit of pipeline 3's freshness canary. DMS writes the heartbeat table's changes as Parquet files under
 * `<bucketFolder>/stream_foundry/heartbeat/`; S3 notifies this function of each new file. For every canary row DMS
 * captured as an insert (`Op = I`), it writes a receipt to the same bucket at `receiptKey(...)`, committed at the S3
 * event's time: when the change became durable in the lake.
 *
 * Not receipted: full-load files (`LOAD*.parquet`: a (re)load copies the table's existing rows, which says nothing about
 * how fresh a change is), `D` rows (the writer's pruning of day-old canaries) and any id that is not a canary id.
 */

/** The columns read (DMS's operation column and the table's key); the Parquet names are case-sensitive. */
export const OPERATION_COLUMN = 'Op';
export const ID_COLUMN = 'canary_id';

/** A file of the heartbeat table's change log that carries changes (not a full load), given its decoded key. */
export function isChangeFile(key: string, changeFolder: string): boolean {
  if (!key.startsWith(changeFolder) || !key.endsWith('.parquet')) return false;
  const name = key.slice(key.lastIndexOf('/') + 1);
  return !name.startsWith('LOAD');
}

/** The canary ids a change-log file inserted, in file order, without duplicates. */
export function insertedCanaries(rows: Record<string, unknown>[]): string[] {
  const ids = rows
    .filter((r) => r[OPERATION_COLUMN] === 'I')
    .map((r) => r[ID_COLUMN])
    .filter((id): id is string => canaryPublishedAt(id) !== undefined);
  return [...new Set(ids)];
}

/** S3 event keys are URL-encoded with "+" for spaces. */
export function decodeKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export interface ReceiptWriterDeps {
  s3: S3Client;
  /** `<bucketFolder>/stream_foundry/heartbeat/` */
  changeFolder: string;
  /** The raw bucket's key (receipts are SSE-KMS like the change log). */
  kmsKeyArn: string;
  /** Opens an object for reading by ranges. */
  open(bucket: string, key: string, size: number): AsyncBuffer;
  /** Reads the named columns of every row. */
  readColumns(file: AsyncBuffer, columns: string[]): Promise<Record<string, unknown>[]>;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface WrittenReceipt {
  bucket: string;
  key: string;
}

/**
 * The S3-notification handler. A failure throws: Lambda retries the asynchronous invocation (receipts are idempotent:
 * the same canary and event time give the same key), then the invocation fails visibly in the function's errors.
 */
export function createReceiptWriter(deps: ReceiptWriterDeps) {
  const log = deps.log ?? (() => undefined);
  return async function onObjectCreated(event: S3Event): Promise<WrittenReceipt[]> {
    const written: WrittenReceipt[] = [];
    for (const record of event.Records ?? []) {
      const bucket = record.s3.bucket.name;
      const key = decodeKey(record.s3.object.key);
      if (!record.eventName?.startsWith('ObjectCreated:') || !isChangeFile(key, deps.changeFolder)) {
        log('not a heartbeat change file: ignored', { eventName: record.eventName, bucket, key });
        continue;
      }
      const committedAtMs = Date.parse(record.eventTime);
      if (Number.isNaN(committedAtMs)) throw new Error(`S3 event for s3://${bucket}/${key} has an invalid eventTime "${record.eventTime}"`);
      const rows = await deps.readColumns(deps.open(bucket, key, record.s3.object.size), [OPERATION_COLUMN, ID_COLUMN]);
      const ids = insertedCanaries(rows);
      for (const id of ids) {
        const receipt = { source: HEARTBEAT_SOURCE, id, publishedAtMs: canaryPublishedAt(id)!, committedAtMs };
        const receiptObject = receiptKey(receipt);
        await deps.s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: receiptObject,
            Body: receiptBody(receipt),
            ContentType: 'application/json',
            ServerSideEncryption: 'aws:kms',
            SSEKMSKeyId: deps.kmsKeyArn,
          }),
        );
        written.push({ bucket, key: receiptObject });
      }
      log('receipts written', { file: key, rows: rows.length, canaries: ids, committedAt: new Date(committedAtMs).toISOString() });
    }
    return written;
  };
}
