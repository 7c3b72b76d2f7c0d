/**
 * `npm run verify` (scripts/verify.ts, platform/freshness/verify.ts) against mocked AWS: the stack's outputs say
 * where to publish and where receipts land; canaries go out as the stack's canary sends them; arrival is what the
 * exit's receipts say. The same code runs against a local pipeline in test/integration/verify-queue-consumer.test.ts.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig, readCdkJsonContext } from '../../platform/config';
import { canaryPublishedAt, receiptKey } from '../../platform/freshness/contract';
import { freshnessOutputs, main } from '../../scripts/verify';

const config = parseConfig(readCdkJsonContext());
const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const sns = mockClient(SNSClient);
const clients = { s3: new S3Client({ region: 'eu-west-1' }), sns: new SNSClient({ region: 'eu-west-1' }) };

/** Receipts the mocked exit has written: every canary published is committed `delayMs` later, unless `stopped`. */
let receipts: string[] = [];
let exit = { stopped: false, delayMs: 2_500 };

function io() {
  const out: string[] = [];
  const log: string[] = [];
  return { out, log, io: { out: (l: string) => out.push(l), log: (l: string) => log.push(l) } };
}

function stackOutputs(outputs: Record<string, string>) {
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 's', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] });
}

beforeEach(() => {
  receipts = [];
  exit = { stopped: false, delayMs: 2_500 };
  cfn.reset();
  s3.reset();
  sns.reset();
  cfn.onAnyCommand().rejects(new Error('unexpected command'));
  s3.onAnyCommand().rejects(new Error('unexpected command'));
  sns.onAnyCommand().rejects(new Error('unexpected command'));
  const commit = (source: string, id: string) => {
    if (!exit.stopped) receipts.push(receiptKey({ source, id, committedAtMs: canaryPublishedAt(id)! + exit.delayMs }));
  };
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    const body = JSON.parse(String(input.Body));
    commit(String(input.Key).split('/')[0], body.event_id);
    return {};
  });
  sns.on(PublishCommand).callsFake((input: { Message: string }) => {
    commit('orders', JSON.parse(input.Message).event_id);
    return { MessageId: 'm' };
  });
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({ Contents: receipts.filter((k) => k.startsWith(input.Prefix)).map((Key) => ({ Key })), IsTruncated: false }));
});

test('outputs: Freshness<key>Receipts with the optional Freshness<key>Entrance', () => {
  expect(
    freshnessOutputs([
      { OutputKey: 'FreshnessclickstreamReceipts', OutputValue: 's3://lake/_freshness/clickstream/' },
      { OutputKey: 'FreshnessclickstreamEntrance', OutputValue: 's3://landing/' },
      { OutputKey: 'FreshnessheartbeatReceipts', OutputValue: 's3://raw/_freshness/heartbeat/' },
      { OutputKey: 'LandingBucket', OutputValue: 'landing' },
    ]),
  ).toEqual(
    new Map([
      ['clickstream', { receipts: 's3://lake/_freshness/clickstream/', entrance: 's3://landing/' }],
      ['heartbeat', { receipts: 's3://raw/_freshness/heartbeat/', entrance: undefined }],
    ]),
  );
});

test('pipeline 2: canaries through the landing bucket, receipts in the lake: prints each freshness, exits 0', async () => {
  stackOutputs({ FreshnessclickstreamReceipts: 's3://lake/_freshness/clickstream/', FreshnessclickstreamEntrance: 's3://landing/' });
  const { out, io: streams } = io();
  const code = await main(['KinesisToDeltaLake', '--events', '2', '--timeout-seconds', '5'], streams, { cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }), clients, config, pollMs: 1 });
  expect(code).toBe(0);
  expect(cfn.commandCalls(DescribeStacksCommand)[0].args[0].input.StackName).toBe('stream-foundry-dev-kinesis-to-delta-lake');
  const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
  expect(puts).toHaveLength(2);
  expect(puts.every((p) => p.Bucket === 'landing' && String(p.Key).startsWith('clickstream/_canary/'))).toBe(true);
  expect(out.filter((l) => / committed after 2\.5 s$/.test(l))).toHaveLength(2);
  expect(out[out.length - 1]).toBe('stream-foundry-dev-kinesis-to-delta-lake: every canary arrived');
});

