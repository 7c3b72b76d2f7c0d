// Powertools then prints through the global console, which the tests capture; dev mode would disable metrics.
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { KinesisClient, PutRecordsCommand, PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import {
  CopyObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { KinesisWriter } from '../../../../platform/handlers/kinesis-writer';
import { loadSchema } from '../../../../platform/handlers/schema-validator';
import { createHandler } from '../../../../platform/landing-zone/validator/handler';
import { invalidEventsKey, objectFingerprint } from '../../../../platform/landing-zone/validator/error-output';
import { clickEvent, S3_TEST_EVENT, SCHEMA_PATH, s3Notification, snsEvent } from './fixtures';
import { canaryId, canaryObjectKey } from '../../../../platform/freshness/contract';

const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/clicks';
const s3 = mockClient(S3Client);
const kinesis = mockClient(KinesisClient);
const validate = loadSchema(SCHEMA_PATH);
let emf: Array<Record<string, unknown>>;

function handlerFor(maxAttempts = 3) {
  const metrics = new Metrics({
    namespace: 'StreamFoundry/LandingZone',
    serviceName: 'landing-validator',
    defaultDimensions: { Source: 'clickstream' },
  });
  return createHandler({
    s3: new S3Client({ region: 'eu-west-1' }),
    source: 'clickstream',
    errorBucket: 'errors',
    validate,
    idField: 'event_id',
    partitionKeyField: 'user_id',
    createPublisher: async () =>
      new KinesisWriter({
        client: new KinesisClient({ region: 'eu-west-1' }),
        streamArn: STREAM_ARN,
        retry: { maxAttempts, baseDelayMs: 1, maxDelayMs: 2 },
        concurrency: 1, // calls in a known order
      }),
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
  });
}

/** Serves `body` for `key`, in chunks of `chunk` bytes. */
function serve(key: string, body: Buffer, meta: { ContentEncoding?: string; ContentType?: string } = {}, chunk = 1000) {
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += chunk) chunks.push(body.subarray(i, i + chunk));
  s3.on(GetObjectCommand, { Key: key }).callsFake(() => ({ Body: Readable.from(chunks), ETag: '"etag-1"', ...meta }));
}

const published = () =>
  kinesis.commandCalls(PutRecordsCommand).flatMap((c) =>
    (c.args[0].input as PutRecordsCommandInput).Records!.map((r) => ({
      key: r.PartitionKey,
      data: Buffer.from(r.Data!).toString('utf8'),
    })),
  );

const errorFiles = () =>
  s3.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Key!.startsWith('invalid/')).map((c) => {
    const input = c.args[0].input as PutObjectCommandInput;
    return { key: input.Key, lines: Buffer.from(input.Body as Uint8Array).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l)) };
  });

const metricValues = () =>
  emf.map((m) => {
    const { _aws, service, Source, ...values } = m as { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][] }> } } & Record<string, unknown>;
    return { dimensions: _aws.CloudWatchMetrics[0].Dimensions, service, Source, values };
  });

beforeEach(() => {
  s3.reset();
  kinesis.reset();
  s3.on(PutObjectCommand).resolves({});
  s3.on(CopyObjectCommand).resolves({});
  kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
    FailedRecordCount: 0,
    Records: input.Records!.map((_, i) => ({ SequenceNumber: `${i}`, ShardId: 'shardId-000000000000' })),
  }));
  emf = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => {
    const parsed = JSON.parse(line);
    if (parsed._aws) emf.push(parsed);
  });
});
afterEach(() => jest.restoreAllMocks());

