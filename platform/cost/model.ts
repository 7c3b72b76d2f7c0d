import { isBuilt, sourcesFeeding, StreamFoundryConfig } from '../config';
import { PIPELINES, PipelineKey } from '../../pipelines';
import { CostError, price, PriceTable } from './prices';

/**
 * The monthly cost model: one function per architecture, each returning line items priced from the price table
 * (prices.json). Every quantity follows the deployed shape and the configured sizes (cdk.json through
 * platform/config); what cannot be read from the configuration is an assumption, listed in ASSUMPTIONS and printed
 * with every estimate. `npm run cost` (scripts/cost.ts) prints it; the README's "## Cost" section is its output.
 */

/** The traffic an estimate is for: every source that feeds a pipeline carries this much. */
export interface Volume {
  readonly eventsPerSecond: number;
  readonly eventBytes: number;
}

export interface LineItem {
  readonly component: string;
  readonly quantity: number;
  readonly unit: string;
  /** USD per unit, as recorded in the price table. */
  readonly unitPrice: number;
  readonly monthlyUsd: number;
}

export interface Estimate {
  readonly key: PipelineKey;
  /** The registry's name (stack name suffix). */
  readonly name: string;
  readonly title: string;
  readonly cloud: 'aws' | 'gcp';
  /** The configured sources it carries (none for pipeline 3: its source is the database). */
  readonly sources: string[];
  readonly volume: Volume;
  readonly items: LineItem[];
  readonly totalUsd: number;
  /** What the estimate cannot see, or where the configuration would not keep up with the volume. */
  readonly notes: string[];
}

/** What the configuration does not say; each is printed with its reason. */
export interface Assumptions {
  readonly hoursPerMonth: number;
  /** Raw bytes ÷ gzip bytes of NDJSON events (raw zone, queue-to-s3 output). */
  readonly gzipRatio: number;
  /** Raw bytes ÷ Parquet bytes (Delta, Iceberg, DMS output). */
  readonly parquetRatio: number;
  /** Events per file uploaded to a landing zone: one validator invocation, one PUT and one GET each. */
  readonly eventsPerFile: number;
  /** Validator events/s on one full vCPU (Lambda gives a full vCPU at 1,769 MB). */
  readonly validatorEventsPerSecondPerVcpu: number;
  /** Glue streaming events/s per G.1X executor worker (with processing rules, without). */
  readonly glueEventsPerSecondPerDpu: { readonly withRules: number; readonly withoutRules: number };
  /** Managed Flink events/s per KPU of parallelism. */
  readonly flinkEventsPerSecondPerKpu: number;
  /** Queue consumer events/s per pod. */
  readonly consumerEventsPerSecondPerPod: number;
  /** EKS Auto Mode node for the consumer pods, and the share of it the pods may request. */
  readonly eksNode: { readonly type: string; readonly podMillicores: number; readonly podMiB: number };
  /** Dataflow events/s per worker (not measured in this project). */
  readonly dataflowEventsPerSecondPerWorker: number;
  /** Dataflow's default worker disk with Streaming Engine, GB. */
  readonly dataflowDiskGB: number;
  /** S3 PUTs per table commit (data file, commit/metadata files, checkpoint files). */
  readonly putsPerCommit: number;
  /** GB per KPU of Managed Flink running application storage. */
  readonly flinkStorageGBPerKpu: number;
  /** DMS replication storage included with the instance, GB. */
  readonly dmsIncludedStorageGB: number;
}

export const ASSUMPTIONS: Assumptions = {
  hoursPerMonth: 730,
  gzipRatio: 5,
  parquetRatio: 5,
  eventsPerFile: 10_000,
  validatorEventsPerSecondPerVcpu: 73_000,
  glueEventsPerSecondPerDpu: { withRules: 3_400, withoutRules: 4_400 },
  flinkEventsPerSecondPerKpu: 10_000,
  consumerEventsPerSecondPerPod: 1_000,
  eksNode: { type: 'm5.large', podMillicores: 1_500, podMiB: 6_144 },
  dataflowEventsPerSecondPerWorker: 5_000,
  dataflowDiskGB: 30,
  putsPerCommit: 5,
  flinkStorageGBPerKpu: 50,
  dmsIncludedStorageGB: 50,
};

