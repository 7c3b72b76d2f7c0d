/**
 * The requests of the customer delivery layer's code (platform/customer-delivery), recorded with aws-sdk-client-mock:
 * the consumer waiter (a custom resource) and the delivery API function, driven through every route with the
 * catalog the stack deploys to Parameter Store (its resolved value) and the function's deployed environment.
 */
import { DescribeStreamConsumerCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createWaiter } from '../../platform/customer-delivery/handlers/consumer-active/waiter';
import { CatalogStore } from '../../platform/customer-delivery/api/catalog-store';
import { createHandler } from '../../platform/customer-delivery/api/handler';
import { SchemaStore } from '../../platform/customer-delivery/api/schemas';
import type { CustomerCatalog } from '../../platform/customer-delivery/catalog';
import { recorded } from '../support/aws-requests';
import { AwsRequest } from '../support/iam-proof';
import { cfnEvent } from './custom-resources';

/** Create (polled until ACTIVE) and Delete of one `Custom::KinesisConsumerActive`. */
export async function consumerWaiterRequests(properties: Record<string, unknown>): Promise<AwsRequest[]> {
  const kinesis = mockClient(KinesisClient);
  try {
    kinesis.onAnyCommand().rejects(new Error('unexpected Kinesis command'));
    kinesis.on(DescribeStreamConsumerCommand).resolvesOnce({ ConsumerDescription: { ConsumerStatus: 'CREATING' } as never }).resolves({ ConsumerDescription: { ConsumerStatus: 'ACTIVE' } as never });
    const waiter = createWaiter(new KinesisClient({ region: 'eu-west-1' }));
    const created = await waiter.onEvent(cfnEvent('Create', properties) as never);
    const poll = { ...cfnEvent('Create', properties), PhysicalResourceId: created.PhysicalResourceId } as never;
    if ((await waiter.isComplete(poll)).IsComplete) throw new Error('complete while CREATING');
    if (!(await waiter.isComplete(poll)).IsComplete) throw new Error('not complete when ACTIVE');
    await waiter.onEvent(cfnEvent('Delete', properties, created.PhysicalResourceId) as never);
    return recorded({ kinesis });
  } finally {
    kinesis.restore();
  }
}

/**
 * Every route of the API for `catalog` (the deployed parameter's value), as a caller among its principals: the catalog,
 * each source's schema, and for each Kinesis source a first page and a continued page.
 */
export async function deliveryApiRequests(env: Record<string, string>, catalog: CustomerCatalog): Promise<AwsRequest[]> {
  const ssm = mockClient(SSMClient);
  const kinesis = mockClient(KinesisClient);
  const schemas = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-proof-'));
  try {
    ssm.onAnyCommand().rejects(new Error('unexpected SSM command'));
    kinesis.onAnyCommand().rejects(new Error('unexpected Kinesis command'));
    ssm.on(GetParameterCommand).resolves({ Parameter: { Type: 'String', Value: JSON.stringify(catalog) } });
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ShardId: 'shardId-000000000000', HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' }, SequenceNumberRange: { StartingSequenceNumber: '1' } }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'iterator' });
    kinesis.on(GetRecordsCommand).resolves({ Records: [{ SequenceNumber: '100', PartitionKey: 'k', Data: new TextEncoder().encode('{"event_id":"e1"}') }], NextShardIterator: 'next', MillisBehindLatest: 0 });
    for (const s of catalog.sources) fs.writeFileSync(path.join(schemas, `${s.source}.schema.json`), JSON.stringify({ type: 'object' }));
    const handler = createHandler({
      catalogs: new CatalogStore({ ssm: new SSMClient({ region: 'eu-west-1' }), prefix: env.CATALOG_PREFIX, ttlMs: 0 }),
      schemas: new SchemaStore(schemas),
      kinesis: new KinesisClient({ region: 'eu-west-1' }),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined } as never,
    });
    const principal = catalog.principals[0];
    const accountId = principal.match(/^\d{12}$/) ? principal : principal.split(':')[4];
    const userArn = principal.match(/^\d{12}$/) ? `arn:aws:sts::${accountId}:assumed-role/reader/session` : `arn:aws:sts::${accountId}:assumed-role/${principal.split('/').pop()}/session`;
    const call = async (resource: string, pathParameters: Record<string, string>, query: Record<string, string> | null = null) => {
      const requestPath = resource.replace(/\{(\w+)\}/g, (_m, name: string) => pathParameters[name]);
      const event = {
        httpMethod: 'GET',
        resource,
        path: requestPath,
        pathParameters,
        queryStringParameters: query,
        headers: {},
        requestContext: { identity: { accountId, userArn, caller: 'caller' }, stage: 'v1' },
      } as unknown as APIGatewayProxyEvent;
      const response = await handler(event);
      if (response.statusCode !== 200) throw new Error(`${requestPath}: ${response.statusCode} ${response.body}`);
      return JSON.parse(response.body);
    };
    await call('/customers/{customer}', { customer: catalog.customer });
    for (const s of catalog.sources) {
      await call('/customers/{customer}/sources/{source}/schema', { customer: catalog.customer, source: s.source });
      if (!s.kinesis) continue;
      const first = await call('/customers/{customer}/sources/{source}/events', { customer: catalog.customer, source: s.source }, { limit: '10' });
      await call('/customers/{customer}/sources/{source}/events', { customer: catalog.customer, source: s.source }, { cursor: first.cursor });
    }
    return recorded({ ssm, kinesis });
  } finally {
    ssm.restore();
    kinesis.restore();
    fs.rmSync(schemas, { recursive: true, force: true });
  }
}
