import * as fs from 'fs';
import { Testing } from 'cdktf';
import { GoogleDataflowFlexTemplateJob } from '@cdktf/provider-google-beta/lib/google-dataflow-flex-template-job';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { BigqueryDataset } from '@cdktf/provider-google/lib/bigquery-dataset';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table';
import { BigqueryTableIamMember } from '@cdktf/provider-google/lib/bigquery-table-iam-member';
import { KmsCryptoKeyIamMember } from '@cdktf/provider-google/lib/kms-crypto-key-iam-member';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import {
  DEAD_LETTER_FIELDS,
  PubSubToBigQuery,
  PubSubToBigQueryProps,
} from '../../../pipelines/pubsub-to-bigquery/construct';
import { GRANT_PROPAGATION, SERVICE_ACCOUNT_PROPAGATION } from '../../../pipelines/pubsub-to-bigquery/construct/iam';
import { TEMPLATE_VERSION } from '../../../pipelines/pubsub-to-bigquery/construct/props';
import { schemaDigest } from '../../../pipelines/pubsub-to-bigquery/construct/job';
import { jsonSchemaToBigQuery } from '../../../pipelines/pubsub-to-bigquery/construct/bigquery-schema';
import { resolvedProvider, typesMissingFromGa } from './terraform-resolution';
import { fromRoot } from '../../../platform/paths';

const schema = JSON.parse(
  fs.readFileSync(fromRoot('schemas', 'orders.schema.json'), 'utf8'),
);
const KEY = 'projects/acme-data/locations/europe-west1/keyRings/streams/cryptoKeys/orders';
const base: PubSubToBigQueryProps = {
  projectId: 'acme-data',
  name: 'orders-pipeline',
  schema,
  eventTimeField: 'updated_at',
  clusteringFields: ['status', 'customer_id'],
  tableId: 'orders',
  labels: { team: 'data-platform', 'cost-center': 'cc-1' },
};

type Resources = Record<string, Record<string, Record<string, any>>>;

function synth(props: Partial<PubSubToBigQueryProps> = {}): { json: string; resources: Resources } {
  const json = Testing.synthScope((scope) => {
    new GoogleBetaProvider(scope, 'google-beta', {});
    new PubSubToBigQuery(scope, 'Pipeline', { ...base, ...props });
  });
  return { json, resources: JSON.parse(json).resource };
}

/** A Terraform reference to the resource of `type` whose construct id is `id`, e.g. ref(r, 'google_pubsub_topic', 'Topic', 'id'). */
function ref(resources: Resources, type: string, id: string, attribute: string): string {
  const keys = Object.keys(resources[type] ?? {}).filter((key) => key.startsWith(`Pipeline_${id}_`));
  expect(keys).toHaveLength(1);
  return `\${${type}.${keys[0]}.${attribute}}`;
}

/** The one resource of a type (fails when there are several). */
function only(resources: Resources, type: string): Record<string, any> {
  const all = Object.values(resources[type] ?? {});
  expect(all).toHaveLength(1);
  return all[0];
}

