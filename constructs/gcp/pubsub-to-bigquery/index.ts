import { createHash } from 'crypto';
import { ITerraformDependable, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { GoogleDataflowFlexTemplateJob } from '@cdktf/provider-google-beta/lib/google-dataflow-flex-template-job';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { BigqueryDataset, BigqueryDatasetConfig } from '@cdktf/provider-google/lib/bigquery-dataset';
import { BigqueryDatasetAccessA } from '@cdktf/provider-google/lib/bigquery-dataset-access';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table';
import { BigqueryTableIamMember } from '@cdktf/provider-google/lib/bigquery-table-iam-member';
import { DataGoogleBigqueryDefaultServiceAccount } from '@cdktf/provider-google/lib/data-google-bigquery-default-service-account';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { DataGoogleStorageProjectServiceAccount } from '@cdktf/provider-google/lib/data-google-storage-project-service-account';
import { KmsCryptoKeyIamMember } from '@cdktf/provider-google/lib/kms-crypto-key-iam-member';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { PubsubTopic, PubsubTopicConfig } from '@cdktf/provider-google/lib/pubsub-topic';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucket, StorageBucketConfig } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { BigQueryField, JsonSchema, jsonSchemaToBigQuery, tableLayoutProblems } from './bigquery-schema';

export * from './bigquery-schema';

/**
 * Pub/Sub → Dataflow → BigQuery: a topic and the subscription Dataflow reads, the Google-provided
 * "Pub/Sub to BigQuery" Flex template writing through the BigQuery Storage Write API into a day-partitioned,
 * clustered table whose schema comes from the source's JSON Schema, and a dead-letter table for what fails.
 *
 *   publishers ──▶ topic ──▶ subscription ──▶ Dataflow (PubSub_to_BigQuery_Flex) ──▶ dataset.table
 *                                                        └─ unparsable / rejected rows ─▶ dataset.table_dead_letter
 *
 * Requires a `google` and a `google-beta` provider in the stack: the Flex template job exists only in google-beta, and
 * Terraform resolves a resource without a `provider` argument from its type prefix (`google_` → hashicorp/google).
 */

/** A topic we did not create: a `PubsubTopic` or a `DataGooglePubsubTopic`. */
export interface TopicReference {
  /** "projects/P/topics/T". */
  readonly id: string;
  readonly name: string;
}

/** A dataset we did not create: a `BigqueryDataset` or a `DataGoogleBigqueryDataset`. */
export interface DatasetReference {
  readonly datasetId: string;
}

/** A bucket we did not create: a `StorageBucket` or a `DataGoogleStorageBucket`. */
export interface BucketReference {
  readonly name: string;
}

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

  /** Template release, e.g. "2025-11-04-00_RC00"; pin it for repeatable deploys. @default "latest" */
  readonly templateVersion?: string;
  /** Upper bound of autoscaling. @default 3 */
  readonly maxWorkers?: number;
  /** Worker machine type. @default the Dataflow default */
  readonly workerMachineType?: string;
  /** Worker subnetwork "regions/R/subnetworks/S". @default the "default" network */
  readonly subnetwork?: string;
  /** Workers without public IPs (the subnetwork needs Private Google Access). @default false */
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

/** Schema of the template's dead-letter table (DataflowTemplates v2/common .../pubsubmessage_deadletter_table_schema.json). */
export const DEAD_LETTER_FIELDS: BigQueryField[] = [
  { name: 'timestamp', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'payloadString', type: 'STRING', mode: 'REQUIRED' },
  { name: 'payloadBytes', type: 'BYTES', mode: 'REQUIRED' },
  {
    name: 'attributes',
    type: 'RECORD',
    mode: 'REPEATED',
    fields: [
      { name: 'key', type: 'STRING', mode: 'NULLABLE' },
      { name: 'value', type: 'STRING', mode: 'NULLABLE' },
    ],
  },
  { name: 'errorMessage', type: 'STRING', mode: 'NULLABLE' },
  { name: 'stacktrace', type: 'STRING', mode: 'NULLABLE' },
];

const DAY_MS = 24 * 60 * 60 * 1000;
/** Folders of the temp bucket: the lifecycle rule must match the job's temp location and never its staging one. */
const TEMP_PREFIX = 'temp';
const STAGING_PREFIX = 'staging';

