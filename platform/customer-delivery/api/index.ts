/**
 * The customer delivery API's Lambda function (README.md), behind an API Gateway REST API with a Lambda proxy
 * integration and IAM authorization. Everything below runs once per container; `onRequest` runs per request.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CatalogStore } from './catalog-store';
import { loadConfig } from './config';
import { API_SERVICE } from './contract';
import { createHandler } from './handler';
import { SchemaStore } from './schemas';

const config = loadConfig(process.env, __dirname);

export const onRequest = createHandler({
  catalogs: new CatalogStore({
    ssm: new SSMClient({ endpoint: config.ssmEndpoint, maxAttempts: 3, requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 5_000 }) }),
    prefix: config.catalogPrefix,
    ttlMs: config.catalogTtlMs,
  }),
  schemas: new SchemaStore(config.schemasDir),
  // HTTP/1.1: GetRecords needs no HTTP/2 (only SubscribeToShard does), and kinesalite speaks only HTTP/1.1. A page
  // must fit API Gateway's 29 s: short time-outs, one retry (throttling then becomes a 429 the caller retries).
  kinesis: new KinesisClient({
    endpoint: config.kinesisEndpoint,
    maxAttempts: 2,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 10_000 }),
  }),
  logger: new Logger({ serviceName: API_SERVICE }),
});
