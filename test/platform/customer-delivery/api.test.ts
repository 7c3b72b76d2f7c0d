import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  ProvisionedThroughputExceededException,
  _Record,
} from '@aws-sdk/client-kinesis';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { matchingPrincipal } from '../../../platform/customer-delivery/api/caller';
import { CatalogStore } from '../../../platform/customer-delivery/api/catalog-store';
import { loadConfig } from '../../../platform/customer-delivery/api/config';
import { Cursor, decodeCursor, encodeCursor } from '../../../platform/customer-delivery/api/cursor';
import { createHandler, DEFAULT_SINCE_MS } from '../../../platform/customer-delivery/api/handler';
import { readPage } from '../../../platform/customer-delivery/api/page';
import { SchemaStore } from '../../../platform/customer-delivery/api/schemas';
import { schemaVersion } from '../../../platform/customer-delivery/catalog';
import { CustomerCatalog, PAGE_LIMITS } from '../../../platform/customer-delivery/catalog';
import { CALLERS, catalog, PREFIX, request, STREAM_ARN, STREAM_NAME } from './fixtures';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const TTL_MS = 60_000;
const ssm = mockClient(SSMClient);
const kinesis = mockClient(KinesisClient);

const ORDERS_SCHEMA = { type: 'object', required: ['order_id'], properties: { order_id: { type: 'string' }, amount: { type: 'number' } } };
let schemasDir: string;
beforeAll(() => {
  schemasDir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-api-schemas-'));
  fs.writeFileSync(path.join(schemasDir, 'orders.schema.json'), JSON.stringify(ORDERS_SCHEMA, null, 2));
});
afterAll(() => fs.rmSync(schemasDir, { recursive: true, force: true }));

/** Every command not answered by a test fails loudly: the handler makes no call the test did not expect. */
beforeEach(() => {
  ssm.reset();
  kinesis.reset();
  ssm.onAnyCommand().rejects(new Error('unexpected SSM command'));
  kinesis.onAnyCommand().rejects(new Error('unexpected Kinesis command'));
});

function publish(value: CustomerCatalog | string, customer = 'acme') {
  ssm
    .on(GetParameterCommand, { Name: `${PREFIX}/${customer}` })
    .resolves({ Parameter: { Name: `${PREFIX}/${customer}`, Type: 'String', Value: typeof value === 'string' ? value : JSON.stringify(value) } });
}

function setup({ catalogValue = catalog() as CustomerCatalog | string, pageDeadlineMs = undefined as number | undefined } = {}) {
  let now = NOW;
  publish(catalogValue);
  const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  const handler = createHandler({
    catalogs: new CatalogStore({ ssm: new SSMClient({ region: 'eu-west-1' }), prefix: PREFIX, ttlMs: TTL_MS, now: () => now }),
    schemas: new SchemaStore(schemasDir),
    kinesis: new KinesisClient({ region: 'eu-west-1' }),
    logger: logger as unknown as Pick<Logger, 'info' | 'warn' | 'error'>,
    now: () => now,
    pageDeadlineMs,
  });
  return { handler, logger, advance: (ms: number) => (now += ms) };
}

const body = (response: APIGatewayProxyResult) => JSON.parse(response.body);

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
function record(shard: number, n: number, data: Uint8Array = json({ order_id: `o-${shard}-${n}` }), atMs = NOW - 60_000 + n * 1000): _Record {
  return { SequenceNumber: `${shard}000${String(n).padStart(4, '0')}`, PartitionKey: `k${n}`, Data: data, ApproximateArrivalTimestamp: new Date(atMs) };
}
const shard = (n: number, parents: { ParentShardId?: string; AdjacentParentShardId?: string } = {}) => ({
  ShardId: `shardId-00000000000${n}`,
  HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' },
  SequenceNumberRange: { StartingSequenceNumber: '0' },
  ...parents,
});
const S0 = 'shardId-000000000000';
const S1 = 'shardId-000000000001';
const S2 = 'shardId-000000000002';
const S3 = 'shardId-000000000003';

