/**
 * The delivery API's entry point (index.ts, configured by its environment as the construct configures it) paging a
 * real Kinesis stream: kinesalite, 3 shards. Parameter Store is not emulated: its client is mocked (the catalog).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateStreamCommand, KinesisClient, PutRecordsCommand, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { startKinesalite, Emulator } from '../../integration/emulators';
import { catalog, PREFIX, request, STREAM_NAME } from './fixtures';

const REGION = 'eu-west-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const ssm = mockClient(SSMClient);

let kinesalite: Emulator;
let kinesis: KinesisClient;
let schemasDir: string;
let onRequest: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
const savedEnv = { ...process.env };

/** Where each record went: its shard and sequence number, by a key that identifies it in the API's answer. */
const written = new Map<string, { shardId: string; sequenceNumber: string }>();
const RAW = Buffer.from([0xff, 0xfe, 0x00, 0x7b]); // not UTF-8, not JSON

async function put(entries: { key: string; data: Buffer; partitionKey: string }[]): Promise<void> {
  const requestEntries: PutRecordsRequestEntry[] = entries.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey }));
  const { Records, FailedRecordCount } = await kinesis.send(new PutRecordsCommand({ StreamName: STREAM_NAME, Records: requestEntries }));
  expect(FailedRecordCount).toBe(0);
  Records!.forEach((r, i) => written.set(entries[i].key, { shardId: r.ShardId!, sequenceNumber: r.SequenceNumber! }));
}
const order = (n: number) => ({ key: `o-${n}`, data: Buffer.from(JSON.stringify({ order_id: `o-${n}`, n })), partitionKey: `customer-${n}` });
const keyOf = (event: { order_id?: string; raw?: string }) => event.order_id ?? `raw:${event.raw}`;

beforeAll(async () => {
  kinesalite = await startKinesalite();
  kinesis = new KinesisClient({ region: REGION, endpoint: kinesalite.endpoint, credentials, requestHandler: new NodeHttpHandler() });
  await kinesis.send(new CreateStreamCommand({ StreamName: STREAM_NAME, ShardCount: 3 }));
  schemasDir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-api-schemas-'));
  fs.writeFileSync(path.join(schemasDir, 'orders.schema.json'), '{"type":"object"}');
  Object.assign(process.env, {
    CATALOG_PREFIX: PREFIX,
    KINESIS_ENDPOINT: kinesalite.endpoint,
    SCHEMAS_DIR: schemasDir,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ onRequest } = await import('../../../platform/customer-delivery/api/index'));
});
afterAll(async () => {
  process.env = savedEnv;
  kinesis?.destroy();
  await kinesalite?.stop();
  if (schemasDir) fs.rmSync(schemasDir, { recursive: true, force: true });
});
beforeEach(() => {
  ssm.reset();
  ssm.onAnyCommand().rejects(new Error('unexpected SSM command'));
  ssm.on(GetParameterCommand, { Name: `${PREFIX}/acme` }).resolves({ Parameter: { Value: JSON.stringify(catalog()) } });
});

interface PageBody {
  events: Array<{ order_id?: string; raw?: string }>;
  cursor: string;
  shards: number;
  millisBehindLatest: number;
}
async function page(query: Record<string, string>): Promise<PageBody> {
  const response = await onRequest(request('/customers/acme/sources/orders/events', { query }));
  expect(response.statusCode).toBe(200);
  return JSON.parse(response.body);
}

test('paging with limit 7 returns every record exactly once, in each shard\'s order, and the cursor then picks up new records', async () => {
  await put(Array.from({ length: 30 }, (_, i) => order(i)));
  await put([{ key: `raw:${RAW.toString('base64')}`, data: RAW, partitionKey: 'raw' }]);
  await put(Array.from({ length: 30 }, (_, i) => order(30 + i)));
  // Distinct partition keys spread the records over every shard.
  expect(new Set([...written.values()].map((w) => w.shardId)).size).toBe(3);

  const pages: PageBody[] = [await page({ limit: '7' })];
  while (pages.at(-1)!.events.length > 0) {
    expect(pages.length).toBeLessThan(20);
    pages.push(await page({ limit: '7', cursor: pages.at(-1)!.cursor }));
  }
  const events = pages.flatMap((p) => p.events);
  const keys = events.map(keyOf);

  // Every record once: 60 orders and the raw one, as base64.
  expect(keys).toHaveLength(61);
  expect(new Set(keys)).toEqual(new Set(written.keys()));
  expect(events).toContainEqual({ raw: RAW.toString('base64') });
  expect(events).toContainEqual({ order_id: 'o-42', n: 42 });
  // Full pages until the records run out; the empty last page is caught up.
  expect(pages.map((p) => p.events.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 7, 5, 0]);
  expect(pages.every((p) => p.shards === 3)).toBe(true);
  expect(pages.at(-1)!.millisBehindLatest).toBe(0);
  // Each shard's records in the order the shard holds them.
  for (const shardId of new Set([...written.values()].map((w) => w.shardId))) {
    const returned = keys.filter((k) => written.get(k)!.shardId === shardId).map((k) => BigInt(written.get(k)!.sequenceNumber));
    expect(returned).toEqual([...returned].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  // Records written after the last (empty) page come with the next one: exactly those, nothing before.
  await put([order(100), order(101), order(102), order(103), order(104)]);
  const next = await page({ limit: '7', cursor: pages.at(-1)!.cursor });
  expect(next.events.map(keyOf).sort()).toEqual(['o-100', 'o-101', 'o-102', 'o-103', 'o-104']);
  expect((await page({ limit: '7', cursor: next.cursor })).events).toEqual([]);
});

test('a first page starts at since: records older than it are not returned', async () => {
  const before = await page({ limit: '500' }); // the default since (15 minutes ago) returns everything written so far
  expect(before.events.length).toBe(written.size);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const since = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const fresh = Array.from({ length: 30 }, (_, i) => order(200 + i));
  await put(fresh);
  // (kinesalite never answers AT_TIMESTAMP on a shard with no record after it: the new records must reach every shard.)
  expect(new Set(fresh.map((o) => written.get(o.key)!.shardId)).size).toBe(3);
  const first = await page({ limit: '500', since });
  expect(first.events.map(keyOf).sort()).toEqual(fresh.map((o) => o.key).sort());
});