test('pipeline 1: canaries to the topic', async () => {
  stackOutputs({ FreshnessordersReceipts: 's3://out/_freshness/orders/', FreshnessordersEntrance: 'arn:aws:sns:eu-west-1:111122223333:orders' });
  const { out, io: streams } = io();
  expect(await main(['QueueToS3', '--events', '1', '--timeout-seconds', '5'], streams, { cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }), clients, config, pollMs: 1 })).toBe(0);
  expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  expect(out.some((l) => l.includes('orders: 1 arrived'))).toBe(true);
});

test('a stopped exit: exits 1 naming the pipeline, the missing canaries, where receipts were expected and the runbook section', async () => {
  exit.stopped = true;
  stackOutputs({ FreshnessordersReceipts: 's3://out/_freshness/orders/', FreshnessordersEntrance: 's3://landing/' });
  const { out, io: streams } = io();
  const code = await main(['MskToIceberg', '--events', '1', '--timeout-seconds', '1'], streams, { cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }), clients, config, pollMs: 50 });
  expect(code).toBe(1);
  const failure = out.find((l) => l.includes('not committed'))!;
  expect(failure).toMatch(/^stream-foundry-dev-msk-to-iceberg orders: 1 of 1 canary events not committed within 1 s \(00000000-0000-4000-8000-[0-9a-f]{12}\)/);
  expect(failure).toContain('s3://out/_freshness/orders/');
  expect(failure).toContain(`${config.docsUrl}/runbooks/msk-to-iceberg.md#lag-freshness`);
  expect(out[out.length - 1]).toBe('stream-foundry-dev-msk-to-iceberg: FAILED');
});

test("pipeline 3: no entrance of ours; waits for the pipeline's own heartbeat receipts", async () => {
  stackOutputs({ FreshnessheartbeatReceipts: 's3://raw/_freshness/heartbeat/' });
  const { out, io: streams } = io();
  setTimeout(() => receipts.push(receiptKey({ source: 'heartbeat', id: `00000000-0000-4000-8000-${Date.now().toString(16).padStart(12, '0')}`, committedAtMs: Date.now() + 4_000 })), 20);
  expect(await main(['RdsCdcToS3', '--timeout-seconds', '5'], streams, { cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }), clients, config, pollMs: 5 })).toBe(0);
  expect(out.some((l) => /heartbeat: 00000000-0000-4000-8000-[0-9a-f]{12} committed after 4\.0 s/.test(l))).toBe(true);
});

test('usage errors exit 2 and say why', async () => {
  const cases: [string[], RegExp][] = [
    [[], /give exactly one stack/],
    [['Nope'], /unknown stack "Nope": one of LandingZone, QueueToS3/],
    [['KinesisToDeltaLake', '--events', '0'], /--events "0" must be a whole number from 1 to 100/],
    [['LandingZone'], /no exit of its own/],
    [['stream-foundry-dev-pubsub-to-bigquery'], /Google Cloud/],
    [['KinesisToDeltaLake', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [argv, message] of cases) {
    const { log, io: streams } = io();
    expect(await main(argv, streams, { cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }), clients, config })).toBe(2);
    expect(log.join('\n')).toMatch(message);
  }
});

test('a stack deployed before freshness existed: exits 1 saying so', async () => {
  stackOutputs({ LandingBucket: 'landing' });
  const { log, io: streams } = io();
  expect(await main(['KinesisToDeltaLake'], streams, { cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }), clients, config })).toBe(1);
  expect(log.join('\n')).toMatch(/has no Freshness<source>Receipts outputs: deploy this version of the stack first/);
});
