/**
 * `npm run verify`'s code (platform/freshness/verify.ts) against pipeline 1 running on this machine: the canary
 * events built from the configuration exactly as the stack's canary builds them, published to the SNS topic of
 * fauxqs, consumed by the real consumer service in-process (test/pipelines/queue-to-s3/consumer/local-pipeline.ts),
 * committed to the emulated S3 with their receipts. With the consumer running every canary arrives with a measured
 * freshness; with it stopped, verify fails naming the pipeline, the missing canaries and the runbook section.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { parseConfig, readCdkJsonContext } from '../../platform/config';
import { dataSource } from '../../platform/data-source';
import { canaryTemplate } from '../../platform/freshness';
import { CanaryTarget } from '../../platform/freshness/canary';
import { verifyPipeline } from '../../platform/freshness/verify';
import { runbookUrl } from '../../platform/pipeline';
import { LocalPipeline, startLocalPipeline } from '../pipelines/queue-to-s3/consumer/local-pipeline';

jest.setTimeout(60_000);

const config = parseConfig(readCdkJsonContext());
const orders = dataSource(config, 'orders');
const RUNBOOK = runbookUrl(config.docsUrl, 'queue-to-s3', 'lag-freshness');

let pipeline: LocalPipeline;
let clients: { s3: S3Client; sns: SNSClient };
let target: CanaryTarget;

beforeAll(async () => {
  pipeline = await startLocalPipeline({ source: orders.name, idField: orders.idField });
  clients = { s3: new S3Client({ ...pipeline.emulator.clientConfig, forcePathStyle: true }), sns: new SNSClient(pipeline.emulator.clientConfig) };
  target = { source: orders.name, template: canaryTemplate(orders), idField: orders.idField, eventTimeField: orders.eventTimeField, entrance: { kind: 'topic', topicArn: pipeline.emulator.topicArn } };
});

afterAll(async () => {
  clients?.s3.destroy();
  clients?.sns.destroy();
  await pipeline?.stop();
});

const verify = (timeoutMs: number) =>
  verifyPipeline({ pipeline: 'local-queue-to-s3', sources: [{ source: orders.name, target, receiptsBucket: pipeline.bucket }], events: 3, timeoutMs, pollMs: 200, runbookUrl: RUNBOOK, clients });

test('the consumer running: every canary is committed, with its measured freshness', async () => {
  await pipeline.startConsumer();
  const verdict = await verify(30_000);
  await pipeline.stopConsumer();
  expect(verdict.ok).toBe(true);
  const [{ sent, arrived, missing }] = verdict.sources;
  expect(sent).toHaveLength(3);
  expect(missing).toEqual([]);
  expect(arrived.map((r) => r.id).sort()).toEqual([...sent].sort());
  for (const r of arrived) {
    const seconds = (r.committedAtMs - r.publishedAtMs) / 1000;
    // Published, queued, polled (1 s long poll), flushed (300 ms age in the local environment), written.
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(15);
  }
  expect(verdict.lines.filter((l) => /^local-queue-to-s3 orders: 00000000-0000-4000-8000-[0-9a-f]{12} committed after \d+\.\d s$/.test(l))).toHaveLength(3);
  // The canaries are measurements: no data object holds them.
  const data = await Promise.all((await pipeline.keys(pipeline.dataPrefix)).map((k) => pipeline.read(k)));
  expect(data.join('').includes('00000000-0000-4000-8000-')).toBe(false);
});

test('the consumer stopped: verify fails naming the pipeline, the missing canaries, where receipts were expected and the runbook', async () => {
  const verdict = await verify(3_000);
  expect(verdict.ok).toBe(false);
  expect(verdict.sources[0].arrived).toEqual([]);
  expect(verdict.sources[0].missing).toHaveLength(3);
  expect(verdict.lines).toEqual([
    expect.stringMatching(
      new RegExp(`^local-queue-to-s3 orders: 3 of 3 canary events not committed within 3 s \\(.+\\); receipts expected under s3://${pipeline.bucket}/_freshness/orders/; where to look: ${RUNBOOK.replace(/[.]/g, '\\.')}$`),
    ),
  ]);
});
