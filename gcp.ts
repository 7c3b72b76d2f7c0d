/**
 * Stream Foundry on Google Cloud: what a CDK for Terraform app imports from `stream-foundry/gcp` (pipeline 4,
 * Pub/Sub → Dataflow → BigQuery). The repository's own app (bin/gcp.ts) uses exactly this. It needs `cdktf`,
 * `@cdktf/provider-google` and `@cdktf/provider-google-beta` installed beside the library (peer dependencies).
 *
 * @packageDocumentation
 */

export { parseConfig, parseConfigOrExit, readCdkJsonContext, ConfigError } from './platform/config';
export type { StreamFoundryConfig, SourceConfig } from './platform/config';
export { dataSource, dataSources } from './platform/data-source';
export type { DataSource } from './platform/data-source';
export { buildGcpApp } from './platform/gcp-app';
export { PubSubToBigQueryStack } from './pipelines/pubsub-to-bigquery/stack';
export { PubSubToBigQuery } from './pipelines/pubsub-to-bigquery/construct';
export type { BucketReference, CanaryProps, DatasetReference, PubSubToBigQueryProps, TopicReference } from './pipelines/pubsub-to-bigquery/construct';