describe('landing-validator handler', () => {
  it('publishes valid events and writes every kind of invalid one, with exact reasons', async () => {
    const valid1 = clickEvent({ user_id: 'ü-日本-🚀', page: { url: 'https://shop.example.com/s?q=%C3%A9', title: 'Zoë 日本 🚀' } });
    const valid2 = clickEvent();
    const schemaBad = clickEvent({ event_type: 'bogus', session_id: undefined });
    const noId = clickEvent({ event_id: undefined });
    const noKey = clickEvent({ user_id: undefined });
    const numericId = clickEvent({ event_id: 42 });
    const nearLimit = clickEvent({ user_id: 'u-big' });
    // Data just under 1 MiB but over it with the 5-byte partition key.
    nearLimit.page = { url: 'https://shop.example.com/', title: '' };
    const base = Buffer.byteLength(JSON.stringify(nearLimit));
    (nearLimit.page as Record<string, string>).title = 't'.repeat(1024 * 1024 - base - 2);
    const nearLimitLine = JSON.stringify(nearLimit);
    expect(Buffer.byteLength(nearLimitLine)).toBe(1024 * 1024 - 2);
    const hugeLine = JSON.stringify(clickEvent({ page: { url: 'https://x.example/', title: 'h'.repeat(2 * 1024 * 1024) } }));

    const body = Buffer.concat([
      Buffer.from(`${JSON.stringify(valid1)}\r\n`), // 1
      Buffer.from('\r\n'), // 2 blank
      Buffer.from(`${JSON.stringify(schemaBad)}\n`), // 3
      Buffer.from('{"event_id": "x", \n'), // 4 unparseable
      Buffer.concat([Buffer.from('{"event_id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]), // 5 bad UTF-8
      Buffer.from(`${JSON.stringify(noId)}\n`), // 6
      Buffer.from(`${JSON.stringify(noKey)}\n`), // 7
      Buffer.from(`${nearLimitLine}\n`), // 8
      Buffer.from(`${hugeLine}\n`), // 9
      Buffer.from(`${JSON.stringify(numericId)}\n`), // 10 (schema: event_id must be a string)
      Buffer.from(`   \n${JSON.stringify(valid2)}`), // 11 blank, 12 without final newline
    ]);
    serve('clickstream/2026/11/20/batch 1.ndjson', body);

    const result = await handlerFor()(snsEvent(s3Notification([{ encodedKey: 'clickstream/2026/11/20/batch+1.ndjson' }])));

    expect(published()).toEqual([
      { key: 'ü-日本-🚀', data: JSON.stringify(valid1) },
      { key: valid2.user_id, data: JSON.stringify(valid2) },
    ]);
    const ref = { bucket: 'landing', key: 'clickstream/2026/11/20/batch 1.ndjson', etag: 'etag-1', eventTime: '2026-11-20T09:30:00.000Z' };
    const errorKey = `invalid/source=clickstream/date=2026-11-20/${objectFingerprint(ref)}.ndjson`;
    expect(invalidEventsKey('clickstream', ref)).toBe(errorKey);
    const [file, ...others] = errorFiles();
    expect(others).toEqual([]);
    expect(file.key).toBe(errorKey);
    const common = { source: 'clickstream', bucket: 'landing', key: ref.key, etag: 'etag-1' };
    expect(file.lines).toEqual([
      {
        ...common,
        line: 3,
        eventId: schemaBad.event_id,
        reasons: [
          { type: 'schema', instancePath: '', keyword: 'required', message: "must have required property 'session_id'", params: { missingProperty: 'session_id' } },
          {
            type: 'schema',
            instancePath: '/event_type',
            keyword: 'enum',
            message: 'must be equal to one of the allowed values',
            params: { allowedValues: ['page_view', 'click', 'add_to_cart', 'purchase', 'search'] },
          },
        ],
        raw: JSON.stringify(schemaBad),
        rawBytes: Buffer.byteLength(JSON.stringify(schemaBad)),
      },
      {
        ...common,
        line: 4,
        reasons: [{ type: 'invalid_json', message: expect.stringMatching(/JSON/) }],
        raw: '{"event_id": "x", ',
        rawBytes: 18,
      },
      {
        ...common,
        line: 5,
        reasons: [{ type: 'bad_encoding', message: 'record is not valid UTF-8' }],
        raw: '{"event_id":"\ufffd\ufffd"}',
        rawBase64: Buffer.concat([Buffer.from('{"event_id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]).toString('base64'),
        rawBytes: 17,
      },
      {
        ...common,
        line: 6,
        reasons: [
          { type: 'schema', instancePath: '', keyword: 'required', message: "must have required property 'event_id'", params: { missingProperty: 'event_id' } },
          { type: 'missing_id', field: 'event_id', message: 'field "event_id" is missing' },
        ],
        raw: JSON.stringify(noId),
        rawBytes: Buffer.byteLength(JSON.stringify(noId)),
      },
      {
        ...common,
        line: 7,
        eventId: noKey.event_id,
        reasons: [
          { type: 'schema', instancePath: '', keyword: 'required', message: "must have required property 'user_id'", params: { missingProperty: 'user_id' } },
          { type: 'missing_partition_key', field: 'user_id', message: 'field "user_id" is missing' },
        ],
        raw: JSON.stringify(noKey),
        rawBytes: Buffer.byteLength(JSON.stringify(noKey)),
      },
      {
        ...common,
        line: 8,
        eventId: nearLimit.event_id,
        reasons: [{ type: 'too_large', message: 'record is 1048579 bytes with its partition key, over the 1048576-byte Kinesis limit' }],
        raw: nearLimitLine,
        rawBytes: 1024 * 1024 - 2,
      },
      {
        ...common,
        line: 9,
        reasons: [{ type: 'too_large', message: `record is ${Buffer.byteLength(hugeLine)} bytes, over the 1048576-byte limit` }],
        raw: hugeLine.slice(0, 1024 * 1024),
        rawBytes: Buffer.byteLength(hugeLine),
        rawTruncated: true,
      },
      {
        ...common,
        line: 10,
        eventId: '42',
        reasons: [{ type: 'schema', instancePath: '/event_id', keyword: 'type', message: 'must be string', params: { type: 'string' } }],
        raw: JSON.stringify(numericId),
        rawBytes: Buffer.byteLength(JSON.stringify(numericId)),
      },
    ]);

    // Line 9 cannot be kept whole: the object is quarantined too, so its bytes past the first MiB are not lost.
    expect(result.objects).toEqual([
      expect.objectContaining({
        status: 'quarantined',
        quarantineReason: expect.stringMatching(/^the record at line 9 is \d+ bytes, more than the 1048576 bytes that can be kept/),
        format: 'ndjson',
        compressed: false,
        read: 10,
        valid: 2,
        invalid: 8,
        published: 2,
        retried: 0,
        invalidEventsKey: errorKey,
      }),
    ]);
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, { Bucket: 'errors', CopySource: 'landing/clickstream/2026/11/20/batch%201.ndjson' });
    expect(metricValues()).toEqual([
      {
        dimensions: [['service', 'Source']],
        service: 'landing-validator',
        Source: 'clickstream',
        values: { EventsRead: 10, EventsValid: 2, EventsInvalid: 8, EventsPublished: 2, PublishRetries: 0, ObjectsQuarantined: 1 },
      },
    ]);
    expect(emf[0]._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'StreamFoundry/LandingZone' }] });
  });

  it('a freshness canary file is validated and published like any upload, its events counted as CanaryEvents, not as read', async () => {
    const id = canaryId(Date.UTC(2026, 11, 4, 12));
    const key = canaryObjectKey('clickstream', id);
    serve(key, Buffer.from(`${JSON.stringify(clickEvent({ event_id: id }))}\n`));
    await handlerFor()(snsEvent(s3Notification([{ encodedKey: key }])));
    expect(published().map((p) => JSON.parse(p.data).event_id)).toEqual([id]);
    // The no-data alarm watches EventsRead: publishers' events only, so it still fires when they fall silent.
    expect(metricValues()[0].values).toEqual({ CanaryEvents: 1, EventsRead: 0, EventsValid: 0, EventsInvalid: 0, EventsPublished: 0, PublishRetries: 0, ObjectsQuarantined: 0 });
  });

  it('reads gzip-compressed JSON arrays, publishing each element as one line', async () => {
    const a = clickEvent({ user_id: 'ß' });
    const b = clickEvent();
    const pretty = Buffer.from(`[\n${JSON.stringify(a, null, 2)},\n${JSON.stringify(b)},\n{"event_id": 1,}\n]\n`);
    serve('clickstream/export.json.gz', gzipSync(pretty), {}, 17);
    const result = await handlerFor()(snsEvent(s3Notification([{ encodedKey: 'clickstream/export.json.gz' }])));

    expect(published()).toEqual([
      { key: 'ß', data: JSON.stringify(a) },
      { key: b.user_id, data: JSON.stringify(b) },
    ]);
    const [file] = errorFiles();
    expect(file.lines).toEqual([
      expect.objectContaining({
        line: 2 + JSON.stringify(a, null, 2).split('\n').length + 1,
        element: 3,
        raw: '{"event_id": 1,}',
        reasons: [{ type: 'invalid_json', message: expect.stringMatching(/JSON/) }],
      }),
    ]);
    expect(result.objects[0]).toMatchObject({ format: 'json', compressed: true, read: 3, valid: 2, invalid: 1 });
  });

  it('quarantines an object with corrupt gzip, after publishing what could be read', async () => {
    const lines = Array.from({ length: 2000 }, () => JSON.stringify(clickEvent())).join('\n');
    const gz = gzipSync(lines);
    serve('clickstream/broken.ndjson.gz', gz.subarray(0, Math.floor(gz.length * 0.8)), {}, 512);

    const result = await handlerFor()(
      snsEvent(s3Notification([{ encodedKey: 'clickstream/broken.ndjson.gz', versionId: 'v7', eventTime: '2026-11-21T00:00:01Z' }])),
    );
    const ref = { bucket: 'landing', key: 'clickstream/broken.ndjson.gz', versionId: 'v7', etag: 'etag-1', eventTime: '2026-11-21T00:00:01.000Z' };
    const folder = `quarantine/source=clickstream/date=2026-11-21/${objectFingerprint(ref)}`;

    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'landing', Key: 'clickstream/broken.ndjson.gz', VersionId: 'v7' });
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: 'errors',
      Key: `${folder}/broken.ndjson.gz`,
      CopySource: 'landing/clickstream/broken.ndjson.gz?versionId=v7',
    });
    const outcome = result.objects[0];
    expect(outcome).toMatchObject({ status: 'quarantined', quarantineKey: `${folder}/broken.ndjson.gz`, invalid: 0 });
    expect(outcome.read).toBeGreaterThan(0);
    expect(outcome.read).toBeLessThan(2000);
    expect(published()).toHaveLength(outcome.read); // every event decoded before the corruption, no more
    const reasonPut = s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === `${folder}/reason.json`)!;
    expect(JSON.parse(reasonPut.args[0].input.Body as string)).toEqual({
      source: 'clickstream',
      bucket: 'landing',
      key: 'clickstream/broken.ndjson.gz',
      versionId: 'v7',
      etag: 'etag-1',
      eventTime: '2026-11-21T00:00:01.000Z',
      reason: 'invalid gzip data: unexpected end of file',
      eventsReadBeforeFailure: outcome.read,
      eventsPublishedBeforeFailure: outcome.read,
      quarantinedCopy: `s3://errors/${folder}/broken.ndjson.gz`,
    });
    expect(metricValues()[0].values).toEqual({
      EventsRead: outcome.read,
      EventsValid: outcome.read,
      EventsInvalid: 0,
      EventsPublished: outcome.read,
      PublishRetries: 0,
      ObjectsQuarantined: 1,
    });
  });

  it('processes an empty object with zero counts, still publishing the metrics', async () => {
    serve('clickstream/empty.ndjson.gz', Buffer.alloc(0));
    const result = await handlerFor()(snsEvent(s3Notification([{ encodedKey: 'clickstream/empty.ndjson.gz' }])));
    expect(result.objects).toEqual([expect.objectContaining({ status: 'processed', read: 0, valid: 0, invalid: 0, published: 0 })]);
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordsCommand, 0);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 0);
    expect(metricValues()[0].values).toEqual({
      EventsRead: 0,
      EventsValid: 0,
      EventsInvalid: 0,
      EventsPublished: 0,
      PublishRetries: 0,
      ObjectsQuarantined: 0,
    });
  });

  it('ignores S3 test events, decodes keys, and handles several notifications and records per event', async () => {
    const events = [clickEvent(), clickEvent(), clickEvent()];
    serve('clickstream/a b+c.ndjson', Buffer.from(JSON.stringify(events[0])));
    serve('clickstream/ünï.ndjson', Buffer.from(JSON.stringify(events[1])));
    serve('clickstream/z.ndjson', Buffer.from(JSON.stringify(events[2])));
    const result = await handlerFor()(
      snsEvent(
        S3_TEST_EVENT,
        s3Notification([{ encodedKey: 'clickstream/a+b%2Bc.ndjson' }, { encodedKey: 'clickstream/%C3%BCn%C3%AF.ndjson' }]),
        s3Notification([{ encodedKey: 'clickstream/z.ndjson' }]),
      ),
    );
    expect(result.objects.map((o) => [o.key, o.read, o.published])).toEqual([
      ['clickstream/a b+c.ndjson', 1, 1],
      ['clickstream/ünï.ndjson', 1, 1],
      ['clickstream/z.ndjson', 1, 1],
    ]);
    expect(published().map((p) => JSON.parse(p.data))).toEqual(events);
    expect(emf).toHaveLength(3);
    // Without a version id, the read is pinned to the event's ETag.
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Key: 'clickstream/z.ndjson', IfMatch: '"etag-1"' });
  });

  it('fails the invocation when publishing fails after every retry, leaving no error file', async () => {
    kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
      FailedRecordCount: input.Records!.length,
      Records: input.Records!.map(() => ({ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' })),
    }));
    serve('clickstream/x.ndjson', Buffer.from(`${JSON.stringify(clickEvent())}\nnot json\n${JSON.stringify(clickEvent())}\n`));
    const handler = handlerFor(4);
    await expect(handler(snsEvent(s3Notification([{ encodedKey: 'clickstream/x.ndjson' }])))).rejects.toThrow(
      '1 of 1 objects failed: s3://landing/clickstream/x.ndjson: PutRecords to arn:aws:kinesis:eu-west-1:123456789012:stream/clicks: 2 records still unpublished after 4 attempts; last error: 2 of 2 records failed (ProvisionedThroughputExceededException)',
    );
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordsCommand, 4);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 0);
    expect(metricValues()[0].values).toEqual({
      EventsRead: 3,
      EventsValid: 2,
      EventsInvalid: 1,
      EventsPublished: 0,
      PublishRetries: 6,
      ObjectsQuarantined: 0,
    });
  });

  it('skips an object that no longer exists, and fails on other read errors', async () => {
    s3.on(GetObjectCommand, { Key: 'clickstream/gone.ndjson' }).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    const result = await handlerFor()(snsEvent(s3Notification([{ encodedKey: 'clickstream/gone.ndjson' }])));
    expect(result.objects).toEqual([]);
    expect(emf).toEqual([]);

    s3.on(GetObjectCommand, { Key: 'clickstream/denied.ndjson' }).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(handlerFor()(snsEvent(s3Notification([{ encodedKey: 'clickstream/denied.ndjson' }])))).rejects.toThrow(
      '1 of 1 objects failed: s3://landing/clickstream/denied.ndjson: Access Denied',
    );
  });

  it('rejects SNS messages that are not S3 notifications', async () => {
    await expect(handlerFor()(snsEvent('hello'))).rejects.toThrow('SNS message m-0 is not an S3 event notification (not JSON)');
    await expect(handlerFor()(snsEvent('{"foo":1}'))).rejects.toThrow('SNS message m-0 is not an S3 event notification (no Records)');
  });

  it('uses the same error key when the same event is processed twice', async () => {
    serve('clickstream/dup.ndjson', Buffer.from('nope\n'));
    const event = snsEvent(s3Notification([{ encodedKey: 'clickstream/dup.ndjson' }]));
    await handlerFor()(event);
    await handlerFor()(event);
    const [first, second] = errorFiles();
    expect(second).toEqual(first);
  });
});
