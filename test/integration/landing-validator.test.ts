/**
 * End to end against real local services: objects in s3rver, the handler run on an SNS event, and every record read
 * back from kinesalite (all shards) or the librdkafka mock cluster, and every line from the error bucket.
 */
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { SNSEvent } from 'aws-lambda';
import type { Producer } from 'kafkajs';
import { createHandler, HandlerResult } from '../../handlers/landing-validator/handler';
import { DEFAULT_RETRY_POLICY } from '../../handlers/shared/backoff';
import { createKafkaProducer, KafkaWriter } from '../../handlers/shared/kafka-writer';
import { loadSchema } from '../../handlers/shared/schema-validator';
import { clickEvent, s3Notification, snsEvent } from '../handlers/landing-validator/fixtures';
import { consumeAll, Emulator, KafkaMock, startKafkaMock, startKinesalite, startS3rver } from './emulators';

const SCHEMA_PATH = path.join(__dirname, '../../schemas/clickstream.schema.json');
const REGION = 'us-east-1';
const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/clickstream';
const TOPIC = 'clickstream';
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface Expected {
  body: Buffer;
  valid: string[];
  /** Line number → reason types. */
  invalid: Map<number, string[]>;
}

/** Thousands of valid events with every kind of invalid one mixed in, CRLF and blank lines included. */
function mixedFile(validCount: number): Expected {
  const lines: Buffer[] = [];
  const valid: string[] = [];
  const invalid = new Map<number, string[]>();
  const add = (line: Buffer | string, reasons?: string[]) => {
    lines.push(typeof line === 'string' ? Buffer.from(line) : line);
    if (reasons) invalid.set(lines.length, reasons);
  };
  const bad: Array<() => void> = [
    () => add(JSON.stringify(clickEvent({ event_type: 'scroll' })), ['schema']),
    () => add('{"event_id": "truncated', ['invalid_json']),
    () => add(Buffer.concat([Buffer.from('{"event_id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), ['bad_encoding']),
    () => add(JSON.stringify(clickEvent({ event_id: undefined })), ['schema', 'missing_id']),
    () => add(JSON.stringify(clickEvent({ user_id: undefined })), ['schema', 'missing_partition_key']),
    () => add('', undefined), // blank
  ];
  for (let i = 0; i < validCount; i++) {
    const text = JSON.stringify(clickEvent({ page: { url: 'https://shop.example.com/p', title: `Zoë's 🚀 page ${i}` } }));
    valid.push(text);
    add(i % 10 === 0 ? `${text}\r` : text);
    if (i % 10 === 5) bad[(i / 10) % bad.length | 0]();
  }
  add(JSON.stringify(clickEvent({ page: { url: 'https://x.example/', title: 'h'.repeat(1_100_000) } })), ['too_large']);
  return { body: Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])), valid, invalid };
}

const s3Event = (key: string, etag: string, eventTime = '2026-11-20T09:30:00Z'): SNSEvent =>
  snsEvent(
    s3Notification([{ bucket: 'landing', encodedKey: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), etag, eventTime }]),
  );

let s3rver: Emulator;
let s3: S3Client;
const savedEnv = { ...process.env };

beforeAll(async () => {
  s3rver = await startS3rver(['landing', 'errors']);
  s3 = new S3Client({ region: REGION, endpoint: s3rver.endpoint, forcePathStyle: true, credentials });
});
afterAll(async () => {
  process.env = savedEnv;
  s3?.destroy();
  await s3rver?.stop();
});

async function upload(key: string, body: Buffer): Promise<string> {
  const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'landing', Key: key, Body: body }));
  return ETag!.replace(/"/g, '');
}

/** Every invalid-event line in the error bucket under `prefix`. */
async function errorLines(prefix: string): Promise<Array<{ key: string; line: number; reasons: Array<{ type: string }>; raw: string }>> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'errors', Prefix: prefix }));
  const out = [];
  for (const { Key } of listed.Contents ?? []) {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: 'errors', Key }))).Body!.transformToString();
    out.push(...body.trimEnd().split('\n').map((l) => JSON.parse(l)));
  }
  return out;
}

function expectErrorsMatch(lines: Awaited<ReturnType<typeof errorLines>>, expected: Expected, key: string) {
  expect(lines).toHaveLength(expected.invalid.size);
  expect(new Map(lines.map((l) => [l.line, l.reasons.map((r) => r.type)]))).toEqual(expected.invalid);
  expect(lines.every((l) => l.key === key)).toBe(true);
}

