/**
 * What both benchmark processes share: synthetic clickstream data, generated as a stream, and the validator's real
 * object path (S3 body → gunzip/format detection → line reader → JSON.parse → Ajv → Kinesis batching → error file)
 * with AWS replaced by in-process stubs that acknowledge and discard.
 */
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ObjectOutcome, processObject } from '../../platform/landing-zone/validator/process-object';
import { KinesisWriter } from '../../platform/handlers/kinesis-writer';
import { loadSchema } from '../../platform/handlers/schema-validator';

const EVENT_TYPES = ['page_view', 'click', 'add_to_cart', 'purchase', 'search'];
/** One event in this many is invalid (unknown event type), so the error path runs too. */
export const INVALID_EVERY = 100;

function eventLine(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  const event = {
    event_id: `0b7e4a52-8a1f-4c57-9a39-${hex}`,
    event_type: i % INVALID_EVERY === 0 ? 'scroll' : EVENT_TYPES[i % EVENT_TYPES.length],
    occurred_at: new Date(1_790_000_000_000 + i * 37).toISOString(),
    user_id: `u-${i % 50_021}`,
    session_id: `s-${i % 90_001}`,
    page: { url: `https://shop.example.com/p/sku-${i % 997}?ref=home`, referrer: null, title: 'Winter boots – size 42' },
    device: { os: i % 3 === 0 ? 'ios' : 'web', app_version: '4.12.0', screen_width: 390 + (i % 1000) },
    tags: ['boots', 'winter'],
    duration_ms: i % 10_000,
    is_bot: false,
  };
  return JSON.stringify(event);
}

/** NDJSON of about `totalBytes`, produced lazily in 64 KiB chunks that cut lines anywhere, as S3 does. */
export async function* ndjsonChunks(totalBytes: number, chunkBytes = 64 * 1024): AsyncGenerator<Buffer> {
  let produced = 0;
  let i = 0;
  let carry = Buffer.alloc(0);
  while (produced < totalBytes) {
    const lines: string[] = [];
    for (let size = 0; size < 1024 * 1024; i++) {
      const line = eventLine(i);
      lines.push(line);
      size += line.length + 1;
    }
    let block = Buffer.concat([carry, Buffer.from(`${lines.join('\n')}\n`)]);
    produced += block.length - carry.length;
    let offset = 0;
    for (; offset + chunkBytes <= block.length; offset += chunkBytes) yield block.subarray(offset, offset + chunkBytes);
    carry = block.subarray(offset);
    block = Buffer.alloc(0);
  }
  if (carry.length > 0) yield carry;
}

/** Compiled once per process, as the Lambda does once per container: not part of any timed run. */
const VALIDATE = loadSchema(path.join(__dirname, '../../schemas/clickstream.schema.json'));

export interface PipelineRun {
  outcome: ObjectOutcome;
  putRecordsCalls: number;
  errorFileBytes: number;
}

/**
 * Runs `processObject` on a body stream, with S3 stubbed out in-process, and Kinesis too unless `kinesisClient` is
 * given (a real client, for the runs against a local endpoint over HTTP).
 */
export async function runPipeline(body: () => AsyncIterable<Buffer>, kinesisClient?: KinesisClient): Promise<PipelineRun> {
  const s3Client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const s3 = mockClient(s3Client);
  let errorFileBytes = 0;
  s3.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from(body()), ETag: '"bench"' }));
  // The error file: one PutObject when small, a multipart upload when over 5 MiB.
  s3.on(PutObjectCommand).callsFake((input: { Body: Uint8Array }) => {
    errorFileBytes += input.Body.length;
    return {};
  });
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'bench' });
  s3.on(UploadPartCommand).callsFake((input: { Body: Uint8Array; PartNumber: number }) => {
    errorFileBytes += input.Body.length;
    return { ETag: `"part-${input.PartNumber}"` };
  });
  s3.on(CompleteMultipartUploadCommand).resolves({});
  let putRecordsCalls = 0;
  const stub = {
    send: async () => {
      putRecordsCalls++;
      return { FailedRecordCount: 0, Records: [] };
    },
  } as unknown as KinesisClient;
  const kinesis = kinesisClient
    ? ({ send: (...args: Parameters<KinesisClient['send']>) => (putRecordsCalls++, kinesisClient.send(...args)) } as unknown as KinesisClient)
    : stub;
  const outcome = await processObject(
    { bucket: 'landing', key: 'clickstream/bench.ndjson', etag: 'bench', eventTime: '2026-11-20T00:00:00Z' },
    {
      s3: s3Client,
      source: 'clickstream',
      errorBucket: 'errors',
      validate: VALIDATE,
      idField: 'event_id',
      partitionKeyField: 'user_id',
      createPublisher: async () =>
        new KinesisWriter({
          client: kinesis,
          streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/clickstream',
          retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
          // Otherwise the handler's defaults (KINESIS_WRITER_DEFAULTS: 8 calls in flight).
        }),
    },
  );
  s3.restore();
  return { outcome, putRecordsCalls, errorFileBytes };
}
