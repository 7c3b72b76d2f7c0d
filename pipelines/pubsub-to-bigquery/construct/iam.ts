import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { BigqueryDatasetAccessA } from '@cdktf/provider-google/lib/bigquery-dataset-access';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table';
import { BigqueryTableIamMember } from '@cdktf/provider-google/lib/bigquery-table-iam-member';
import { KmsCryptoKeyIamMember } from '@cdktf/provider-google/lib/kms-crypto-key-iam-member';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { accountId } from './names';
import { TimeSleep } from './propagation';
import { ResolvedProps } from './props';

/**
 * The worker identity, least privilege: one service account runs the Flex template launcher and the workers, and
 * each permission it needs is granted on the one resource it is used on (README.md, "IAM of the worker service
 * account", says which and why).
 */
export function buildWorkerServiceAccount(scope: Construct, props: ResolvedProps): ServiceAccount {
  return new ServiceAccount(scope, 'WorkerServiceAccount', {
    project: props.projectId,
    accountId: accountId('df-', props.name),
    displayName: `Dataflow workers of ${props.name}`,
    description: 'Runs the Pub/Sub to BigQuery Dataflow job: reads its subscription, writes its two tables.',
  });
}

/**
 * Seconds between creating the worker account and granting it roles. IAM: "After you create a service account, you
 * might need to wait for 60 seconds or more before you use the service account" (Create service accounts page); Pub/Sub,
 * BigQuery and Storage reject a policy naming an account they cannot see yet ("does not exist"), and the provider does
 * not retry that.
 */
export const SERVICE_ACCOUNT_PROPAGATION = '60s';

/**
 * Seconds between the last grant and the job's launch. IAM: access changes "typically" take 2 minutes to propagate
 * (Access change propagation page); the Flex template launcher starts as the worker account at once and fails the job
 * for good if a permission is not there yet.
 */
export const GRANT_PROPAGATION = '120s';

/** What the workers read and write. */
export interface WorkerResources {
  readonly subscription: PubsubSubscription;
  readonly datasetId: string;
  /** The main table and the dead-letter table. */
  readonly tables: BigqueryTable[];
  readonly tempBucketName: string;
}

/** Grants the worker service account what the job needs on `resources` (and the key); returns every grant. */
export function grantWorkerAccess(
  scope: Construct,
  props: ResolvedProps,
  account: ServiceAccount,
  resources: WorkerResources,
): ITerraformDependable[] {
  const project = props.projectId;
  const member = `serviceAccount:${account.email}`;
  const accountVisible = new TimeSleep(scope, 'WorkerServiceAccountPropagation', {
    createDuration: SERVICE_ACCOUNT_PROPAGATION,
    dependsOn: [account],
    // A replaced account (new unique id) is new to IAM again.
    triggers: { account: account.uniqueId },
  });
  const after = [accountVisible];
  const grants: ITerraformDependable[] = [
    // roles/dataflow.worker exists only at project level: the worker VMs use it to lease work items from the
    // Dataflow service and report status, metrics and logs. It also holds storage.objects.get and
    // storage.objects.create (and storage.buckets.get), so, granted on the project, the workers can read and create
    // objects in every bucket of the project (Dataflow Worker role, IAM predefined roles reference). IAM is additive:
    // a bucket's own policy cannot take that away, only an IAM deny policy or VPC Service Controls can. No BigQuery or
    // Pub/Sub data access. Keep other data out of this project's buckets.
    new ProjectIamMember(scope, 'WorkerRole', { project, role: 'roles/dataflow.worker', member, dependsOn: after }),
    new PubsubSubscriptionIamMember(scope, 'SubscriptionSubscriber', {
      project,
      subscription: resources.subscription.name,
      role: 'roles/pubsub.subscriber',
      member,
      dependsOn: after,
    }),
    // The Dataflow Pub/Sub source reads the subscription's metadata (pubsub.subscriptions.get) when it starts.
    new PubsubSubscriptionIamMember(scope, 'SubscriptionViewer', {
      project,
      subscription: resources.subscription.name,
      role: 'roles/pubsub.viewer',
      member,
      dependsOn: after,
    }),
    ...resources.tables.map(
      (table) =>
        new BigqueryTableIamMember(scope, `${table.node.id}DataEditor`, {
          project,
          datasetId: resources.datasetId,
          tableId: table.tableId,
          role: 'roles/bigquery.dataEditor',
          member,
          dependsOn: after,
        }),
    ),
    // BigQueryIO validates at launch that the dead-letter table's dataset exists (it may create the table:
    // CREATE_IF_NEEDED), which needs bigquery.datasets.get. metadataViewer is the narrowest predefined role with it
    // (dataset and table metadata, no row data). A dataset access entry, not google_bigquery_dataset_iam_*: those
    // rewrite the dataset's policy and drop its authorized views.
    new BigqueryDatasetAccessA(scope, 'DatasetMetadataViewer', {
      project,
      datasetId: resources.datasetId,
      role: 'roles/bigquery.metadataViewer',
      userByEmail: account.email,
      dependsOn: after,
    }),
    new StorageBucketIamMember(scope, 'TempBucketObjectAdmin', {
      bucket: resources.tempBucketName,
      role: 'roles/storage.objectAdmin',
      member,
      dependsOn: after,
    }),
    // The launcher and the runner read the bucket's metadata (storage.buckets.get) to check the temp and staging
    // locations; objectAdmin has no bucket permission. legacyBucketReader adds only that (and objects.list, which
    // objectAdmin already has); it can be granted on a bucket only.
    new StorageBucketIamMember(scope, 'TempBucketReader', {
      bucket: resources.tempBucketName,
      role: 'roles/storage.legacyBucketReader',
      member,
      dependsOn: after,
    }),
  ];
  if (props.kmsKeyName) {
    grants.push(
      new KmsCryptoKeyIamMember(scope, 'WorkerKeyUse', {
        cryptoKeyId: props.kmsKeyName,
        role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
        member,
        dependsOn: after,
      }),
    );
  }
  return grants;
}