/** Iterator "it-<shard>-<what>" for each GetShardIterator of a shard; GetRecords answers by iterator. */
function iterators(answers: Record<string, string>) {
  for (const [shardId, iterator] of Object.entries(answers)) {
    kinesis.on(GetShardIteratorCommand, { ShardId: shardId }).resolves({ ShardIterator: iterator });
  }
}
function records(iterator: string, Records: _Record[], rest: { NextShardIterator?: string; MillisBehindLatest?: number } = { NextShardIterator: `${iterator}-next`, MillisBehindLatest: 0 }) {
  kinesis.on(GetRecordsCommand, { ShardIterator: iterator }).resolves({ Records, ...rest });
}

const eventsPath = '/customers/acme/sources/orders/events';

describe('GET /customers/{customer}', () => {
  it('routes behind a custom domain whose base path prefixes the path', async () => {
    const { handler } = setup();
    const response = await handler(request('/delivery/customers/acme'));
    expect(response.statusCode).toBe(200);
    expect(body(response)).toEqual(catalog());
  });

  it('returns the catalog read from Parameter Store', async () => {
    const { handler, logger } = setup();
    const response = await handler(request('/customers/acme'));
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    expect(body(response)).toEqual(catalog());
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: `${PREFIX}/acme`, WithDecryption: true });
    expect(logger.info).toHaveBeenCalledTimes(1);
    expect(logger.info).toHaveBeenCalledWith('request', expect.objectContaining({ customer: 'acme', route: '/customers/{customer}', status: 200, count: null }));
  });

  it('404 for a customer without a catalog parameter, and for a name no customer can have (without asking SSM)', async () => {
    const { handler } = setup();
    ssm.on(GetParameterCommand, { Name: `${PREFIX}/nobody` }).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    const missing = await handler(request('/customers/nobody'));
    expect(missing.statusCode).toBe(404);
    expect(body(missing)).toEqual({ error: 'no customer "nobody"' });
    const invalid = await handler(request('/customers/ACME..'));
    expect(invalid.statusCode).toBe(404);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
  });

  it('500 (details in the log only) when the parameter is not a catalog', async () => {
    const { handler, logger } = setup({ catalogValue: JSON.stringify({ customer: 'acme', principals: 'all' }) });
    const response = await handler(request('/customers/acme'));
    expect(response.statusCode).toBe(500);
    expect(body(response)).toEqual({ error: 'internal error; the platform team has the details in the function log' });
    expect(logger.error).toHaveBeenCalledWith('request', expect.objectContaining({ status: 500, fault: 'catalog', error: expect.objectContaining({ name: 'CatalogError' }) }));
    expect(logger.info).not.toHaveBeenCalled();
  });

  it('500 when the parameter holds another customer\'s catalog', async () => {
    const { handler } = setup({ catalogValue: catalog({ customer: 'other' }) });
    expect((await handler(request('/customers/acme'))).statusCode).toBe(500);
  });
});

describe('routes and methods', () => {
  it('404 with a JSON error for an unknown path, 405 with Allow for a method other than GET', async () => {
    const { handler } = setup();
    const unknown = await handler(request('/customers/acme/sources'));
    expect(unknown.statusCode).toBe(404);
    expect(body(unknown).error).toMatch(/^no route \/customers\/acme\/sources/);
    for (const method of ['POST', 'DELETE', 'PUT']) {
      const response = await handler(request(eventsPath, { method }));
      expect(response.statusCode).toBe(405);
      expect(response.headers).toMatchObject({ Allow: 'GET' });
      expect(body(response)).toEqual({ error: '/customers/{customer}/sources/{source}/events answers GET only' });
    }
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 0);
  });
});

