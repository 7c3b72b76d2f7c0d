/**
 * The API function as Lambda runs it: index.ts bundled by esbuild as BundledFunction bundles it (minified, the AWS SDK
 * inside, Node 22), copied with its schemas into a directory with no node_modules above it, loaded by plain `node`
 * with only the environment the construct sets (plus local endpoints) and asked for a catalog, a schema and a page of
 * a kinesalite stream. Parameter Store is a minimal local endpoint that answers GetParameter, as the SSM client's
 * protocol (JSON 1.1) expects.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CreateStreamCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { build, Metafile } from 'esbuild';
import { PROJECT_ROOT } from '../../../platform/paths';
import { Emulator, startKinesalite } from '../../integration/emulators';
import { catalog, PREFIX, request, STREAM_NAME } from './fixtures';

const REGION = 'eu-west-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let directory: string;
let metafile: Metafile;
let kinesalite: Emulator;
let ssm: http.Server;
const parameterRequests: Array<{ target: string; body: { Name: string; WithDecryption?: boolean } }> = [];

beforeAll(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-delivery-api-'));
  ({ metafile } = await build({
    entryPoints: [path.join(PROJECT_ROOT, 'platform/customer-delivery/api/index.ts')],
    outfile: path.join(directory, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    metafile: true,
    logLevel: 'silent',
  }));
  fs.mkdirSync(path.join(directory, 'schemas'));
  fs.copyFileSync(path.join(PROJECT_ROOT, 'schemas/orders.schema.json'), path.join(directory, 'schemas/orders.schema.json'));

  kinesalite = await startKinesalite();
  const kinesis = new KinesisClient({ region: REGION, endpoint: kinesalite.endpoint, credentials, requestHandler: new NodeHttpHandler() });
  await kinesis.send(new CreateStreamCommand({ StreamName: STREAM_NAME, ShardCount: 2 }));
  await kinesis.send(
    new PutRecordsCommand({
      StreamName: STREAM_NAME,
      Records: Array.from({ length: 12 }, (_, i) => ({ Data: Buffer.from(JSON.stringify({ order_id: `o-${i}` })), PartitionKey: `k-${i}` })),
    }),
  );
  kinesis.destroy();

  ssm = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const body = JSON.parse(text);
      parameterRequests.push({ target: String(req.headers['x-amz-target']), body });
      const found = body.Name === `${PREFIX}/acme`;
      res.writeHead(found ? 200 : 400, { 'Content-Type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          found
            ? { Parameter: { Name: body.Name, Type: 'String', Value: JSON.stringify(catalog()), Version: 1 } }
            : { __type: 'ParameterNotFound', message: `Parameter ${body.Name} not found.` },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => ssm.listen(0, '127.0.0.1', resolve));
}, 60_000);
afterAll(async () => {
  await kinesalite?.stop();
  await new Promise((resolve) => ssm?.close(resolve));
  if (directory) fs.rmSync(directory, { recursive: true, force: true });
});

/** Loads the bundle in a fresh `node` and sends it the requests, one after another; returns the responses. */
async function invoke(...events: unknown[]): Promise<Array<{ statusCode: number; body: string }>> {
  const script = `
    const { onRequest } = require(${JSON.stringify(path.join(directory, 'index.js'))});
    (async () => {
      const out = [];
      for (const event of ${JSON.stringify(events)}) out.push(await onRequest(event));
      process.stdout.write(JSON.stringify(out));
    })().catch((err) => { console.error(err); process.exit(1); });
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    cwd: directory,
    env: {
      PATH: process.env.PATH,
      // What the construct sets, plus the local endpoints and the credentials Lambda would provide.
      CATALOG_PREFIX: PREFIX,
      NODE_OPTIONS: '--enable-source-maps',
      KINESIS_ENDPOINT: kinesalite.endpoint,
      SSM_ENDPOINT: `http://127.0.0.1:${(ssm.address() as AddressInfo).port}`,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
    timeout: 30_000,
  });
  return JSON.parse(stdout);
}

test('the bundle holds its code and the SDK, and no CDK; no node_modules above it', () => {
  const inputs = Object.keys(metafile.inputs);
  expect(inputs.some((i) => i.includes('node_modules/@aws-sdk/client-kinesis/'))).toBe(true);
  expect(inputs.some((i) => i.includes('node_modules/@aws-sdk/client-ssm/'))).toBe(true);
  expect(inputs.filter((i) => /node_modules\/(aws-cdk-lib|constructs|cdk-nag|cdk-monitoring-constructs)\//.test(i))).toEqual([]);
  for (let dir = directory; ; dir = path.dirname(dir)) {
    expect(fs.existsSync(path.join(dir, 'node_modules'))).toBe(false);
    if (dir === path.dirname(dir)) break;
  }
});

test('the bundled function serves a catalog, a bundled schema, pages of a stream, and 404 for an unknown customer', async () => {
  const [catalogResponse, schema, first, nobody] = await invoke(
    request('/customers/acme'),
    request('/customers/acme/sources/orders/schema'),
    request('/customers/acme/sources/orders/events', { query: { limit: '500' } }),
    request('/customers/nobody'),
  );
  expect(catalogResponse.statusCode).toBe(200);
  expect(JSON.parse(catalogResponse.body)).toEqual(catalog());
  expect(schema.statusCode).toBe(200);
  expect(JSON.parse(schema.body).schema).toEqual(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'schemas/orders.schema.json'), 'utf8')));
  expect(first.statusCode).toBe(200);
  const page = JSON.parse(first.body);
  expect(page.events.map((e: { order_id: string }) => e.order_id).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `o-${i}`).sort());
  expect(page.shards).toBe(2);
  expect(nobody.statusCode).toBe(404);
  // The catalog was read once (the container's cache), decrypted, under the prefix.
  expect(parameterRequests).toEqual([
    { target: 'AmazonSSM.GetParameter', body: { Name: `${PREFIX}/acme`, WithDecryption: true } },
    { target: 'AmazonSSM.GetParameter', body: { Name: `${PREFIX}/nobody`, WithDecryption: true } },
  ]);

  const [next] = await invoke(request('/customers/acme/sources/orders/events', { query: { cursor: page.cursor } }));
  expect(next.statusCode).toBe(200);
  expect(JSON.parse(next.body)).toMatchObject({ events: [], millisBehindLatest: 0 });
});
