/**
 * The receipt writer of pipeline 3's freshness canary, on real Parquet files shaped as DMS writes the heartbeat table's
 * changes (support/heartbeat-parquet.ts), read back by the handler's hyparquet reader through a fake S3 that serves
 * byte ranges as S3 does.
 */
jest.mock('hyparquet', () => require('../../support/hyparquet').hyparquetCommonJs());

import { GetObjectCommand, GetObjectCommandInput, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { canaryId, parseReceiptKey, receiptKey } from '../../../../../platform/freshness/contract';
import { HEARTBEAT_SOURCE } from '../../../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-writer/contract';
import { readColumns } from '../../../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-receipts/parquet';
import { s3AsyncBuffer } from '../../../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-receipts/s3-range';
import { createReceiptWriter, decodeKey, insertedCanaries, isChangeFile } from '../../../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-receipts/receipts';
import { cdcFileKey, fullLoadKey, resolveLayout } from '../../../../../pipelines/rds-cdc-to-s3/construct/target-endpoint';
import { HeartbeatChange, HeartbeatParquetWriter } from '../../support/heartbeat-parquet';

const BUCKET = 'raw-bucket';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/raw';
const layout = resolveLayout({});
const FOLDER = 'cdc/stream_foundry/heartbeat/';

type Change = HeartbeatChange;

let parquet: HeartbeatParquetWriter;
const objects = new Map<string, Buffer>();
const s3 = mockClient(S3Client);

/** A DMS change-log file of the heartbeat table, stored in the fake bucket under `key`. */
async function dmsFile(key: string, changes: Change[], rowGroupSize?: number): Promise<Buffer> {
  const bytes = await parquet.file(changes, rowGroupSize);
  objects.set(key, bytes);
  return bytes;
}

/** S3's GetObject with a Range header: exactly those bytes (inclusive end), 416 past the end, AccessDenied when missing (no ListBucket). */
function serveRanges() {
  s3.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
    const body = objects.get(input.Key!);
    if (!body || input.Bucket !== BUCKET) throw new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' });
    const m = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
    if (!m) throw new Error(`expected a byte range, got ${input.Range}`);
    const [start, end] = [Number(m[1]), Math.min(Number(m[2]), body.length - 1)];
    if (start >= body.length) throw new S3ServiceException({ name: 'InvalidRange', $fault: 'client', $metadata: { httpStatusCode: 416 }, message: 'range' });
    const slice = Uint8Array.from(body.subarray(start, end + 1));
    return { Body: { transformToByteArray: async () => slice } as never, ContentLength: slice.length };
  });
  s3.on(PutObjectCommand).resolves({});
}

function s3Event(key: string, size: number, eventTime: string, eventName = 'ObjectCreated:Put'): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventTime,
        eventName,
        userIdentity: { principalId: 'dms' },
        requestParameters: { sourceIPAddress: '10.0.0.1' },
        responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': 'i' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'heartbeat',
          bucket: { name: BUCKET, ownerIdentity: { principalId: 'o' }, arn: `arn:aws:s3:::${BUCKET}` },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size, eTag: 'e', sequencer: '1' },
        },
      },
    ],
  };
}

const writer = () =>
  createReceiptWriter({
    s3: new S3Client({ region: 'eu-west-1' }),
    changeFolder: FOLDER,
    kmsKeyArn: KEY_ARN,
    open: (bucket, key, size) => s3AsyncBuffer(new S3Client({ region: 'eu-west-1' }), bucket, key, size),
    readColumns,
  });

const puts = () => s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

beforeAll(async () => {
  parquet = await HeartbeatParquetWriter.create();
});
afterAll(() => parquet?.close());
beforeEach(() => {
  s3.reset();
  objects.clear();
  serveRanges();
});