describe('PubSubToBigQuery defaults', () => {
  const { json, resources } = synth();

  test('snapshot', () => {
    expect(json).toMatchSnapshot();
  });

  test('topic keeps messages a week in the region, labelled', () => {
    expect(json).toHaveResourceWithProperties(PubsubTopic, {
      name: 'orders-pipeline',
      message_retention_duration: '604800s',
      message_storage_policy: { allowed_persistence_regions: ['europe-west1'] },
      labels: base.labels,
    });
    expect(only(resources, 'google_pubsub_topic').kms_key_name).toBeUndefined();
  });

  test('subscription never expires and has no Pub/Sub dead-letter policy (Dataflow does not honour it)', () => {
    const subscription = only(resources, 'google_pubsub_subscription');
    expect(subscription).toMatchObject({
      name: 'orders-pipeline-dataflow',
      topic: ref(resources, 'google_pubsub_topic', 'Topic', 'id'),
      expiration_policy: { ttl: '' },
      message_retention_duration: '604800s',
    });
    expect(subscription.dead_letter_policy).toBeUndefined();
    expect(subscription.retry_policy).toBeUndefined();
  });

  test('dataset in EU, contents kept on destroy', () => {
    expect(json).toHaveResourceWithProperties(BigqueryDataset, {
      dataset_id: 'orders_pipeline',
      location: 'EU',
      delete_contents_on_destroy: false,
      labels: base.labels,
    });
  });

  test('table: schema from the JSON Schema, day-partitioned on event time, clustered, protected', () => {
    const table = Object.values(resources.google_bigquery_table).find((t) => t.table_id === 'orders')!;
    expect(table).toMatchObject({
      time_partitioning: { type: 'DAY', field: 'updated_at' },
      clustering: ['status', 'customer_id'],
      deletion_protection: true,
      labels: base.labels,
    });
    expect(table.time_partitioning.expiration_ms).toBeUndefined();
    expect(JSON.parse(table.schema).find((f: { name: string }) => f.name === 'items')).toMatchObject({
      type: 'RECORD',
      mode: 'REPEATED',
    });
  });

  test('dead-letter table has the template schema, partitions expire after 90 days', () => {
    expect(json).toHaveResourceWithProperties(BigqueryTable, {
      table_id: 'orders_dead_letter',
      schema: JSON.stringify(DEAD_LETTER_FIELDS),
      time_partitioning: { type: 'DAY', field: 'timestamp', expiration_ms: 90 * 86_400_000 },
      deletion_protection: true,
    });
  });

  test('temp bucket: uniform access, public access prevented, not force-destroyed', () => {
    const bucket = only(resources, 'google_storage_bucket');
    expect(bucket).toMatchObject({
      location: 'EUROPE-WEST1',
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      force_destroy: false,
    });
    expect(bucket.name).toMatch(/^acme-data-dataflow-[0-9a-f]{8}$/);
  });

  test('lifecycle: temp files expire after 7 days, the staged files the job restarts from never do', () => {
    const bucket = only(resources, 'google_storage_bucket');
    expect(bucket.lifecycle_rule).toEqual([
      { condition: { age: 7, matches_prefix: ['temp/'] }, action: { type: 'Delete' } },
    ]);
    const job = only(resources, 'google_dataflow_flex_template_job');
    const objectPath = (location: string) => location.replace(/^gs:\/\/[^/]+\//, '') + '/';
    // Every Delete rule is limited to a prefix, the temp location's objects match one, the staging location's none.
    const deletes = bucket.lifecycle_rule.filter((rule: any) => rule.action.type === 'Delete');
    for (const rule of deletes) expect(rule.condition.matches_prefix?.length).toBeGreaterThan(0);
    const deleted = (path: string) =>
      deletes.some((rule: any) => rule.condition.matches_prefix.some((prefix: string) => path.startsWith(prefix)));
    expect(deleted(objectPath(job.temp_location) + 'job-1/file')).toBe(true);
    expect(deleted(objectPath(job.staging_location) + 'pipeline.pb')).toBe(false);
  });

  test('Flex template job: Storage Write API exactly-once, streaming engine, drain on destroy, dead-letter table', () => {
    const dataset = ref(resources, 'google_bigquery_dataset', 'Dataset', 'dataset_id');
    expect(json).toHaveResourceWithProperties(GoogleDataflowFlexTemplateJob, {
      name: 'orders-pipeline',
      region: 'europe-west1',
      container_spec_gcs_path: `gs://dataflow-templates-europe-west1/${TEMPLATE_VERSION}/flex/PubSub_to_BigQuery_Flex`,
      enable_streaming_engine: true,
      max_workers: 3,
      on_delete: 'drain',
      // The cost labels, and the digest of the table's columns: a schema change updates the job (job.ts).
      labels: { ...base.labels, 'table-schema': schemaDigest(jsonSchemaToBigQuery(base.schema)) },
      parameters: {
        inputSubscription: ref(resources, 'google_pubsub_subscription', 'Subscription', 'id'),
        outputTableSpec: `acme-data:${dataset}.${ref(resources, 'google_bigquery_table', 'Table', 'table_id')}`,
        outputDeadletterTable: `acme-data:${dataset}.${ref(
          resources,
          'google_bigquery_table',
          'DeadLetterTable',
          'table_id',
        )}`,
        useStorageWriteApi: 'true',
        useStorageWriteApiAtLeastOnce: 'false',
        numStorageWriteApiStreams: '3',
        storageWriteApiTriggeringFrequencySec: '5',
      },
    });
    const job = only(resources, 'google_dataflow_flex_template_job');
    expect(job.service_account_email).toBe(ref(resources, 'google_service_account', 'WorkerServiceAccount', 'email'));
    expect(job.temp_location).toBe(`gs://${ref(resources, 'google_storage_bucket', 'TempBucket', 'name')}/temp`);
    // The job starts only after its worker can read and write everything it touches, and IAM has had time to
    // propagate those grants (the launcher fails the job for good on a missing permission).
    const [grantWait] = job.depends_on;
    expect(job.depends_on).toEqual([expect.stringMatching(/^time_sleep\.Pipeline_GrantPropagation_/)]);
    const wait = resources.time_sleep[grantWait.split('.')[1]];
    expect(wait).toMatchObject({ create_duration: GRANT_PROPAGATION, provider: 'time' });
    const grantTypes = [
      'google_project_iam_member',
      'google_pubsub_subscription_iam_member',
      'google_bigquery_table_iam_member',
      'google_bigquery_dataset_access',
      'google_storage_bucket_iam_member',
    ];
    const grants = grantTypes.flatMap((type) => Object.keys(resources[type]).map((name) => `${type}.${name}`));
    expect(grants).toHaveLength(8);
    expect([...wait.depends_on].sort()).toEqual(grants.sort());
  });

  test('every grant to the worker account waits until IAM can see the new account', () => {
    const { resources } = synth();
    const accountWait = Object.entries(resources.time_sleep).find(([name]) =>
      name.startsWith('Pipeline_WorkerServiceAccountPropagation_'),
    )!;
    expect(accountWait[1]).toMatchObject({
      create_duration: SERVICE_ACCOUNT_PROPAGATION,
      depends_on: [expect.stringMatching(/^google_service_account\.Pipeline_WorkerServiceAccount_/)],
      // A replaced account is new to IAM again.
      triggers: { account: ref(resources, 'google_service_account', 'WorkerServiceAccount', 'unique_id') },
    });
    const member = `serviceAccount:${ref(resources, 'google_service_account', 'WorkerServiceAccount', 'email')}`;
    const toWorker = Object.values(resources)
      .flatMap((instances) => Object.values(instances))
      .filter((r) => r.member === member || r.user_by_email === member.replace('serviceAccount:', ''));
    expect(toWorker).toHaveLength(8);
    for (const grant of toWorker) expect(grant.depends_on).toEqual([`time_sleep.${accountWait[0]}`]);
  });
});

describe('PubSubToBigQuery providers', () => {
  test('the Flex template job, and every other type the GA provider lacks, names google-beta', () => {
    const { resources } = synth();
    expect(typesMissingFromGa({ resource: resources })).toEqual(['google_dataflow_flex_template_job']);
    expect(only(resources, 'google_dataflow_flex_template_job').provider).toBe('google-beta');
    for (const [type, instances] of Object.entries(resources)) {
      const expected =
        type === 'google_dataflow_flex_template_job' ? 'google-beta' : type === 'time_sleep' ? 'time' : 'google';
      for (const body of Object.values(instances)) expect(resolvedProvider(type, body).name).toBe(expected);
    }
  });

  test('an explicit betaProvider (here an aliased one) is used', () => {
    const json = Testing.synthScope((scope) => {
      new GoogleBetaProvider(scope, 'default-beta', {});
      const aliased = new GoogleBetaProvider(scope, 'eu-beta', { alias: 'eu' });
      new PubSubToBigQuery(scope, 'Pipeline', { ...base, betaProvider: aliased });
    });
    expect(only(JSON.parse(json).resource, 'google_dataflow_flex_template_job').provider).toBe('google-beta.eu');
  });

  test('without a google-beta provider in the stack, synth fails saying what to add', () => {
    expect(() =>
      Testing.synthScope((scope) => {
        new PubSubToBigQuery(scope, 'Pipeline', base);
      }),
    ).toThrow(
      'PubSubToBigQuery "Pipeline": found 0 GoogleBetaProvider in the stack; add exactly one before this construct or pass betaProvider',
    );
  });
});

describe('PubSubToBigQuery IAM: who can do what on which resource', () => {
  const { json, resources } = synth();
  const member = `serviceAccount:${ref(resources, 'google_service_account', 'WorkerServiceAccount', 'email')}`;

  test('a dedicated worker service account', () => {
    expect(json).toHaveResourceWithProperties(ServiceAccount, { account_id: 'df-orders-pipeline' });
  });

  test('the only project-level grant is roles/dataflow.worker', () => {
    expect(only(resources, 'google_project_iam_member')).toMatchObject({ role: 'roles/dataflow.worker', member });
    expect(json).toHaveResourceWithProperties(ProjectIamMember, { role: 'roles/dataflow.worker' });
  });

  test('subscriber and viewer on the subscription only', () => {
    const grants = Object.values(resources.google_pubsub_subscription_iam_member);
    expect(grants.map((g) => g.role).sort()).toEqual(['roles/pubsub.subscriber', 'roles/pubsub.viewer']);
    for (const grant of grants) {
      expect(grant).toMatchObject({
        member,
        subscription: ref(resources, 'google_pubsub_subscription', 'Subscription', 'name'),
      });
    }
    expect(json).toHaveResourceWithProperties(PubsubSubscriptionIamMember, { role: 'roles/pubsub.subscriber', member });
  });

  test('data editor on the two tables, not on the dataset', () => {
    const grants = Object.values(resources.google_bigquery_table_iam_member);
    expect(grants.map((g) => g.role)).toEqual(['roles/bigquery.dataEditor', 'roles/bigquery.dataEditor']);
    expect(grants.map((g) => g.table_id).sort()).toEqual(
      [
        ref(resources, 'google_bigquery_table', 'Table', 'table_id'),
        ref(resources, 'google_bigquery_table', 'DeadLetterTable', 'table_id'),
      ].sort(),
    );
    expect(json).toHaveResourceWithProperties(BigqueryTableIamMember, { member });
    expect(resources.google_bigquery_dataset_iam_member).toBeUndefined();
  });

  test('object admin and bucket metadata on the temp bucket only (the runner checks temp and staging locations)', () => {
    const grants = Object.values(resources.google_storage_bucket_iam_member);
    expect(grants.map((g) => g.role).sort()).toEqual(['roles/storage.legacyBucketReader', 'roles/storage.objectAdmin']);
    for (const grant of grants) {
      expect(grant).toMatchObject({ bucket: ref(resources, 'google_storage_bucket', 'TempBucket', 'name'), member });
    }
    expect(json).toHaveResourceWithProperties(StorageBucketIamMember, { role: 'roles/storage.legacyBucketReader', member });
  });

  test('metadata viewer on the dataset (the dead-letter write checks it exists), as an access entry that keeps authorized views', () => {
    expect(only(resources, 'google_bigquery_dataset_access')).toMatchObject({
      project: 'acme-data',
      dataset_id: ref(resources, 'google_bigquery_dataset', 'Dataset', 'dataset_id'),
      role: 'roles/bigquery.metadataViewer',
      user_by_email: ref(resources, 'google_service_account', 'WorkerServiceAccount', 'email'),
    });
    // google_bigquery_dataset_iam_* would rewrite the dataset policy and drop authorized views.
    expect(resources.google_bigquery_dataset_iam_member).toBeUndefined();
    expect(resources.google_bigquery_dataset_iam_binding).toBeUndefined();
    expect(resources.google_bigquery_dataset_iam_policy).toBeUndefined();
  });

  test('the launch permissions of "Run a Flex Template" are each covered by a resource-level grant', () => {
    // permission needed by the launcher or the workers → [resource type it is granted on, role that contains it]
    const needed: Record<string, [string, string]> = {
      'bigquery.datasets.get': ['google_bigquery_dataset_access', 'roles/bigquery.metadataViewer'],
      'bigquery.tables.updateData': ['google_bigquery_table_iam_member', 'roles/bigquery.dataEditor'],
      'storage.buckets.get': ['google_storage_bucket_iam_member', 'roles/storage.legacyBucketReader'],
      'storage.objects.create': ['google_storage_bucket_iam_member', 'roles/storage.objectAdmin'],
      'pubsub.subscriptions.consume': ['google_pubsub_subscription_iam_member', 'roles/pubsub.subscriber'],
      'pubsub.subscriptions.get': ['google_pubsub_subscription_iam_member', 'roles/pubsub.viewer'],
      'dataflow.workItems.lease': ['google_project_iam_member', 'roles/dataflow.worker'],
    };
    for (const [permission, [type, role]] of Object.entries(needed)) {
      expect([permission, Object.values(resources[type] ?? {}).map((g) => g.role)]).toEqual([
        permission,
        expect.arrayContaining([role]),
      ]);
    }
    // and nothing broad: no basic roles anywhere
    const roles = Object.entries(resources)
      .filter(([type]) => /_iam_member$|_dataset_access$/.test(type))
      .flatMap(([, grants]) => Object.values(grants).map((g) => g.role as string));
    expect(roles.filter((role) => /^roles\/(owner|editor|viewer)$/.test(role))).toEqual([]);
  });

  test('nothing else: no key grants without a key', () => {
    expect(resources.google_kms_crypto_key_iam_member).toBeUndefined();
  });
});

describe('PubSubToBigQuery options', () => {
  test('CMEK: every resource uses the key and the service agents and the worker may use it', () => {
    const { json, resources } = synth({ kmsKeyName: KEY, datasetProps: { location: 'europe-west1' } });
    expect(only(resources, 'google_pubsub_topic').kms_key_name).toBe(KEY);
    expect(only(resources, 'google_bigquery_dataset').default_encryption_configuration).toEqual({ kms_key_name: KEY });
    for (const table of Object.values(resources.google_bigquery_table)) {
      expect(table.encryption_configuration).toEqual({ kms_key_name: KEY });
    }
    expect(only(resources, 'google_storage_bucket').encryption).toEqual({ default_kms_key_name: KEY });
    expect(only(resources, 'google_dataflow_flex_template_job').kms_key_name).toBe(KEY);
    const members = Object.values(resources.google_kms_crypto_key_iam_member).map((g) => g.member);
    const data = JSON.parse(json).data as Resources;
    const dataRef = (type: string, id: string, attribute: string) =>
      ref(data, type, id, attribute).replace('${', '${data.');
    const number = dataRef('google_project', 'Project', 'number');
    expect(members.sort()).toEqual(
      [
        `serviceAccount:service-${number}@gcp-sa-pubsub.iam.gserviceaccount.com`,
        `serviceAccount:${dataRef('google_bigquery_default_service_account', 'BigQueryAgent', 'email')}`,
        `serviceAccount:${dataRef('google_storage_project_service_account', 'StorageAgent', 'email_address')}`,
        `serviceAccount:service-${number}@dataflow-service-producer-prod.iam.gserviceaccount.com`,
        `serviceAccount:service-${number}@compute-system.iam.gserviceaccount.com`,
        `serviceAccount:${ref(resources, 'google_service_account', 'WorkerServiceAccount', 'email')}`,
      ].sort(),
    );
    expect(json).toHaveResourceWithProperties(KmsCryptoKeyIamMember, {
      crypto_key_id: KEY,
      role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
    });
    // The topic is created only once Pub/Sub may use the key.
    expect(only(resources, 'google_pubsub_topic').depends_on).toHaveLength(5);
  });

  test('allowDataDestruction lets destroy delete tables, dataset contents and bucket objects', () => {
    const { resources } = synth({ allowDataDestruction: true });
    expect(only(resources, 'google_bigquery_dataset').delete_contents_on_destroy).toBe(true);
    expect(Object.values(resources.google_bigquery_table).map((t) => t.deletion_protection)).toEqual([false, false]);
    expect(only(resources, 'google_storage_bucket').force_destroy).toBe(true);
  });

  test('private worker IPs without a subnetwork fail synth: the default subnet has no Private Google Access', () => {
    expect(() => synth({ privateWorkerIps: true })).toThrow(
      'privateWorkerIps needs subnetwork ("regions/REGION/subnetworks/NAME" with Private Google Access)',
    );
  });

  test('the template release is pinned by default', () => {
    const job = only(synth().resources, 'google_dataflow_flex_template_job');
    expect(job.container_spec_gcs_path).toBe(
      `gs://dataflow-templates-europe-west1/${TEMPLATE_VERSION}/flex/PubSub_to_BigQuery_Flex`,
    );
    expect(TEMPLATE_VERSION).not.toBe('latest');
  });

  test('at-least-once, cancel on destroy, private workers, pinned template, worker sizing', () => {
    const { json } = synth({
      writeSemantics: 'at-least-once',
      onDestroy: 'cancel',
      privateWorkerIps: true,
      subnetwork: 'regions/europe-west1/subnetworks/dataflow',
      templateVersion: '2025-11-04-00_RC00',
      maxWorkers: 10,
      workerMachineType: 'n2-standard-4',
    });
    const job = only(JSON.parse(json).resource, 'google_dataflow_flex_template_job');
    expect(job).toMatchObject({
      on_delete: 'cancel',
      ip_configuration: 'WORKER_IP_PRIVATE',
      subnetwork: 'regions/europe-west1/subnetworks/dataflow',
      container_spec_gcs_path: 'gs://dataflow-templates-europe-west1/2025-11-04-00_RC00/flex/PubSub_to_BigQuery_Flex',
      max_workers: 10,
      machine_type: 'n2-standard-4',
    });
    expect(job.parameters.useStorageWriteApiAtLeastOnce).toBe('true');
    expect(job.parameters.numStorageWriteApiStreams).toBeUndefined();
  });

  test('bring your own topic, dataset and bucket: none of them is created', () => {
    const { resources } = synth({
      existingTopic: { id: 'projects/acme-data/topics/orders', name: 'orders' },
      existingDataset: { datasetId: 'warehouse' },
      existingTempBucket: { name: 'acme-dataflow-temp' },
    });
    expect(resources.google_pubsub_topic).toBeUndefined();
    expect(resources.google_bigquery_dataset).toBeUndefined();
    expect(resources.google_storage_bucket).toBeUndefined();
    expect(only(resources, 'google_pubsub_subscription').topic).toBe('projects/acme-data/topics/orders');
    expect(Object.values(resources.google_bigquery_table).map((t) => t.dataset_id)).toEqual(['warehouse', 'warehouse']);
    expect(Object.values(resources.google_storage_bucket_iam_member).map((g) => g.bucket)).toEqual([
      'acme-dataflow-temp',
      'acme-dataflow-temp',
    ]);
    expect(only(resources, 'google_bigquery_dataset_access').dataset_id).toBe('warehouse');
  });

  test('long pipeline names still give a valid service account id', () => {
    const { resources } = synth({ name: 'stream-foundry-production-clickstream' });
    const id = only(resources, 'google_service_account').account_id;
    expect(id).toMatch(/^df-stream-foundry-pro-[0-9a-f]{8}$/);
    expect(id.length).toBeLessThanOrEqual(30);
  });

  test.each<[string, Partial<PubSubToBigQueryProps>, string]>([
    [
      'topic',
      { existingTopic: { id: 'projects/p/topics/t', name: 't' }, topicProps: {} },
      'Pass either existingTopic or topicProps, not both',
    ],
    [
      'dataset',
      { existingDataset: { datasetId: 'd' }, datasetProps: {} },
      'Pass either existingDataset or datasetProps, not both',
    ],
    [
      'bucket',
      { existingTempBucket: { name: 'b' }, tempBucketProps: {} },
      'Pass either existingTempBucket or tempBucketProps, not both',
    ],
  ])('existing %s together with its props is an error naming both', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('a partition field that is not a timestamp fails synth with the reason', () => {
    expect(() => synth({ eventTimeField: 'status', clusteringFields: ['items'] })).toThrow(
      'PubSubToBigQuery "Pipeline": partition field "status" must be a TIMESTAMP or DATE (JSON Schema format date-time or date), found REQUIRED STRING; clustering field "items" must be a non-repeated',
    );
  });

  test('a schema BigQuery cannot express fails synth with its location', () => {
    expect(() => synth({ schema: { type: 'object', properties: { a: { type: ['string', 'number'] } } } })).toThrow(
      '/properties/a: type ["string","number"] cannot be expressed in BigQuery',
    );
  });
});
