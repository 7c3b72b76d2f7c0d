import type { Admin, ITopicConfig } from 'kafkajs';
import { ConfigResourceTypes } from 'kafkajs';
import { z } from 'zod';
import { cfn, customResource, parseProperties as parse } from '../../../../platform/handlers/custom-resource';
import { ATTRIBUTE } from './contract';

/**
 * Creates the pipeline's Kafka topics (MSK Serverless has no CloudFormation topic resource): missing topics are created
 * with their partitions and retention, existing ones are grown to the partitions asked for and get the retention asked
 * for. Nothing is ever deleted: not on update (a topic no longer listed is left as it is), not on stack deletion (the
 * topics, and their records, go with the cluster). Every step reads the cluster's state first, so reruns are no-ops.
 */

/** The admin operations used, as kafkajs' Admin provides them. */
export type TopicAdmin = Pick<
  Admin,
  'connect' | 'disconnect' | 'listTopics' | 'createTopics' | 'fetchTopicMetadata' | 'createPartitions' | 'describeConfigs' | 'alterConfigs'
>;

export interface TopicsDeps {
  /** The cluster's bootstrap brokers for IAM authentication. */
  readonly bootstrapBrokers: (clusterArn: string) => Promise<string[]>;
  readonly admin: (brokers: string[]) => TopicAdmin;
  readonly log?: (message: string, details?: Record<string, unknown>) => void;
}

const schema = z
  .object({
    ClusterArn: z.string().startsWith('arn:'),
    Topics: z
      .array(z.object({ Name: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/), Partitions: cfn.wholeNumber(1), RetentionMs: cfn.wholeNumber(-1) }))
      .min(1),
  })
  .transform((p) => ({ clusterArn: p.ClusterArn, topics: p.Topics.map((t) => ({ name: t.Name, partitions: t.Partitions, retentionMs: t.RetentionMs })) }));
export type ParsedTopic = { name: string; partitions: number; retentionMs: number };

export const parseProperties = (raw: unknown): { clusterArn: string; topics: ParsedTopic[] } => parse(schema, raw, 'Custom::KafkaTopics');

/** What one run changed, topic by topic (logged, and returned for the tests). */
export interface TopicsReport {
  created: string[];
  grown: { topic: string; from: number; to: number }[];
  retentionChanged: { topic: string; from: string | undefined; to: string }[];
  /** Topics with more partitions than asked: Kafka cannot remove partitions, so they are kept. */
  keptPartitions: { topic: string; partitions: number; asked: number }[];
}

/** The Kafka config source of a topic-level override (DescribeConfigs `configSource` DYNAMIC_TOPIC_CONFIG). */
const DYNAMIC_TOPIC_CONFIG = 1;

export async function ensureTopics(admin: TopicAdmin, topics: ParsedTopic[]): Promise<TopicsReport> {
  const report: TopicsReport = { created: [], grown: [], retentionChanged: [], keptPartitions: [] };
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.name));
  if (missing.length > 0) {
    const specs: ITopicConfig[] = missing.map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      configEntries: [{ name: 'retention.ms', value: String(t.retentionMs) }],
    }));
    // false when a topic already existed (created concurrently): not an error, the checks below still run.
    await admin.createTopics({ topics: specs, waitForLeaders: true });
    report.created.push(...missing.map((t) => t.name));
  }

  const present = topics.filter((t) => existing.has(t.name));
  if (present.length === 0) return report;
  const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
  const partitionsOf = new Map(metadata.topics.map((m) => [m.name, m.partitions.length]));
  const grow = present.filter((t) => (partitionsOf.get(t.name) ?? 0) < t.partitions);
  if (grow.length > 0) {
    await admin.createPartitions({ topicPartitions: grow.map((t) => ({ topic: t.name, count: t.partitions })) });
    report.grown.push(...grow.map((t) => ({ topic: t.name, from: partitionsOf.get(t.name) ?? 0, to: t.partitions })));
  }
  for (const t of present) {
    const have = partitionsOf.get(t.name) ?? 0;
    if (have > t.partitions) report.keptPartitions.push({ topic: t.name, partitions: have, asked: t.partitions });
  }
  await alignRetention(admin, present, report);
  return report;
}

/**
 * Sets `retention.ms` where it differs. AlterConfigs (the API kafkajs speaks) replaces a topic's whole set of
 * overrides, so the topic's other overrides are read first and written back with it: nothing else changes.
 */
async function alignRetention(admin: TopicAdmin, topics: ParsedTopic[], report: TopicsReport): Promise<void> {
  const described = await admin.describeConfigs({
    resources: topics.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name })),
    includeSynonyms: false,
  });
  for (const t of topics) {
    const entries = described.resources.find((r) => r.resourceName === t.name)?.configEntries ?? [];
    const current = entries.find((e) => e.configName === 'retention.ms')?.configValue;
    const wanted = String(t.retentionMs);
    if (current === wanted) continue;
    const overrides = entries
      .filter((e) => e.configSource === DYNAMIC_TOPIC_CONFIG && !e.readOnly && !e.isSensitive && e.configName !== 'retention.ms')
      .map((e) => ({ name: e.configName, value: e.configValue }));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: t.name, configEntries: [...overrides, { name: 'retention.ms', value: wanted }] }],
    });
    report.retentionChanged.push({ topic: t.name, from: current, to: wanted });
  }
}

export function createTopicsHandler(deps: TopicsDeps) {
  const log = deps.log ?? (() => undefined);
  return customResource({
    schema,
    async onCreate({ clusterArn, topics }, event) {
      const brokers = await deps.bootstrapBrokers(clusterArn);
      const admin = deps.admin(brokers);
      await admin.connect();
      try {
        const report = await ensureTopics(admin, topics);
        log(`${event.RequestType}: topics ensured`, { ...report });
        return { PhysicalResourceId: `${clusterArn}/topics`, Data: { [ATTRIBUTE.bootstrapBrokers]: brokers.join(',') } };
      } finally {
        await admin.disconnect();
      }
    },
    // Topics are retained: deleting them would delete their records. They go when the cluster is deleted.
    async onDelete({ topics }) {
      log('delete: topics retained', { topics: topics.map((t) => t.name) });
    },
  }).onEvent;
}