describe('landing-validator against s3rver and kinesalite', () => {
  let kinesalite: Emulator;
  let kinesis: KinesisClient;
  let handler: (event: SNSEvent) => Promise<HandlerResult>;

  beforeAll(async () => {
    kinesalite = await startKinesalite();
    kinesis = new KinesisClient({ region: REGION, endpoint: kinesalite.endpoint, credentials, requestHandler: new NodeHttpHandler() });
    await kinesis.send(new CreateStreamCommand({ StreamName: 'clickstream', ShardCount: 3 }));
    // The real entry point, configured the way the construct configures the function.
    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_S3: s3rver.endpoint,
      AWS_ENDPOINT_URL_KINESIS: kinesalite.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      SOURCE_NAME: 'clickstream',
      SCHEMA_PATH,
      ID_FIELD: 'event_id',
      PARTITION_KEY_FIELD: 'user_id',
      TARGET: 'kinesis',
      KINESIS_STREAM_ARN: STREAM_ARN,
      ERROR_BUCKET: 'errors',
      POWERTOOLS_SERVICE_NAME: 'landing-validator',
      POWERTOOLS_METRICS_NAMESPACE: 'StreamFoundry/LandingZone',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = require('../../handlers/landing-validator/index').handler;
    });
  });
  afterAll(async () => {
    kinesis?.destroy();
    await kinesalite?.stop();
  });

  async function readStream(): Promise<string[]> {
    const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: 'clickstream' }));
    expect(Shards).toHaveLength(3);
    const records: string[] = [];
    for (const shard of Shards!) {
      let { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({ StreamName: 'clickstream', ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      for (;;) {
        const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
        records.push(...page.Records!.map((r) => Buffer.from(r.Data!).toString('utf8')));
        if (page.Records!.length === 0) break;
        ShardIterator = page.NextShardIterator;
      }
    }
    return records;
  }

  it('publishes every valid event to the stream and every invalid one to the error bucket, losing nothing', async () => {
    const expected = mixedFile(3000);
    const key = 'clickstream/2026/11/20/mixed batch.ndjson';
    const etag = await upload(key, expected.body);

    const result = await handler(s3Event(key, etag));

    expect(result.objects).toEqual([
      expect.objectContaining({ status: 'processed', read: 3000 + expected.invalid.size, valid: 3000, invalid: expected.invalid.size, published: 3000 }),
    ]);
    const records = await readStream();
    expect(records).toHaveLength(3000);
    expect([...records].sort()).toEqual([...expected.valid].sort());
    expectErrorsMatch(await errorLines('invalid/source=clickstream/date=2026-11-20/'), expected, key);

    // Run twice (at-least-once delivery): the error output is overwritten, not duplicated.
    await handler(s3Event(key, etag));
    expectErrorsMatch(await errorLines('invalid/source=clickstream/date=2026-11-20/'), expected, key);
    expect(new Set(await readStream()).size).toBe(3000); // duplicates downstream are the same events, by id
  });

  it('quarantines a corrupt gzip object in the error bucket', async () => {
    const key = 'clickstream/2026/11/20/corrupt.ndjson.gz';
    const etag = await upload(key, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from('definitely not deflate data')]));
    const result = await handler(s3Event(key, etag));
    expect(result.objects).toEqual([expect.objectContaining({ status: 'quarantined', read: 0 })]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'errors', Prefix: 'quarantine/source=clickstream/date=2026-11-20/' }));
    const keys = (listed.Contents ?? []).map((c) => c.Key!);
    expect(keys.map((k) => k.split('/').pop()).sort()).toEqual(['corrupt.ndjson.gz', 'reason.json']);
    const copy = await s3.send(new GetObjectCommand({ Bucket: 'errors', Key: keys.find((k) => k.endsWith('.gz')) }));
    expect(Buffer.from(await copy.Body!.transformToByteArray()).toString('latin1')).toContain('definitely not deflate data');
    const reason = JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket: 'errors', Key: keys.find((k) => k.endsWith('reason.json')) }))).Body!.transformToString(),
    );
    expect(reason).toMatchObject({ key, etag, reason: expect.stringMatching(/^invalid gzip data: /), eventsReadBeforeFailure: 0 });
  });
});

describe('landing-validator against s3rver and the librdkafka mock cluster', () => {
  let kafka: KafkaMock;
  let producer: Producer;

  beforeAll(async () => {
    kafka = await startKafkaMock(TOPIC);
    producer = createKafkaProducer({ brokers: kafka.bootstrapServers.split(','), auth: 'none', tls: false, clientId: 'it' });
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect();
    await kafka?.stop();
  });

  it('publishes every valid event of a gzip object to the topic, keyed, with event ids', async () => {
    const expected = mixedFile(2000);
    const key = 'clickstream/2026/11/22/batch.ndjson.gz';
    const etag = await upload(key, gzipSync(expected.body));
    const handler = createHandler({
      s3,
      source: 'clickstream',
      errorBucket: 'errors',
      validate: loadSchema(SCHEMA_PATH),
      idField: 'event_id',
      partitionKeyField: 'user_id',
      createPublisher: async () => new KafkaWriter({ producer, topic: TOPIC, retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 } }),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'StreamFoundry/LandingZone', serviceName: 'landing-validator' }),
    });

    const result = await handler(s3Event(key, etag, '2026-11-22T23:59:59Z'));
    expect(result.objects).toEqual([expect.objectContaining({ status: 'processed', compressed: true, valid: 2000, published: 2000 })]);

    const messages = consumeAll(kafka.bootstrapServers, TOPIC);
    expect(messages).toHaveLength(2000);
    expect(messages.map((m) => m.payload).sort()).toEqual([...expected.valid].sort());
    for (const m of messages) {
      const event = JSON.parse(m.payload);
      expect(m.key).toBe(event.user_id);
      expect(m.headers).toEqual(['event-id', event.event_id]);
    }
    // Same key, same partition.
    const partitionsPerKey = new Map<string, Set<number>>();
    for (const m of messages) partitionsPerKey.set(m.key, (partitionsPerKey.get(m.key) ?? new Set()).add(m.partition));
    expect([...partitionsPerKey.values()].every((p) => p.size === 1)).toBe(true);
    expect(new Set(messages.map((m) => m.partition)).size).toBeGreaterThan(1);
    expectErrorsMatch(await errorLines('invalid/source=clickstream/date=2026-11-22/'), expected, key);
  });
});
