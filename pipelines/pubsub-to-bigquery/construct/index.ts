import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { GoogleDataflowFlexTemplateJob } from '@cdktf/provider-google-beta/lib/google-dataflow-flex-template-job';
import { BigqueryDataset } from '@cdktf/provider-google/lib/bigquery-dataset';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { buildDataset, buildDeadLetterTable, buildEventTable, tableFields } from './bigquery';
import { BigQueryField } from './bigquery-schema';
import { buildCanary, FreshnessCanary } from './canary';
import { buildCanaryFilter, CanaryFilter } from './canary-filter';
import { grantServiceAgentsKeyUse } from './encryption';
import { buildWorkerServiceAccount, GRANT_PROPAGATION, grantWorkerAccess } from './iam';
import { buildFlexTemplateJob } from './job';
import { TimeSleep } from './propagation';
import { PubSubToBigQueryProps, TopicReference, withDefaults } from './props';
import { buildSubscription, buildTopic } from './pubsub';
import { buildTempBucket } from './temp-bucket';

export * from './bigquery-schema';
export { DEAD_LETTER_FIELDS } from './bigquery';
export { CANARY_FILTER_FUNCTION, canaryFilterUdf } from './canary-filter';
export { canaryMessage, canarySchedule, STATIC_CANARY_ID } from './canary';
export type { CanaryProps, FreshnessCanary } from './canary';
export type { BucketReference, DatasetReference, PubSubToBigQueryProps, TopicReference } from './props';

/**
 * Pub/Sub → Dataflow → BigQuery: a topic and the subscription Dataflow reads, the Google-provided
 * "Pub/Sub to BigQuery" Flex template writing through the BigQuery Storage Write API into a day-partitioned,
 * clustered table whose schema comes from the source's JSON Schema, and a dead-letter table for what fails.
 *
 * ```text
 *   publishers ───────────────┬▶ topic ──▶ subscription ──▶ Dataflow (PubSub_to_BigQuery_Flex) ──▶ dataset.table
 *   canary (Cloud Scheduler) ─┘                                 ├─ UDF: canary events dropped
 *                                                               └─ unparsable / rejected rows ─▶ dataset.table_dead_letter
 * ```
 *
 * Requires a `google` and a `google-beta` provider in the stack: the Flex template job exists only in google-beta, and
 * Terraform resolves a resource without a `provider` argument from its type prefix (`google_` → hashicorp/google).
 * It adds a hashicorp/time provider to the stack if there is none, for the waits IAM's eventual consistency needs
 * (propagation.ts).
 */
export class PubSubToBigQuery extends Construct {
  /** The topic publishers send to (created, or the one you passed). */
  public readonly topic: TopicReference;
  /** The created topic; undefined when you passed existingTopic. */
  public readonly createdTopic?: PubsubTopic;
  /** The subscription of the topic that the Dataflow job reads. */
  public readonly subscription: PubsubSubscription;
  /** The dataset id (created, or the one you passed). */
  public readonly datasetId: string;
  /** The created dataset; undefined when you passed existingDataset. */
  public readonly dataset?: BigqueryDataset;
  /** The events table: day-partitioned on `eventTimeField`, its schema derived from the JSON Schema. */
  public readonly table: BigqueryTable;
  /** Where the rows that fail to parse or insert land (`<tableId>_dead_letter`), with the error. */
  public readonly deadLetterTable: BigqueryTable;
  /** The BigQuery fields derived from the JSON Schema. */
  public readonly fields: BigQueryField[];
  /** The bucket of Dataflow's temp and staging files (created, or the one you passed). */
  public readonly tempBucketName: string;
  /** The created temp bucket; undefined when you passed existingTempBucket. */
  public readonly tempBucket?: StorageBucket;
  /** The Dataflow workers' service account, granted only what the job needs. */
  public readonly workerServiceAccount: ServiceAccount;
  /** The streaming Dataflow job (Google's "Pub/Sub to BigQuery" Flex template). */
  public readonly job: GoogleDataflowFlexTemplateJob;
  /** The UDF that drops canary events (with `idField`). */
  public readonly canaryFilter?: CanaryFilter;
  /** The freshness canary (with `canary`). */
  public readonly canary?: FreshnessCanary;
  /** Every IAM grant this construct makes, for review and tests. */
  public readonly grants: ITerraformDependable[];

  constructor(scope: Construct, id: string, props: PubSubToBigQueryProps) {
    super(scope, id);
    const resolved = withDefaults(props);
    this.fields = tableFields(this, resolved);
    const encryptionGrants = resolved.kmsKeyName
      ? grantServiceAgentsKeyUse(this, resolved.projectId, resolved.kmsKeyName)
      : [];

    const topic = buildTopic(this, resolved, encryptionGrants);
    this.topic = topic.reference;
    this.createdTopic = topic.created;
    this.subscription = buildSubscription(this, resolved, this.topic);

    const dataset = buildDataset(this, resolved, encryptionGrants);
    this.datasetId = dataset.datasetId;
    this.dataset = dataset.created;
    this.table = buildEventTable(this, resolved, this.datasetId, this.fields);
    this.deadLetterTable = buildDeadLetterTable(this, resolved, this.datasetId);

    const tempBucket = buildTempBucket(this, resolved, encryptionGrants);
    this.tempBucketName = tempBucket.name;
    this.tempBucket = tempBucket.created;

    if (resolved.idField) this.canaryFilter = buildCanaryFilter(this, this.tempBucketName, resolved.idField);
    if (resolved.canary) this.canary = buildCanary(this, resolved, this.topic, resolved.canary, resolved.idField!);

    this.workerServiceAccount = buildWorkerServiceAccount(this, resolved);
    this.grants = grantWorkerAccess(this, resolved, this.workerServiceAccount, {
      subscription: this.subscription,
      datasetId: this.datasetId,
      tables: [this.table, this.deadLetterTable],
      tempBucketName: this.tempBucketName,
    });

    this.job = buildFlexTemplateJob(this, resolved, {
      subscription: this.subscription,
      datasetId: this.datasetId,
      table: this.table,
      deadLetterTable: this.deadLetterTable,
      tempBucketName: this.tempBucketName,
      udf: this.canaryFilter,
      serviceAccount: this.workerServiceAccount,
      fields: this.fields,
      grants: [
        new TimeSleep(this, 'GrantPropagation', {
          createDuration: GRANT_PROPAGATION,
          dependsOn: [...this.grants, ...encryptionGrants],
        }),
      ],
    });
  }
}
