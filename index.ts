/**
 * Stream Foundry, the construct library: what an AWS CDK app imports from `stream-foundry`. The repository's own app
 * (bin/aws.ts) uses exactly this. The Google Cloud pipeline (CDK for Terraform) is `stream-foundry/gcp` (gcp.ts), so
 * an AWS app needs none of the Terraform providers.
 *
 * Three levels, from the most to the least assembled:
 * - the apps: `buildAwsApp(app, parseConfig(...))` builds every configured stack, as `cdk deploy` does here;
 * - the stacks: one per architecture (`KinesisToDeltaLakeStack`, ...), each from the same configuration;
 * - the constructs: each pipeline for one source (`KinesisToDeltaLake`, ...) and the platform pieces they share
 *   (`LandingZone`, `PipelineMonitoring`, `RawZone`, `CustomerDelivery`, `Freshness`, ...), configured by props.
 *
 * @packageDocumentation
 */

// Configuration: cdk.json's context, or any object in its shape (README "Configure").
export { parseConfig, parseConfigOrExit, readCdkJsonContext, ConfigError } from './platform/config';
export type { StreamFoundryConfig, SourceConfig } from './platform/config';
export { dataSource, dataSources } from './platform/data-source';
export type { DataSource } from './platform/data-source';
export { PIPELINES, stackName } from './pipelines';
export type { Pipeline, PipelineKey, SourcePipelineKey, AwsPipelineKey } from './pipelines';

// Apps and stacks.
export { buildAwsApp, buildAwsDeployment, buildAwsStacks } from './platform/aws-app';
export { PipelineStack, attachLandingZone } from './platform/pipeline-stack';
export type { PipelineStackProps, AttachedLandingZoneProps } from './platform/pipeline-stack';
export { LandingZoneStack } from './platform/landing-zone/stack';
export { QueueToS3Stack } from './pipelines/queue-to-s3/stack';
export { KinesisToDeltaLakeStack } from './pipelines/kinesis-to-delta-lake/stack';
export { RdsCdcToS3Stack } from './pipelines/rds-cdc-to-s3/stack';
export { MskToIcebergStack } from './pipelines/msk-to-iceberg/stack';
export { DeploymentPipelineStack } from './platform/cicd/stack';
export type { DeploymentPipelineStackProps } from './platform/cicd/stack';

// The pipelines' constructs.
export { QueueToS3Consumer } from './pipelines/queue-to-s3/construct';
export type { QueueToS3ConsumerProps, ConsumerOptions, ConsumerImages, QueueToS3AlarmSettings } from './pipelines/queue-to-s3/construct';
export { KinesisToDeltaLake } from './pipelines/kinesis-to-delta-lake/construct';
export type {
  DeliveryOptions,
  DeltaLakeSource,
  KinesisToDeltaLakeAlarmOptions,
  KinesisToDeltaLakeProps,
  StreamingJobOptions,
  TableUpkeepOptions,
} from './pipelines/kinesis-to-delta-lake/construct';
export { RdsCdcToS3 } from './pipelines/rds-cdc-to-s3/construct';
export type {
  CdcAlarmProps,
  CdcDatabaseProps,
  CdcFreshnessProps,
  CdcReplicationProps,
  ExistingCdcSource,
  RdsCdcToS3Props,
  SourceEngine,
} from './pipelines/rds-cdc-to-s3/construct';
export type { LakeTableSource } from './pipelines/rds-cdc-to-s3/construct/cdc-table-schema';
export type { PostgresSourceOptions } from './pipelines/rds-cdc-to-s3/construct/source-endpoint';
export type { S3TargetOptions } from './pipelines/rds-cdc-to-s3/construct/target-endpoint';
export type { TableMappingOptions } from './pipelines/rds-cdc-to-s3/construct/table-mappings';
export type { TaskSettingsOptions } from './pipelines/rds-cdc-to-s3/construct/task-settings';
export { MskToIceberg } from './pipelines/msk-to-iceberg/construct';
export type {
  MskToIcebergAlarmOptions,
  MskToIcebergApplicationOptions,
  MskToIcebergClusterOptions,
  MskToIcebergProps,
  MskToIcebergSource,
  MskToIcebergTopicOptions,
  MskToIcebergUpkeepOptions,
} from './pipelines/msk-to-iceberg/construct';

// The platform they share.
export { LandingZone, LandingTarget } from './platform/landing-zone/construct';
export type { LandingZoneProps, LandingZoneSource, KafkaTargetProps } from './platform/landing-zone/construct';
export { RegisteredSchema, SchemaVersionChecker } from './platform/schema-registry/registry';
export type { RegisteredSchemaProps, SchemaVersionCheckerProps } from './platform/schema-registry/registry';
export { PipelineMonitoring } from './platform/pipeline-monitoring';
export type { PipelineMonitoringProps, NoDataAlarmProps } from './platform/pipeline-monitoring';
export { RawZone } from './platform/raw-zone';
export type { RawZoneProps, RawSourceOptions, RawZoneDatabase } from './platform/raw-zone';
export { CustomerDelivery, deliverySources } from './platform/customer-delivery';
export type { CustomerDeliveryProps, DeliveryCustomer, DeliverySource, DeliveryCluster } from './platform/customer-delivery';
export { Freshness } from './platform/freshness';
export type { FreshnessProps, FreshnessSettings } from './platform/freshness';
export { PipelineBudget } from './platform/budgets';
export type { PipelineBudgetProps } from './platform/budgets';
export { SecureBucket } from './platform/secure-bucket';
export type { BucketEncryptionKind, SecureBucketProps } from './platform/secure-bucket';
export { enableComplianceChecks } from './platform/compliance';
export { applyCostTags, COST_TAG_KEYS } from './platform/cost-tags';
export type { CostTags } from './platform/cost-tags';
export type { PipelineBaseProps } from './platform/pipeline';