/** Each assumption in words, with where its number comes from. */
export function describeAssumptions(a: Assumptions): string[] {
  return [
    `${a.hoursPerMonth} hours a month; GB = 2^30 bytes; every source of a pipeline carries the given events/s, around the clock`,
    `S3 storage is one month of data at the volume (it grows by that much every month it is kept); raw-zone and queue output gzip ${a.gzipRatio}:1, Parquet tables ${a.parquetRatio}:1`,
    `events reach the AWS landing zones as files of ${a.eventsPerFile.toLocaleString('en-US')} events (one validator invocation, one PUT, one GET each), kept in the landing bucket`,
    `validator: ${a.validatorEventsPerSecondPerVcpu.toLocaleString('en-US')} events/s per vCPU (half the ~146,000 events/s the README measured in one Node.js process), Lambda's vCPU share = memory ÷ 1,769 MB`,
    `Glue: ${a.glueEventsPerSecondPerDpu.withRules.toLocaleString('en-US')} events/s per G.1X executor with rules, ${a.glueEventsPerSecondPerDpu.withoutRules.toLocaleString('en-US')} without, plus a driver (pipeline 2 README, Sizing); auto scaling runs what the volume needs up to kinesisToDeltaLake.job.workers`,
    `Managed Flink: ${a.flinkEventsPerSecondPerKpu.toLocaleString('en-US')} events/s per KPU (pipeline 5 README, Sizing), +1 orchestration KPU per application, ${a.flinkStorageGBPerKpu} GB running storage per parallel KPU; auto scaling raises parallelism from mskToIceberg.application.parallelism`,
    `queue consumer: ${a.consumerEventsPerSecondPerPod.toLocaleString('en-US')} events/s per pod (pipeline 1 README, Sizing); pods on ${a.eksNode.type} Auto Mode nodes, ${fmt(a.eksNode.podMillicores)} millicores and ${fmt(a.eksNode.podMiB)} MiB of each for pods (the rest for the kubelet, KEDA, agents)`,
    `Dataflow: ${a.dataflowEventsPerSecondPerWorker.toLocaleString('en-US')} events/s per worker (an assumption, not measured here), ${a.dataflowDiskGB} GB disk per worker, Streaming Engine bills the event bytes once; BigQuery logical bytes = event bytes`,
    `S3 table writes: ${a.putsPerCommit} PUTs per micro-batch or checkpoint (data, commit and checkpoint files); request charges beyond PUTs and landing GETs left out`,
    `DMS: ${a.dmsIncludedStorageGB} GB of replication storage included; SQS requests: send (SNS delivery), receive and delete in batches of 10`,
  ];
}

const GB = 2 ** 30;
const TiB = 2 ** 40;

/** What each architecture function gets. */
export interface CostContext {
  readonly config: StreamFoundryConfig;
  readonly volume: Volume;
  readonly prices: PriceTable;
  readonly assumptions: Assumptions;
}

interface Part {
  items: LineItem[];
  notes: string[];
}

function lineItem(ctx: CostContext, cloud: 'aws' | 'gcp', component: string, quantity: number, unit: string, key: string, setting?: string): LineItem {
  const unitPrice = price(ctx.prices, cloud, key, setting).usd;
  return { component, quantity, unit, unitPrice, monthlyUsd: quantity * unitPrice };
}

const aws = (ctx: CostContext, component: string, quantity: number, unit: string, key: string, setting?: string) =>
  lineItem(ctx, 'aws', component, quantity, unit, key, setting);
const gcp = (ctx: CostContext, component: string, quantity: number, unit: string, key: string, setting?: string) =>
  lineItem(ctx, 'gcp', component, quantity, unit, key, setting);

const seconds = (ctx: CostContext) => ctx.assumptions.hoursPerMonth * 3600;
const hours = (ctx: CostContext) => ctx.assumptions.hoursPerMonth;
/** Events a month of one source. */
const eventsPerMonth = (ctx: CostContext) => ctx.volume.eventsPerSecond * seconds(ctx);
/** GB a month of one source. */
const gbPerMonth = (ctx: CostContext) => (eventsPerMonth(ctx) * ctx.volume.eventBytes) / GB;
const fmt = (n: number) => n.toLocaleString('en-US');

