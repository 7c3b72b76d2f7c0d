import * as fs from 'fs';
import * as path from 'path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig, readCdkJsonContext, SCHEMAS_DIR } from '../../platform/config';
import { KafkaWriter } from '../../platform/handlers/kafka-writer';
import { KinesisWriter } from '../../platform/handlers/kinesis-writer';
import { loadSchema } from '../../platform/handlers/schema-validator';
import { classify } from '../../platform/landing-zone/validator/classify';
import { Readable } from 'stream';
import * as zlib from 'zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { main, replay, summary } from '../../scripts/replay';
import { keyersFor, recordKeys, stableKey } from '../../scripts/replay/keys';
import { parseBucketUrl, resolveTarget, TargetFlags } from '../../scripts/replay/target';
import { DEFAULT_MAX_HOURS, hourPrefixes, parseHour, parseWindow, UsageError } from '../../scripts/replay/window';

const config = parseConfig(readCdkJsonContext());
const NOW = new Date('2026-12-04T13:25:00Z');
const window = (from?: string, to?: string, maxHours?: string) => () => parseWindow({ from, to, maxHours, now: NOW });

describe('replay window (scripts/replay/window.ts)', () => {
  test.each([
    ['2026-12-04T13:00Z', '2026-12-04T13:00:00.000Z'],
    ['2026-12-04T13:00:00Z', '2026-12-04T13:00:00.000Z'],
    ['2026-12-04T13:00:00.000Z', '2026-12-04T13:00:00.000Z'],
    ['2026-12-04T13Z', '2026-12-04T13:00:00.000Z'],
    ['2026-12-04T14:00+01:00', '2026-12-04T13:00:00.000Z'],
    ['2026-12-04T18:30:00+05:30', '2026-12-04T13:00:00.000Z'],
  ])('%s is the hour %s', (text, iso) => {
    expect(parseHour('from', text).toISOString()).toBe(iso);
  });

  const FORM = 'a UTC instant on a whole hour, like 2026-12-04T13:00Z (ISO 8601 with Z or an offset)';
  test.each([
    ['missing', undefined, `--from is required: ${FORM}`],
    ['unparseable', 'yesterday', `--from "yesterday" is not ${FORM}`],
    ['without an offset', '2026-12-04T13:00', `--from "2026-12-04T13:00" is not ${FORM}`],
    ['a date only', '2026-12-04', `--from "2026-12-04" is not ${FORM}`],
    ['a day that does not exist', '2026-02-30T10:00Z', `--from "2026-02-30T10:00Z" is not a valid date and time: expected ${FORM}`],
    ['hour 24', '2026-12-04T24:00Z', `--from "2026-12-04T24:00Z" is not a valid date and time: expected ${FORM}`],
    [
      'not on the hour',
      '2026-12-04T13:30Z',
      '--from "2026-12-04T13:30Z" is not on a whole hour: the raw zone is partitioned by UTC arrival hour; use 2026-12-04T13:00Z or 2026-12-04T14:00Z',
    ],
    [
      'an offset that moves it off the hour',
      '2026-12-04T13:00+05:30',
      '--from "2026-12-04T13:00+05:30" is not on a whole hour: the raw zone is partitioned by UTC arrival hour; use 2026-12-04T07:00Z or 2026-12-04T08:00Z',
    ],
    [
      'seconds',
      '2026-12-04T13:00:01Z',
      '--from "2026-12-04T13:00:01Z" is not on a whole hour: the raw zone is partitioned by UTC arrival hour; use 2026-12-04T13:00Z or 2026-12-04T14:00Z',
    ],
  ])('--from %s is refused', (_, text, message) => {
    expect(() => parseHour('from', text)).toThrow(UsageError);
    expect(() => parseHour('from', text)).toThrow(message);
  });

  test('--to is checked the same way and named', () => {
    expect(window('2026-12-04T10:00Z', '2026-12-04T11:15Z')).toThrow(
      '--to "2026-12-04T11:15Z" is not on a whole hour: the raw zone is partitioned by UTC arrival hour; use 2026-12-04T11:00Z or 2026-12-04T12:00Z',
    );
  });

  test('from must be before to', () => {
    expect(window('2026-12-04T10:00Z', '2026-12-04T10:00Z')).toThrow(
      '--to 2026-12-04T10:00Z must be later than --from 2026-12-04T10:00Z (the window is [from, to), at least one hour)',
    );
    expect(window('2026-12-04T11:00Z', '2026-12-04T10:00Z')).toThrow('--to 2026-12-04T10:00Z must be later than --from 2026-12-04T11:00Z');
  });

  test('the window may include the current hour, not later ones', () => {
    expect(window('2026-12-04T12:00Z', '2026-12-04T14:00Z')()).toMatchObject({ hours: 2 });
    expect(window('2026-12-04T12:00Z', '2026-12-04T15:00Z')).toThrow(
      '--to 2026-12-04T15:00Z is in the future (now 2026-12-04T13:25:00.000Z): the latest end is 2026-12-04T14:00Z, which includes the current hour',
    );
  });

  test('a window longer than 31 days needs --max-hours', () => {
    expect(DEFAULT_MAX_HOURS).toBe(744);
    expect(window('2026-11-03T13:00Z', '2026-12-04T13:00Z')()).toMatchObject({ hours: 744 });
    expect(window('2026-11-03T12:00Z', '2026-12-04T13:00Z')).toThrow(
      'the window 2026-11-03T12:00Z to 2026-12-04T13:00Z is 745 hours, longer than 744 (31 days): replay it in parts, or raise the limit with --max-hours 745',
    );
    expect(window('2026-11-03T12:00Z', '2026-12-04T13:00Z', '745')()).toMatchObject({ hours: 745 });
    expect(window('2026-12-04T10:00Z', '2026-12-04T13:00Z', '2')).toThrow('is 3 hours, longer than 2: replay it in parts, or raise the limit with --max-hours 3');
    expect(window('2026-12-04T10:00Z', '2026-12-04T13:00Z', '0')).toThrow('--max-hours "0" must be a whole number of hours, 1 or more');
    expect(window('2026-12-04T10:00Z', '2026-12-04T13:00Z', '1.5')).toThrow('--max-hours "1.5" must be a whole number of hours, 1 or more');
  });

  test('hour prefixes run across a day, month and year boundary, to excluded', () => {
    const w = parseWindow({ from: '2026-12-31T22:00Z', to: '2027-01-01T02:00Z', now: new Date('2027-01-02T00:00Z') });
    expect(hourPrefixes('clickstream', w).map((h) => h.prefix)).toEqual([
      'clickstream/dt=2026-12-31/hour=22/',
      'clickstream/dt=2026-12-31/hour=23/',
      'clickstream/dt=2027-01-01/hour=00/',
      'clickstream/dt=2027-01-01/hour=01/',
    ]);
    expect(hourPrefixes('events', { from: new Date('2026-02-28T23:00Z'), to: new Date('2026-03-01T01:00Z') }).map((h) => h.prefix)).toEqual([
      'events/dt=2026-02-28/hour=23/',
      'events/dt=2026-03-01/hour=00/',
    ]);
  });
});

