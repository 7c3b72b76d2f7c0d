import { App, Stack } from 'aws-cdk-lib';
import { enableComplianceChecks } from './compliance';
import { applyCostTags } from './cost-tags';
import { PipelineId, sourcesFeeding, StreamFoundryConfig } from './config';
import { KinesisToDeltaLakeStack } from '../pipelines/kinesis-to-delta-lake/stack';
import { LandingZoneStack } from './landing-zone/stack';
import { QueueToS3Stack } from '../pipelines/queue-to-s3/stack';
import { MskToIcebergStack } from '../pipelines/msk-to-iceberg/stack';
import { RdsCdcToS3Stack } from '../pipelines/rds-cdc-to-s3/stack';
import { PipelineStackProps } from './pipeline-stack';

/** Pipelines whose source is not a data source (a database): built when their section is present. */
type SourcelessPipeline = 'rdsCdcToS3';

interface AwsPipeline {
  /** The pipeline's configuration section. */
  readonly pipeline: PipelineId | SourcelessPipeline;
  /** Whether the app builds the stack. @default when at least one source lists the pipeline */
  readonly enabled?: (config: StreamFoundryConfig) => boolean;
  /** Construct id (`cdk deploy <id>`) and stack name suffix (`<project>-<environment>-<name>`). */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly stack: new (scope: App, id: string, props: PipelineStackProps) => Stack;
}

/** The AWS architectures, one stack each. A new pipeline is one entry here and one configuration section. */
const PIPELINES: AwsPipeline[] = [
  {
    pipeline: 'landingZone',
    id: 'LandingZone',
    name: 'landing-zone',
    description: 'Stream Foundry: validated S3 landing zone (S3 -> SNS -> validator Lambda -> Kinesis, errors to S3)',
    stack: LandingZoneStack,
  },
  {
    pipeline: 'kinesisToDeltaLake',
    id: 'KinesisToDeltaLake',
    name: 'kinesis-to-delta-lake',
    description: 'Stream Foundry pipeline 2: Kinesis -> Spark Structured Streaming (AWS Glue) -> Delta Lake on S3, Athena',
    stack: KinesisToDeltaLakeStack,
  },
  {
    pipeline: 'rdsCdcToS3',
    enabled: (c) => c.rdsCdcToS3 !== undefined,
    id: 'RdsCdcToS3',
    name: 'rds-cdc-to-s3',
    description: 'Stream Foundry pipeline 3: RDS (PostgreSQL/MySQL) -> DMS change data capture -> S3 (Parquet), Glue, Athena',
    stack: RdsCdcToS3Stack,
  },
  {
    pipeline: 'mskToIceberg',
    id: 'MskToIceberg',
    name: 'msk-to-iceberg',
    description: 'Stream Foundry pipeline 5: MSK (Kafka) -> Managed Service for Apache Flink -> Apache Iceberg on S3, Glue optimizers, Athena',
    stack: MskToIcebergStack,
  },
  {
    pipeline: 'queueToS3',
    id: 'QueueToS3',
    name: 'queue-to-s3',
    description: 'Stream Foundry pipeline 1: SNS -> SQS -> consumer service on EKS (KEDA autoscaling) -> S3, Glue table, Athena',
    stack: QueueToS3Stack,
  },
];

/** Adds every configured AWS architecture to `app`, tagged for cost allocation and behind the compliance gate. */
export function buildAwsApp(app: App, config: StreamFoundryConfig): void {
  const env = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  for (const { pipeline, enabled, id, name, description, stack } of PIPELINES) {
    if (!(enabled ? enabled(config) : sourcesFeeding(config, pipeline as PipelineId).length > 0)) continue;
    new stack(app, id, { stackName: `${config.project}-${config.environment}-${name}`, description, env, config });
  }
  applyCostTags(app, config);
  enableComplianceChecks(app);
}