/** A Kinesis stream carrying `eventsPerSecond`, read by `readers` consumers. `shards` 0 is on-demand. */
function kinesis(ctx: CostContext, label: string, streams: number, eventsPerSecond: number, shards: number, readers: number, setting: string): Part {
  const { eventBytes } = ctx.volume;
  const records = eventsPerSecond * seconds(ctx) * streams;
  const notes: string[] = [];
  if (shards === 0) {
    // On-demand rounds each record up to 1 KB for ingestion.
    const ingestGB = (records * Math.ceil(eventBytes / 1024) * 1024) / GB;
    const readGB = (records * eventBytes * readers) / GB;
    if (eventsPerSecond > 200_000 || eventsPerSecond * eventBytes > 200 * 2 ** 20) {
      notes.push(`${label}: ${fmt(eventsPerSecond)} events/s is above an on-demand stream's default write limit (200 MiB/s, 200,000 records/s): ask AWS to raise it or set ${setting} shards`);
    }
    return {
      items: [
        aws(ctx, `${label} (on-demand): streams`, streams * hours(ctx), 'stream-hours', 'kinesis.onDemand.streamHour'),
        aws(ctx, `${label} (on-demand): data in`, ingestGB, 'GB (1 KB records)', 'kinesis.onDemand.ingestGB'),
        aws(ctx, `${label} (on-demand): data out (${readers} reader${readers > 1 ? 's' : ''})`, readGB, 'GB', 'kinesis.onDemand.retrievalGB'),
      ],
      notes,
    };
  }
  const capacity = Math.min(shards * 1000, Math.floor((shards * 2 ** 20) / eventBytes));
  if (eventsPerSecond > capacity) {
    notes.push(`${label}: ${shards} shard${shards > 1 ? 's' : ''} take at most ${fmt(capacity)} events/s of ${fmt(eventBytes)} bytes (1,000 records and 1 MiB a second each): writes would be throttled; raise ${setting}.shards`);
  }
  return {
    items: [
      aws(ctx, `${label} (provisioned): shards`, streams * shards * hours(ctx), 'shard-hours', 'kinesis.provisioned.shardHour'),
      aws(ctx, `${label} (provisioned): PUT payload units`, (records * Math.ceil(eventBytes / 25_600)) / 1e6, 'million units', 'kinesis.provisioned.putUnitMillion'),
    ],
    notes,
  };
}

/** The landing zone of `sources`: one validator Lambda each, files in the landing bucket. */
function landingZone(ctx: CostContext, sources: number): Part {
  const a = ctx.assumptions;
  const memoryMiB = ctx.config.validator.memoryMiB;
  const files = (eventsPerMonth(ctx) * sources) / a.eventsPerFile;
  const eventsPerSecondPerInvocation = a.validatorEventsPerSecondPerVcpu * Math.min(1, memoryMiB / 1769);
  const gbSeconds = files * (a.eventsPerFile / eventsPerSecondPerInvocation) * (memoryMiB / 1024);
  return {
    items: [
      aws(ctx, 'Lambda validator: requests', files / 1e6, 'million requests', 'lambda.requestMillion'),
      aws(ctx, `Lambda validator: compute (${fmt(memoryMiB)} MiB, Arm)`, gbSeconds, 'GB-seconds', 'lambda.arm.gbSecond', 'validator.memoryMiB'),
      aws(ctx, 'S3 landing: uploads (PUT)', files / 1000, 'thousand PUTs', 's3.putThousand'),
      aws(ctx, 'S3 landing: validator reads (GET)', files / 1000, 'thousand GETs', 's3.getThousand'),
      aws(ctx, 'S3 landing: a month of files', gbPerMonth(ctx) * sources, 'GB-month', 's3.standardGBMonth'),
    ],
    notes: [],
  };
}

/** Raw zone by Firehose from `streams` Kinesis streams, each carrying `eventsPerSecond`. */
function firehoseRawZone(ctx: CostContext, streams: number, eventsPerSecond: number): Part {
  const { bufferSeconds, bufferMiB } = ctx.config.rawZone;
  const records = eventsPerSecond * seconds(ctx) * streams;
  const billedGB = (records * Math.ceil(ctx.volume.eventBytes / 5120) * 5120) / GB;
  const bytesPerSecond = eventsPerSecond * ctx.volume.eventBytes;
  // An object per buffer interval, or per bufferMiB when that fills first.
  const objectsPerSecond = Math.max(1 / Math.max(1, bufferSeconds), bytesPerSecond / (bufferMiB * 2 ** 20));
  return {
    items: [
      aws(ctx, 'Firehose raw zone: data in', billedGB, 'GB (5 KB records)', 'firehose.ingestGB'),
      aws(ctx, 'S3 raw zone: objects (PUT)', (objectsPerSecond * seconds(ctx) * streams) / 1000, 'thousand PUTs', 's3.putThousand', 'rawZone.bufferSeconds'),
      aws(ctx, `S3 raw zone: a month of gzip (${ctx.assumptions.gzipRatio}:1)`, (records * ctx.volume.eventBytes) / GB / ctx.assumptions.gzipRatio, 'GB-month', 's3.standardGBMonth'),
    ],
    notes: [],
  };
}

