import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { BigqueryDatasetConfig } from '@cdktf/provider-google/lib/bigquery-dataset';
import { PubsubTopicConfig } from '@cdktf/provider-google/lib/pubsub-topic';
import { StorageBucketConfig } from '@cdktf/provider-google/lib/storage-bucket';
import { JsonSchema } from './bigquery-schema';
import type { CanaryProps } from './canary';

/** A topic we did not create: a `PubsubTopic` or a `DataGooglePubsubTopic`. */
export interface TopicReference {
  /** "projects/P/topics/T". */
  readonly id: string;
  /** The topic's short name (T). */
  readonly name: string;
}

/** A dataset we did not create: a `BigqueryDataset` or a `DataGoogleBigqueryDataset`. */
export interface DatasetReference {
  /** The dataset's id. */
  readonly datasetId: string;
}

/** A bucket we did not create: a `StorageBucket` or a `DataGoogleStorageBucket`. */
export interface BucketReference {
  /** The bucket's name. */
  readonly name: string;
}

/**
 * Props of `PubSubToBigQuery`: the project, the source's schema and fields, the topic, dataset and temp bucket (new or
 * existing), the Dataflow job.
 */
export interface PubSubToBigQueryProps {
  /** Project of every resource (a literal or a Terraform variable reference). */
  readonly projectId: string;
  /**
   * The google-beta provider the Flex template job is created with (the resource type exists only there).
   * @default the one GoogleBetaProvider of the stack; none or several is an error
   */
  readonly betaProvider?: GoogleBetaProvider;
  /** Region of the job, the bucket and the topic's message storage. @default "europe-west1" */
  readonly region?: string;
  /** Base name of the topic, subscription and job; lower-case letters, digits and "-". */
  readonly name: string;
  /** JSON Schema of one event: the table schema is derived from it. */
  readonly schema: JsonSchema;
  /** Top-level date-time (or date) field the table is partitioned on by day. */
  readonly eventTimeField: string;
  /**
   * Top-level field holding the event id. With it, the job runs a JavaScript UDF that drops freshness canary events
   * (an id starting with platform/freshness's canary prefix) before BigQuery: canary-filter.ts. @default none (no UDF)
   */
  readonly idField?: string;
  /**
   * A freshness canary: a Cloud Scheduler job publishing a canary event to the topic every `intervalMinutes`
   * (canary.ts). Needs `idField`. @default none
   */
  readonly canary?: CanaryProps;
  /** Up to four top-level columns to cluster on. @default none */
  readonly clusteringFields?: string[];
  /** Table id; the dead-letter table is `<tableId>_dead_letter`. @default "events" */
  readonly tableId?: string;
  /** Labels for every labelable resource (cost tags). */
  readonly labels?: Record<string, string>;
  /** Cloud KMS key for topic, dataset, tables, bucket and job (same location as all of them). @default Google-managed keys */
  readonly kmsKeyName?: string;
  /** Hours Pub/Sub keeps messages on the topic and the subscription. @default 168 */
  readonly messageRetentionHours?: number;
  /** Days a partition of the main table is kept; 0 = forever. @default 0 */
  readonly partitionExpirationDays?: number;
  /** Days dead-letter rows are kept. @default 90 */
  readonly deadLetterRetentionDays?: number;
  /** Whether `destroy` may delete data: dataset contents, tables, bucket objects. @default false */
  readonly allowDataDestruction?: boolean;

  /** Read from this topic instead of creating one (XOR topicProps). */
  readonly existingTopic?: TopicReference;
  /** Overrides merged over the topic we create (XOR existingTopic). */
  readonly topicProps?: Partial<PubsubTopicConfig>;
  /** Write into this dataset instead of creating one (XOR datasetProps). */
  readonly existingDataset?: DatasetReference;
  /** Overrides merged over the dataset we create (XOR existingDataset). @default location "EU" */
  readonly datasetProps?: Partial<BigqueryDatasetConfig>;
  /** Use this bucket for Dataflow temp and staging files instead of creating one (XOR tempBucketProps). */
  readonly existingTempBucket?: BucketReference;
  /** Overrides merged over the temp bucket we create (XOR existingTempBucket). */
  readonly tempBucketProps?: Partial<StorageBucketConfig>;

