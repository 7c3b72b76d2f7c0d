/**
 * End to end against real local services, through the real entry point (`index.ts`, configured by environment as the
 * construct configures it): objects in s3rver, the handler run on an SNS event, every record read back from
 * kinesalite (all shards) and every line and quarantined object from the error bucket.
 *
 * Each hostile-file class has a test, and every test checks the accounting of its file: every event the file holds
 * is published, or in the error bucket in full with its reason, or in a whole quarantined copy of the object (or the
 * object is rejected whole with its reason); nothing is published that the file does not hold.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { SNSEvent } from 'aws-lambda';
import type { HandlerResult } from '../../platform/landing-zone/validator/handler';
import { clickEvent, s3Notification, snsEvent } from '../platform/landing-zone/validator/fixtures';
import { Emulator, readKinesisStream, startKinesalite, startS3rver } from './emulators';

const SCHEMA_PATH = path.join(__dirname, '../../schemas/clickstream.schema.json');
const REGION = 'us-east-1';
const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/clickstream';
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const MiB = 1024 * 1024;

type Handler = (event: SNSEvent) => Promise<HandlerResult>;

let s3rver: Emulator;
let kinesalite: Emulator;
let s3: S3Client;
let kinesis: KinesisClient;
let handler: Handler;
const savedEnv = { ...process.env };

/** The function's environment, as the construct sets it. */
const functionEnv = (overrides: Record<string, string> = {}) => ({
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
  ...overrides,
});

/**
 * A fresh copy of the real entry point, loaded with `env`. It reads its configuration at load, and the AWS SDK reads
 * endpoint variables when a client first sends, so `env` stays in force until the next call.
 */
function loadHandler(env: Record<string, string>): Handler {
  let loaded: Handler | undefined;
  process.env = { ...savedEnv, ...env };
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('../../platform/landing-zone/validator/index').handler;
  });
  return loaded!;
}

beforeAll(async () => {
  s3rver = await startS3rver(['landing', 'errors']);
  kinesalite = await startKinesalite();
  s3 = new S3Client({ region: REGION, endpoint: s3rver.endpoint, forcePathStyle: true, credentials });
  kinesis = new KinesisClient({ region: REGION, endpoint: kinesalite.endpoint, credentials, requestHandler: new NodeHttpHandler() });
  await kinesis.send(new CreateStreamCommand({ StreamName: 'clickstream', ShardCount: 3 }));
  handler = loadHandler(functionEnv());
});
afterAll(async () => {
  process.env = savedEnv;
  s3?.destroy();
  kinesis?.destroy();
  await kinesalite?.stop();
  await s3rver?.stop();
});

async function upload(key: string, body: Buffer, meta: { ContentEncoding?: string; ContentType?: string } = {}): Promise<string> {
  const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'landing', Key: key, Body: body, ...meta }));
  return ETag!.replace(/"/g, '');
}

const s3Event = (key: string, etag: string, eventTime = '2026-11-20T09:30:00Z'): SNSEvent =>
  snsEvent(s3Notification([{ bucket: 'landing', encodedKey: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), etag, eventTime }]));

async function getObject(bucket: string, key: string): Promise<Buffer> {
  return Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
}

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return keys;
}

interface ErrorLine {
  key: string;
  line: number;
  element?: number;
  part?: number;
  reasons: Array<{ type: string; message: string }>;
  raw: string;
  rawTruncated?: boolean;
}

/** Every invalid-event line in the error bucket about landing object `key`. */
async function errorLines(key: string): Promise<ErrorLine[]> {
  const out: ErrorLine[] = [];
  for (const k of await listKeys('errors', 'invalid/')) {
    const lines = (await getObject('errors', k)).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as ErrorLine);
    out.push(...lines.filter((l) => l.key === key));
  }
  return out;
}

/** The quarantine entry about landing object `key`: its reason.json and, if it was copied, the copy's bytes. */
async function quarantined(key: string): Promise<{ reason: Record<string, unknown>; copy?: Buffer } | undefined> {
  for (const k of (await listKeys('errors', 'quarantine/')).filter((k) => k.endsWith('/reason.json'))) {
    const reason = JSON.parse((await getObject('errors', k)).toString('utf8'));
    if (reason.key !== key) continue;
    const copyKey = typeof reason.quarantinedCopy === 'string' ? reason.quarantinedCopy.replace('s3://errors/', '') : undefined;
    return { reason, ...(copyKey ? { copy: await getObject('errors', copyKey) } : {}) };
  }
  return undefined;
}