function natGateways(ctx: CostContext, count: number, dataGB: number, what: string): LineItem[] {
  return [
    aws(ctx, `NAT gateway${count > 1 ? 's' : ''} (${count})`, count * hours(ctx), 'gateway-hours', 'vpc.natGatewayHour'),
    aws(ctx, `NAT gateway: data processed (${what})`, dataGB, 'GB', 'vpc.natGatewayGB'),
  ];
}

/** Sums parts into an estimate. */
function estimate(ctx: CostContext, key: PipelineKey, sources: string[], parts: Part[]): Estimate {
  const entry = PIPELINES.find((p) => p.key === key)!;
  const items = parts.flatMap((p) => p.items);
  return {
    key,
    name: entry.name,
    title: TITLES[key],
    cloud: entry.cloud,
    sources,
    volume: ctx.volume,
    items,
    totalUsd: items.reduce((sum, item) => sum + item.monthlyUsd, 0),
    notes: parts.flatMap((p) => p.notes),
  };
}

export const TITLES: Record<PipelineKey, string> = {
  landingZone: 'Landing zone: S3 → validator Lambda → Kinesis',
  queueToS3: '1. SNS → SQS → consumer on EKS → S3',
  kinesisToDeltaLake: '2. Kinesis → Spark (Glue) → Delta Lake',
  rdsCdcToS3: '3. RDS → DMS → S3',
  gcp: '4. Pub/Sub → Dataflow → BigQuery',
  mskToIceberg: '5. MSK → Managed Flink → Iceberg',
};

/** The LandingZone stack: one Kinesis stream for all its sources, a validator per source, the raw zone's Firehose. */
export function landingZoneCost(ctx: CostContext): Estimate {
  const sources = sourcesFeeding(ctx.config, 'landingZone');
  const eventsPerSecond = ctx.volume.eventsPerSecond * sources.length;
  return estimate(ctx, 'landingZone', sources, [
    landingZone(ctx, sources.length),
    kinesis(ctx, 'Kinesis', 1, eventsPerSecond, ctx.config.landingZone.stream.shards, 1, 'landingZone.stream'),
    firehoseRawZone(ctx, 1, eventsPerSecond),
  ]);
}

/** Pipeline 1: SNS → SQS → consumer pods on EKS Auto Mode (a VPC with one NAT gateway) → S3. */
export function queueToS3Cost(ctx: CostContext): Estimate {
  const { config, assumptions: a, volume } = ctx;
  const settings = config.queueToS3;
  const sources = sourcesFeeding(config, 'queueToS3');
  const events = eventsPerMonth(ctx) * sources.length;
  const eventsPerSecond = volume.eventsPerSecond * sources.length;
  const chunks = (bytes: number) => Math.ceil(bytes / 65_536);
  const notes: string[] = [];
  const needed = Math.ceil(eventsPerSecond / a.consumerEventsPerSecondPerPod);
  const pods = Math.min(settings.consumer.maxReplicas, Math.max(settings.consumer.minReplicas, needed));
  if (needed > settings.consumer.maxReplicas) {
    notes.push(`${fmt(eventsPerSecond)} events/s needs ~${needed} consumer pods; queueToS3.consumer.maxReplicas (${settings.consumer.maxReplicas}) caps them, so the queue would grow: raise it (pipeline 1 README, Sizing)`);
  }
  const podsPerNode = Math.max(1, Math.min(Math.floor(a.eksNode.podMillicores / settings.consumer.cpuMillicores), Math.floor(a.eksNode.podMiB / settings.consumer.memoryMiB)));
  const nodes = Math.max(1, Math.ceil(pods / podsPerNode));
  const existing = settings.cluster.existingClusterName !== undefined;
  if (settings.messaging.fifo) notes.push('queueToS3.messaging.fifo is on: priced as standard topics and queues, FIFO ones cost more per request');
  if (existing) notes.push('queueToS3.cluster.existingClusterName: the control plane and its VPC (NAT gateway) are that cluster\'s, not counted');
  const items: LineItem[] = [
    aws(ctx, 'SNS: publishes', (events * chunks(volume.eventBytes)) / 1e6, 'million requests', 'sns.publishMillion'),
    aws(
      ctx,
      'SQS: send (from SNS), receive and delete (batches of 10)',
      (events * chunks(volume.eventBytes) + (events / 10) * chunks(10 * volume.eventBytes) + events / 10) / 1e6,
      'million requests',
      'sqs.standardRequestMillion',
    ),
  ];
  if (!existing) items.push(aws(ctx, 'EKS control plane', hours(ctx), 'cluster-hours', 'eks.clusterHour'));
  items.push(
    aws(ctx, `EKS nodes: ${nodes} × ${a.eksNode.type} for ${pods} pod${pods > 1 ? 's' : ''}`, nodes * hours(ctx), 'instance-hours', `ec2.${a.eksNode.type}`),
    aws(ctx, 'EKS Auto Mode management', nodes * hours(ctx), 'instance-hours', `eks.autoMode.${a.eksNode.type}`),
  );
  if (!existing) items.push(...natGateways(ctx, 1, (events * volume.eventBytes) / GB, 'SQS messages received'));
  // One object per pod per flush: flushMaxAgeSeconds, or sooner when a pod's batch reaches flushMaxMessages.
  const perPod = eventsPerSecond / pods;
  const objectsPerSecond = pods * Math.max(1 / settings.consumer.flushMaxAgeSeconds, perPod / settings.consumer.flushMaxMessages);
  items.push(
    aws(ctx, 'S3 output: batches (PUT)', (objectsPerSecond * seconds(ctx)) / 1000, 'thousand PUTs', 's3.putThousand', 'queueToS3.consumer.flushMaxAgeSeconds'),
    aws(ctx, `S3 output: a month of gzip (${a.gzipRatio}:1)`, (events * volume.eventBytes) / GB / a.gzipRatio, 'GB-month', 's3.standardGBMonth'),
  );
  return estimate(ctx, 'queueToS3', sources, [{ items, notes }]);
}

