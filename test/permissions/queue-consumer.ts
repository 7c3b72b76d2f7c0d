/**
 * Drives the queue consumer (pipeline 1's pod: pipelines/queue-to-s3/consumer) with the configuration its deployed
 * Kubernetes manifest sets, against aws-sdk-client-mock: receive, extend leases of held messages while a write is
 * slow, write the data and error objects and a freshness canary's receipt, delete. Returns the IAM requests it made.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { canaryId, RECEIPTS_PREFIX } from '../../platform/freshness/contract';
import { loadConfig } from '../../pipelines/queue-to-s3/consumer/config';
import { createConsumer } from '../../pipelines/queue-to-s3/consumer/consumer';
import { createMetrics } from '../../pipelines/queue-to-s3/consumer/metrics';
import { MemoryLog, sqsMessage } from '../pipelines/queue-to-s3/consumer/fixtures';
import { recorded } from '../support/aws-requests';
import { AwsRequest } from '../support/iam-proof';

type Container = { name: string; command?: string[]; env?: { name: string; value?: string }[] };
type Manifest = { kind: string; spec?: { template?: { spec?: { containers?: Container[]; initContainers?: Container[] } } } };

/**
 * The init container's `aws s3 cp s3://<bundle> ...` (pipelines/queue-to-s3/construct/workload.ts), run with the
 * pod's role: the CLI's HEAD and GET of the bundle object, which exists (a CDK asset).
 */
export function bundleFetchRequests(manifests: Manifest[]): AwsRequest[] {
  for (const m of manifests) {
    for (const c of m.spec?.template?.spec?.initContainers ?? []) {
      const url = c.command?.find((arg) => arg.startsWith('s3://'));
      if (c.command?.slice(0, 3).join(' ') === 'aws s3 cp' && url) {
        const resource = `arn:aws:s3:::${url.slice('s3://'.length)}`;
        return [{ action: 's3:GetObject', resource, why: `init container ${c.name}: aws s3 cp of the consumer bundle` }];
      }
    }
  }
  throw new Error('no init container fetching the bundle with aws s3 cp in the manifests');
}

/** The environment of the consumer container in the synthesized manifests (the one that sets QUEUE_URL). */
export function consumerEnvironment(manifests: Manifest[]): Record<string, string> {
  for (const m of manifests) {
    for (const c of m.spec?.template?.spec?.containers ?? []) {
      const env = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      if (env.QUEUE_URL) return env;
    }
  }
  throw new Error('no container with QUEUE_URL in the manifests');
}

export async function consumerRequests(env: Record<string, string>): Promise<AwsRequest[]> {
  const sqs = mockClient(SQSClient);
  const s3 = mockClient(S3Client);
  try {
    const config = loadConfig(env);
    let clock = Date.UTC(2026, 10, 20, 9, 30, 0);
    if (!config.canary) throw new Error('scenario drifted: the deployed environment names no canary source and id field');
    const canary = sqsMessage(3, { sentAt: clock, body: JSON.stringify({ [config.canary.idField]: canaryId(clock - 1_000) }) });
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: [sqsMessage(1, { sentAt: clock }), sqsMessage(2, { sentAt: clock, body: 'not json' }), canary] }).resolves({ Messages: [] });
    sqs.on(DeleteMessageBatchCommand).callsFake((input) => ({ Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] }));
    sqs.on(ChangeMessageVisibilityBatchCommand).callsFake((input) => ({ Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] }));
    let release!: () => void;
    const slowWrite = new Promise<void>((resolve) => (release = resolve));
    s3.on(PutObjectCommand).callsFake(async () => (await slowWrite, { ETag: '"e"' }));

    const consumer = createConsumer({
      sqs: new SQSClient({ region: env.AWS_REGION ?? 'eu-west-1' }),
      s3: new S3Client({ region: env.AWS_REGION ?? 'eu-west-1' }),
      config,
      metrics: createMetrics(),
      logger: new MemoryLog(),
      now: () => clock,
    });
    await consumer.pollOnce();
    const flushing = consumer.flush();
    clock += config.visibilityTimeoutSeconds * 1000 * 0.75; // the write is slow: held messages need a longer lease
    await consumer.tick();
    release();
    await flushing;
    const requests = recorded({ sqs, s3 });
    const actions = new Set(requests.map((r) => r.action));
    for (const a of ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 's3:PutObject']) {
      if (!actions.has(a)) throw new Error(`scenario drifted: no ${a} in ${[...actions].join(', ')}`);
    }
    if (!requests.some((r) => r.action === 's3:PutObject' && r.resource.includes(`/${RECEIPTS_PREFIX}`))) throw new Error('scenario drifted: no receipt put');
    return requests;
  } finally {
    sqs.restore();
    s3.restore();
  }
}