describe('heartbeat receipts', () => {
  const t0 = Date.UTC(2026, 11, 4, 18, 0, 0, 250);

  test('one receipt per inserted canary, committed at the S3 event time, SSE-KMS with the raw bucket key', async () => {
    const id = canaryId(t0);
    const old = canaryId(t0 - 86_400_000 - 60_000);
    const key = cdcFileKey(layout, 'stream_foundry', 'heartbeat', new Date(t0 + 6_000));
    // The writer's transaction: the new canary and the pruning of a day-old one, in one file.
    const bytes = await dmsFile(key, [
      { op: 'I', id, publishedMs: t0, commit: '2026-12-04 18:00:00.400000' },
      { op: 'D', id: old, publishedMs: t0 - 86_460_000, commit: '2026-12-04 18:00:00.400000' },
    ]);

    const written = await writer()(s3Event(key, bytes.length, '2026-12-04T18:00:06.789Z'));

    const committedAtMs = Date.parse('2026-12-04T18:00:06.789Z');
    const expectedKey = receiptKey({ source: HEARTBEAT_SOURCE, id, committedAtMs });
    expect(written).toEqual([{ bucket: BUCKET, key: expectedKey }]);
    expect(expectedKey).toBe(`_freshness/heartbeat/${id}/${committedAtMs}.json`);
    expect(parseReceiptKey(expectedKey)).toEqual({ source: 'heartbeat', id, publishedAtMs: t0, committedAtMs });
    const [put] = puts();
    expect(put).toMatchObject({ Bucket: BUCKET, Key: expectedKey, ContentType: 'application/json', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN });
    expect(JSON.parse(put.Body as string)).toEqual({
      source: 'heartbeat',
      id,
      publishedAt: '2026-12-04T18:00:00.250Z',
      committedAt: '2026-12-04T18:00:06.789Z',
      freshnessSeconds: 6.539,
    });
    // Read by byte ranges only, never the whole object in one unbounded GET.
    const gets = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input);
    expect(gets.length).toBeGreaterThan(0);
    for (const get of gets) expect(get).toMatchObject({ Bucket: BUCKET, Key: key, Range: expect.stringMatching(/^bytes=\d+-\d+$/) });
  });

  test('several canaries in one file (DMS batches a few seconds of changes): each gets its receipt; duplicates once', async () => {
    const ids = [t0, t0 + 60_000, t0 + 120_000].map(canaryId);
    const key = cdcFileKey(layout, 'stream_foundry', 'heartbeat', new Date(t0 + 125_000));
    const bytes = await dmsFile(key, [...ids, ids[1]].map((id, i) => ({ op: 'I' as const, id, publishedMs: t0 + i * 60_000, commit: '2026-12-04 18:02:00.000000' })));
    const written = await writer()(s3Event(key, bytes.length, '2026-12-04T18:02:05.000Z'));
    expect(written.map((w) => parseReceiptKey(w.key)!.id)).toEqual(ids);
  });

  test('a file of many row groups is read through its ranges (the columns it needs)', async () => {
    const changes: Change[] = Array.from({ length: 1200 }, (_, i) => ({ op: i % 3 === 0 ? 'I' : 'D', id: canaryId(t0 + i), publishedMs: t0 + i, commit: '2026-12-04 18:00:01.000000' }));
    const key = cdcFileKey(layout, 'stream_foundry', 'heartbeat', new Date(t0 + 9_000));
    const bytes = await dmsFile(key, changes, 200);
    const written = await writer()(s3Event(key, bytes.length, '2026-12-04T18:00:10.000Z'));
    expect(written).toHaveLength(400);
    expect(new Set(written.map((w) => parseReceiptKey(w.key)!.publishedAtMs % 3))).toEqual(new Set([t0 % 3]));
  });

  test('full-load files, other tables, non-Parquet keys and other event types get no receipt (and are not read)', async () => {
    const id = canaryId(t0);
    const load = fullLoadKey(layout, 'stream_foundry', 'heartbeat', 1);
    const bytes = await dmsFile(load, [{ op: 'I', id, publishedMs: t0, commit: '2026-12-04 18:00:00.000000' }]);
    const w = writer();
    expect(await w(s3Event(load, bytes.length, '2026-12-04T18:00:06.000Z'))).toEqual([]);
    expect(await w(s3Event('cdc/shop/orders/2026/12/04/20261204-180006000.parquet', 10, '2026-12-04T18:00:06.000Z'))).toEqual([]);
    expect(await w(s3Event(`${FOLDER}2026/12/04/notes.txt`, 10, '2026-12-04T18:00:06.000Z'))).toEqual([]);
    const change = cdcFileKey(layout, 'stream_foundry', 'heartbeat', new Date(t0));
    await dmsFile(change, [{ op: 'I', id, publishedMs: t0, commit: '2026-12-04 18:00:00.000000' }]);
    expect(await w(s3Event(change, objects.get(change)!.length, '2026-12-04T18:00:06.000Z', 'ObjectRemoved:Delete'))).toEqual([]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(puts()).toEqual([]);
  });

  test('a file it may not read fails the invocation (Lambda retries it), with nothing written', async () => {
    const key = cdcFileKey(layout, 'stream_foundry', 'heartbeat', new Date(t0));
    await expect(writer()(s3Event(key, 1000, '2026-12-04T18:00:06.000Z'))).rejects.toThrow(/Access Denied/);
    expect(puts()).toEqual([]);
  });

  test('an invalid event time fails loudly', async () => {
    const key = cdcFileKey(layout, 'stream_foundry', 'heartbeat', new Date(t0));
    await expect(writer()(s3Event(key, 10, 'yesterday'))).rejects.toThrow(/invalid eventTime "yesterday"/);
  });
});

describe('pure parts', () => {
  test('isChangeFile: CDC files of the heartbeat folder only', () => {
    expect(isChangeFile(`${FOLDER}2026/12/04/20261204-180006000.parquet`, FOLDER)).toBe(true);
    expect(isChangeFile(`${FOLDER}LOAD00000001.parquet`, FOLDER)).toBe(false);
    expect(isChangeFile('cdc/stream_foundry/heartbeat_old/2026/12/04/x.parquet', FOLDER)).toBe(false);
    expect(isChangeFile(`${FOLDER}2026/12/04/x.csv`, FOLDER)).toBe(false);
  });

  test('insertedCanaries: I rows with canary ids, in order, once', () => {
    const a = canaryId(1_000);
    const b = canaryId(2_000);
    expect(
      insertedCanaries([
        { Op: 'I', canary_id: a },
        { Op: 'D', canary_id: b },
        { Op: 'U', canary_id: b },
        { Op: 'I', canary_id: 'not-a-canary' },
        { Op: 'I', canary_id: null },
        { Op: 'I', canary_id: b },
        { Op: 'I', canary_id: a },
      ]),
    ).toEqual([a, b]);
  });

  test('decodeKey: S3 event keys are URL-encoded, "+" for a space', () => {
    expect(decodeKey('cdc/stream_foundry/heartbeat/a+b%3Dc.parquet')).toBe('cdc/stream_foundry/heartbeat/a b=c.parquet');
  });
});