const GLUE_DPU: Record<string, number> = { 'G.025X': 0.25, 'G.1X': 1, 'G.2X': 2, 'G.4X': 4, 'G.8X': 8 };

/** Pipeline 2, per source: a Kinesis stream, a landing zone, a Glue streaming job, the raw zone's Firehose, a Delta table. */
export function kinesisToDeltaLakeCost(ctx: CostContext): Estimate {
  const { config, assumptions: a, volume } = ctx;
  const settings = config.kinesisToDeltaLake;
  const sources = sourcesFeeding(config, 'kinesisToDeltaLake');
  const dpu = GLUE_DPU[settings.job.workerType];
  const items: LineItem[] = [];
  const notes: string[] = [];
  let dpuHours = 0;
  const sizes: string[] = [];
  for (const source of sources) {
    const perDpu = config.sources[source].rules ? a.glueEventsPerSecondPerDpu.withRules : a.glueEventsPerSecondPerDpu.withoutRules;
    const needed = 1 + Math.ceil(volume.eventsPerSecond / (perDpu * dpu));
    const workers = settings.job.autoScaling ? Math.min(settings.job.workers, Math.max(2, needed)) : settings.job.workers;
    if (needed > settings.job.workers) {
      notes.push(`${source}: ${fmt(volume.eventsPerSecond)} events/s needs ~${needed} ${settings.job.workerType} workers; kinesisToDeltaLake.job.workers (${settings.job.workers}) caps the job, so it would fall behind: raise it (pipeline 2 README, Sizing)`);
    }
    dpuHours += workers * dpu * hours(ctx);
    sizes.push(`${workers} × ${settings.job.workerType}`);
  }
  items.push(aws(ctx, `Glue streaming job${sources.length > 1 ? 's' : ''} (${sizes.join(', ')})`, dpuHours, 'DPU-hours', 'glue.dpuHour', 'kinesisToDeltaLake.job.workerType'));
  const microBatches = (seconds(ctx) / settings.job.triggerIntervalSeconds) * sources.length;
  items.push(
    aws(ctx, 'S3 Delta tables: micro-batch writes (PUT)', (microBatches * a.putsPerCommit) / 1000, 'thousand PUTs', 's3.putThousand', 'kinesisToDeltaLake.job.triggerIntervalSeconds'),
    aws(ctx, `S3 Delta tables: a month of Parquet (${a.parquetRatio}:1)`, (gbPerMonth(ctx) * sources.length) / a.parquetRatio, 'GB-month', 's3.standardGBMonth'),
  );
  return estimate(ctx, 'kinesisToDeltaLake', sources, [
    kinesis(ctx, 'Kinesis', sources.length, volume.eventsPerSecond, settings.stream.shards, 2, 'kinesisToDeltaLake.stream'),
    { items, notes },
    landingZone(ctx, sources.length),
    firehoseRawZone(ctx, sources.length, volume.eventsPerSecond),
  ]);
}