describe('the caller check', () => {
  const principals = ['111122223333', 'arn:aws:iam::444455556666:role/data/team/reader'];

  it.each([
    ['a user of the account principal', CALLERS.accountUser, '111122223333'],
    ['a role session of the account principal', { accountId: '111122223333', userArn: 'arn:aws:sts::111122223333:assumed-role/anything/s' }, '111122223333'],
    ['a session of the role principal (role with a path)', CALLERS.roleSession, principals[1]],
  ])('admits %s', (_, caller, principal) => {
    expect(matchingPrincipal(caller, principals)).toBe(principal);
  });

  it.each([
    ['another role of the role principal\'s account', { accountId: '444455556666', userArn: 'arn:aws:sts::444455556666:assumed-role/writer/s' }],
    ['a user of the role principal\'s account', { accountId: '444455556666', userArn: 'arn:aws:iam::444455556666:user/reader' }],
    ['the role principal\'s account root', { accountId: '444455556666', userArn: 'arn:aws:iam::444455556666:root' }],
    ['a role of that name in another account', { accountId: '777788889999', userArn: 'arn:aws:sts::777788889999:assumed-role/reader/s' }],
    ['another account', { accountId: '777788889999', userArn: 'arn:aws:iam::777788889999:user/alice' }],
    ['an ARN whose account is not the caller\'s account', { accountId: '777788889999', userArn: 'arn:aws:sts::444455556666:assumed-role/reader/s' }],
    ['a session in another partition', { accountId: '444455556666', userArn: 'arn:aws-cn:sts::444455556666:assumed-role/reader/s' }],
    ['an unauthenticated caller', { accountId: null, userArn: null }],
  ])('refuses %s', (_, caller) => {
    expect(matchingPrincipal(caller, principals)).toBeUndefined();
  });

  it('403 for every route when the caller is not a principal of the customer; 200 for the role session', async () => {
    const { handler, logger } = setup();
    const stranger = { accountId: '777788889999', userArn: 'arn:aws:iam::777788889999:user/mallory' };
    for (const p of ['/customers/acme', '/customers/acme/sources/orders/schema', eventsPath]) {
      const response = await handler(request(p, { caller: stranger }));
      expect(response.statusCode).toBe(403);
      expect(body(response)).toEqual({ error: 'the caller is not one of the principals of customer "acme"' });
    }
    expect(kinesis.calls()).toHaveLength(0);
    expect((await handler(request('/customers/acme', { caller: CALLERS.roleSession }))).statusCode).toBe(200);
    expect(logger.info).toHaveBeenLastCalledWith('request', expect.objectContaining({ caller: CALLERS.roleSession.userArn, principal: 'arn:aws:iam::444455556666:role/data/team/reader' }));
  });
});

describe('the catalog cache', () => {
  it('reads Parameter Store once per customer per TTL, so a revocation takes effect within the TTL', async () => {
    const { handler, advance } = setup();
    expect((await handler(request('/customers/acme'))).statusCode).toBe(200);
    advance(TTL_MS - 1);
    expect((await handler(request('/customers/acme'))).statusCode).toBe(200);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    // The redeploy removes the account principal.
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(catalog({ principals: ['arn:aws:iam::444455556666:role/data/team/reader'] })) } });
    advance(1);
    expect((await handler(request('/customers/acme'))).statusCode).toBe(403);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
  });

  it('does not keep a failed read: the next request asks again', async () => {
    let fail = true;
    ssm.on(GetParameterCommand).callsFake(() => {
      if (fail) throw Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
      return { Parameter: { Value: JSON.stringify(catalog()) } };
    });
    const store = new CatalogStore({ ssm: new SSMClient({ region: 'eu-west-1' }), prefix: PREFIX, ttlMs: TTL_MS, now: () => NOW });
    await expect(store.get('acme')).rejects.toThrow('rate exceeded');
    fail = false;
    await expect(store.get('acme')).resolves.toEqual(catalog());
  });

  it('429 when Parameter Store throttles', async () => {
    const { handler } = setup();
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' }));
    const response = await handler(request('/customers/acme'));
    expect(response.statusCode).toBe(429);
    expect(response.headers).toMatchObject({ 'Retry-After': '1' });
  });
});

