/**
 * Reading the raw zone: the objects of one hour prefix (ListObjectsV2, every page), and the records of one object,
 * streamed (gunzip and line splitting by the landing zone's own readers: memory stays bounded by the longest record,
 * whatever the object's size).
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readObjectRecords } from '../../platform/handlers/object-records';
import { MAX_RECORD_BYTES } from '../../platform/handlers/publisher';
import { RawRecord } from '../../platform/handlers/raw-record';

export interface RawObject {
  key: string;
  size: number;
}

/** Every object under `prefix`, in key order (the raw zone's writers put the time first in their file names). */
export async function* listObjects(s3: Pick<S3Client, 'send'>, bucket: string, prefix: string): AsyncGenerator<RawObject> {
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    for (const object of page.Contents ?? []) {
      // A "folder" marker written by a console is not a file of the layout.
      if (object.Key && !object.Key.endsWith('/')) yield { key: object.Key, size: object.Size ?? 0 };
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
}

/**
 * The records of one object, in batches, each record's bytes as archived (line terminator removed). Empty lines
 * (a Kafka tombstone is archived as one) are skipped by the reader; `blank` counts them from the line numbers.
 */
export async function readRecords(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  key: string,
): Promise<{ batches: AsyncIterable<RawRecord[]>; blank: () => number }> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = object.Body as AsyncIterable<Uint8Array> | undefined;
  if (!body) throw new Error(`s3://${bucket}/${key} has no body`);
  // One record per line whatever the file is called (a `.json.gz` name would make the reader expect JSON text); a
  // `.gz` name still means the object must be gzip.
  const asNdjson = /\.gz$/i.test(key) ? 'records.ndjson.gz' : 'records.ndjson';
  const { batches } = await readObjectRecords(body, { key: asNdjson, contentEncoding: object.ContentEncoding, contentType: object.ContentType }, MAX_RECORD_BYTES);
  let lastLine = 0;
  let blank = 0;
  async function* counted(): AsyncGenerator<RawRecord[]> {
    for await (const batch of batches) {
      for (const record of batch) {
        blank += record.line - lastLine - 1;
        lastLine = record.line;
      }
      yield batch;
    }
  }
  return { batches: counted(), blank: () => blank };
}