/** Pipeline 3: an RDS instance, a DMS replication instance, a Secrets Manager endpoint, Parquet change files on S3. */
export function rdsCdcToS3Cost(ctx: CostContext): Estimate {
  const { assumptions: a } = ctx;
  const settings = ctx.config.rdsCdcToS3!;
  const dmsInstances = settings.replicationMultiAz ? 2 : 1;
  const extraStorage = Math.max(0, settings.replicationStorageGiB - a.dmsIncludedStorageGB) * dmsInstances;
  const tables = settings.tables.length;
  const items: LineItem[] = [
    aws(ctx, `RDS ${settings.engine} db.${settings.instanceClass}`, hours(ctx), 'instance-hours', `rds.${settings.engine}.db.${settings.instanceClass}`, 'rdsCdcToS3.instanceClass'),
    aws(ctx, 'RDS storage (gp3)', settings.allocatedStorageGiB, 'GB-month', 'rds.gp3GBMonth', 'rdsCdcToS3.allocatedStorageGiB'),
    aws(ctx, `DMS ${settings.replicationInstanceClass}${dmsInstances > 1 ? ' (Multi-AZ: 2)' : ''}`, dmsInstances * hours(ctx), 'instance-hours', `dms.${settings.replicationInstanceClass}`, 'rdsCdcToS3.replicationInstanceClass'),
    aws(ctx, 'DMS storage beyond the included', extraStorage, 'GB-month', 'dms.storageGBMonth', 'rdsCdcToS3.replicationStorageGiB'),
    aws(ctx, 'VPC endpoint: Secrets Manager (2 zones)', 2 * hours(ctx), 'endpoint-hours', 'vpc.interfaceEndpointHour'),
    // DMS writes a change file per table every 5 s while changes flow (target endpoint: CdcMaxBatchInterval 5).
    aws(ctx, `S3 change files (PUT, ${tables} table${tables > 1 ? 's' : ''}, every 5 s)`, (tables * seconds(ctx)) / 5 / 1000, 'thousand PUTs', 's3.putThousand'),
    aws(ctx, `S3 change files: a month of Parquet (${a.parquetRatio}:1)`, gbPerMonth(ctx) / a.parquetRatio, 'GB-month', 's3.standardGBMonth'),
  ];
  return estimate(ctx, 'rdsCdcToS3', [], [
    {
      items,
      notes: [
        `events/s here are row changes/s in the database; the configured classes (db.${settings.instanceClass}, ${settings.replicationInstanceClass}) are sized for the example, not for a given change rate: size them for yours (pipeline 3 README)`,
      ],
    },
  ]);
}

/** vCPUs and memory of a Compute Engine standard machine type. */
function machine(type: string): { vcpus: number; memoryGB: number } {
  const match = /^(n1|n2|n2d|e2)-standard-(\d+)$/.exec(type);
  if (!match) throw new CostError(`gcp.workerMachineType "${type}": the estimate knows n1-, n2-, n2d- and e2-standard-N machine types`);
  const vcpus = Number(match[2]);
  return { vcpus, memoryGB: vcpus * (match[1] === 'n1' ? 3.75 : 4) };
}

