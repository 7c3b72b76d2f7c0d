/**
 * fauxqs (npm, an SNS/SQS/S3 emulator; 1.9.2 runs on Node 20) in a child process on a random free port of
 * 127.0.0.1, started and stopped by the tests and the consumer benchmark.
 *
 * A child process rather than in-process: fauxqs is an ES module (Jest's CommonJS runtime cannot load it), and in a
 * process of its own the emulator's CPU does not share the test's (or the benchmark's) event loop, as a real
 * service would not. State is in memory and lives as long as the child, so a consumer can crash and restart
 * against the same queue.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { GetQueueUrlCommand, SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';

export interface QueueSetup {
  /** Queue name; its dead-letter queue is `<name>-dlq`. */
  name: string;
  /** Seconds a received message stays invisible (the queue's default). */
  visibilityTimeoutSeconds: number;
  /** Receives after which SQS moves a message to the dead-letter queue. */
  maxReceiveCount: number;
}

export interface SqsEmulatorSetup {
  /** An SNS topic, subscribed by the queue with raw message delivery. */
  topic: string;
  queue: QueueSetup;
  buckets: string[];
}

export interface SqsEmulator {
  /** One endpoint for SNS, SQS and S3 (path-style S3 addressing). */
  endpoint: string;
  region: string;
  topicArn: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** Settings for any AWS SDK v3 client against the emulator. */
  clientConfig: Pick<SQSClientConfig, 'endpoint' | 'region' | 'credentials'>;
  /** Environment variables that point an AWS SDK v3 process (such as the consumer) at the emulator. */
  sdkEnv: Record<string, string>;
  /** The emulator's process id (its CPU and memory are measured apart from the consumer's). */
  pid: number;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

// Runs in the child (an ES module): start fauxqs on a free port with the resources, report the port on stdout.
const CHILD_SCRIPT = `
import { startFauxqs } from 'fauxqs';
const init = JSON.parse(process.env.SF_FAUXQS_INIT);
const server = await startFauxqs({ port: 0, logger: false, init });
process.stdout.write(JSON.stringify({ port: server.port }) + '\\n');
const stop = () => server.stop().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent holds our stdin open: if it dies without stopping us (a crashed test run), do not linger.
process.stdin.on('end', stop).resume();
`;

/** Starts fauxqs with a topic → queue (raw delivery, redrive to `<queue>-dlq`) and the buckets. */
export async function startSqsEmulator(setup: SqsEmulatorSetup): Promise<SqsEmulator> {
  const { queue } = setup;
  const dlqName = `${queue.name}-dlq`;
  const init = {
    queues: [
      { name: dlqName },
      {
        name: queue.name,
        attributes: {
          VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${dlqName}`,
            maxReceiveCount: String(queue.maxReceiveCount),
          }),
        },
      },
    ],
    topics: [{ name: setup.topic }],
    subscriptions: [{ topic: setup.topic, queue: queue.name, attributes: { RawMessageDelivery: 'true' } }],
    buckets: setup.buckets,
  };
  // Resolve fauxqs from this repository whatever the caller's working directory.
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, SF_FAUXQS_INIT: JSON.stringify(init) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fauxqs did not start within 20 s; its log:\n${log}`)), 20_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`fauxqs exited with code ${code} before it was ready (is the npm package "fauxqs" installed? npm ci):\n${log}`));
      });
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line).port);
        }
      });
    });
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  child.removeAllListeners('exit');
  child.stdout!.resume();

  const endpoint = `http://127.0.0.1:${port}`;
  const clientConfig = { endpoint, region: REGION, credentials: CREDENTIALS };
  const sqs = new SQSClient(clientConfig);
  const queueUrlOf = async (QueueName: string) => (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!;
  const [queueUrl, deadLetterQueueUrl] = [await queueUrlOf(queue.name), await queueUrlOf(dlqName)];
  sqs.destroy();
  return {
    endpoint,
    region: REGION,
    topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:${setup.topic}`,
    queueUrl,
    deadLetterQueueUrl,
    clientConfig,
    sdkEnv: {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ENDPOINT_URL_SNS: endpoint,
    },
    pid: child.pid!,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