describe('GET .../sources/{source}/schema', () => {
  it('serves the bundled schema with its version (as the construct computes it) and an ETag', async () => {
    const version = schemaVersion(ORDERS_SCHEMA);
    const c = catalog();
    const { handler, logger } = setup({ catalogValue: { ...c, sources: [{ ...c.sources[0], schemaVersion: version }, c.sources[1]] } });
    const response = await handler(request('/customers/acme/sources/orders/schema'));
    expect(response.statusCode).toBe(200);
    expect(body(response)).toEqual({ source: 'orders', schemaVersion: version, schema: ORDERS_SCHEMA });
    expect(response.headers).toMatchObject({ ETag: `"${version}"` });
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('warns when the catalog names another version (a deploy in progress)', async () => {
    const { handler, logger } = setup();
    expect((await handler(request('/customers/acme/sources/orders/schema'))).statusCode).toBe(200);
    expect(logger.warn).toHaveBeenCalledWith(expect.any(String), { source: 'orders', catalog: '000000000000', bundled: schemaVersion(ORDERS_SCHEMA) });
  });

  it('404 for a source outside the customer\'s catalog; 500 for a catalog source whose schema was not bundled', async () => {
    const { handler, logger } = setup();
    const other = await handler(request('/customers/acme/sources/payments/schema'));
    expect(other.statusCode).toBe(404);
    expect(body(other)).toEqual({ error: 'no source "payments" in the catalog of customer "acme"' });
    const unbundled = await handler(request('/customers/acme/sources/clicks/schema'));
    expect(unbundled.statusCode).toBe(500);
    expect(logger.error).toHaveBeenCalledWith('request', expect.objectContaining({ fault: 'schema', source: 'clicks' }));
  });

  it('versions a schema by its content, not its formatting or key order', () => {
    expect(schemaVersion({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(schemaVersion({ a: [1, { c: 3, d: 2 }], b: 1 }));
    expect(schemaVersion({ a: 1 })).not.toBe(schemaVersion({ a: 2 }));
    expect(schemaVersion(ORDERS_SCHEMA)).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('GET .../sources/{source}/events', () => {
  it('a first page: ListShards (every page of it), AT_TIMESTAMP 15 minutes ago, one GetRecords per shard, events merged oldest first', async () => {
    const { handler, logger } = setup();
    kinesis.on(ListShardsCommand, { StreamName: STREAM_NAME }).resolves({ Shards: [shard(0)], NextToken: 'more' });
    kinesis.on(ListShardsCommand, { NextToken: 'more' }).resolves({ Shards: [shard(1)] });
    iterators({ [S0]: 'it-0', [S1]: 'it-1' });
    const big = new TextEncoder().encode('{"order_id":"o-1-2","amount":12345678901234567890.5}');
    records('it-0', [record(0, 1, undefined, NOW - 50_000), record(0, 3, new Uint8Array([0xff, 0xfe, 0x00]), NOW - 30_000)], { NextShardIterator: 'n', MillisBehindLatest: 0 });
    records('it-1', [record(1, 2, big, NOW - 40_000)], { NextShardIterator: 'n', MillisBehindLatest: 2_000 });

    const response = await handler(request(eventsPath));
    expect(response.statusCode).toBe(200);
    // The JSON event is returned byte for byte (no digit of the amount is lost), the other as base64.
    expect(response.body).toContain('{"order_id":"o-1-2","amount":12345678901234567890.5}');
    const page = body(response);
    expect(page.events).toEqual([{ order_id: 'o-0-1' }, { order_id: 'o-1-2', amount: 12345678901234567890.5 }, { raw: Buffer.from([0xff, 0xfe, 0x00]).toString('base64') }]);
    expect(page).toMatchObject({ shards: 2, millisBehindLatest: 2_000 });
    expect(decodeCursor(page.cursor, 'orders')).toEqual({
      source: 'orders',
      since: NOW - DEFAULT_SINCE_MS,
      positions: { [S0]: record(0, 3).SequenceNumber, [S1]: record(1, 2).SequenceNumber },
      iterators: {},
      done: [],
    });
    for (const shardId of [S0, S1]) {
      expect(kinesis).toHaveReceivedCommandWith(GetShardIteratorCommand, {
        StreamName: STREAM_NAME,
        StreamARN: STREAM_ARN,
        ShardId: shardId,
        ShardIteratorType: 'AT_TIMESTAMP',
        Timestamp: new Date(NOW - DEFAULT_SINCE_MS),
      });
    }
    expect(kinesis).toHaveReceivedCommandTimes(GetRecordsCommand, 2);
    expect(kinesis).toHaveReceivedCommandWith(GetRecordsCommand, { ShardIterator: 'it-0', StreamARN: STREAM_ARN, Limit: PAGE_LIMITS.default });
    // One log line, with the count and no payload.
    expect(logger.info).toHaveBeenCalledTimes(1);
    const line = logger.info.mock.calls[0][1];
    expect(line).toMatchObject({ customer: 'acme', source: 'orders', route: '/customers/{customer}/sources/{source}/events', status: 200, count: 3 });
    expect(JSON.stringify(logger.info.mock.calls)).not.toMatch(/o-0-1|o-1-2|12345678901234567890/);
  });

  it('since starts the first page there; limit caps the page across shards, and the cursor continues each shard exactly', async () => {
    const { handler } = setup();
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard(0), shard(1)] });
    iterators({ [S0]: 'it-0', [S1]: 'it-1' });
    // Arrival order: 0/1, 1/2, 0/3, 1/4, 0/5
    records('it-0', [record(0, 1), record(0, 3), record(0, 5)]);
    records('it-1', [record(1, 2), record(1, 4)]);
    const since = '2025-06-01T11:55:00.000+00:00';
    const first = await handler(request(eventsPath, { query: { limit: '3', since } }));
    expect(body(first).events).toEqual([{ order_id: 'o-0-1' }, { order_id: 'o-1-2' }, { order_id: 'o-0-3' }]);
    expect(kinesis).toHaveReceivedCommandWith(GetShardIteratorCommand, { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(Date.parse(since)) });
    expect(kinesis).toHaveReceivedCommandWith(GetRecordsCommand, { Limit: 3 });
    // Events were left on both shards: the page is behind by the age of the oldest one not returned (1/4: 56 s).
    expect(body(first).millisBehindLatest).toBe(56_000);
    const cursor = decodeCursor(body(first).cursor, 'orders');
    expect(cursor.positions).toEqual({ [S0]: record(0, 3).SequenceNumber, [S1]: record(1, 2).SequenceNumber });

    kinesis.reset();
    kinesis.onAnyCommand().rejects(new Error('unexpected Kinesis command'));
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard(0), shard(1)] });
    kinesis.on(GetShardIteratorCommand, { ShardId: S0, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: record(0, 3).SequenceNumber }).resolves({ ShardIterator: 'after-0' });
    kinesis.on(GetShardIteratorCommand, { ShardId: S1, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: record(1, 2).SequenceNumber }).resolves({ ShardIterator: 'after-1' });
    records('after-0', [record(0, 5)]);
    records('after-1', [record(1, 4)]);
    const second = await handler(request(eventsPath, { query: { limit: '3', cursor: body(first).cursor } }));
    expect(second.statusCode).toBe(200);
    expect(body(second).events).toEqual([{ order_id: 'o-1-4' }, { order_id: 'o-0-5' }]);
    expect(body(second).millisBehindLatest).toBe(0);
  });

  it('a shard with no event in the page and no position starts again at since; one without records while behind keeps its iterator', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard(0), shard(1)] });
    iterators({ [S0]: 'it-0', [S1]: 'it-1' });
    records('it-0', [record(0, 1), record(0, 2)]);
    // Shard 1: a stretch without records; GetRecords moves on but returns nothing (it may take several calls).
    records('it-1', [], { NextShardIterator: 'it-1-further', MillisBehindLatest: 86_400_000 });
    const page = await readPage(new KinesisClient({ region: 'eu-west-1' }), { streamName: STREAM_NAME, streamArn: STREAM_ARN, source: 'orders', limit: 1, start: { since: new Date(NOW - 1000) }, now: () => NOW });
    expect(page.events).toEqual([JSON.stringify({ order_id: 'o-0-1' })]);
    expect(page.cursor).toEqual({ source: 'orders', since: NOW - 1000, positions: { [S0]: record(0, 1).SequenceNumber }, iterators: { [S1]: 'it-1-further' }, done: [] });
    expect(page.millisBehindLatest).toBe(86_400_000);

    // Next page: shard 1 goes on from the stored iterator (no GetShardIterator for it).
    kinesis.on(GetShardIteratorCommand, { ShardId: S0, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' }).resolves({ ShardIterator: 'after-0' });
    records('after-0', [record(0, 2)]);
    records('it-1-further', [record(1, 9, undefined, NOW - 500)]);
    kinesis.resetHistory();
    const next = await readPage(new KinesisClient({ region: 'eu-west-1' }), { streamName: STREAM_NAME, streamArn: STREAM_ARN, source: 'orders', limit: 5, start: { cursor: page.cursor }, now: () => NOW });
    expect(next.events).toEqual([{ order_id: 'o-0-2' }, { order_id: 'o-1-9' }].map((e) => JSON.stringify(e)));
    expect(kinesis.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input.ShardId)).toEqual([S0]);
    expect(next.cursor.iterators).toEqual({});
    expect(next.cursor.positions).toEqual({ [S0]: record(0, 2).SequenceNumber, [S1]: record(1, 9).SequenceNumber });
  });

  it('an expired stored iterator: the shard starts again from its position in the cursor', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard(0)] });
    kinesis.on(GetRecordsCommand, { ShardIterator: 'old' }).rejects(Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException' }));
    kinesis.on(GetShardIteratorCommand, { ShardId: S0, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: '5' }).resolves({ ShardIterator: 'fresh' });
    records('fresh', [record(0, 6)]);
    const cursor: Cursor = { source: 'orders', since: NOW - 1000, positions: { [S0]: '5' }, iterators: { [S0]: 'old' }, done: [] };
    const page = await readPage(new KinesisClient({ region: 'eu-west-1' }), { streamName: STREAM_NAME, streamArn: STREAM_ARN, source: 'orders', limit: 5, start: { cursor }, now: () => NOW });
    expect(page.events).toEqual([JSON.stringify({ order_id: 'o-0-6' })]);
    expect(kinesis).toHaveReceivedCommandTimes(GetRecordsCommand, 2);
  });

  it('after a reshard: a child is read once its parent is read to its end, and never before the parent\'s last event', async () => {
    // Shard 0 split into 2 and 3; shard 1 open throughout.
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard(0), shard(1), shard(2, { ParentShardId: S0 }), shard(3, { ParentShardId: S0 })] });
    iterators({ [S0]: 'it-0', [S1]: 'it-1', [S2]: 'it-2', [S3]: 'it-3' });
    records('it-0', [record(0, 1), record(0, 2)], { MillisBehindLatest: 0 }); // no next iterator: closed, read to its end
    records('it-1', []);
    records('it-2', [record(2, 3)]);
    records('it-3', [record(3, 4)]);
    const client = new KinesisClient({ region: 'eu-west-1' });
    const read = (limit: number, start: { cursor: Cursor } | { since: Date }) =>
      readPage(client, { streamName: STREAM_NAME, streamArn: STREAM_ARN, source: 'orders', limit, start, now: () => NOW });

    // The page ends inside the parent: the children were read (after the parent), but none of their events is taken.
    const first = await read(1, { since: new Date(NOW - 1000) });
    expect(first.events).toEqual([JSON.stringify({ order_id: 'o-0-1' })]);
    expect(first.cursor).toMatchObject({ positions: { [S0]: record(0, 1).SequenceNumber }, done: [] });
    const order = kinesis.commandCalls(GetRecordsCommand).map((c) => c.args[0].input.ShardIterator);
    expect(order.indexOf('it-2')).toBeGreaterThan(order.indexOf('it-0'));

    // Next page: the rest of the parent, then its children; the parent is done for good.
    kinesis.on(GetShardIteratorCommand, { ShardId: S0, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' }).resolves({ ShardIterator: 'after-0' });
    records('after-0', [record(0, 2)], { MillisBehindLatest: 0 });
    const second = await read(10, { cursor: first.cursor });
    expect(second.events).toEqual([{ order_id: 'o-0-2' }, { order_id: 'o-2-3' }, { order_id: 'o-3-4' }].map((e) => JSON.stringify(e)));
    expect(second.cursor.done).toEqual([S0]);
    expect(second.cursor.positions).toEqual({ [S2]: record(2, 3).SequenceNumber, [S3]: record(3, 4).SequenceNumber });

    // A done shard is not read again; a shard the cursor names that the stream no longer lists is forgotten.
    kinesis.resetHistory();
    const third = await read(10, { cursor: { ...second.cursor, done: [S0, 'shardId-000000000099'] } });
    expect(kinesis.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input.ShardId)).toEqual([S1, S2, S3]);
    expect(third.cursor.done).toEqual([S0]);
  });

  it('caps the page\'s bytes, but always returns one event', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard(0)] });
    iterators({ [S0]: 'it-0' });
    const large = json({ order_id: 'o-0-1', pad: 'x'.repeat(2_000) });
    records('it-0', [record(0, 1, large), record(0, 2)]);
    const page = await readPage(new KinesisClient({ region: 'eu-west-1' }), { streamName: STREAM_NAME, streamArn: STREAM_ARN, source: 'orders', limit: 10, start: { since: new Date(NOW - 1000) }, maxBytes: 1_000, now: () => NOW });
    expect(page.events).toHaveLength(1);
    expect(page.cursor.positions).toEqual({ [S0]: record(0, 1).SequenceNumber });
  });

  it.each([
    [{ limit: '0' }, `limit: expected a whole number from 1 to ${PAGE_LIMITS.max} (got "0")`],
    [{ limit: String(PAGE_LIMITS.max + 1) }, `limit: expected a whole number from 1 to ${PAGE_LIMITS.max} (got "${PAGE_LIMITS.max + 1}")`],
    [{ limit: '7.5' }, `limit: expected a whole number from 1 to ${PAGE_LIMITS.max} (got "7.5")`],
    [{ since: '2025-06-01 11:00' }, 'since: expected an ISO-8601 date and time with an offset, such as 2025-06-01T12:00:00Z (got "2025-06-01 11:00")'],
    [{ since: '2025-06-01T11:00:00' }, 'since: expected an ISO-8601 date and time with an offset, such as 2025-06-01T12:00:00Z (got "2025-06-01T11:00:00")'],
    [{ since: '2025-06-01T12:00:01Z' }, 'since: 2025-06-01T12:00:01Z is in the future'],
    [{ since: '2025-05-25T11:59:59Z' }, 'since: 2025-05-25T11:59:59Z is more than 7 days ago, older than the delivery stream keeps events'],
    [{ cursor: 'not a cursor!' }, 'cursor: cursor is not a cursor this API returned (not base64url)'],
    [{ cursor: Buffer.from('{"v":1}').toString('base64url') }, 'cursor: cursor is not a cursor this API returned'],
    [{ cursor: Buffer.from('{"v":1,"s":"orders","t":1,"p":{"shardId-0":"x"}}').toString('base64url') }, 'cursor: cursor is not a cursor this API returned'],
    [{ cursor: encodeCursor({ source: 'payments', since: NOW - 1000, positions: {}, iterators: {}, done: [] }) }, 'cursor: cursor belongs to source "payments", not "orders"'],
    [{ cursor: encodeCursor({ source: 'orders', since: NOW + 1000, positions: {}, iterators: {}, done: [] }) }, 'cursor: it starts in the future, so this API did not return it'],
    [{ cursor: encodeCursor({ source: 'orders', since: NOW - 1000, positions: {}, iterators: {}, done: [] }), since: '2025-06-01T11:00:00Z' }, 'give either cursor (the next page) or since (a first page), not both'],
  ])('400 for %j', async (query, error) => {
    const { handler } = setup();
    const response = await handler(request(eventsPath, { query }));
    expect(response.statusCode).toBe(400);
    expect(body(response)).toEqual({ error });
    expect(kinesis.calls()).toHaveLength(0);
  });

  it('accepts since exactly 7 days ago and exactly now, and limit 1 and the maximum', async () => {
    const { handler } = setup();
    kinesis.on(ListShardsCommand).resolves({ Shards: [] });
    for (const query of [{ since: '2025-05-25T12:00:00Z', limit: '1' }, { since: '2025-06-01T12:00:00Z', limit: String(PAGE_LIMITS.max) }]) {
      const response = await handler(request(eventsPath, { query }));
      expect(response.statusCode).toBe(200);
      expect(body(response)).toMatchObject({ events: [], shards: 0, millisBehindLatest: 0 });
    }
  });

  it('400 naming the cursor when its position is not one of the stream\'s (Kinesis InvalidArgumentException)', async () => {
    const { handler } = setup();
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard(0)] });
    kinesis.on(GetShardIteratorCommand).rejects(Object.assign(new Error('StartingSequenceNumber is invalid'), { name: 'InvalidArgumentException' }));
    const cursor = encodeCursor({ source: 'orders', since: NOW - 1000, positions: { [S0]: '123' }, iterators: {}, done: [] });
    const response = await handler(request(eventsPath, { query: { cursor } }));
    expect(response.statusCode).toBe(400);
    expect(body(response)).toEqual({ error: `cursor: cursor holds a position on ${S0} that is not one of this stream's (or no longer is): start again with since` });
  });

  it.each([
    ['GetRecords', 'ProvisionedThroughputExceededException'],
    ['GetShardIterator', 'LimitExceededException'],
    ['ListShards', 'LimitExceededException'],
  ])('429 with Retry-After: 1 when %s answers %s', async (command, name) => {
    const { handler, logger } = setup();
    const error = name === 'ProvisionedThroughputExceededException' ? new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }) : Object.assign(new Error('Rate exceeded'), { name });
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard(0)] });
    iterators({ [S0]: 'it-0' });
    records('it-0', [record(0, 1)]);
    const failing = { GetRecords: GetRecordsCommand, GetShardIterator: GetShardIteratorCommand, ListShards: ListShardsCommand }[command]!;
    kinesis.on(failing as typeof GetRecordsCommand).rejects(error);
    const response = await handler(request(eventsPath));
    expect(response.statusCode).toBe(429);
    expect(response.headers).toMatchObject({ 'Retry-After': '1' });
    expect(body(response).error).toContain(name);
    expect(logger.info).toHaveBeenCalledWith('request', expect.objectContaining({ status: 429, error: name }));
  });

  it('503 with Retry-After: 1 when a Kinesis call hangs past the page\'s deadline', async () => {
    const { handler } = setup({ pageDeadlineMs: 50 });
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard(0)] });
    iterators({ [S0]: 'it-0' });
    kinesis.on(GetRecordsCommand).callsFake(() => new Promise(() => undefined)); // never answers
    const response = await handler(request(eventsPath));
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '1' });
    expect(body(response)).toEqual({ error: 'the page of source "orders" was not read in time; try again (a smaller limit reads less)' });
  });

  it('409 for a source delivered on Kafka, naming the topic and where the brokers are', async () => {
    const { handler } = setup();
    const response = await handler(request('/customers/acme/sources/clicks/events'));
    expect(response.statusCode).toBe(409);
    expect(body(response).error).toBe(
      'source "clicks" is delivered on Kafka, which this API does not page: read topic "delivery.clicks" with a Kafka consumer ' +
        '(group ids starting with "acme."; the brokers and reader role are in GET /customers/acme): Kafka has no bounded, stateless read that fits one API request',
    );
    expect(kinesis.calls()).toHaveLength(0);
  });

  it('404 for a source outside the catalog; 503 when the delivery stream does not exist; 500 for any other failure', async () => {
    const { handler, logger } = setup();
    expect((await handler(request('/customers/acme/sources/payments/events'))).statusCode).toBe(404);
    kinesis.on(ListShardsCommand).rejects(Object.assign(new Error('Stream not found'), { name: 'ResourceNotFoundException' }));
    const missing = await handler(request(eventsPath));
    expect(missing.statusCode).toBe(503);
    expect(body(missing)).toEqual({ error: 'the delivery stream of source "orders" is not available; try again later' });
    kinesis.on(ListShardsCommand).rejects(Object.assign(new Error('not authorized to perform kinesis:ListShards'), { name: 'AccessDeniedException' }));
    const denied = await handler(request(eventsPath));
    expect(denied.statusCode).toBe(500);
    expect(body(denied).error).not.toContain('ListShards');
    expect(logger.error).toHaveBeenCalledWith('request', expect.objectContaining({ status: 500, fault: 'internal' }));
  });
});