/** Pipeline 4: Pub/Sub topic and subscription, the Dataflow template on Streaming Engine, BigQuery. */
export function pubsubToBigQueryCost(ctx: CostContext): Estimate {
  const { assumptions: a, volume } = ctx;
  const settings = ctx.config.gcp!;
  const sources = sourcesFeeding(ctx.config, 'gcp');
  const bytes = eventsPerMonth(ctx) * volume.eventBytes * sources.length;
  const bytesPerSecond = volume.eventsPerSecond * volume.eventBytes * sources.length;
  const type = settings.workerMachineType ?? 'n1-standard-2';
  const { vcpus, memoryGB } = machine(type);
  const needed = Math.max(1, Math.ceil((volume.eventsPerSecond * sources.length) / a.dataflowEventsPerSecondPerWorker));
  const workers = Math.min(settings.maxWorkers, needed);
  const notes: string[] = [];
  if (needed > settings.maxWorkers) {
    notes.push(`${fmt(volume.eventsPerSecond)} events/s needs ~${needed} Dataflow workers at the assumed rate; gcp.maxWorkers (${settings.maxWorkers}) caps them: raise it`);
  }
  if (!ctx.prices.gcp.region.startsWith(settings.region)) {
    notes.push(`gcp.region is ${settings.region}, the price table's Google Cloud prices are ${ctx.prices.gcp.region}'s: Dataflow and BigQuery prices differ by region`);
  }
  const workerHours = workers * hours(ctx);
  return estimate(ctx, 'gcp', sources, [
    {
      items: [
        gcp(ctx, 'Pub/Sub: publish and subscribe throughput', (2 * bytes) / TiB, 'TiB', 'pubsub.throughputTiB'),
        gcp(ctx, `Pub/Sub: topic retention (${settings.messageRetentionHours} h)`, (bytesPerSecond * settings.messageRetentionHours * 3600) / GB, 'GiB-month', 'pubsub.storageGiBMonth', 'gcp.messageRetentionHours'),
        gcp(ctx, `Dataflow workers: ${workers} × ${type} (vCPU)`, workerHours * vcpus, 'vCPU-hours', 'dataflow.streaming.vcpuHour', 'gcp.maxWorkers'),
        gcp(ctx, 'Dataflow workers (memory)', workerHours * memoryGB, 'GB-hours', 'dataflow.streaming.memoryGBHour'),
        gcp(ctx, 'Dataflow worker disks', workerHours * a.dataflowDiskGB, 'GB-hours', 'dataflow.pdStandardGBHour'),
        gcp(ctx, 'Dataflow Streaming Engine: data processed', bytes / GB, 'GB', 'dataflow.streamingEngineGB'),
        gcp(ctx, 'BigQuery Storage Write API', bytes / GB, 'GB', 'bigquery.storageWriteGB'),
        gcp(ctx, 'BigQuery storage: a month of rows', bytes / GB, 'GB-month', 'bigquery.activeStorageGBMonth'),
      ],
      notes,
    },
  ]);
}

