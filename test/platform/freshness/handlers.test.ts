/**
 * The canary's publishing (platform/freshness/canary.ts, the scheduled function's and `npm run verify`'s code) and
 * the reporter's reading of receipts, with the source's sample event and schema as the stacks deploy them.
 */
process.env.PIPELINE_NAME = 'stream-foundry-test-kinesis-to-delta-lake';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { canaryEvent, canaryObjectKey, CanaryTarget, publishCanary } from '../../../platform/freshness/canary';
import { canaryId, canaryPublishedAt, receiptKey } from '../../../platform/freshness/contract';
import { canaryTemplate } from '../../../platform/freshness';
import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import { DataSource, dataSource } from '../../../platform/data-source';
import { loadSchema } from '../../../platform/handlers/schema-validator';
import { measurements, onEvent } from '../../../platform/freshness/handlers/reporter';

const config = parseConfig(readCdkJsonContext());
const clickstream = dataSource(config, 'clickstream', 'kinesisToDeltaLake');
const orders = dataSource(config, 'orders');
const target = (entrance: CanaryTarget['entrance'], source: DataSource = clickstream): CanaryTarget => ({
  source: source.name,
  template: canaryTemplate(source),
  idField: source.idField,
  eventTimeField: source.eventTimeField,
  entrance,
});

describe('canary events', () => {
  test('are valid events of their source, with the canary id and the publish time as event time', () => {
    const at = Date.UTC(2026, 11, 4, 12, 0, 0, 5);
    for (const source of [clickstream, orders]) {
      const event = canaryEvent(target({ kind: 'landing', bucket: 'b' }, source), at);
      expect(loadSchema(source.schemaFile)(event)).toBeUndefined();
      expect(canaryPublishedAt(event[source.idField])).toBe(at);
    }
    expect(canaryEvent(target({ kind: 'landing', bucket: 'b' }), at).occurred_at).toBe('2026-12-04T12:00:00.005Z');
  });

  test('a source whose id the canary cannot carry fails synth naming the setting', () => {
    // orders.order_id has a pattern (^ORD-...): a canary id is not one.
    expect(() => canaryTemplate({ ...orders, idField: 'order_id' })).toThrow(/canary event of "orders" .*sources\.orders\.idField \("order_id"\).*freshness\.enabled/);
  });
});

describe('a source without sample events', () => {
  const schemaFile = (schema: object) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'canary-')), 'meters.schema.json');
    fs.writeFileSync(file, JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: false, ...schema }));
    return file;
  };
  const meters = (file: string) => ({ name: 'meters', schemaFile: file, idField: 'id', eventTimeField: 'at' });

  test('starts from the smallest event its schema describes: required properties, minimums, first enum values', () => {
    const file = schemaFile({
      required: ['id', 'at', 'reading', 'kind', 'meter'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        at: { type: 'string', format: 'date-time' },
        reading: { type: 'integer', minimum: 1 },
        kind: { enum: ['gas', 'power'] },
        meter: { type: 'object', additionalProperties: false, required: ['serial', 'tags'], properties: { serial: { type: 'string', minLength: 8 }, tags: { type: 'array', minItems: 1, items: { type: 'string' } } } },
        note: { type: 'string' },
      },
    });
    const template = canaryTemplate(meters(file));
    expect(template).toEqual({ id: expect.any(String), at: expect.any(String), reading: 1, kind: 'gas', meter: { serial: 'canary--', tags: ['canary'] } });
    expect(loadSchema(file)(canaryEvent({ source: 'meters', template, idField: 'id', eventTimeField: 'at' }, Date.now()))).toBeUndefined();
  });

  test('one the schema cannot describe (a pattern) fails synth asking for a sample file', () => {
    const file = schemaFile({ required: ['id', 'at', 'serial'], properties: { id: { type: 'string' }, at: { type: 'string', format: 'date-time' }, serial: { type: 'string', pattern: '^M-[0-9]+$' } } });
    // Samples are looked for beside the schema (schemasDir): here its temporary directory.
    const dir = path.basename(path.dirname(file));
    expect(() => canaryTemplate(meters(file))).toThrow(new RegExp(`the smallest event its schema describes.*add ${dir}/meters\\.samples\\.ndjson with one valid event; or set freshness\\.enabled to false`));
  });
});

describe('publishCanary', () => {
  const s3 = mockClient(S3Client);
  const sns = mockClient(SNSClient);
  const clients = { s3: new S3Client({ region: 'eu-west-1' }), sns: new SNSClient({ region: 'eu-west-1' }) };
  beforeEach(() => {
    s3.reset();
    sns.reset();
    s3.onAnyCommand().rejects(new Error('unexpected'));
    sns.onAnyCommand().rejects(new Error('unexpected'));
    s3.on(PutObjectCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
  });

  test('landing: one NDJSON line under <source>/_canary/, validated by the source validator like any upload', async () => {
    const id = await publishCanary(clients, target({ kind: 'landing', bucket: 'landing' }), () => 5_000);
    expect(id).toBe(canaryId(5_000));
    const input = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(input).toMatchObject({ Bucket: 'landing', Key: canaryObjectKey('clickstream', id), ContentType: 'application/x-ndjson' });
    expect(input.Key).toBe(`clickstream/_canary/${id}.ndjson`);
    const body = String(input.Body);
    expect(body.endsWith('\n')).toBe(true);
    expect(JSON.parse(body).event_id).toBe(id);
  });

  test('topic: the event as the message; a FIFO topic gets a group and the id as deduplication id', async () => {
    await publishCanary(clients, target({ kind: 'topic', topicArn: 'arn:aws:sns:eu-west-1:111122223333:orders' }, orders), () => 7_000);
    await publishCanary(clients, target({ kind: 'topic', topicArn: 'arn:aws:sns:eu-west-1:111122223333:orders.fifo' }, orders), () => 8_000);
    const [standard, fifo] = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(JSON.parse(standard.Message!).event_id).toBe(canaryId(7_000));
    expect(standard.MessageGroupId).toBeUndefined();
    expect(fifo).toMatchObject({ MessageGroupId: 'orders-canary', MessageDeduplicationId: canaryId(8_000) });
  });

  test('a failed publish fails the invocation (EventBridge retries it)', async () => {
    s3.on(PutObjectCommand).rejects(new Error('AccessDenied'));
    await expect(publishCanary(clients, target({ kind: 'landing', bucket: 'landing' }))).rejects.toThrow('AccessDenied');
  });
});

describe('reporter', () => {
  const event = (...keys: string[]): S3Event => ({ Records: keys.map((key) => ({ s3: { object: { key } } })) }) as unknown as S3Event;

  test('measures each receipt from its key alone (URL-encoded as S3 sends it), and skips other keys', async () => {
    const id = canaryId(10_000);
    const key = receiptKey({ source: 'click-stream', id, committedAtMs: 13_250 });
    const result = measurements(event(encodeURIComponent(key).replace(/%2F/g, '/'), '_freshness/readme.txt'));
    expect(result.measured).toEqual([{ source: 'click-stream', id, freshnessSeconds: 3.25 }]);
    expect(result.skipped).toEqual(['_freshness/readme.txt']);
    expect(await onEvent(event(key))).toHaveLength(1);
  });

  test('a clock skew never reports negative freshness', () => {
    const id = canaryId(10_000);
    expect(measurements(event(receiptKey({ source: 's', id, committedAtMs: 9_000 }))).measured[0].freshnessSeconds).toBe(0);
  });
});