  /** Template release (a dated folder of gs://dataflow-templates-REGION/), or "latest". @default "2026-08-18-00_RC00" */
  readonly templateVersion?: string;
  /** Upper bound of autoscaling. @default 3 */
  readonly maxWorkers?: number;
  /** Worker machine type. @default the Dataflow default */
  readonly workerMachineType?: string;
  /** Worker subnetwork "regions/R/subnetworks/S". @default the "default" network */
  readonly subnetwork?: string;
  /** Workers without public IPs; requires `subnetwork`, which must have Private Google Access. @default false */
  readonly privateWorkerIps?: boolean;
  /** What `destroy` does with the job: "drain" finishes in-flight data, "cancel" drops it. @default "drain" */
  readonly onDestroy?: 'drain' | 'cancel';
  /** Storage Write API semantics. @default "exactly-once" */
  readonly writeSemantics?: 'exactly-once' | 'at-least-once';
  /** Exactly-once only: number of Storage Write API streams. @default 3 */
  readonly storageWriteApiStreams?: number;
  /** Exactly-once only: seconds between commits (data visibility). @default 5 */
  readonly storageWriteApiTriggeringFrequencySeconds?: number;
}

type Defaulted =
  | 'region'
  | 'tableId'
  | 'messageRetentionHours'
  | 'partitionExpirationDays'
  | 'deadLetterRetentionDays'
  | 'allowDataDestruction'
  | 'templateVersion'
  | 'maxWorkers'
  | 'onDestroy'
  | 'writeSemantics'
  | 'storageWriteApiStreams'
  | 'storageWriteApiTriggeringFrequencySeconds';

/**
 * The template release deployed by default: the newest DataflowTemplates release tag checked here (GitHub
 * GoogleCloudPlatform/DataflowTemplates, tag 2026-08-18-00_RC00; its PubSub_to_BigQuery_Flex takes every parameter the
 * construct passes). Google publishes each release under gs://dataflow-templates-REGION/<release>/.
 */
export const TEMPLATE_VERSION = '2026-08-18-00_RC00';

/** The defaults of the optional props (each also documented on its prop). */
export const DEFAULTS: Readonly<Required<Pick<PubSubToBigQueryProps, Defaulted>>> = {
  region: 'europe-west1',
  tableId: 'events',
  messageRetentionHours: 168,
  partitionExpirationDays: 0,
  deadLetterRetentionDays: 90,
  allowDataDestruction: false,
  templateVersion: TEMPLATE_VERSION,
  maxWorkers: 3,
  onDestroy: 'drain',
  writeSemantics: 'exactly-once',
  storageWriteApiStreams: 3,
  storageWriteApiTriggeringFrequencySeconds: 5,
};

/** The props with every default filled in: what the parts of the construct read. */
export type ResolvedProps = PubSubToBigQueryProps &
  Required<Pick<PubSubToBigQueryProps, Defaulted>> & { readonly labels: Record<string, string> };

/**
 * Checks that no resource is both passed in and configured, then fills in the defaults. A prop passed as `undefined`
 * gets its default too (the stack passes optional configuration straight through).
 */
export function withDefaults(props: PubSubToBigQueryProps): ResolvedProps {
  exclusive('existingTopic', props.existingTopic, 'topicProps', props.topicProps);
  exclusive('existingDataset', props.existingDataset, 'datasetProps', props.datasetProps);
  exclusive('existingTempBucket', props.existingTempBucket, 'tempBucketProps', props.tempBucketProps);
  if (props.canary && !props.idField) {
    throw new Error(
      'canary needs idField (the event id field): without it the job has no UDF to drop canary events, and they would land in the table.',
    );
  }
  if (props.privateWorkerIps && !props.subnetwork) {
    throw new Error(
      'privateWorkerIps needs subnetwork ("regions/REGION/subnetworks/NAME" with Private Google Access): the default subnet has none, so workers without external IPs cannot reach Google APIs.',
    );
  }

  const defaulted = Object.entries(DEFAULTS).map(([key, value]) => [key, props[key as Defaulted] ?? value]);
  return { ...props, ...Object.fromEntries(defaulted), labels: props.labels ?? {} } as ResolvedProps;
}

function exclusive(existingName: string, existing: unknown, propsName: string, props: unknown): void {
  if (existing !== undefined && props !== undefined) {
    throw new Error(
      `Pass either ${existingName} or ${propsName}, not both: ${propsName} configures a resource we create.`,
    );
  }
}