/** Pipeline 5: a VPC, an MSK cluster, per source a landing zone, a topic, a Flink application and an Iceberg table. */
export function mskToIcebergCost(ctx: CostContext): Estimate {
  const { config, assumptions: a, volume } = ctx;
  const settings = config.mskToIceberg;
  const sources = sourcesFeeding(config, 'mskToIceberg');
  const monthGB = gbPerMonth(ctx) * sources.length;
  const items: LineItem[] = [];
  const notes: string[] = [];
  if (settings.cluster.type === 'serverless') {
    const storedGB = (volume.eventsPerSecond * volume.eventBytes * sources.length * settings.topic.retentionHours * 3600) / GB;
    items.push(
      aws(ctx, 'MSK Serverless: cluster', hours(ctx), 'cluster-hours', 'msk.serverless.clusterHour'),
      aws(ctx, `MSK Serverless: partitions (${sources.length} × ${settings.topic.partitions})`, sources.length * settings.topic.partitions * hours(ctx), 'partition-hours', 'msk.serverless.partitionHour', 'mskToIceberg.topic.partitions'),
      aws(ctx, 'MSK Serverless: data in', monthGB, 'GB', 'msk.serverless.ingressGB'),
      aws(ctx, 'MSK Serverless: data out (Flink)', monthGB, 'GB', 'msk.serverless.egressGB'),
      aws(ctx, `MSK Serverless: storage (${settings.topic.retentionHours} h retention)`, storedGB, 'GB-month', 'msk.serverless.storageGBMonth', 'mskToIceberg.topic.retentionHours'),
    );
  } else {
    const type = settings.cluster.instanceType.startsWith('kafka.') ? settings.cluster.instanceType : `kafka.${settings.cluster.instanceType}`;
    items.push(
      aws(ctx, `MSK brokers: ${settings.cluster.brokerNodes} × ${type}`, settings.cluster.brokerNodes * hours(ctx), 'broker-hours', `msk.broker.${type}`, 'mskToIceberg.cluster.instanceType'),
      aws(ctx, 'MSK broker storage', settings.cluster.brokerNodes * settings.cluster.volumeSizeGiB, 'GB-month', 'msk.provisioned.storageGBMonth', 'mskToIceberg.cluster.volumeSizeGiB'),
    );
    notes.push('provisioned MSK: broker throughput and storage are the configured sizes; the estimate does not check that they hold the volume');
  }
  const { application } = settings;
  let kpus = 0;
  let parallelKpus = 0;
  let writersPerCheckpoint = 0;
  for (const source of sources) {
    const needed = Math.ceil(volume.eventsPerSecond / a.flinkEventsPerSecondPerKpu) * application.parallelismPerKpu;
    const parallelism = application.autoScaling ? Math.max(application.parallelism, needed) : application.parallelism;
    if (!application.autoScaling && needed > application.parallelism) {
      notes.push(`${source}: ${fmt(volume.eventsPerSecond)} events/s needs parallelism ~${needed}; mskToIceberg.application.parallelism (${application.parallelism}) without autoScaling would fall behind`);
    }
    if (parallelism > settings.topic.partitions) {
      notes.push(`${source}: parallelism ${parallelism} is above mskToIceberg.topic.partitions (${settings.topic.partitions}): raise the partitions (pipeline 5 README, Sizing)`);
    }
    const parallel = Math.ceil(parallelism / application.parallelismPerKpu);
    parallelKpus += parallel;
    kpus += parallel + 1;
    writersPerCheckpoint += parallelism;
  }
  const checkpoints = seconds(ctx) / (application.checkpointIntervalMs / 1000);
  items.push(
    aws(ctx, `Managed Flink: ${kpus} KPUs (${parallelKpus} parallel + ${sources.length} orchestration)`, kpus * hours(ctx), 'KPU-hours', 'flink.kpuHour', 'mskToIceberg.application.parallelism'),
    aws(ctx, 'Managed Flink: running application storage', parallelKpus * a.flinkStorageGBPerKpu, 'GB-month', 'flink.runningStorageGBMonth'),
    ...natGateways(ctx, settings.network.natGateways, 0, 'events stay off it'),
  );
  notes.push('the events stay off the NAT gateway (S3 through the VPC gateway endpoint, Kafka inside the VPC); only AWS API calls (Glue catalog, STS, logs) cross it, not counted');
  if (settings.network.interfaceEndpoints) {
    items.push(aws(ctx, `VPC interface endpoints (4 × ${settings.network.maxAzs} zones)`, 4 * settings.network.maxAzs * hours(ctx), 'endpoint-hours', 'vpc.interfaceEndpointHour', 'mskToIceberg.network.interfaceEndpoints'));
  }
  items.push(
    aws(ctx, 'S3 Iceberg tables: checkpoint commits (PUT)', (checkpoints * sources.length * a.putsPerCommit) / 1000, 'thousand PUTs', 's3.putThousand', 'mskToIceberg.application.checkpointIntervalMs'),
    aws(ctx, `S3 Iceberg tables: a month of Parquet (${a.parquetRatio}:1)`, monthGB / a.parquetRatio, 'GB-month', 's3.standardGBMonth'),
    // The job writes the raw zone itself: one object per parallel writer per checkpoint.
    aws(ctx, 'S3 raw zone: objects (PUT, one per writer per checkpoint)', (checkpoints * writersPerCheckpoint) / 1000, 'thousand PUTs', 's3.putThousand'),
    aws(ctx, `S3 raw zone: a month of gzip (${a.gzipRatio}:1)`, monthGB / a.gzipRatio, 'GB-month', 's3.standardGBMonth'),
  );
  return estimate(ctx, 'mskToIceberg', sources, [{ items, notes }, landingZone(ctx, sources.length)]);
}

/** One function per architecture, in the registry's order (a new pipeline fails to compile until it has one). */
export const ARCHITECTURES: Record<PipelineKey, (ctx: CostContext) => Estimate> = {
  landingZone: landingZoneCost,
  queueToS3: queueToS3Cost,
  kinesisToDeltaLake: kinesisToDeltaLakeCost,
  rdsCdcToS3: rdsCdcToS3Cost,
  gcp: pubsubToBigQueryCost,
  mskToIceberg: mskToIcebergCost,
};

/** Every architecture the configuration builds (registry `builtWhen`), at each volume. */
export function estimateAll(
  config: StreamFoundryConfig,
  volumes: Volume[],
  prices: PriceTable,
  assumptions: Assumptions = ASSUMPTIONS,
): { estimates: Estimate[]; notBuilt: string[] } {
  const built = PIPELINES.filter((entry) => isBuilt(entry, config));
  const estimates = built.flatMap((entry) => volumes.map((volume) => ARCHITECTURES[entry.key]({ config, volume, prices, assumptions })));
  const notBuilt = PIPELINES.filter((entry) => !isBuilt(entry, config)).map((entry) => entry.key);
  return { estimates, notBuilt };
}