describe('configuration', () => {
  it('reads CATALOG_PREFIX, the optional TTL, schemas folder and endpoints; names what is wrong', () => {
    expect(loadConfig({ CATALOG_PREFIX: '/sf/customers' }, '/var/task')).toEqual({
      catalogPrefix: '/sf/customers',
      catalogTtlMs: 60_000,
      schemasDir: '/var/task/schemas',
      kinesisEndpoint: undefined,
      ssmEndpoint: undefined,
    });
    expect(loadConfig({ CATALOG_PREFIX: '/sf/c', CATALOG_TTL_SECONDS: '5', SCHEMAS_DIR: '/tmp/s', KINESIS_ENDPOINT: 'http://127.0.0.1:1', SSM_ENDPOINT: 'http://127.0.0.1:2' }, '/var/task')).toEqual({
      catalogPrefix: '/sf/c',
      catalogTtlMs: 5_000,
      schemasDir: '/tmp/s',
      kinesisEndpoint: 'http://127.0.0.1:1',
      ssmEndpoint: 'http://127.0.0.1:2',
    });
    expect(() => loadConfig({ CATALOG_PREFIX: 'sf/customers/', CATALOG_TTL_SECONDS: '900' }, '/var/task')).toThrow(
      'customer-delivery-api configuration is invalid: CATALOG_PREFIX expected a Parameter Store path such as /stream-foundry/customers; CATALOG_TTL_SECONDS expected a whole number from 0 to 300 (got "900")',
    );
  });
});
