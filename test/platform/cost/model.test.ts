import { parseConfig } from '../../../platform/config';
import { ASSUMPTIONS, Assumptions, Estimate, kinesisToDeltaLakeCost, landingZoneCost, mskToIcebergCost, queueToS3Cost, Volume } from '../../../platform/cost/model';
import { MissingPriceError, PriceTable } from '../../../platform/cost/prices';

/**
 * The arithmetic of the cost model on a small price fixture: round prices, an 8-hour "month", 1,024 events/s of
 * 1,024 bytes (1 MiB/s, so a month is 28,800 MiB = 28.125 GB exactly). Every expected figure below is worked out by
 * hand in the comment beside it, not by the model.
 */

const p = (usd: number) => ({ usd, per: 'test unit', source: 'https://example.com/fixture' });
const FIXTURE: PriceTable = {
  basis: 'test fixture',
  aws: {
    region: 'us-east-1',
    recorded: '2026-12-04',
    prices: {
      'kinesis.onDemand.streamHour': p(0.04),
      'kinesis.onDemand.ingestGB': p(0.08),
      'kinesis.onDemand.retrievalGB': p(0.04),
      'kinesis.provisioned.shardHour': p(0.015),
      'kinesis.provisioned.putUnitMillion': p(0.014),
      'firehose.ingestGB': p(0.03),
      'lambda.requestMillion': p(0.2),
      'lambda.arm.gbSecond': p(0.00001),
      's3.putThousand': p(0.005),
      's3.getThousand': p(0.0004),
      's3.standardGBMonth': p(0.02),
      'msk.serverless.clusterHour': p(0.75),
      'msk.serverless.partitionHour': p(0.0015),
      'msk.serverless.ingressGB': p(0.1),
      'msk.serverless.egressGB': p(0.05),
      'msk.serverless.storageGBMonth': p(0.1),
      'flink.kpuHour': p(0.11),
      'flink.runningStorageGBMonth': p(0.1),
      'vpc.natGatewayHour': p(0.045),
      'vpc.natGatewayGB': p(0.045),
    },
  },
  gcp: { region: 'us-central1', recorded: '2026-12-04', prices: {} },
};

const assumptions: Assumptions = {
  ...ASSUMPTIONS,
  hoursPerMonth: 8, // 28,800 s
  eventsPerFile: 1024, // 28,800 files a month at 1,024 events/s
  validatorEventsPerSecondPerVcpu: 1769, // × 1,024/1,769 of a vCPU at 1,024 MiB = 1,024 events/s: 1 s per file
};
const volume: Volume = { eventsPerSecond: 1024, eventBytes: 1024 };

function config(context: Record<string, unknown> = {}) {
  return parseConfig({
    sources: { clicks: { schema: 'clickstream.schema.json', idField: 'event_id', partitionKeyField: 'user_id', pipelines: ['landingZone', 'mskToIceberg'] } },
    ...context,
  });
}

const ctx = (context: Record<string, unknown> = {}, v: Volume = volume, prices: PriceTable = FIXTURE) => ({ config: config(context), volume: v, prices, assumptions });
const cost = (e: Estimate, prefix: string) => e.items.filter((i) => i.component.startsWith(prefix)).reduce((s, i) => s + i.monthlyUsd, 0);

