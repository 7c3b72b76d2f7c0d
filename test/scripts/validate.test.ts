/**
 * `npm run validate` (scripts/validate.ts) against the real sample files and crafted bad ones: the exact text it
 * prints and its exit codes; and, for every file, that each event gets the same verdict and the same reasons as the
 * landing validator's own code path (processObject with the deployed writers' limits, against mocked S3 and brokers).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { KinesisClient, PutRecordsCommand, PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig, readCdkJsonContext, SCHEMAS_DIR } from '../../platform/config';
import { dataSource } from '../../platform/data-source';
import { canaryId } from '../../platform/freshness/contract';
import { KafkaWriter } from '../../platform/handlers/kafka-writer';
import { KinesisWriter } from '../../platform/handlers/kinesis-writer';
import { Publisher } from '../../platform/handlers/publisher';
import { loadSchema } from '../../platform/handlers/schema-validator';
import { InvalidEventRecord } from '../../platform/landing-zone/validator/error-output';
import { processObject } from '../../platform/landing-zone/validator/process-object';
import { landingZoneChecks, LandingZoneCheck, main, validateFile } from '../../scripts/validate';

const config = parseConfig(readCdkJsonContext());
const s3 = mockClient(S3Client);
const kinesis = mockClient(KinesisClient);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-validate-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const samples = (source: string) => path.join(SCHEMAS_DIR, `${source}.samples.ndjson`);
const sampleLines = (source: string) => fs.readFileSync(samples(source), 'utf8').split('\n').filter(Boolean);
const click = (overrides: Record<string, unknown> = {}) => ({ ...JSON.parse(sampleLines('clickstream')[0]), ...overrides });

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

async function run(...argv: string[]) {
  const out: string[] = [];
  const log: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), log: (l) => log.push(l) }, { config });
  return { code, out, log };
}

/** JSON.parse's own message, which the validator reports (its wording differs between Node.js versions). */
function parseError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${text} is valid JSON`);
}

const ZONES_CLICKSTREAM = '(landing zones: LandingZone (Kinesis), KinesisToDeltaLake (Kinesis))';
const ZONES_ORDERS = '(landing zones: LandingZone (Kinesis), MskToIceberg (Kafka))';
const CLICK_ENUM = '("page_view", "click", "add_to_cart", "purchase", "search")';

// A clickstream file with one event of each kind the validator rejects, and the two it accepts.
const deep = `${'['.repeat(600)}${']'.repeat(600)}`;
const crafted = Buffer.concat([
  Buffer.from(`${sampleLines('clickstream')[0]}\r\n`), // 1 valid (CRLF)
  Buffer.from(`${JSON.stringify(click({ event_type: 'bogus', coupon_code: 'WINTER' }))}\n`), // 2 enum + closed schema
  Buffer.from('{"event_id": "x",\n'), // 3 not JSON
  Buffer.from('\n'), // 4 blank: skipped, as the validator skips it
  Buffer.from(`${JSON.stringify(click({ event_id: canaryId(Date.UTC(2026, 11, 4)) }))}${JSON.stringify({ event_type: 'click' })}\n`), // 5 two values
  Buffer.from(`${JSON.stringify(click({ user_id: 'u'.repeat(300) }))}\n`), // 6 schema maxLength + Kinesis key limit
  Buffer.from(`${JSON.stringify(click({ event_id: undefined, user_id: 42 }))}\n`), // 7 no id; numeric key passes keyField
  Buffer.concat([Buffer.from('{"event_id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]), // 8 not UTF-8
  Buffer.from(`${deep}\n`), // 9 nests 600 levels
]);

describe('npm run validate: output and exit codes', () => {
  test('the real sample files pass, with a summary naming the landing zones the source lands in', async () => {
    expect(await run('--source', 'clickstream', samples('clickstream'))).toEqual({
      code: 0,
      out: [`${samples('clickstream')}: 5 events, 5 valid, 0 invalid ${ZONES_CLICKSTREAM}`],
      log: ['clickstream: schemas/clickstream.schema.json, id field "event_id", partition key field "user_id"'],
    });
    expect(await run('--source', 'orders', samples('orders'))).toEqual({
      code: 0,
      out: [`${samples('orders')}: 3 events, 3 valid, 0 invalid ${ZONES_ORDERS}`],
      log: ['orders: schemas/orders.schema.json, id field "event_id", partition key field "order_id"'],
    });
  });

  test('a crafted bad file: one line per rejected event in the validator\'s words, a canary-id warning, exit 1', async () => {
    const file = write('crafted.ndjson', crafted);
    const { code, out } = await run('--source', 'clickstream', file);
    expect(out).toEqual([
      `${file}:2: schema /: must NOT have additional properties ("coupon_code"); schema /event_type: must be equal to one of the allowed values ${CLICK_ENUM}`,
      `${file}:3: invalid_json: ${parseError('{"event_id": "x",')}`,
      `${file}:5 part 1: warning: id "${canaryId(Date.UTC(2026, 11, 4))}" is a freshness canary id (00000000-0000-4000-8000- + 12 hex digits): the validator accepts it, but every pipeline drops canaries before its tables; use another id`,
      `${file}:5 part 2: schema /: must have required property 'event_id'; schema /: must have required property 'occurred_at'; schema /: must have required property 'user_id'; schema /: must have required property 'session_id'; missing_id: field "event_id" is missing; missing_partition_key: field "user_id" is missing`,
      `${file}:6: schema /user_id: must NOT have more than 64 characters; invalid_partition_key: partition key is longer than 256 characters`,
      `${file}:7: schema /: must have required property 'event_id'; schema /user_id: must be string; missing_id: field "event_id" is missing`,
      `${file}:8: bad_encoding: record is not valid UTF-8`,
      `${file}:9: too_deep: record nests more than 512 levels of arrays and objects`,
      `${file}: 9 events, 2 valid, 7 invalid, 1 with a canary id ${ZONES_CLICKSTREAM}`,
    ]);
    expect(code).toBe(1);
  });

  test('JSON text files name the array element; gzip is read like the validator reads it', async () => {
    // Pretty-printed: the first sample takes lines 2-19 (18 lines), so the second element starts at line 20.
    const array = write('batch.json', JSON.stringify([click(), click({ occurred_at: 'yesterday' }), click()], null, 2));
    expect(fs.readFileSync(array, 'utf8').split('\n')[19]).toBe('  {');
    expect(await run('--source', 'clickstream', array)).toMatchObject({
      code: 1,
      out: [`${array}:20 element 2: schema /occurred_at: must match format "date-time"`, `${array}: 3 events, 2 valid, 1 invalid ${ZONES_CLICKSTREAM}`],
    });
    const gz = write('samples.ndjson.gz', gzipSync(fs.readFileSync(samples('clickstream'))));
    expect(await run('--source', 'clickstream', gz)).toMatchObject({ code: 0, out: [`${gz}: 5 events, 5 valid, 0 invalid ${ZONES_CLICKSTREAM}`] });
  });

  test('a file the validator would quarantine is reported with the validator\'s reason (exit 1)', async () => {
    const notGzip = write('named.ndjson.gz', fs.readFileSync(samples('clickstream')));
    const r1 = await run('--source', 'clickstream', notGzip);
    expect(r1.code).toBe(1);
    expect(r1.out).toEqual([
      expect.stringMatching(new RegExp(`^${notGzip.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the landing validator would quarantine this file: .*gzip`)),
      `${notGzip}: 0 events, 0 valid, 0 invalid, file quarantined ${ZONES_CLICKSTREAM}`,
    ]);
    const huge = write('huge.ndjson', `${sampleLines('clickstream')[0]}\n${JSON.stringify(click({ page: { url: 'https://x.example/', title: 'h'.repeat(1_100_000) } }))}\n`);
    const r2 = await run('--source', 'clickstream', huge);
    expect(r2.code).toBe(1);
    expect(r2.out).toEqual([
      `${huge}:2: too_large: record is ${fs.statSync(huge).size - sampleLines('clickstream')[0].length - 2} bytes, over the 1048576-byte limit`,
      `${huge}: the landing validator would quarantine this file: the record at line 2 is ${fs.statSync(huge).size - sampleLines('clickstream')[0].length - 2} bytes, more than the 1048576 bytes that can be kept (a missing line break?): the validator quarantines the file whole; its other events are processed as usual`,
      `${huge}: 2 events, 1 valid, 1 invalid, file quarantined ${ZONES_CLICKSTREAM}`,
    ]);
  });

  test('several files: each reported, exit 1 if any has a bad event', async () => {
    const bad = write('one-bad.ndjson', `${JSON.stringify(click({ session_id: '' }))}\n`);
    const { code, out } = await run('--source', 'clickstream', samples('clickstream'), bad);
    expect(out).toEqual([
      `${samples('clickstream')}: 5 events, 5 valid, 0 invalid ${ZONES_CLICKSTREAM}`,
      `${bad}:1: schema /session_id: must NOT have fewer than 1 characters`,
      `${bad}: 1 event, 0 valid, 1 invalid ${ZONES_CLICKSTREAM}`,
    ]);
    expect(code).toBe(1);
  });

  test.each<[string, string[], string]>([
    ['no --source', [samples('clickstream')], '--source <name> is required: one of clickstream, orders'],
    ['an unknown source, listing the known ones', ['--source', 'clicks', samples('clickstream')], 'unknown source "clicks": cdk.json has clickstream, orders'],
    ['no file', ['--source', 'orders'], 'give at least one file to validate'],
    ['a missing file', ['--source', 'orders', '/nonexistent/file.ndjson'], "cannot read /nonexistent/file.ndjson: ENOENT: no such file or directory, stat '/nonexistent/file.ndjson'"],
    ['a directory', ['--source', 'orders', os.tmpdir()], `${os.tmpdir()} is not a file`],
    ['an unknown flag', ['--source', 'orders', '--stream', 's', samples('orders')], "Unknown option '--stream'"],
  ])('usage error (exit 2): %s', async (_name, argv, message) => {
    const { code, out, log } = await run(...argv);
    expect({ code, out }).toEqual({ code: 2, out: [] });
    expect(log.join('\n')).toContain(message);
    expect(log.join('\n')).toContain('usage: npm run validate -- --source <name> <file>');
  });

  test('a source that lands in no landing zone is a usage error naming its pipelines', async () => {
    const gcpOnly = parseConfig({ ...readCdkJsonContext(), 'sources.clickstream.pipelines': 'gcp' });
    const out: string[] = [];
    const log: string[] = [];
    const code = await main(['--source', 'clickstream', samples('clickstream')], { out: (l) => out.push(l), log: (l) => log.push(l) }, { config: gcpOnly });
    expect(code).toBe(2);
    expect(log[0].split('\n')[0]).toBe('source "clickstream" lands in no landing zone (its pipelines: gcp); files are validated for landingZone, kinesisToDeltaLake, mskToIceberg');
  });
});

/**
 * The landing validator's own path for one object: processObject (readers, classifyRecord, the writer's limits, the
 * error file, quarantine) with S3 and the broker mocked. Returns what it published and what it wrote as invalid.
 */
async function landingValidator(source: string, file: string, broker: 'kinesis' | 'kafka') {
  const { idField, partitionKeyField, schemaFile } = dataSource(config, source);
  const key = `${source}/${path.basename(file)}`;
  s3.reset();
  kinesis.reset();
  s3.on(GetObjectCommand, { Key: key }).callsFake(() => ({ Body: Readable.from([fs.readFileSync(file)]), ETag: '"e"' }));
  s3.on(PutObjectCommand).resolves({});
  s3.on(CopyObjectCommand).resolves({});
  kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
    FailedRecordCount: 0,
    Records: input.Records!.map((_, i) => ({ SequenceNumber: `${i}`, ShardId: 'shardId-000000000000' })),
  }));
  const published: string[] = [];
  const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
  const createPublisher = async (): Promise<Publisher> =>
    broker === 'kinesis'
      ? new KinesisWriter({ client: new KinesisClient({ region: 'eu-west-1' }), streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/s', retry, concurrency: 1 })
      : new KafkaWriter({
          producer: { send: async ({ messages }) => (messages.forEach((m) => published.push(String(m.value))), []) },
          topic: source,
          retry,
        });
  const outcome = await processObject(
    { bucket: 'landing', key, etag: 'e', eventTime: '2026-12-04T10:00:00.000Z' },
    { s3: new S3Client({ region: 'eu-west-1' }), source, errorBucket: 'errors', validate: loadSchema(schemaFile), idField, partitionKeyField, createPublisher },
  );
  if (broker === 'kinesis') {
    for (const call of kinesis.commandCalls(PutRecordsCommand)) for (const r of call.args[0].input.Records!) published.push(Buffer.from(r.Data!).toString('utf8'));
  }
  const invalid: InvalidEventRecord[] = s3
    .commandCalls(PutObjectCommand)
    .filter((c) => c.args[0].input.Key!.startsWith('invalid/'))
    .flatMap((c) => Buffer.from((c.args[0].input as PutObjectCommandInput).Body as Uint8Array).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l)));
  return { outcome, published, invalid };
}

describe('npm run validate gives every event the landing validator\'s verdict and reasons', () => {
  const files: Array<[string, string, string]> = [
    ['clickstream', 'the clickstream samples', samples('clickstream')],
    ['orders', 'the orders samples', samples('orders')],
    ['clickstream', 'the crafted bad file', write('same-crafted.ndjson', crafted)],
    ['clickstream', 'a JSON array file', write('same-array.json', JSON.stringify([click(), click({ tags: 'x' }), 7, click()], null, 1))],
    ['clickstream', 'a gzipped file', write('same.ndjson.gz', gzipSync(crafted))],
    ['clickstream', 'a file with a record over 1 MiB', write('same-huge.ndjson', `${JSON.stringify(click({ page: { url: 'https://x.example/', title: 'h'.repeat(1_100_000) } }))}\n${sampleLines('clickstream')[1]}\n`)],
    ['orders', 'orders with bad events', write('same-orders.ndjson', `${sampleLines('orders')[0]}\n${sampleLines('orders')[1].replace(/"ORD-\d+"/, '"ORDER-1"')}\n{}\n`)],
  ];

  test.each(files)('%s: %s, in every landing zone it lands in', async (source, _name, file) => {
    const validate = loadSchema(dataSource(config, source).schemaFile);
    const zones = landingZoneChecks(config, source, validate);
    expect(zones.map((z) => z.broker)).toEqual(source === 'orders' ? ['kinesis', 'kafka'] : ['kinesis', 'kinesis']);
    for (const zone of zones) {
      const ours = await validateFile(file, [zone]);
      const theirs = await landingValidator(source, file, zone.broker);
      // Same number of events read, valid and invalid; same quarantine decision.
      expect(ours.events.length).toBe(theirs.outcome.read);
      expect(ours.events.filter((e) => e.valid).length).toBe(theirs.outcome.valid);
      expect(Boolean(ours.quarantine)).toBe(theirs.outcome.status === 'quarantined');
      // Every rejected event at the same place, with exactly the reasons the validator writes to the error bucket.
      expect(ours.events.filter((e) => !e.valid).map((e) => ({ line: e.line, element: e.element, part: e.part, reasons: e.reasons, eventId: e.eventId }))).toEqual(
        theirs.invalid.map((r) => ({ line: r.line, element: r.element, part: r.part, reasons: r.reasons, eventId: r.eventId })),
      );
      // And every accepted event is one the validator published (in file order).
      expect(ours.events.filter((e) => e.valid).map((e) => e.eventId)).toEqual(theirs.published.map((p) => JSON.parse(p).event_id));
    }
  });

  test('a rejection only one landing zone makes is reported as such (orders: 1 MiB fits Kinesis, not Kafka\'s message.max.bytes)', async () => {
    const validate = loadSchema(dataSource(config, 'orders').schemaFile);
    const zones: LandingZoneCheck[] = landingZoneChecks(config, 'orders', validate);
    const event = JSON.parse(sampleLines('orders')[0]);
    // customer_id is a free string: sized so that data + key is 20 bytes under Kinesis' 1 MiB, and over Kafka's
    // message.max.bytes once the event-id header and the record batch header are added.
    const base = Buffer.byteLength(JSON.stringify({ ...event, customer_id: '' }));
    const line = JSON.stringify({ ...event, customer_id: 'c'.repeat(1_048_576 - base - event.order_id.length - 20) });
    const file = write('near-limit.ndjson', `${line}\n`);
    const [kinesisOnly, kafkaOnly] = await Promise.all(zones.map((z) => validateFile(file, [z])));
    expect(kinesisOnly.events.map((e) => e.valid)).toEqual([true]);
    expect(kafkaOnly.events.map((e) => e.reasons.map((r) => r.type))).toEqual([['too_large']]);
    const { code, out } = await run('--source', 'orders', file);
    expect(code).toBe(1);
    expect(out[0]).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: too_large: record is \\d+ bytes as a Kafka record batch \\(key, event-id header and batch header included\\), over the broker's 1048588-byte message.max.bytes \\(only in the MskToIceberg landing zone\\)$`),
    );
  });
});