export class PubSubToBigQuery extends Construct {
  /** The topic publishers send to (created, or the one you passed). */
  public readonly topic: TopicReference;
  /** The created topic; undefined when you passed existingTopic. */
  public readonly createdTopic?: PubsubTopic;
  public readonly subscription: PubsubSubscription;
  /** The dataset id (created, or the one you passed). */
  public readonly datasetId: string;
  public readonly dataset?: BigqueryDataset;
  public readonly table: BigqueryTable;
  public readonly deadLetterTable: BigqueryTable;
  /** The BigQuery fields derived from the JSON Schema. */
  public readonly fields: BigQueryField[];
  public readonly tempBucketName: string;
  public readonly tempBucket?: StorageBucket;
  public readonly workerServiceAccount: ServiceAccount;
  public readonly job: GoogleDataflowFlexTemplateJob;
  /** Every IAM grant this construct makes, for review and tests. */
  public readonly grants: ITerraformDependable[] = [];

  constructor(scope: Construct, id: string, props: PubSubToBigQueryProps) {
    super(scope, id);
    exclusive('existingTopic', props.existingTopic, 'topicProps', props.topicProps);
    exclusive('existingDataset', props.existingDataset, 'datasetProps', props.datasetProps);
    exclusive('existingTempBucket', props.existingTempBucket, 'tempBucketProps', props.tempBucketProps);

    const project = props.projectId;
    const region = props.region ?? 'europe-west1';
    const labels = props.labels ?? {};
    const retention = `${(props.messageRetentionHours ?? 168) * 3600}s`;
    const keep = !props.allowDataDestruction;
    const tableId = props.tableId ?? 'events';

    this.fields = jsonSchemaToBigQuery(props.schema);
    const problems = tableLayoutProblems(this.fields, props.eventTimeField, props.clusteringFields ?? []);
    if (problems.length > 0) throw new Error(`PubSubToBigQuery "${id}": ${problems.join('; ')}`);

    const encryptionGrants = props.kmsKeyName ? this.grantServiceAgentsKeyUse(project, props.kmsKeyName) : [];

    // --- Pub/Sub -------------------------------------------------------------------------------------------------
    if (props.existingTopic) {
      this.topic = props.existingTopic;
    } else {
      this.createdTopic = new PubsubTopic(this, 'Topic', {
        project,
        name: props.name,
        labels,
        kmsKeyName: props.kmsKeyName,
        // Topic retention lets you seek a (new) subscription back in time to replay.
        messageRetentionDuration: retention,
        messageStoragePolicy: { allowedPersistenceRegions: [region] },
        dependsOn: encryptionGrants,
        ...props.topicProps,
      });
      this.topic = this.createdTopic;
    }
    // No dead-letter or retry policy: Dataflow acknowledges messages itself once they are durably in the pipeline
    // and does not support Pub/Sub dead-letter topics; records that fail go to the template's dead-letter table.
    this.subscription = new PubsubSubscription(this, 'Subscription', {
      project,
      name: `${props.name}-dataflow`,
      topic: this.topic.id,
      labels,
      ackDeadlineSeconds: 60,
      messageRetentionDuration: retention,
      // Subscriptions expire after 31 days without a subscriber by default; a drained job must not lose its input.
      expirationPolicy: { ttl: '' },
    });

    // --- BigQuery ------------------------------------------------------------------------------------------------
    const encryptionConfiguration = props.kmsKeyName ? { kmsKeyName: props.kmsKeyName } : undefined;
    if (props.existingDataset) {
      this.datasetId = props.existingDataset.datasetId;
    } else {
      this.dataset = new BigqueryDataset(this, 'Dataset', {
        project,
        datasetId: props.name.replace(/-/g, '_'),
        location: 'EU',
        description: `Events delivered by the ${props.name} Pub/Sub → Dataflow pipeline.`,
        labels,
        defaultEncryptionConfiguration: encryptionConfiguration,
        deleteContentsOnDestroy: !keep,
        dependsOn: encryptionGrants,
        ...props.datasetProps,
      });
      this.datasetId = this.dataset.datasetId;
    }
    const partitionExpirationDays = props.partitionExpirationDays ?? 0;
    this.table = new BigqueryTable(this, 'Table', {
      project,
      datasetId: this.datasetId,
      tableId,
      description: `One row per event; schema derived from the source's JSON Schema.`,
      labels,
      schema: JSON.stringify(this.fields),
      timePartitioning: {
        type: 'DAY',
        field: props.eventTimeField,
        expirationMs: partitionExpirationDays > 0 ? partitionExpirationDays * DAY_MS : undefined,
      },
      clustering: props.clusteringFields?.length ? props.clusteringFields : undefined,
      encryptionConfiguration,
      deletionProtection: keep,
    });
    this.deadLetterTable = new BigqueryTable(this, 'DeadLetterTable', {
      project,
      datasetId: this.datasetId,
      tableId: `${tableId}_dead_letter`,
      description:
        'Messages the pipeline could not write to the main table, with the error (Dataflow template dead-letter table).',
      labels,
      schema: JSON.stringify(DEAD_LETTER_FIELDS),
      timePartitioning: {
        type: 'DAY',
        field: 'timestamp',
        expirationMs: (props.deadLetterRetentionDays ?? 90) * DAY_MS,
      },
      encryptionConfiguration,
      deletionProtection: keep,
    });

    // --- Temp/staging bucket -------------------------------------------------------------------------------------
    if (props.existingTempBucket) {
      this.tempBucketName = props.existingTempBucket.name;
    } else {
      this.tempBucket = new StorageBucket(this, 'TempBucket', {
        project,
        // Globally unique and within 63 characters whatever the project id and pipeline name are.
        name: `${project}-dataflow-${shortHash(props.name)}`,
        location: region.toUpperCase(),
        labels: { ...labels, purpose: 'dataflow-temp' },
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        encryption: props.kmsKeyName ? { defaultKmsKeyName: props.kmsKeyName } : undefined,
        // Only temp/ expires. staging/ holds the files the running job was launched with: workers that start later
        // (autoscaling, restarts, an update) read them, so deleting them after a week stops the job from restarting.
        lifecycleRule: [{ condition: { age: 7, matchesPrefix: [`${TEMP_PREFIX}/`] }, action: { type: 'Delete' } }],
        forceDestroy: !keep,
        dependsOn: encryptionGrants,
        ...props.tempBucketProps,
      });
      this.tempBucketName = this.tempBucket.name;
    }

    // --- Worker identity, least privilege -------------------------------------------------------------------------
    this.workerServiceAccount = new ServiceAccount(this, 'WorkerServiceAccount', {
      project,
      accountId: accountId('df-', props.name),
      displayName: `Dataflow workers of ${props.name}`,
      description: 'Runs the Pub/Sub to BigQuery Dataflow job: reads its subscription, writes its two tables.',
    });
    const member = `serviceAccount:${this.workerServiceAccount.email}`;
    this.grants.push(
      // roles/dataflow.worker exists only at project level: the worker VMs use it to lease work items from the
      // Dataflow service and report status, metrics and logs. It grants no access to any data.
      new ProjectIamMember(this, 'WorkerRole', { project, role: 'roles/dataflow.worker', member }),
      new PubsubSubscriptionIamMember(this, 'SubscriptionSubscriber', {
        project,
        subscription: this.subscription.name,
        role: 'roles/pubsub.subscriber',
        member,
      }),
      // The Dataflow Pub/Sub source reads the subscription's metadata (pubsub.subscriptions.get) when it starts.
      new PubsubSubscriptionIamMember(this, 'SubscriptionViewer', {
        project,
        subscription: this.subscription.name,
        role: 'roles/pubsub.viewer',
        member,
      }),
      ...[this.table, this.deadLetterTable].map(
        (table) =>
          new BigqueryTableIamMember(this, `${table.node.id}DataEditor`, {
            project,
            datasetId: this.datasetId,
            tableId: table.tableId,
            role: 'roles/bigquery.dataEditor',
            member,
          }),
      ),
      // BigQueryIO validates at launch that the dead-letter table's dataset exists (it may create the table:
      // CREATE_IF_NEEDED), which needs bigquery.datasets.get. metadataViewer is the narrowest predefined role with it
      // (dataset and table metadata, no row data). A dataset access entry, not google_bigquery_dataset_iam_*: those
      // rewrite the dataset's policy and drop its authorized views.
      new BigqueryDatasetAccessA(this, 'DatasetMetadataViewer', {
        project,
        datasetId: this.datasetId,
        role: 'roles/bigquery.metadataViewer',
        userByEmail: this.workerServiceAccount.email,
      }),
      new StorageBucketIamMember(this, 'TempBucketObjectAdmin', {
        bucket: this.tempBucketName,
        role: 'roles/storage.objectAdmin',
        member,
      }),
      // The launcher and the runner read the bucket's metadata (storage.buckets.get) to check the temp and staging
      // locations; objectAdmin has no bucket permission. legacyBucketReader adds only that (and objects.list, which
      // objectAdmin already has); it can be granted on a bucket only.
      new StorageBucketIamMember(this, 'TempBucketReader', {
        bucket: this.tempBucketName,
        role: 'roles/storage.legacyBucketReader',
        member,
      }),
    );
    if (props.kmsKeyName) {
      this.grants.push(
        new KmsCryptoKeyIamMember(this, 'WorkerKeyUse', {
          cryptoKeyId: props.kmsKeyName,
          role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
          member,
        }),
      );
    }

    // --- The job -------------------------------------------------------------------------------------------------
    const exactlyOnce = (props.writeSemantics ?? 'exactly-once') === 'exactly-once';
    const tableSpec = (table: BigqueryTable) => `${project}:${this.datasetId}.${table.tableId}`;
    this.job = new GoogleDataflowFlexTemplateJob(this, 'Job', {
      // Without it Terraform picks hashicorp/google from the type prefix, which has no such resource: plan fails.
      provider: props.betaProvider ?? this.stackBetaProvider(id),
      project,
      region,
      name: props.name,
      containerSpecGcsPath: `gs://dataflow-templates-${region}/${
        props.templateVersion ?? 'latest'
      }/flex/PubSub_to_BigQuery_Flex`,
      parameters: {
        inputSubscription: this.subscription.id,
        outputTableSpec: tableSpec(this.table),
        outputDeadletterTable: tableSpec(this.deadLetterTable),
        useStorageWriteApi: 'true',
        useStorageWriteApiAtLeastOnce: String(!exactlyOnce),
        // The template requires both when the Storage Write API runs exactly-once.
        ...(exactlyOnce && {
          numStorageWriteApiStreams: String(props.storageWriteApiStreams ?? 3),
          storageWriteApiTriggeringFrequencySec: String(props.storageWriteApiTriggeringFrequencySeconds ?? 5),
        }),
      },
      serviceAccountEmail: this.workerServiceAccount.email,
      tempLocation: `gs://${this.tempBucketName}/${TEMP_PREFIX}`,
      stagingLocation: `gs://${this.tempBucketName}/${STAGING_PREFIX}`,
      enableStreamingEngine: true,
      maxWorkers: props.maxWorkers ?? 3,
      machineType: props.workerMachineType,
      subnetwork: props.subnetwork,
      ipConfiguration: props.privateWorkerIps ? 'WORKER_IP_PRIVATE' : undefined,
      kmsKeyName: props.kmsKeyName,
      labels,
      onDelete: props.onDestroy ?? 'drain',
      // Workers must hold their permissions before they start, or the job fails at launch.
      dependsOn: [...this.grants, ...encryptionGrants],
    });
  }

