/**
 * Local stand-ins for S3, Kinesis and Kafka, each on a random free port of 127.0.0.1, started and stopped by the
 * tests themselves. A missing tool fails the test with a message saying what to install; nothing is skipped.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Emulator {
  endpoint: string;
  stop(): Promise<void>;
}

/** s3rver with the given buckets, storing under a fresh temporary directory that `stop` removes. */
export async function startS3rver(buckets: string[]): Promise<Emulator> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver');
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** kinesalite in memory, with stream operations that complete at once. */
export async function startKinesalite(): Promise<Emulator> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kinesalite = require('kinesalite');
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 20 });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve())));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface KafkaMock {
  /** Comma-separated bootstrap servers. */
  bootstrapServers: string;
  stop(): Promise<void>;
}

/**
 * librdkafka's mock cluster, hosted by a `kcat` consumer (Debian package `kcat`). Subscribing to `topic` makes the
 * cluster create it (4 partitions); the bootstrap address is read from kcat's mock debug log.
 */
export async function startKafkaMock(topic: string, brokers = 3): Promise<KafkaMock> {
  if (spawnSync('kcat', ['-V']).error) {
    throw new Error('kcat is not installed: the Kafka integration tests need Debian package "kcat" (apt-get install -y kcat)');
  }
  const child = spawn('kcat', ['-b', 'localhost:1', '-X', `test.mock.num.brokers=${brokers}`, '-d', 'mock', '-G', 'sf-mock-host', topic], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stop = () => stopChild(child);
  let log = '';
  try {
    const bootstrapServers = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kcat mock cluster did not start within 15 s; its log:\n${log}`)), 15_000);
      child.once('exit', (code) => reject(new Error(`kcat exited with code ${code} before the mock cluster was ready:\n${log}`)));
      child.stderr!.on('data', (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-20_000);
        const servers = /bootstrap\.servers=(\S+)/.exec(log)?.[1];
        if (servers && log.includes(`Created topic "${topic}"`)) {
          clearTimeout(timer);
          resolve(servers);
        }
      });
    });
    child.stderr!.removeAllListeners('data');
    child.stderr!.resume(); // keep draining the debug log so kcat never blocks on a full pipe
    return { bootstrapServers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Reads every message of `topic` from the beginning with kcat, as JSON envelopes (partition, key, payload, headers). */
export function consumeAll(bootstrapServers: string, topic: string): Array<{ partition: number; key: string; payload: string; headers: string[] }> {
  // Record batches up to message.max.bytes (about 1 MiB) must fit one partition fetch.
  const args = ['-C', '-b', bootstrapServers, '-t', topic, '-o', 'beginning', '-e', '-J', '-q', '-X', 'fetch.message.max.bytes=8388608'];
  const result = spawnSync('kcat', args, {
    maxBuffer: 512 * 1024 * 1024,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`kcat -C failed (${result.status}): ${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
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

/**
 * Every record of every shard of a kinesalite stream, oldest first per shard, as text. With `cursors`, reading goes
 * on where the previous call with the same map stopped, and returns everything read through that map so far.
 */
export async function readKinesisStream(
  kinesis: import('@aws-sdk/client-kinesis').KinesisClient,
  streamName: string,
  cursors?: Map<string, string>,
): Promise<string[]> {
  const { ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } = await import('@aws-sdk/client-kinesis');
  const seen = readSoFar.get(cursors ?? {}) ?? [];
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  for (const shard of Shards ?? []) {
    let ShardIterator =
      cursors?.get(shard.ShardId!) ??
      (await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' })))
        .ShardIterator;
    for (;;) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
      seen.push(...page.Records!.map((r) => Buffer.from(r.Data!).toString('utf8')));
      ShardIterator = page.NextShardIterator;
      if (page.Records!.length === 0) break;
    }
    cursors?.set(shard.ShardId!, ShardIterator!);
  }
  if (cursors) readSoFar.set(cursors, seen);
  return [...seen];
}
const readSoFar = new WeakMap<object, string[]>();
