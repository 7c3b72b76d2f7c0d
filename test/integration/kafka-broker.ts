/**
 * A real Apache Kafka broker (3.9.1, KRaft, one combined broker + controller) as a child JVM, for tests of Kafka admin
 * operations: librdkafka's mock cluster (startKafkaMock) answers Metadata with controller id 0, a broker it does not
 * have, and implements no CreateTopics, CreatePartitions, DescribeConfigs or AlterConfigs. Java 17 and Maven come with
 * the project's toolchain; the classpath is resolved from Maven Central once and cached in the temp directory.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const POM = path.join(__dirname, 'kafka-broker', 'pom.xml');

export interface KafkaBroker {
  readonly bootstrapServers: string;
  stop(): Promise<void>;
}

function classpath(): string {
  const hash = crypto.createHash('sha256').update(fs.readFileSync(POM)).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `sf-kafka-broker-${hash}.classpath`);
  if (!fs.existsSync(file)) {
    const run = spawnSync('mvn', ['-B', '-q', '-f', POM, 'dependency:build-classpath', `-Dmdep.outputFile=${file}`], { encoding: 'utf8', timeout: 300_000 });
    if (run.status !== 0) throw new Error(`resolving the Kafka broker classpath failed (mvn ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
  return fs.readFileSync(file, 'utf8').trim();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export async function startKafkaBroker(): Promise<KafkaBroker> {
  const cp = classpath();
  const [port, controllerPort] = [await freePort(), await freePort()];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-kafka-'));
  const config = path.join(dir, 'server.properties');
  fs.writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${path.join(dir, 'data')}`,
      'auto.create.topics.enable=false', // like MSK Serverless
      'offsets.topic.replication.factor=1',
      'num.partitions=1',
    ].join('\n'),
  );
  const java = (args: string[]) => spawnSync('java', ['-Xmx256m', '-cp', cp, ...args], { encoding: 'utf8', timeout: 120_000 });
  const format = java(['kafka.tools.StorageTool', 'format', '-t', 'c2YtdGVzdC1jbHVzdGVyMQ', '-c', config]);
  if (format.status !== 0) throw new Error(`formatting the Kafka storage failed:\n${format.stdout}\n${format.stderr}`);

  let log = '';
  const child: ChildProcess = spawn('java', ['-Xmx384m', '-XX:TieredStopAtLevel=1', '-cp', cp, 'kafka.Kafka', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  while (!(await accepting(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the Kafka broker did not start (exit ${child.exitCode}):\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { bootstrapServers: `127.0.0.1:${port}`, stop };
}