describe('replay keys (scripts/replay/keys.ts): the validator\'s partition keys', () => {
  const kinesisKey = (key: string) => new KinesisWriter({ client: { send: jest.fn() }, streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/x', retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }).checkPartitionKey(key);
  const samples = (source: string) =>
    fs
      .readFileSync(path.join(SCHEMAS_DIR, `${source}.samples.ndjson`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => Buffer.from(line));

  test.each(Object.keys(config.sources))('%s: every sample gets the id and partition key the validator publishes it with', (source) => {
    const { idField, partitionKeyField, schema } = config.sources[source];
    const rules = { validate: loadSchema(path.join(SCHEMAS_DIR, schema)), idField, partitionKeyField, checkPartitionKey: kinesisKey, checkSize: () => undefined };
    for (const bytes of samples(source)) {
      const validator = classify({ line: 1, bytes, byteLength: bytes.length, truncated: false }, rules);
      expect(validator.valid).toBe(true);
      const { id, partitionKey } = (validator as { event: { id: string; partitionKey: string } }).event;
      expect(recordKeys(bytes, keyersFor(config, source), kinesisKey)).toEqual({ id, partitionKey, keyed: true });
    }
  });

  test('the LandingZone stream ("events") keys each event by the fields of the source whose schema accepts it', () => {
    const keyers = keyersFor(config, 'events');
    expect(keyers.map((k) => k.source)).toEqual(['clickstream', 'orders']);
    const [click] = samples('clickstream');
    const [order] = samples('orders');
    expect(recordKeys(click, keyers, kinesisKey)).toMatchObject({ partitionKey: JSON.parse(click.toString()).user_id, keyed: true });
    expect(recordKeys(order, keyers, kinesisKey)).toMatchObject({ partitionKey: JSON.parse(order.toString()).order_id, keyed: true });
    // Valid for neither schema (an event written to the stream by another producer): the first source that has a key.
    expect(recordKeys(Buffer.from('{"order_id":7,"event_id":"e"}'), keyers, kinesisKey)).toEqual({ id: 'e', partitionKey: '7', keyed: true });
  });

  test('a record without a usable key gets a stable hash as key and id, and is counted as unkeyed', () => {
    const keyers = keyersFor(config, 'clickstream');
    for (const text of ['not json', '[1,2]', '{"event_id":"e-1"}', '{"event_id":"e-1","user_id":""}', '{"user_id":{"a":1}}', '']) {
      const bytes = Buffer.from(text);
      const keys = recordKeys(bytes, keyers, kinesisKey);
      expect(keys.keyed).toBe(false);
      expect(keys.partitionKey).toBe(stableKey(bytes));
      expect(keys.partitionKey).toMatch(/^[0-9a-f]{64}$/);
      expect(recordKeys(Buffer.from(text), keyers, kinesisKey)).toEqual(keys);
    }
    expect(recordKeys(Buffer.from('{"event_id":"e-1"}'), keyers, kinesisKey).id).toBe('e-1');
    // Longer than Kinesis' 256 characters: the validator never published it with that key; Kafka takes it.
    const long = Buffer.from(JSON.stringify({ event_id: 'e', user_id: 'u'.repeat(300) }));
    expect(recordKeys(long, keyers, kinesisKey)).toMatchObject({ keyed: false, partitionKey: stableKey(long) });
    const kafka = new KafkaWriter({ producer: { send: jest.fn() }, topic: 't', retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    expect(recordKeys(long, keyers, (k) => kafka.checkPartitionKey(k))).toMatchObject({ keyed: true, partitionKey: 'u'.repeat(300) });
  });

  test('an unknown source names the configured ones', () => {
    expect(() => keyersFor(config, 'nope')).toThrow(
      '--source "nope" is not a configured source (cdk.json sources: clickstream, orders; "events" for the LandingZone stack\'s stream)',
    );
  });
});

describe('replay target (scripts/replay/target.ts)', () => {
  const cfn = mockClient(CloudFormationClient);
  const client = () => new CloudFormationClient({ region: 'eu-west-1' });
  const resolve = (flags: TargetFlags) => resolveTarget(flags, config, client);
  const outputs = (map: Record<string, string>) => ({
    Stacks: [{ StackName: 's', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE' as const, Outputs: Object.entries(map).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
  });
  beforeEach(() => cfn.reset());
  afterAll(() => cfn.restore());

  test('KinesisToDeltaLake by its CDK id: the deployed stack name, the raw zone and stream outputs of the source', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'stream-foundry-dev-kinesis-to-delta-lake' }).resolves(
      outputs({ clickstreamRawZone: 's3://raw-bucket-1/clickstream/', clickstreamStream: 'clicks-stream', LandingBucket: 'l' }),
    );
    await expect(resolve({ stack: 'KinesisToDeltaLake', source: 'clickstream' })).resolves.toEqual({
      bucket: 'raw-bucket-1',
      name: 'clickstream',
      broker: { kind: 'kinesis', stream: 'clicks-stream' },
    });
  });

  test('MskToIceberg by its deployed name: the IAM brokers over TLS and the topic named after the source', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'stream-foundry-dev-msk-to-iceberg' }).resolves(
      outputs({ ordersRawZone: 's3://raw-b/orders/', BootstrapBrokers: 'b-1.x:9098,b-2.x:9098' }),
    );
    await expect(resolve({ stack: 'stream-foundry-dev-msk-to-iceberg', source: 'orders' })).resolves.toEqual({
      bucket: 'raw-b',
      name: 'orders',
      broker: { kind: 'kafka', brokers: ['b-1.x:9098', 'b-2.x:9098'], topic: 'orders', auth: 'iam', tls: true },
    });
  });

  test('LandingZone: its one stream is raw zone "events"; another source name is refused before any lookup', async () => {
    cfn.on(DescribeStacksCommand).resolves(outputs({ eventsRawZone: 's3://raw-lz/events/', eventsStream: 'lz-stream' }));
    await expect(resolve({ stack: 'LandingZone', source: 'events' })).resolves.toEqual({ bucket: 'raw-lz', name: 'events', broker: { kind: 'kinesis', stream: 'lz-stream' } });
    cfn.reset();
    await expect(resolve({ stack: 'LandingZone', source: 'clickstream' })).rejects.toThrow(
      '--source clickstream: the LandingZone stack has one stream for every source that lists landingZone, archived as raw zone "events": use --source events',
    );
    expect(cfn.calls()).toHaveLength(0);
  });

  test('a missing output is named, with the outputs there are and the flag that replaces it', async () => {
    cfn.on(DescribeStacksCommand).resolves(outputs({ clickstreamStream: 'x', LandingBucket: 'l' }));
    await expect(resolve({ stack: 'KinesisToDeltaLake', source: 'clickstream' })).rejects.toThrow(
      'stack stream-foundry-dev-kinesis-to-delta-lake has no output clickstreamRawZone (outputs: clickstreamStream, LandingBucket); pass --bucket-url s3://<raw bucket>/<name>/',
    );
    await expect(resolve({ stack: 'KinesisToDeltaLake', source: 'clickstream', bucketUrl: 's3://raw-b/clickstream/' })).resolves.toMatchObject({
      bucket: 'raw-b',
      broker: { kind: 'kinesis', stream: 'x' },
    });
  });

  test('no stream output: the output is named, and --stream', async () => {
    cfn.on(DescribeStacksCommand).resolves(outputs({ clickstreamRawZone: 's3://raw-b/clickstream/' }));
    await expect(resolve({ stack: 'KinesisToDeltaLake', source: 'clickstream' })).rejects.toThrow(
      'stack stream-foundry-dev-kinesis-to-delta-lake has no output clickstreamStream (outputs: clickstreamRawZone); pass --stream <name or ARN>',
    );
  });

  test('a stack that does not exist', async () => {
    const error = Object.assign(new Error('Stack with id nope does not exist'), { name: 'ValidationError' });
    cfn.on(DescribeStacksCommand).rejects(error);
    await expect(resolve({ stack: 'nope', source: 'clickstream' })).rejects.toThrow(
      '--stack nope: stack nope does not exist in this account and region (give its deployed name, e.g. stream-foundry-dev-kinesis-to-delta-lake, or its CDK id, e.g. KinesisToDeltaLake)',
    );
  });

  test('explicit flags bypass the lookup', async () => {
    await expect(resolve({ source: 'clickstream', bucketUrl: 's3://raw/clickstream/', stream: 'local' })).resolves.toEqual({
      bucket: 'raw',
      name: 'clickstream',
      broker: { kind: 'kinesis', stream: 'local' },
    });
    await expect(resolve({ source: 'orders', bucketUrl: 's3://raw/orders', bootstrapServers: '127.0.0.1:9092', kafkaPlaintext: true })).resolves.toEqual({
      bucket: 'raw',
      name: 'orders',
      broker: { kind: 'kafka', brokers: ['127.0.0.1:9092'], topic: 'orders', auth: 'none', tls: false },
    });
    expect(cfn.calls()).toHaveLength(0);
  });

  test('flag mistakes', async () => {
    await expect(resolve({ source: 'clickstream', stream: 'x' })).rejects.toThrow(
      '--stack <stack name or CDK id> is required, unless --bucket-url and one of --stream / --bootstrap-servers are given',
    );
    await expect(resolve({ source: 'clickstream', bucketUrl: 's3://raw/clickstream/', stream: 'x', bootstrapServers: 'h:1' })).rejects.toThrow(
      '--stream (Kinesis) and --bootstrap-servers (Kafka) exclude each other: give one',
    );
    expect(() => parseBucketUrl('--bucket-url', 's3://raw/clickstream/dt=2026-12-04/')).toThrow(
      '--bucket-url "s3://raw/clickstream/dt=2026-12-04/" is not a raw zone URL: expected s3://<bucket>/<name>/ (the stack output <name>RawZone)',
    );
    expect(() => parseBucketUrl('--bucket-url', 'https://raw.s3.amazonaws.com/clickstream/')).toThrow('is not a raw zone URL');
  });
});

describe('npm run replay: command line (scripts/replay.ts main)', () => {
  const run = async (...argv: string[]) => {
    const lines: string[] = [];
    const io = { log: (l: string) => lines.push(l), out: (l: string) => lines.push(l) };
    const code = await main(argv, io, NOW);
    return { code, text: lines.join('\n') };
  };
  const WINDOW = ['--from', '2026-12-04T10:00Z', '--to', '2026-12-04T12:00Z'];

  test.each([
    [['--source', 'clickstream', '--frm', 'x'], "Unknown option '--frm'"],
    [[...WINDOW], '--source <name> is required: a source of cdk.json, or "events" for the LandingZone stack'],
    [['--source', 'clickstream', '--to', '2026-12-04T12:00Z'], '--from is required: a UTC instant on a whole hour'],
    [['--source', 'clickstream', ...WINDOW, '--show', 'many'], '--show "many" must be a whole number of records per hour, 0 to 1000'],
    [['--source', 'nope', ...WINDOW, '--bucket-url', 's3://b/nope/', '--stream', 's'], '--source "nope" is not a configured source'],
    [['--source', 'clickstream', ...WINDOW, '--stream', 's'], '--stack <stack name or CDK id> is required'],
  ])('%j: exit 2 and the usage', async (argv, message) => {
    const { code, text } = await run(...argv);
    expect(code).toBe(2);
    expect(text).toContain(message);
    expect(text).toContain('usage: npm run replay -- --stack <stack name or CDK id> --source <name>');
  });
});

describe('replay when publishing fails (scripts/replay.ts replay)', () => {
  const s3 = mockClient(S3Client);
  afterAll(() => s3.restore());

  test('the validator\'s writer gives up after its attempts: the count line says how many were not published', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ event_id: `e-${i}`, user_id: `u-${i}` }));
    s3.on(ListObjectsV2Command).callsFake(({ Prefix }) =>
      Prefix === 'clickstream/dt=2026-12-04/hour=10/' ? { Contents: [{ Key: `${Prefix}a.gz`, Size: 1 }], IsTruncated: false } : { IsTruncated: false },
    );
    s3.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([zlib.gzipSync(lines.map((l) => `${l}\n`).join(''))]) }));
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const send = jest.fn().mockRejectedValue(throttled);
    const writer = new KinesisWriter({ client: { send }, streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s', retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => undefined } });
    const log: string[] = [];
    const w = parseWindow({ from: '2026-12-04T10:00Z', to: '2026-12-04T12:00Z', now: NOW });
    const result = await replay({
      source: 'clickstream',
      window: w,
      target: { bucket: 'raw-b', name: 'clickstream', broker: { kind: 'kinesis', stream: 's' } },
      keyers: keyersFor(config, 'clickstream'),
      s3: new S3Client({ region: 'us-east-1' }),
      publisher: { publisher: writer, describe: 'test stream', connect: async () => undefined, close: async () => undefined },
      log: (l) => log.push(l),
      out: (l) => log.push(l),
    });
    expect(result).toMatchObject({ objects: 1, records: 30, published: 0, failed: 30 });
    expect(result.error).toMatch(/^PutRecords to arn:aws:kinesis:us-east-1:000000000000:stream\/s: \d+ records still unpublished after 3 attempts; last error: ThrottlingException: Rate exceeded$/);
    expect(send.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(summary('clickstream', w, result, false)).toBe('replay clickstream [2026-12-04T10:00Z, 2026-12-04T12:00Z): 1 objects, 30 records, 0 published, 30 failed');
  });
});