describe('cost model arithmetic (platform/cost/model.ts) on a price fixture', () => {
  test('landing zone, on-demand stream: every line item and the total', () => {
    const e = landingZoneCost(ctx());
    expect(e.sources).toEqual(['clicks']);
    const byComponent = Object.fromEntries(e.items.map((i) => [i.component, i.monthlyUsd]));
    expect(byComponent['Kinesis (on-demand): streams']).toBeCloseTo(0.32, 10); // 8 h × $0.04
    expect(byComponent['Kinesis (on-demand): data in']).toBeCloseTo(2.25, 10); // 28.125 GB × $0.08
    expect(byComponent['Kinesis (on-demand): data out (1 reader)']).toBeCloseTo(1.125, 10); // Firehose reads 28.125 GB × $0.04
    expect(byComponent['Firehose raw zone: data in']).toBeCloseTo(4.21875, 10); // 1 KB records billed as 5 KB: 140.625 GB × $0.03
    expect(byComponent['Lambda validator: requests']).toBeCloseTo(0.00576, 10); // 28,800 files = 0.0288 M × $0.20
    expect(byComponent['Lambda validator: compute (1,024 MiB, Arm)']).toBeCloseTo(0.288, 10); // 28,800 × 1 s × 1 GB × $0.00001
    expect(byComponent['S3 landing: uploads (PUT)']).toBeCloseTo(0.144, 10); // 28.8 thousand × $0.005
    expect(byComponent['S3 landing: validator reads (GET)']).toBeCloseTo(0.01152, 10); // 28.8 thousand × $0.0004
    expect(byComponent['S3 landing: a month of files']).toBeCloseTo(0.5625, 10); // 28.125 GB × $0.02
    // 1 MiB/s fills the 64 MiB buffer every 64 s (before 300 s): 28,800 / 64 = 450 objects = 0.45 thousand × $0.005
    expect(byComponent['S3 raw zone: objects (PUT)']).toBeCloseTo(0.00225, 10);
    expect(byComponent['S3 raw zone: a month of gzip (5:1)']).toBeCloseTo(0.1125, 10); // 5.625 GB × $0.02
    expect(e.items).toHaveLength(11);
    expect(e.totalUsd).toBeCloseTo(9.04028, 10);
    expect(e.notes).toEqual([]);
  });

  test('landing zone, provisioned stream (2 shards): shard-hours and PUT payload units instead', () => {
    const e = landingZoneCost(ctx({ landingZone: { stream: { shards: 2 } } }));
    expect(cost(e, 'Kinesis (on-demand)')).toBe(0);
    expect(cost(e, 'Kinesis (provisioned): shards')).toBeCloseTo(0.24, 10); // 2 × 8 h × $0.015
    expect(cost(e, 'Kinesis (provisioned): PUT payload units')).toBeCloseTo(0.4128768, 10); // 29,491,200 records × 1 unit = 29.4912 M × $0.014
    // The on-demand total less its three Kinesis lines ($3.695), plus $0.6528768.
    expect(e.totalUsd).toBeCloseTo(5.9981568, 10);
    expect(e.notes).toEqual([]);
  });

  test('a provisioned stream too small for the volume is named in a note with its setting', () => {
    const e = landingZoneCost(ctx({ landingZone: { stream: { shards: 1 } } }));
    expect(e.notes).toEqual([expect.stringContaining('1 shard take at most 1,000 events/s')]);
    expect(e.notes[0]).toContain('landingZone.stream.shards');
  });

  test('MSK Serverless → Managed Flink → Iceberg: every line item and the total', () => {
    const e = mskToIcebergCost(ctx());
    const byComponent = Object.fromEntries(e.items.map((i) => [i.component, i.monthlyUsd]));
    expect(byComponent['MSK Serverless: cluster']).toBeCloseTo(6, 10); // 8 h × $0.75
    expect(byComponent['MSK Serverless: partitions (1 × 6)']).toBeCloseTo(0.072, 10); // 6 × 8 h × $0.0015
    expect(byComponent['MSK Serverless: data in']).toBeCloseTo(2.8125, 10); // 28.125 GB × $0.10
    expect(byComponent['MSK Serverless: data out (Flink)']).toBeCloseTo(1.40625, 10); // 28.125 GB × $0.05
    expect(byComponent['MSK Serverless: storage (168 h retention)']).toBeCloseTo(59.0625, 10); // 1 MiB/s × 168 h = 590.625 GB × $0.10
    // 1,024 events/s needs 1 KPU; parallelism stays at the configured 2: 2 KPUs + 1 orchestration = 3 × 8 h × $0.11
    expect(byComponent['Managed Flink: 3 KPUs (2 parallel + 1 orchestration)']).toBeCloseTo(2.64, 10);
    expect(byComponent['Managed Flink: running application storage']).toBeCloseTo(10, 10); // 2 × 50 GB × $0.10
    expect(byComponent['NAT gateway (1)']).toBeCloseTo(0.36, 10); // 8 h × $0.045
    expect(byComponent['NAT gateway: data processed (events stay off it)']).toBe(0);
    expect(byComponent['S3 Iceberg tables: checkpoint commits (PUT)']).toBeCloseTo(0.144, 10); // 28,800 s / 5 s × 5 PUTs = 28.8 thousand × $0.005
    expect(byComponent['S3 Iceberg tables: a month of Parquet (5:1)']).toBeCloseTo(0.1125, 10); // 5.625 GB × $0.02
    expect(byComponent['S3 raw zone: objects (PUT, one per writer per checkpoint)']).toBeCloseTo(0.0576, 10); // 5,760 × 2 writers = 11.52 thousand × $0.005
    expect(byComponent['S3 raw zone: a month of gzip (5:1)']).toBeCloseTo(0.1125, 10);
    expect(cost(e, 'Lambda validator') + cost(e, 'S3 landing')).toBeCloseTo(1.01178, 10); // the landing zone's lines above
    expect(e.totalUsd).toBeCloseTo(83.79163, 10);
  });

  test('Flink parallelism follows the volume under auto scaling (10 KPUs for 100,000 events/s), and partitions below it are named', () => {
    const e = mskToIcebergCost(ctx({}, { eventsPerSecond: 100_000, eventBytes: 1024 }));
    // ⌈100,000 / 10,000⌉ = 10 parallel KPUs + 1 orchestration = 11 × 8 h × $0.11
    expect(cost(e, 'Managed Flink: 11 KPUs (10 parallel + 1 orchestration)')).toBeCloseTo(9.68, 10);
    expect(e.notes).toEqual(expect.arrayContaining([expect.stringContaining('mskToIceberg.topic.partitions (6)')]));
  });

  test('Glue workers: what the volume needs, capped by kinesisToDeltaLake.job.workers with a note', () => {
    const prices = { ...FIXTURE, aws: { ...FIXTURE.aws, prices: { ...FIXTURE.aws.prices, 'glue.dpuHour': p(0.5) } } };
    const context = { sources: { clicks: { schema: 'clickstream.schema.json', idField: 'event_id', partitionKeyField: 'user_id', pipelines: ['kinesisToDeltaLake'] } } };
    // 10,000 events/s without rules: 1 driver + ⌈10,000 / 4,400⌉ = 4 G.1X workers × 8 h × $0.50
    const fits = kinesisToDeltaLakeCost({ ...ctx(context, { eventsPerSecond: 10_000, eventBytes: 1024 }, prices) });
    expect(cost(fits, 'Glue streaming job (4 × G.1X)')).toBeCloseTo(16, 10);
    expect(fits.notes).toEqual([]);
    // 100,000 events/s needs 1 + 23 = 24; the default ceiling of 5 workers caps it: 5 × 8 h × $0.50
    const capped = kinesisToDeltaLakeCost({ ...ctx(context, { eventsPerSecond: 100_000, eventBytes: 1024 }, prices) });
    expect(cost(capped, 'Glue streaming job (5 × G.1X)')).toBeCloseTo(20, 10);
    expect(capped.notes).toEqual([expect.stringContaining('needs ~24 G.1X workers; kinesisToDeltaLake.job.workers (5)')]);
    // Two readers of the stream (the job and Firehose): 2 × 28.125 GB... at 10,000 events/s, 10,000 × 28,800 × 1,024 B
    expect(cost(fits, 'Kinesis (on-demand): data out (2 readers)')).toBeCloseTo(((2 * 10_000 * 28_800 * 1024) / 2 ** 30) * 0.04, 10);
  });

  test('a configured size without a price fails naming the price key and the setting', () => {
    const context = { sources: { clicks: { schema: 'orders.schema.json', idField: 'event_id', partitionKeyField: 'order_id', pipelines: ['queueToS3'] } } };
    expect(() => queueToS3Cost(ctx(context))).toThrow(MissingPriceError);
    expect(() => queueToS3Cost(ctx(context))).toThrow('no aws price "sns.publishMillion" in platform/cost/prices.json');
    expect(() => landingZoneCost(ctx({}, volume, { ...FIXTURE, aws: { ...FIXTURE.aws, prices: { ...FIXTURE.aws.prices, 'lambda.arm.gbSecond': undefined as never } } }))).toThrow(
      /"lambda.arm.gbSecond" .*\(needed by the setting validator.memoryMiB\)/,
    );
  });
});
