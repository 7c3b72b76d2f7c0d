/**
 * The registry: every architecture Stream Foundry deploys, listed once. The configuration schema
 * (platform/config: which pipelines a source may list), the AWS app (platform/aws-app.ts), the Google Cloud app
 * (platform/gcp-app.ts) and the checklist test (test/platform/adding-a-pipeline.test.ts) all read this list. A sixth pipeline
 * starts here: docs/adding-a-pipeline.md.
 *
 * Plain data on purpose: the stacks read the configuration, which reads this list, so importing the stacks here
 * would be a cycle. Each app maps its entries to their stack classes (a typed map: a missing one fails to compile).
 */
export interface Pipeline {
  /** Its configuration section in cdk.json, and what a source lists in `pipelines` to feed it. */
  readonly key: string;
  /** Its folder (`pipelines/<name>/`), stack name suffix (`<project>-<environment>-<name>`), README and runbook. */
  readonly name: string;
  /** The cloud it runs on: AWS (the CDK app) or Google Cloud (the CDK for Terraform app). */
  readonly cloud: 'aws' | 'gcp';
  /** AWS only: the stack's construct id, as in `cdk deploy <stackId>`. CDK for Terraform addresses stacks by name. */
  readonly stackId?: string;
  /** When an app builds its stack: once a source lists it, or (its source being a database) once its section is present. */
  readonly builtWhen: 'a source feeds it' | 'its section is present';
  /** The stack's description (CloudFormation shows it). */
  readonly description: string;
  /** Paths from the repository root. The runbook has one section per alarm: `docs/runbooks/<name>.md`. */
  readonly readme: string;
  /** Its runbook, from the repository root: one section per alarm, which the alarm links. */
  readonly runbook: string;
}

/** Every pipeline, in the order the apps build them: the registry the configuration and both apps read. */
export const PIPELINES = [
  {
    key: 'landingZone',
    name: 'landing-zone',
    cloud: 'aws',
    stackId: 'LandingZone',
    builtWhen: 'a source feeds it',
    description: 'Stream Foundry: validated S3 landing zone (S3 -> SNS -> validator Lambda -> Kinesis, errors to S3)',
    readme: 'platform/landing-zone/README.md',
    runbook: 'docs/runbooks/landing-zone.md',
  },
  {
    key: 'queueToS3',
    name: 'queue-to-s3',
    cloud: 'aws',
    stackId: 'QueueToS3',
    builtWhen: 'a source feeds it',
    description: 'Stream Foundry pipeline 1: SNS -> SQS -> consumer service on EKS (KEDA autoscaling) -> S3, Glue table, Athena',
    readme: 'pipelines/queue-to-s3/README.md',
    runbook: 'docs/runbooks/queue-to-s3.md',
  },
  {
    key: 'kinesisToDeltaLake',
    name: 'kinesis-to-delta-lake',
    cloud: 'aws',
    stackId: 'KinesisToDeltaLake',
    builtWhen: 'a source feeds it',
    description: 'Stream Foundry pipeline 2: Kinesis -> Spark Structured Streaming (AWS Glue) -> Delta Lake on S3, Athena',
    readme: 'pipelines/kinesis-to-delta-lake/README.md',
    runbook: 'docs/runbooks/kinesis-to-delta-lake.md',
  },
  {
    key: 'rdsCdcToS3',
    name: 'rds-cdc-to-s3',
    cloud: 'aws',
    stackId: 'RdsCdcToS3',
    builtWhen: 'its section is present',
    description: 'Stream Foundry pipeline 3: RDS (PostgreSQL/MySQL) -> DMS change data capture -> S3 (Parquet), Glue, Athena',
    readme: 'pipelines/rds-cdc-to-s3/README.md',
    runbook: 'docs/runbooks/rds-cdc-to-s3.md',
  },
  {
    key: 'gcp',
    name: 'pubsub-to-bigquery',
    cloud: 'gcp',
    builtWhen: 'a source feeds it',
    description: 'Stream Foundry pipeline 4: Pub/Sub -> Dataflow -> BigQuery (Google Cloud, CDK for Terraform)',
    readme: 'pipelines/pubsub-to-bigquery/README.md',
    runbook: 'docs/runbooks/pubsub-to-bigquery.md',
  },
  {
    key: 'mskToIceberg',
    name: 'msk-to-iceberg',
    cloud: 'aws',
    stackId: 'MskToIceberg',
    builtWhen: 'a source feeds it',
    description: 'Stream Foundry pipeline 5: MSK (Kafka) -> Managed Service for Apache Flink -> Apache Iceberg on S3, Glue optimizers, Athena',
    readme: 'pipelines/msk-to-iceberg/README.md',
    runbook: 'docs/runbooks/msk-to-iceberg.md',
  },
] as const satisfies readonly Pipeline[];

type Entry = (typeof PIPELINES)[number];
/** A pipeline's configuration key. */
export type PipelineKey = Entry['key'];
/** The pipelines a data source can list in its `pipelines`. */
export type SourcePipelineKey = Extract<Entry, { builtWhen: 'a source feeds it' }>['key'];
/** The pipelines the AWS app builds, one stack each. */
export type AwsPipelineKey = Extract<Entry, { cloud: 'aws' }>['key'];
/** The pipelines the Google Cloud app builds, one stack each. */
export type GcpPipelineKey = Extract<Entry, { cloud: 'gcp' }>['key'];

export const SOURCE_PIPELINE_KEYS = PIPELINES.filter((p) => p.builtWhen === 'a source feeds it').map((p) => p.key) as [
  SourcePipelineKey,
  ...SourcePipelineKey[],
];

/** The registry entry of `key`. */
export function pipeline(key: PipelineKey): Pipeline {
  return PIPELINES.find((p) => p.key === key)!;
}

/** `<project>-<environment>-<name>`: the stack name of a pipeline in one deployment. */
export function stackName(entry: Pipeline, config: { project: string; environment: string }): string {
  return `${config.project}-${config.environment}-${entry.name}`;
}
