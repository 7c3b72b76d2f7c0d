import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createTopicsHandler, parseProperties, TopicAdmin } from '../../../../../pipelines/msk-to-iceberg/handlers/msk-topics/topics';

/** An in-memory cluster with kafkajs' admin API: what the handler asks, and the state it leaves. */
function fakeCluster(initial: Record<string, { partitions: number; configs: Record<string, { value: string; source: number }> }> = {}) {
  const topics = structuredClone(initial);
  const calls: string[] = [];
  const admin: TopicAdmin = {
    connect: async () => void calls.push('connect'),
    disconnect: async () => void calls.push('disconnect'),
    listTopics: async () => Object.keys(topics),
    createTopics: async ({ topics: specs }) => {
      calls.push(`create ${specs.map((s) => s.topic).join(',')}`);
      for (const s of specs) {
        topics[s.topic] = { partitions: s.numPartitions!, configs: Object.fromEntries((s.configEntries ?? []).map((e) => [e.name, { value: e.value, source: 1 }])) };
      }
      return true;
    },
    fetchTopicMetadata: async ({ topics: names = [] } = { topics: [] }) => ({
      topics: names.map((name) => ({ name, partitions: Array.from({ length: topics[name].partitions }, (_, i) => ({ partitionId: i }) as never) })),
    }),
    createPartitions: async ({ topicPartitions }) => {
      calls.push(`grow ${topicPartitions.map((t) => `${t.topic}=${t.count}`).join(',')}`);
      for (const t of topicPartitions) topics[t.topic].partitions = t.count;
      return true;
    },
    describeConfigs: async ({ resources }) =>
      ({
        resources: resources.map((r) => ({
          resourceName: r.name,
          configEntries: Object.entries(topics[r.name].configs).map(([configName, c]) => ({ configName, configValue: c.value, configSource: c.source, isDefault: c.source !== 1, readOnly: false, isSensitive: false })),
        })),
      }) as never,
    alterConfigs: async ({ resources }) => {
      for (const r of resources) {
        calls.push(`alter ${r.name} ${r.configEntries.map((e) => `${e.name}=${e.value}`).join(',')}`);
        // AlterConfigs replaces the topic's overrides.
        topics[r.name].configs = Object.fromEntries(r.configEntries.map((e) => [e.name, { value: e.value, source: 1 }]));
      }
      return {} as never;
    },
  } as TopicAdmin;
  return { admin, topics, calls };
}

const props = (partitions: number, retentionMs = 3_600_000) => ({
  ServiceToken: 'x',
  ClusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/c/uuid-1',
  Topics: [{ Name: 'orders', Partitions: String(partitions), RetentionMs: String(retentionMs) }],
});
const event = (RequestType: string, p = props(3)) => ({ RequestType, ResourceProperties: p, PhysicalResourceId: 'old' }) as unknown as CloudFormationCustomResourceEvent;

function handlerOn(cluster: ReturnType<typeof fakeCluster>) {
  const asked: string[] = [];
  return {
    asked,
    onEvent: createTopicsHandler({
      bootstrapBrokers: async (arn) => {
        asked.push(arn);
        return ['b-1:9098', 'b-2:9098'];
      },
      admin: () => cluster.admin,
    }),
  };
}

test('creates missing topics with their partitions and retention, and returns the IAM bootstrap brokers', async () => {
  const cluster = fakeCluster();
  const { onEvent, asked } = handlerOn(cluster);
  const result = await onEvent(event('Create'));
  expect(asked).toEqual(['arn:aws:kafka:eu-west-1:123456789012:cluster/c/uuid-1']);
  expect(result).toEqual({ PhysicalResourceId: 'arn:aws:kafka:eu-west-1:123456789012:cluster/c/uuid-1/topics', Data: { BootstrapBrokers: 'b-1:9098,b-2:9098' } });
  expect(cluster.topics.orders).toEqual({ partitions: 3, configs: { 'retention.ms': { value: '3600000', source: 1 } } });
  expect(cluster.calls).toEqual(['connect', 'create orders', 'disconnect']);
});

test('idempotent: a rerun with the same settings changes nothing', async () => {
  const cluster = fakeCluster({ orders: { partitions: 3, configs: { 'retention.ms': { value: '3600000', source: 1 } } } });
  await handlerOn(cluster).onEvent(event('Update'));
  expect(cluster.calls).toEqual(['connect', 'disconnect']);
});

test('grows partitions, never shrinks them; sets retention keeping the other overrides', async () => {
  const cluster = fakeCluster({
    orders: { partitions: 3, configs: { 'retention.ms': { value: '1000', source: 1 }, 'max.message.bytes': { value: '2097152', source: 1 }, 'cleanup.policy': { value: 'delete', source: 5 } } },
  });
  await handlerOn(cluster).onEvent(event('Update', props(6, 7_200_000)));
  expect(cluster.topics.orders.partitions).toBe(6);
  expect(cluster.calls).toContain('alter orders max.message.bytes=2097152,retention.ms=7200000');
  const shrink = fakeCluster({ orders: { partitions: 6, configs: { 'retention.ms': { value: '7200000', source: 1 } } } });
  await handlerOn(shrink).onEvent(event('Update', props(2, 7_200_000)));
  expect(shrink.topics.orders.partitions).toBe(6);
  expect(shrink.calls).toEqual(['connect', 'disconnect']);
});

test('delete retains the topics and does not connect', async () => {
  const cluster = fakeCluster({ orders: { partitions: 3, configs: {} } });
  expect(await handlerOn(cluster).onEvent(event('Delete'))).toEqual({ PhysicalResourceId: 'old' });
  expect(cluster.calls).toEqual([]);
  expect(Object.keys(cluster.topics)).toEqual(['orders']);
});

test('invalid properties are rejected with what is wrong', () => {
  expect(() => parseProperties({ ClusterArn: 'nope', Topics: [] })).toThrow(/ClusterArn.*Topics/s);
  expect(() => parseProperties({ ClusterArn: 'arn:x', Topics: [{ Name: 'a b', Partitions: '0', RetentionMs: '1' }] })).toThrow(/Topics.0.Name.*Topics.0.Partitions/s);
});
