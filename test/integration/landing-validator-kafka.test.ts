/**
 * The Kafka target end to end: objects in s3rver, the real entry point configured for Kafka (TARGET=kafka), events
 * produced to librdkafka's mock cluster and read back with kcat. The produce requests are read off the wire, so the
 * record batches are checked against the broker's limit (MSK's default message.max.bytes, 1,048,588 bytes) as a
 * broker would check them.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SNSEvent } from 'aws-lambda';
import type { HandlerResult } from '../../platform/landing-zone/validator/handler';
import { clickEvent, s3Notification, snsEvent } from '../platform/landing-zone/validator/fixtures';
import { consumeAll, Emulator, KafkaMock, startKafkaMock, startS3rver } from './emulators';

const SCHEMA_PATH = path.join(__dirname, '../../schemas/clickstream.schema.json');
const REGION = 'us-east-1';
const TOPIC = 'clickstream';
const MESSAGE_MAX_BYTES = 1_048_588;
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

let s3rver: Emulator;
let kafka: KafkaMock;
let s3: S3Client;
let handler: (event: SNSEvent) => Promise<HandlerResult>;
const savedEnv = { ...process.env };

/** Record batch sizes of every Produce request written to a socket, read from the request bytes (Produce v3-v8). */
const batchSizes: number[] = [];

const originalWrite = net.Socket.prototype.write;

function recordProduceBatches(frame: Buffer): void {
  if (frame.length < 12 || frame.readInt16BE(4) !== 0) return; // apiKey 0 = Produce
  let at = 12; // size, apiKey, apiVersion, correlationId
  const string = () => {
    const len = frame.readInt16BE(at);
    at += 2 + Math.max(len, 0);
  };
  string(); // clientId
  string(); // transactionalId (v3+)
  at += 2 + 4; // acks, timeout
  for (let topics = frame.readInt32BE((at += 4) - 4); topics > 0; topics--) {
    string();
    for (let partitions = frame.readInt32BE((at += 4) - 4); partitions > 0; partitions--) {
      at += 4; // partition
      const size = frame.readInt32BE(at);
      batchSizes.push(size);
      at += 4 + size;
    }
  }
}

beforeAll(async () => {
  s3rver = await startS3rver(['landing', 'errors']);
  kafka = await startKafkaMock(TOPIC);
  s3 = new S3Client({ region: REGION, endpoint: s3rver.endpoint, forcePathStyle: true, credentials });
  const brokerPorts = new Set(kafka.bootstrapServers.split(',').map((b) => Number(b.split(':').pop())));
  net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (Buffer.isBuffer(chunk) && brokerPorts.has(this.remotePort ?? -1)) recordProduceBatches(chunk);
    return (originalWrite as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof originalWrite;
  process.env = {
    ...savedEnv,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3rver.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    SOURCE_NAME: 'clickstream',
    SCHEMA_PATH,
    ID_FIELD: 'event_id',
    PARTITION_KEY_FIELD: 'user_id',
    TARGET: 'kafka',
    KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
    KAFKA_TOPIC: TOPIC,
    KAFKA_AUTH: 'none',
    KAFKA_TLS: 'false',
    ERROR_BUCKET: 'errors',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = require('../../platform/landing-zone/validator/index').handler;
  });
});
afterAll(async () => {
  net.Socket.prototype.write = originalWrite;
  process.env = savedEnv;
  s3?.destroy();
  await kafka?.stop();
  await s3rver?.stop();
});

async function errorLines(key: string): Promise<Array<{ key: string; line: number; reasons: Array<{ type: string; message: string }>; raw: string; rawTruncated?: boolean }>> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'errors', Prefix: 'invalid/' }));
  const out = [];
  for (const { Key } of listed.Contents ?? []) {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: 'errors', Key }))).Body!.transformToString();
    out.push(...body.trimEnd().split('\n').map((l) => JSON.parse(l)).filter((l) => l.key === key));
  }
  return out;
}

describe('landing-validator against s3rver and the librdkafka mock cluster', () => {
  it('publishes keyed events with ids in record batches within message.max.bytes, and refuses a record that cannot fit one', async () => {
    const tag = 's-kafka';
    // ~2.3 KB events: about 450 make a full batch. (Not many more: the mock cluster keeps only a few MB per partition.) Most share one key (one partition), so a send is one record
    // batch and must itself fit the limit; the rest spread over the partitions.
    const valid = Array.from({ length: 1200 }, (_, i) =>
      JSON.stringify(
        clickEvent({ session_id: tag, user_id: i >= 600 && i % 3 === 0 ? `u-${i % 101}` : 'u-hot', page: { url: 'https://shop.example.com/', title: `${i} ${'t'.repeat(2200)}` } }),
      ),
    );
    // Fits Kinesis' 1 MiB with its key, but not one Kafka record batch of 1,048,588 bytes with key, header and batch header.
    const big = clickEvent({ session_id: tag, user_id: 'u-big', page: { url: 'https://x.example/', title: '' } });
    (big.page as { title: string }).title = 'b'.repeat(1024 * 1024 - Buffer.byteLength(JSON.stringify(big)) - 20);
    const bigLine = JSON.stringify(big);
    const all = [...valid.slice(0, 600), bigLine, ...valid.slice(600)];
    const key = 'clickstream/2026/11/22/batch.ndjson.gz';
    const body = gzipSync(all.join('\n'));
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'landing', Key: key, Body: body }));
    batchSizes.length = 0;

    const result = await handler(
      snsEvent(s3Notification([{ bucket: 'landing', encodedKey: key, etag: ETag!.replace(/"/g, ''), eventTime: '2026-11-22T23:59:59Z' }])),
    );
    expect(result.objects).toEqual([expect.objectContaining({ status: 'processed', compressed: true, read: 1201, valid: 1200, invalid: 1, published: 1200 })]);

    // On the wire: every record batch within the broker's limit, and batches filled close to it.
    expect(batchSizes.length).toBeGreaterThan(4);
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(MESSAGE_MAX_BYTES);
    expect(Math.max(...batchSizes)).toBeGreaterThan(0.95 * MESSAGE_MAX_BYTES);

    // Accounting: 1200 published exactly once and as written, 1 in the error file in full with the reason.
    const messages = consumeAll(kafka.bootstrapServers, TOPIC).filter((m) => JSON.parse(m.payload).session_id === tag);
    expect(messages.map((m) => m.payload).sort()).toEqual([...valid].sort());
    for (const m of messages) {
      const event = JSON.parse(m.payload);
      expect(m.key).toBe(event.user_id);
      expect(m.headers).toEqual(['event-id', event.event_id]);
    }
    const partitionsPerKey = new Map<string, Set<number>>();
    for (const m of messages) partitionsPerKey.set(m.key, (partitionsPerKey.get(m.key) ?? new Set()).add(m.partition));
    expect([...partitionsPerKey.values()].every((p) => p.size === 1)).toBe(true);
    const errors = await errorLines(key);
    expect(errors).toEqual([
      expect.objectContaining({
        line: 601,
        raw: bigLine,
        reasons: [{ type: 'too_large', message: expect.stringMatching(/over the broker's 1048588-byte message\.max\.bytes$/) }],
      }),
    ]);
    expect(errors[0].rawTruncated).toBeUndefined();
    expect(messages.length + errors.length).toBe(all.length);
  });
});