  private stackBetaProvider(id: string): GoogleBetaProvider {
    const found = TerraformStack.of(this)
      .node.findAll()
      .filter((c): c is GoogleBetaProvider => c instanceof GoogleBetaProvider);
    if (found.length !== 1) {
      throw new Error(
        `PubSubToBigQuery "${id}": found ${found.length} GoogleBetaProvider in the stack; add exactly one before this ` +
          'construct or pass betaProvider (google_dataflow_flex_template_job exists only in google-beta).',
      );
    }
    return found[0];
  }

  /** Lets the Google service agents that encrypt at rest for us use the customer-managed key. */
  private grantServiceAgentsKeyUse(project: string, kmsKeyName: string): KmsCryptoKeyIamMember[] {
    const number = new DataGoogleProject(this, 'Project', { projectId: project }).number;
    const agents: Record<string, string> = {
      PubSub: `service-${number}@gcp-sa-pubsub.iam.gserviceaccount.com`,
      BigQuery: new DataGoogleBigqueryDefaultServiceAccount(this, 'BigQueryAgent', { project }).email,
      Storage: new DataGoogleStorageProjectServiceAccount(this, 'StorageAgent', { project }).emailAddress,
      Dataflow: `service-${number}@dataflow-service-producer-prod.iam.gserviceaccount.com`,
      Compute: `service-${number}@compute-system.iam.gserviceaccount.com`,
    };
    return Object.entries(agents).map(
      ([agent, email]) =>
        new KmsCryptoKeyIamMember(this, `${agent}AgentKeyUse`, {
          cryptoKeyId: kmsKeyName,
          role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
          member: `serviceAccount:${email}`,
        }),
    );
  }
}

function exclusive(existingName: string, existing: unknown, propsName: string, props: unknown): void {
  if (existing !== undefined && props !== undefined) {
    throw new Error(
      `Pass either ${existingName} or ${propsName}, not both: ${propsName} configures a resource we create.`,
    );
  }
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** A service account id (6-30 characters) that stays readable and unique when the name is long. */
function accountId(prefix: string, name: string): string {
  const id = `${prefix}${name}`;
  return id.length <= 30 ? id : `${id.slice(0, 21).replace(/-+$/, '')}-${shortHash(name)}`;
}