/** Published records of one test: each test tags its events with its own session id. */
async function publishedWith(tag: string): Promise<string[]> {
  return (await readKinesisStream(kinesis, 'clickstream', cursors)).filter((r) => JSON.parse(r).session_id === tag);
}
/** Where reading the stream got to, so each test reads only what was published since (kept in `cursors.seen`). */
const cursors = new Map<string, string>();

/** JSON text without whitespace outside strings: what a pretty-printed event is published as. */
const compact = (text: string): string => text.replace(/"(?:[^"\\]|\\.)*"|\s+/g, (m) => (m.startsWith('"') ? m : ''));

interface Accounting {
  in: number;
  published: number;
  errored: number;
  quarantined: number;
}

/**
 * The rule: every event of the file is published (exactly once, as written), or in an error line in full, or the
 * object is quarantined whole (the copy holds every byte) or rejected whole with its reason. Returns the tally, so
 * each test also states which way its events went.
 */
async function account(file: { key: string; body: Buffer; events: string[]; tag: string }, result: HandlerResult): Promise<Accounting> {
  const published = await publishedWith(file.tag);
  const errors = await errorLines(file.key);
  const quarantine = await quarantined(file.key);
  const wholeCopy = quarantine?.copy?.equals(file.body) ?? false;
  const rejectedWhole = quarantine !== undefined && quarantine.copy === undefined;
  const remaining = new Map<string, number>();
  for (const p of published) remaining.set(p, (remaining.get(p) ?? 0) + 1);
  const tally: Accounting = { in: file.events.length, published: 0, errored: 0, quarantined: 0 };
  const lost: string[] = [];
  for (const event of file.events) {
    const asPublished = compact(event);
    if ((remaining.get(asPublished) ?? 0) > 0) {
      remaining.set(asPublished, remaining.get(asPublished)! - 1);
      tally.published++;
    } else if (errors.some((l) => !l.rawTruncated && l.raw.includes(event))) tally.errored++;
    else if (wholeCopy || rejectedWhole) tally.quarantined++;
    else lost.push(event.slice(0, 200));
  }
  expect(lost).toEqual([]);
  expect(tally.published + tally.errored + tally.quarantined).toBe(tally.in);
  // Nothing published that the file does not hold, nothing twice.
  expect([...remaining.values()].filter((n) => n > 0)).toEqual([]);
  // The run reports what happened: quarantined exactly when a whole copy (or a rejection) exists, counters agree.
  const [outcome] = result.objects;
  expect(outcome.status === 'quarantined').toBe(quarantine !== undefined);
  if (quarantine?.copy) expect(wholeCopy).toBe(true);
  expect(outcome.published).toBe(published.length);
  expect(outcome.valid).toBe(outcome.published);
  expect(outcome.read).toBe(outcome.valid + outcome.invalid);
  expect(errors).toHaveLength(outcome.invalid);
  return tally;
}

const ndjson = (events: string[], end = '\n'): Buffer => Buffer.from(events.map((e) => `${e}${end}`).join(''));
const events = (tag: string, n: number, overrides: Record<string, unknown> = {}): string[] =>
  Array.from({ length: n }, (_, i) => JSON.stringify(clickEvent({ session_id: tag, user_id: `u-${i % 97}`, ...overrides })));

async function validate(key: string, body: Buffer, meta: { ContentEncoding?: string; ContentType?: string } = {}) {
  const etag = await upload(key, body, meta);
  return handler(s3Event(key, etag));
}

