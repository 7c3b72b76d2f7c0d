import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DataSource } from '../../data-source';
import { PipelineMonitoring } from '../../pipeline-monitoring';
import { SecureBucketProps } from '../../secure-bucket';
import { LandingTarget } from './targets';

/**
 * A data source of the landing zone: its landing prefix (`<name>/`), topic and validator are named after it; its
 * schema is checked at synth and bundled with its validator; its id and partition key fields go to the validator.
 */
export interface LandingZoneSource extends Pick<DataSource, 'name' | 'schemaFile' | 'idField' | 'partitionKeyField' | 'schemaVersions' | 'compatibility'> {
  /** Where valid events go. */
  readonly target: LandingTarget;
}

/**
 * Props of `LandingZone`: the sources with their targets, the buckets (new or existing), the validators and the schema
 * registry.
 */
export interface LandingZoneProps {
  /** The data sources, each with its own prefix, topic and validator. */
  readonly sources: LandingZoneSource[];
  /** Alarms and widgets go here. @default a PipelineMonitoring of its own, named `<stack>-<id>` */
  readonly monitoring?: PipelineMonitoring;
  /** Use this bucket for landing files instead of creating one (XOR `landingBucketProps`). */
  readonly existingLandingBucket?: s3.IBucket;
  /**
   * Overrides merged over the landing bucket it creates (XOR `existingLandingBucket`). @default a SecureBucket with its
   * defaults
   */
  readonly landingBucketProps?: SecureBucketProps;
  /** Use this bucket for rejected events instead of creating one (XOR `errorBucketProps`). */
  readonly existingErrorBucket?: s3.IBucket;
  /**
   * Overrides merged over the error bucket it creates (XOR `existingErrorBucket`). @default a SecureBucket with its
   * defaults
   */
  readonly errorBucketProps?: SecureBucketProps;
  /** Whether destroying the stack deletes the buckets, keys and logs it created. @default false */
  readonly allowDestroy?: boolean;
  /** A source's "no data" alarm fires after this many minutes without events (once events have flowed). @default 60 */
  readonly noDataMinutes?: number;
  /** Validator memory. Objects are streamed, so this bounds throughput, not the object size. @default 1024 */
  readonly validatorMemoryMiB?: number;
  /** How long the validator's logs are kept. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Publishes each source's JSON Schema to an AWS Glue Schema Registry, one registry version per version of the source
   * (`schemaVersions`, default: its schema file alone) under its `compatibility` (default BACKWARD), and fails the
   * deploy unless the registry makes each AVAILABLE. Publishers and consumers find the contract there. @default true
   */
  readonly registerSchemas?: boolean;
}
