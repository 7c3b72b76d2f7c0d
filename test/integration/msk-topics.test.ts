/**
 * The topic creator's code against a real Kafka broker (KRaft, started from Maven Central jars): the handler from
 * handlers/msk-topics with a plaintext kafkajs admin instead of the IAM/TLS one MSK needs (the only difference from the
 * deployed entry point, pipelines/msk-to-iceberg/handlers/msk-topics/index.ts). Every assertion reads the broker's state back with kafkajs.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Admin, ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { createTopicsHandler } from '../../pipelines/msk-to-iceberg/handlers/msk-topics/topics';
import { KafkaBroker, startKafkaBroker } from './kafka-broker';

jest.setTimeout(180_000);

let broker: KafkaBroker;
let kafka: Kafka;
let inspector: Admin;
const CLUSTER = 'arn:aws:kafka:eu-west-1:123456789012:cluster/pipeline/0f0f0f0f-1111-2222-3333-444455556666-s1';

beforeAll(async () => {
  broker = await startKafkaBroker();
  kafka = new Kafka({ clientId: 'test', brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  inspector = kafka.admin();
  await inspector.connect();
});

afterAll(async () => {
  await inspector?.disconnect();
  await broker?.stop();
});

const onEvent = createTopicsHandler({
  bootstrapBrokers: async () => [broker.bootstrapServers],
  admin: (brokers) => new Kafka({ clientId: 'msk-topics', brokers, logLevel: logLevel.NOTHING }).admin(),
});

const event = (RequestType: 'Create' | 'Update' | 'Delete', topics: { Name: string; Partitions: string; RetentionMs: string }[]) =>
  ({ RequestType, ResourceProperties: { ServiceToken: 'x', ClusterArn: CLUSTER, Topics: topics }, PhysicalResourceId: `${CLUSTER}/topics` }) as unknown as CloudFormationCustomResourceEvent;

async function state(topic: string) {
  const metadata = await inspector.fetchTopicMetadata({ topics: [topic] });
  const configs = await inspector.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
  const entry = (name: string) => configs.resources[0].configEntries.find((e) => e.configName === name);
  return { partitions: metadata.topics[0].partitions.length, retentionMs: entry('retention.ms')?.configValue, maxMessageBytes: entry('max.message.bytes')?.configValue };
}

test('creates the topics with their partitions and retention and returns the bootstrap brokers', async () => {
  const result = await onEvent(
    event('Create', [
      { Name: 'orders', Partitions: '3', RetentionMs: '3600000' },
      { Name: 'clickstream', Partitions: '2', RetentionMs: '7200000' },
    ]),
  );
  expect(result).toEqual({ PhysicalResourceId: `${CLUSTER}/topics`, Data: { BootstrapBrokers: broker.bootstrapServers } });
  expect(await state('orders')).toMatchObject({ partitions: 3, retentionMs: '3600000' });
  expect(await state('clickstream')).toMatchObject({ partitions: 2, retentionMs: '7200000' });
});

test('a rerun is a no-op, and records in the topic are untouched by updates', async () => {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic: 'orders', messages: [{ key: 'k', value: 'kept' }] });
  await producer.disconnect();
  await onEvent(event('Update', [{ Name: 'orders', Partitions: '3', RetentionMs: '3600000' }]));
  expect(await state('orders')).toMatchObject({ partitions: 3, retentionMs: '3600000' });
  const offsets = await inspector.fetchTopicOffsets('orders');
  expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(1);
});

test('grows partitions (never shrinks), changes retention and keeps the other overrides', async () => {
  await inspector.alterConfigs({
    validateOnly: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'max.message.bytes', value: '2097152' }] }],
  });
  await onEvent(event('Update', [{ Name: 'orders', Partitions: '5', RetentionMs: '86400000' }]));
  expect(await state('orders')).toEqual({ partitions: 5, retentionMs: '86400000', maxMessageBytes: '2097152' });
  await onEvent(event('Update', [{ Name: 'orders', Partitions: '2', RetentionMs: '86400000' }]));
  expect((await state('orders')).partitions).toBe(5);
});

test('a topic dropped from the list, and stack deletion, leave every topic in place', async () => {
  await onEvent(event('Update', [{ Name: 'orders', Partitions: '5', RetentionMs: '86400000' }]));
  await onEvent(event('Delete', [{ Name: 'orders', Partitions: '5', RetentionMs: '86400000' }]));
  expect((await inspector.listTopics()).sort()).toEqual(['clickstream', 'orders']);
});