describe('landing-validator against s3rver and kinesalite', () => {
  it('publishes every valid event and writes every invalid one, idempotently (a mixed file)', async () => {
    const tag = 's-mixed';
    const valid = events(tag, 3000, { page: { url: 'https://shop.example.com/p', title: "Zoë's 🚀 page" } });
    const bad = [
      JSON.stringify(clickEvent({ session_id: tag, event_type: 'scroll' })),
      `{"event_id": "truncated", "session_id": "${tag}"`,
      JSON.stringify(clickEvent({ session_id: tag, event_id: undefined })),
      JSON.stringify(clickEvent({ session_id: tag, user_id: undefined })),
    ];
    // Over the 1 MiB Kinesis limit only with its partition key: rejected, and kept whole in the error file.
    const nearLimit = clickEvent({ session_id: tag, user_id: 'u-1234567', page: { url: 'https://x.example/', title: '' } });
    (nearLimit.page as { title: string }).title = 'h'.repeat(MiB - Buffer.byteLength(JSON.stringify(nearLimit)) - 2);
    const all = [...valid.slice(0, 1500), ...bad, JSON.stringify(nearLimit), ...valid.slice(1500)];
    const body = Buffer.from(all.map((e, i) => `${e}${i % 10 === 0 ? '\r\n' : '\n'}${i % 700 === 0 ? '\n' : ''}`).join(''));
    const key = 'clickstream/2026/11/20/mixed batch.ndjson';
    const etag = await upload(key, body);

    const result = await handler(s3Event(key, etag));
    expect(result.objects).toEqual([expect.objectContaining({ status: 'processed', read: all.length, valid: 3000, invalid: 5, published: 3000 })]);
    expect(await account({ key, body, events: all, tag }, result)).toEqual({ in: 3005, published: 3000, errored: 5, quarantined: 0 });
    const reasons = (await errorLines(key)).map((l) => l.reasons.map((r) => r.type));
    expect(reasons).toEqual([['schema'], ['invalid_json'], ['schema', 'missing_id'], ['schema', 'missing_partition_key'], ['too_large']]);

    // Run twice (at-least-once delivery): the error output is overwritten, not duplicated.
    await handler(s3Event(key, etag));
    expect(await errorLines(key)).toHaveLength(5);
    expect(new Set(await publishedWith(tag)).size).toBe(3000); // duplicates downstream are the same events
  });

  describe('broken separators', () => {
    it('CR-only line endings: every line is an event', async () => {
      const tag = 's-cr-only';
      const all = events(tag, 2000);
      const key = 'clickstream/cr-only.ndjson';
      const body = ndjson(all, '\r');
      const result = await validate(key, body);
      expect(await account({ key, body, events: all, tag }, result)).toEqual({ in: 2000, published: 2000, errored: 0, quarantined: 0 });
    });

    it('JSON objects concatenated on one line: each is an event', async () => {
      const tag = 's-concat';
      const all = events(tag, 40);
      const key = 'clickstream/concatenated.ndjson';
      // Lines of 1, 5 and 10 objects glued together, with and without spaces.
      const body = Buffer.from(`${all[0]}\n${all.slice(1, 6).join('')}\n${all.slice(6, 16).join(' ')}\n${all.slice(16).join('\n')}\n`);
      const result = await validate(key, body);
      expect(await account({ key, body, events: all, tag }, result)).toEqual({ in: 40, published: 40, errored: 0, quarantined: 0 });
    });

    it('a whole file without line breaks (one record over 1 MiB) quarantines the object instead of losing it', async () => {
      const tag = 's-no-newlines';
      const all = events(tag, 6000);
      const key = 'clickstream/no-newlines.ndjson';
      const body = Buffer.from(all.join(''));
      expect(body.length).toBeGreaterThan(MiB);
      const result = await validate(key, body);
      expect(result.objects[0]).toMatchObject({ status: 'quarantined', quarantineReason: expect.stringMatching(/^the record at line 1 is \d+ bytes/) });
      expect(await account({ key, body, events: all, tag }, result)).toEqual({ in: 6000, published: 0, errored: 0, quarantined: 6000 });
    });

    it('an over-long line in the middle: the object is quarantined whole and the other lines are processed', async () => {
      const tag = 's-long-line';
      const all = events(tag, 100);
      const huge = JSON.stringify(clickEvent({ session_id: tag, page: { url: 'https://x.example/', title: 'h'.repeat(2 * MiB) } }));
      const key = 'clickstream/long-line.ndjson';
      const body = ndjson([...all.slice(0, 50), huge, ...all.slice(50)]);
      const result = await validate(key, body);
      expect(result.objects[0]).toMatchObject({ status: 'quarantined', read: 101, published: 100, invalid: 1 });
      expect(await account({ key, body, events: [...all, huge], tag }, result)).toEqual({ in: 101, published: 100, errored: 0, quarantined: 1 });
    });

    it('a JSON-array element with an unbalanced bracket breaks only itself', async () => {
      const tag = 's-bracket';
      const all = events(tag, 300);
      const broken = all[100].replace('"page":{', '"page":[{'); // `[` never closed
      const key = 'clickstream/bracket.json';
      const body = Buffer.from(`[\n${[...all.slice(0, 100), broken, ...all.slice(101)].join(',\n')}\n]\n`);
      const result = await validate(key, body);
      expect(await account({ key, body, events: [...all.slice(0, 100), broken, ...all.slice(101)], tag }, result)).toEqual({
        in: 300,
        published: 299,
        errored: 1,
        quarantined: 0,
      });
      expect((await errorLines(key)).map((l) => [l.element, l.reasons[0].type])).toEqual([[101, 'invalid_json']]);
    });

    it('a JSON-array element with an unterminated string breaks only itself (pretty-printed array)', async () => {
      const tag = 's-string';
      const all = events(tag, 300);
      const pretty = all.map((e) => JSON.stringify(JSON.parse(e), null, 2));
      const lines = pretty[150].split('\n');
      lines[3] = lines[3].replace(/",$/, ','); // drop one closing quote
      const broken = lines.join('\n');
      const key = 'clickstream/unterminated.json';
      const body = Buffer.from(`[\n${[...pretty.slice(0, 150), broken, ...pretty.slice(151)].join(',\n')}\n]\n`);
      const result = await validate(key, body);
      const tally = await account({ key, body, events: [...pretty.slice(0, 150), ...pretty.slice(151)], tag }, result);
      expect(tally).toEqual({ in: 299, published: 299, errored: 0, quarantined: 0 });
      // The broken event's bytes are all in the error file (in pieces: its value was cut where the string broke).
      const raws = (await errorLines(key)).map((l) => l.raw).join('\n');
      for (const line of lines) expect(raws.replace(/\s+/g, '')).toContain(line.trim().replace(/,$/, '').replace(/\s+/g, ''));
    });

    it('two arrays one after the other: both are read', async () => {
      const tag = 's-two-arrays';
      const all = events(tag, 200);
      const key = 'clickstream/two-arrays.json';
      const body = Buffer.from(`[${all.slice(0, 120).join(',')}][\n${all.slice(120).join(',\n')}\n]`);
      const result = await validate(key, body);
      expect(await account({ key, body, events: all, tag }, result)).toEqual({ in: 200, published: 200, errored: 0, quarantined: 0 });
    });

    it('a single pretty-printed JSON object in a .json file is one event', async () => {
      const tag = 's-one-object';
      const [event] = events(tag, 1);
      const pretty = JSON.stringify(JSON.parse(event), null, 2);
      const key = 'clickstream/one-object.json';
      const body = Buffer.from(`${pretty}\n`);
      const result = await validate(key, body);
      expect(result.objects[0]).toMatchObject({ status: 'processed', format: 'json', read: 1, valid: 1, invalid: 0 });
      expect(await account({ key, body, events: [pretty], tag }, result)).toEqual({ in: 1, published: 1, errored: 0, quarantined: 0 });
    });
  });

  it('pathological nesting: the one deep element is rejected with a reason, the others published', async () => {
    const tag = 's-deep';
    const all = events(tag, 50);
    const deep = `{"event_id":"0b7e4a52-8a1f-4c57-9a39-dddddddddddd","session_id":"${tag}","user_id":"u","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const key = 'clickstream/deep.json';
    const body = Buffer.from(`[\n${[...all.slice(0, 25), deep, ...all.slice(25)].join(',\n')}\n]`);
    const result = await validate(key, body);
    expect(await account({ key, body, events: [...all, deep], tag }, result)).toEqual({ in: 51, published: 50, errored: 1, quarantined: 0 });
    expect((await errorLines(key))[0].reasons).toEqual([{ type: 'too_deep', message: 'record nests more than 512 levels of arrays and objects' }]);
  });

  it('numbers: elements of a pretty-printed array are published as written (integers beyond 2^53 intact)', async () => {
    const tag = 's-numbers';
    const texts = [
      `{\n  "event_id": "0b7e4a52-8a1f-4c57-9a39-00000000b001",\n  "event_type": "click",\n  "occurred_at": "2026-11-20T09:15:02Z",\n  "user_id": "u-1",\n  "session_id": "${tag}",\n  "duration_ms": 12345678901234567890,\n  "device": { "screen_width": 9007199254740993 }\n}`,
      `{"event_id":"0b7e4a52-8a1f-4c57-9a39-00000000b002","event_type":"click","occurred_at":"2026-11-20T09:15:02Z","user_id":"u-2","session_id":"${tag}","duration_ms":1.0e2}`,
    ];
    const key = 'clickstream/numbers.json';
    const body = Buffer.from(`[\n${texts.join(',\n')}\n]\n`);
    const result = await validate(key, body);
    expect(await account({ key, body, events: texts, tag }, result)).toEqual({ in: 2, published: 2, errored: 0, quarantined: 0 });
    const published = await publishedWith(tag);
    expect(published).toEqual(
      expect.arrayContaining([
        `{"event_id":"0b7e4a52-8a1f-4c57-9a39-00000000b001","event_type":"click","occurred_at":"2026-11-20T09:15:02Z","user_id":"u-1","session_id":"${tag}","duration_ms":12345678901234567890,"device":{"screen_width":9007199254740993}}`,
        texts[1],
      ]),
    );
  });

  describe('encodings', () => {
    const decoded: Array<[string, (b: Buffer) => Buffer, { ContentEncoding?: string }]> = [
      ['a zlib deflate body', (b) => deflateSync(b), { ContentEncoding: 'deflate' }],
      ['a raw deflate body (Content-Encoding: deflate)', (b) => deflateRawSync(b), { ContentEncoding: 'deflate' }],
      ['a brotli body (Content-Encoding: br)', (b) => brotliCompressSync(b), { ContentEncoding: 'br' }],
      ['a double-gzipped file', (b) => gzipSync(gzipSync(b)), {}],
      ['gzip followed by zero padding', (b) => Buffer.concat([gzipSync(b), Buffer.alloc(4096)]), {}],
      ['UTF-16LE with a BOM', (b) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(b.toString('utf8'), 'utf16le')]), {}],
      ['UTF-16BE with a BOM', (b) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(b.toString('utf8'), 'utf16le').swap16()]), {}],
    ];
    it.each(decoded)('%s is decoded', async (name, encode, meta) => {
      const tag = `s-enc-${name.replace(/\W+/g, '-')}`.slice(0, 60);
      const all = events(tag, 500, { page: { url: 'https://shop.example.com/', title: 'Zoë 日本 🚀' } });
      const key = `clickstream/encoding-${tag}.ndjson`;
      const body = encode(ndjson(all));
      const result = await validate(key, body, meta);
      expect(await account({ key, body, events: all, tag }, result)).toEqual({ in: 500, published: 500, errored: 0, quarantined: 0 });
    });

    const quarantinedWhole: Array<[string, (b: Buffer) => Buffer, { ContentEncoding?: string }, RegExp]> = [
      [
        'gzip followed by padding and plain lines',
        (b) => Buffer.concat([gzipSync(b.subarray(0, b.length / 2)), Buffer.alloc(512), b.subarray(b.length / 2)]),
        {},
        /bytes of data after the end of the gzip stream/,
      ],
      ['plain lines right after the gzip stream', (b) => Buffer.concat([gzipSync(b.subarray(0, 10_000)), b.subarray(10_000)]), {}, /invalid gzip data/],
      ['an unknown Content-Encoding', (b) => b, { ContentEncoding: 'compress' }, /unsupported Content-Encoding "compress"/],
      ['UTF-32', (b) => Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from(b.toString('utf8'), 'utf16le')]), {}, /unsupported format: UTF-32/],
      ['zstd', (b) => Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), b]), {}, /unsupported format: zstd/],
    ];
    it.each(quarantinedWhole)('%s is quarantined whole with the reason', async (name, encode, meta, reason) => {
      const tag = `s-q-${name.replace(/\W+/g, '-')}`.slice(0, 60);
      const all = events(tag, 500);
      const key = `clickstream/encoding-${tag}.ndjson`;
      const body = encode(ndjson(all));
      const result = await validate(key, body, meta);
      expect(result.objects[0]).toMatchObject({ status: 'quarantined', quarantineReason: expect.stringMatching(reason) });
      const tally = await account({ key, body, events: all, tag }, result);
      expect(tally.errored).toBe(0);
      expect(tally.quarantined).toBeGreaterThan(0);
    });
  });

  it.each([
    ['cut in the middle of a surrogate pair by a UTF-16 slice', `${'x'.repeat(7)}🚀${'a'.repeat(188)}.ndjson.gz`, `${'a'.repeat(90)}.ndjson.gz`],
    ['with an emoji right at the cut', `x🚀🚀${'a'.repeat(89)}.ndjson.gz`, `🚀${'a'.repeat(89)}.ndjson.gz`],
  ])('quarantine keys: a long name %s is shortened by whole characters, and the copy lands', async (_, name, kept) => {
    const key = `clickstream/${name}`;
    const body = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from('definitely not deflate data')]);
    const result = await validate(key, body);
    expect(result.objects[0]).toMatchObject({ status: 'quarantined', quarantineReason: expect.stringMatching(/^invalid gzip data/) });
    const copyKey = result.objects[0].quarantineKey!;
    expect(copyKey.split('/').pop()).toBe(kept);
    expect(await getObject('errors', copyKey)).toEqual(body);
    expect(await account({ key, body, events: [], tag: 's-none' }, result)).toEqual({ in: 0, published: 0, errored: 0, quarantined: 0 });
  });

  it('a file named reason.json does not overwrite its own quarantine reason', async () => {
    const key = 'clickstream/reason.json';
    const body = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]);
    const result = await validate(key, body);
    const entry = await quarantined(key);
    expect(entry?.copy).toEqual(body);
    expect(result.objects[0].quarantineKey).toMatch(/\/object-reason\.json$/);
  });

  it("events under another source's prefix are rejected with a reason, never published", async () => {
    const tag = 's-other-prefix';
    const all = events(tag, 20);
    const key = 'orders/2026/11/20/misrouted.ndjson';
    const body = ndjson(all);
    const result = await validate(key, body);
    expect(result.objects[0]).toMatchObject({ status: 'quarantined', read: 0, published: 0, quarantineReason: expect.stringMatching(/not under this source's prefix "clickstream\/"/) });
    const entry = await quarantined(key);
    expect(entry?.reason).toMatchObject({ key, source: 'clickstream' });
    expect(entry?.copy).toBeUndefined(); // left where it is: it is not this source's to copy
    expect(await account({ key, body, events: all, tag }, result)).toEqual({ in: 20, published: 0, errored: 0, quarantined: 20 });
  });

  it('a PutRecords call that hangs times out, is retried, and fails the invocation loudly', async () => {
    const sockets: net.Socket[] = [];
    const hung = net.createServer((socket) => void sockets.push(socket)); // accepts, reads, never answers
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}`;
      const tag = 's-hung';
      const key = 'clickstream/hung.ndjson';
      const etag = await upload(key, ndjson(events(tag, 10)));
      const stuck = loadHandler(functionEnv({ AWS_ENDPOINT_URL_KINESIS: endpoint, PUBLISH_TIMEOUT_MS: '300', MAX_PUBLISH_ATTEMPTS: '2' }));
      const started = Date.now();
      await expect(stuck(s3Event(key, etag))).rejects.toThrow(/records still unpublished after 2 attempts; last error: TimeoutError/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(sockets.length).toBeGreaterThanOrEqual(1);
      expect(await publishedWith(tag)).toEqual([]);
      expect(await errorLines(key)).toEqual([]);
    } finally {
      process.env = { ...savedEnv, ...functionEnv() };
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    }
  });
});
