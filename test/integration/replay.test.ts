/**
 * `npm run replay` end to end, as a user runs it (a tsx child process, endpoints from the SDK's standard variables):
 * a raw-zone layout in s3rver (gzip NDJSON across two hours and a day boundary, plus objects outside the window),
 * replayed into kinesalite and into librdkafka's mock Kafka cluster, read back with the partition keys.
 */
import { spawn } from 'child_process';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as zlib from 'zlib';
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { parseConfig, readCdkJsonContext } from '../../platform/config';
import { PROJECT_ROOT } from '../../platform/paths';
import { stableKey } from '../../scripts/replay/keys';
import { loadSamples } from '../../platform/samples';
import { consumeAll, Emulator, KafkaMock, startKafkaMock, startKinesalite, startS3rver } from './emulators';

// s3rver's own key pair; kinesalite takes any.
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';
const BUCKET = 'raw-zone';
const config = parseConfig(readCdkJsonContext());

/** `count` sample events of `source` with fresh ids, as NDJSON lines. */
function events(source: string, prefix: string, count: number): string[] {
  const samples = loadSamples(config, source);
  return Array.from({ length: count }, (_, i) => JSON.stringify({ ...samples[i % samples.length], event_id: `${prefix}-${i}` }));
}

const gz = (lines: string[]): Buffer => zlib.gzipSync(Buffer.from(lines.map((l) => `${l}\n`).join('')));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('npm run replay (scripts/replay.ts) on emulators', () => {
  let s3rver: Emulator;
  let kinesalite: Emulator;
  let kafka: KafkaMock;
  let s3: S3Client;
  let kinesis: KinesisClient;
  let cloudFormation: http.Server;
  let cloudFormationEndpoint: string;
  const describeStacksCalls: string[] = [];

  // Window [2026-12-03T23:00Z, 2026-12-04T01:00Z): two hours across a day boundary.
  const WINDOW = ['--from', '2026-12-03T23:00Z', '--to', '2026-12-04T01:00Z'];
  const clicks = {
    before: events('clickstream', 'before', 5), // hour 22: outside
    hour23: events('clickstream', 'h23', 700), // more than one PutRecords call
    hour00a: events('clickstream', 'h00a', 40),
    hour00b: [...events('clickstream', 'h00b', 10), 'not json at all'],
    after: events('clickstream', 'after', 5), // hour 01: `to` is excluded
  };
  const orders = { hour23: events('orders', 'o23', 30), hour00: events('orders', 'o00', 20), after: events('orders', 'oafter', 3) };

  const put = (key: string, lines: string[]) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: gz(lines) }));

  /** Runs the script as a child process, asynchronously: the emulators answer from this process. */
  function replay(args: string[], env: Record<string, string> = {}): Promise<Run> {
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'scripts/replay.ts', ...args], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL_S3: s3rver.endpoint,
        AWS_ENDPOINT_URL_KINESIS: kinesalite.endpoint,
        AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormationEndpoint,
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    return new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      }),
    );
  }

  /** Every record of the stream with its partition key, oldest first per shard. */
  async function readStream(stream: string): Promise<Array<{ key: string; data: string }>> {
    const out: Array<{ key: string; data: string }> = [];
    const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    for (const shard of Shards ?? []) {
      let { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
      for (;;) {
        const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
        out.push(...page.Records!.map((r) => ({ key: r.PartitionKey!, data: Buffer.from(r.Data!).toString('utf8') })));
        ShardIterator = page.NextShardIterator;
        if (page.Records!.length === 0) break;
      }
    }
    return out;
  }

  const createStream = (name: string) => kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 2 }));

  beforeAll(async () => {
    [s3rver, kinesalite, kafka] = await Promise.all([startS3rver([BUCKET]), startKinesalite(), startKafkaMock('orders', 1)]);
    s3 = new S3Client({ endpoint: s3rver.endpoint, region: REGION, credentials, forcePathStyle: true });
    kinesis = new KinesisClient({ endpoint: kinesalite.endpoint, region: REGION, credentials, requestHandler: new NodeHttpHandler() });
    await put('clickstream/dt=2026-12-03/hour=22/raw-0.gz', clicks.before);
    await put('clickstream/dt=2026-12-03/hour=23/raw-1.gz', clicks.hour23);
    await put('clickstream/dt=2026-12-04/hour=00/raw-2.gz', clicks.hour00a);
    await put('clickstream/dt=2026-12-04/hour=00/raw-3.gz', clicks.hour00b);
    await put('clickstream/dt=2026-12-04/hour=01/raw-4.gz', clicks.after);
    await put('orders/dt=2026-12-03/hour=23/raw-a.gz', orders.hour23);
    await put('orders/dt=2026-12-04/hour=00/raw-b.gz', orders.hour00);
    await put('orders/dt=2026-12-04/hour=01/raw-c.gz', orders.after);

    // CloudFormation's query API, as much of it as the replay asks: DescribeStacks of the Kinesis pipeline's stack.
    cloudFormation = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const params = new URLSearchParams(body);
        describeStacksCalls.push(`${params.get('Action')} ${params.get('StackName')}`);
        const output = (k: string, v: string) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`;
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>` +
            `<StackName>${params.get('StackName')}</StackName><StackId>arn:aws:cloudformation:${REGION}:000000000000:stack/${params.get('StackName')}/1</StackId>` +
            `<CreationTime>2026-12-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>` +
            output('clickstreamRawZone', `s3://${BUCKET}/clickstream/`) +
            output('clickstreamStream', 'stack-clicks') +
            `</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>`,
        );
      });
    });
    await new Promise<void>((resolve) => cloudFormation.listen(0, '127.0.0.1', resolve));
    cloudFormationEndpoint = `http://127.0.0.1:${(cloudFormation.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    s3?.destroy();
    kinesis?.destroy();
    if (cloudFormation) {
      cloudFormation.closeAllConnections();
      await new Promise((resolve) => cloudFormation.close(resolve));
    }
    await Promise.all([s3rver?.stop(), kinesalite?.stop(), kafka?.stop()]);
  });

  test('Kinesis: exactly the window\'s records, keyed as the validator keys them, with the counts', async () => {
    await createStream('clicks');
    const run = await replay(['--source', 'clickstream', '--bucket-url', `s3://${BUCKET}/clickstream/`, '--stream', 'clicks', ...WINDOW]);
    expect(run.stderr).toContain('[2026-12-03T23:00Z] clickstream/dt=2026-12-03/hour=23/raw-1.gz: 700 records');
    expect(run.stderr).toContain('[2026-12-04T00:00Z] clickstream/dt=2026-12-04/hour=00/raw-3.gz: 11 records');
    expect(run.stdout.trim()).toBe(
      'replay clickstream [2026-12-03T23:00Z, 2026-12-04T01:00Z): 3 objects, 751 records, 751 published, 0 failed (1 without a usable partition key, keyed by hash)',
    );
    expect(run.code).toBe(0);

    const records = await readStream('clicks');
    const window = [...clicks.hour23, ...clicks.hour00a, ...clicks.hour00b];
    expect(records.map((r) => r.data).sort()).toEqual([...window].sort());
    for (const { key, data } of records) {
      expect(key).toBe(data === 'not json at all' ? stableKey(Buffer.from(data)) : JSON.parse(data).user_id);
    }
  });

  test('Kafka: exactly the window\'s records, keyed by the source\'s partition key, event id in the header', async () => {
    const run = await replay(['--source', 'orders', '--bucket-url', `s3://${BUCKET}/orders/`, '--bootstrap-servers', kafka.bootstrapServers, '--kafka-plaintext', ...WINDOW]);
    expect(run.stdout.trim()).toBe('replay orders [2026-12-03T23:00Z, 2026-12-04T01:00Z): 2 objects, 50 records, 50 published, 0 failed');
    expect(run.code).toBe(0);
    const messages = consumeAll(kafka.bootstrapServers, 'orders');
    expect(messages.map((m) => m.payload).sort()).toEqual([...orders.hour23, ...orders.hour00].sort());
    for (const m of messages) {
      const event = JSON.parse(m.payload);
      expect(m.key).toBe(event.order_id);
      expect(m.headers).toEqual(['event-id', event.event_id]);
    }
  });

  test('a window with no objects replays nothing and says so', async () => {
    await createStream('empty-window');
    const run = await replay(['--source', 'clickstream', '--bucket-url', `s3://${BUCKET}/clickstream/`, '--stream', 'empty-window', '--from', '2026-12-02T00:00Z', '--to', '2026-12-02T06:00Z']);
    expect(run.stdout.trim()).toBe(
      'replay clickstream [2026-12-02T00:00Z, 2026-12-02T06:00Z): 0 objects, 0 records, 0 published, 0 failed (no objects in the window: nothing to replay)',
    );
    expect(run.code).toBe(0);
    expect(await readStream('empty-window')).toEqual([]);
  });

  test('--dry-run by --stack: outputs from CloudFormation, per hour the objects, counts and first records; nothing sent', async () => {
    await createStream('stack-clicks');
    const run = await replay(['--stack', 'KinesisToDeltaLake', '--source', 'clickstream', ...WINDOW, '--dry-run', '--show', '2']);
    expect(describeStacksCalls).toEqual(['DescribeStacks stream-foundry-dev-kinesis-to-delta-lake']);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(`2026-12-03T23:00Z  s3://${BUCKET}/clickstream/dt=2026-12-03/hour=23/: 1 objects, 700 records`);
    expect(lines[1]).toBe(`    [key ${JSON.parse(clicks.hour23[0]).user_id}] ${clicks.hour23[0]}`);
    expect(lines[2]).toBe(`    [key ${JSON.parse(clicks.hour23[1]).user_id}] ${clicks.hour23[1]}`);
    expect(lines[3]).toBe(`2026-12-04T00:00Z  s3://${BUCKET}/clickstream/dt=2026-12-04/hour=00/: 2 objects, 51 records`);
    expect(lines[6]).toBe(
      'replay clickstream [2026-12-03T23:00Z, 2026-12-04T01:00Z): 3 objects, 751 records, 0 published, 0 failed (1 without a usable partition key, keyed by hash; dry run: nothing sent)',
    );
    expect(run.stderr).toMatch(/dry run: replaying s3:\/\/raw-zone\/clickstream\/ .* to Kinesis stream arn:aws:kinesis:us-east-1:\d+:stream\/stack-clicks/);
    expect(run.code).toBe(0);
    expect(await readStream('stack-clicks')).toEqual([]);
  });

  test('a bad time range is an error that names the flag, before anything is read', async () => {
    const run = await replay(['--source', 'clickstream', '--bucket-url', `s3://${BUCKET}/clickstream/`, '--stream', 'clicks', '--from', '2026-12-04T01:00Z', '--to', '2026-12-03T23:00Z']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--to 2026-12-03T23:00Z must be later than --from 2026-12-04T01:00Z');
    expect(run.stdout).toBe('');
  });

  test('a corrupt object fails the run (exit 1) after the others are replayed, naming it', async () => {
    await createStream('corrupt');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'corrupt/dt=2026-12-03/hour=23/raw-1.gz', Body: gz(clicks.hour00a).subarray(0, 40) }));
    await put('corrupt/dt=2026-12-03/hour=23/raw-2.gz', clicks.hour00a);
    const run = await replay(['--source', 'clickstream', '--bucket-url', `s3://${BUCKET}/corrupt/`, '--stream', 'corrupt', ...WINDOW]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/unreadable: s3:\/\/raw-zone\/corrupt\/dt=2026-12-03\/hour=23\/raw-1\.gz: invalid gzip data/);
    expect(run.stdout.trim()).toBe(
      'replay corrupt [2026-12-03T23:00Z, 2026-12-04T01:00Z): 2 objects, 40 records, 40 published, 0 failed (1 objects unreadable)',
    );
    expect(await readStream('corrupt')).toHaveLength(40);
  });
});
