/**
 * What the identity that runs `terraform apply` (or `cdktf deploy`) needs, as data, so a test can hold the roles
 * docs/gcp.md tells users to grant against the resources the stack really synthesizes
 * (test/pipelines/pubsub-to-bigquery/deployer-permissions.test.ts).
 *
 * Two tables:
 * - PERMISSIONS_BY_TYPE: per Terraform resource type (and data source, as "data.<type>") in the synthesized JSON, the
 *   IAM permissions creating it needs, plus the read the provider does right after create. From each service's
 *   access-control page (cited per entry) and, where the provider calls more than the page says, its source.
 * - ROLE_GRANTS: per documented role, the permissions it includes, from Google's predefined roles reference
 *   (https://cloud.google.com/iam/docs/roles-permissions, one page per service; the same lists are mirrored in
 *   github.com/iann0036/iam-dataset gcp/roles/<role>.json). Only the permissions this stack needs are listed.
 */

export interface TypePermissions {
  readonly permissions: readonly string[];
  /** Where the permissions come from. */
  readonly source: string;
}

export const PERMISSIONS_BY_TYPE: Record<string, TypePermissions> = {
  google_project_service: {
    // The provider reads the project (Cloud Resource Manager) and the enabled services before it enables one.
    permissions: ['serviceusage.services.enable', 'serviceusage.services.list', 'resourcemanager.projects.get'],
    source:
      'https://cloud.google.com/service-usage/docs/access-control; terraform-provider-google resource_google_project_service.go (Projects.Get, BatchRequestReadServices)',
  },
  'data.google_project_service': {
    permissions: ['resourcemanager.projects.get', 'serviceusage.services.list'],
    source: 'terraform-provider-google data_source_google_project_service.go (reads like the resource)',
  },
  time_sleep: { permissions: [], source: 'hashicorp/time: no Google API call' },
  google_pubsub_topic: {
    permissions: ['pubsub.topics.create', 'pubsub.topics.get'],
    source: 'https://cloud.google.com/pubsub/docs/access-control',
  },
  google_pubsub_subscription: {
    // Attaching a subscription to a topic is checked on the topic.
    permissions: ['pubsub.subscriptions.create', 'pubsub.topics.attachSubscription', 'pubsub.subscriptions.get'],
    source: 'https://cloud.google.com/pubsub/docs/access-control',
  },
  google_pubsub_topic_iam_member: {
    // The freshness canary's publisher grant.
    permissions: ['pubsub.topics.getIamPolicy', 'pubsub.topics.setIamPolicy'],
    source: 'https://cloud.google.com/pubsub/docs/access-control',
  },
  google_pubsub_subscription_iam_member: {
    permissions: ['pubsub.subscriptions.getIamPolicy', 'pubsub.subscriptions.setIamPolicy'],
    source: 'https://cloud.google.com/pubsub/docs/access-control',
  },
  google_bigquery_dataset: {
    permissions: ['bigquery.datasets.create', 'bigquery.datasets.get'],
    source: 'https://cloud.google.com/bigquery/docs/datasets',
  },
  google_bigquery_dataset_access: {
    // Since 17 March 2026 updating a dataset's access controls also needs the IAM-policy permissions.
    permissions: [
      'bigquery.datasets.get',
      'bigquery.datasets.update',
      'bigquery.datasets.getIamPolicy',
      'bigquery.datasets.setIamPolicy',
    ],
    source:
      'https://cloud.google.com/bigquery/docs/control-access-to-resources-iam; https://cloud.google.com/bigquery/docs/dataset-access-control',
  },
  google_bigquery_table: {
    permissions: ['bigquery.tables.create', 'bigquery.tables.get'],
    source: 'https://cloud.google.com/bigquery/docs/tables',
  },
  google_bigquery_table_iam_member: {
    permissions: ['bigquery.tables.getIamPolicy', 'bigquery.tables.setIamPolicy'],
    source: 'https://cloud.google.com/bigquery/docs/control-access-to-resources-iam',
  },
  google_storage_bucket: {
    permissions: ['storage.buckets.create', 'storage.buckets.get'],
    source: 'https://cloud.google.com/storage/docs/creating-buckets',
  },
  google_storage_bucket_object: {
    // The canary filter UDF; a changed UDF is a new object, created before the old one is deleted.
    permissions: ['storage.objects.create', 'storage.objects.get', 'storage.objects.delete'],
    source: 'https://cloud.google.com/storage/docs/access-control/iam-permissions',
  },
  google_storage_bucket_iam_member: {
    permissions: ['storage.buckets.getIamPolicy', 'storage.buckets.setIamPolicy'],
    source: 'https://cloud.google.com/storage/docs/access-control/using-iam-permissions',
  },
  google_service_account: {
    permissions: ['iam.serviceAccounts.create', 'iam.serviceAccounts.get'],
    source: 'https://cloud.google.com/iam/docs/service-accounts-create',
  },
  google_project_iam_member: {
    permissions: ['resourcemanager.projects.getIamPolicy', 'resourcemanager.projects.setIamPolicy'],
    source: 'https://cloud.google.com/iam/docs/granting-changing-revoking-access',
  },
  google_dataflow_flex_template_job: {
    // Running a job as a service account needs actAs on that account.
    permissions: ['dataflow.jobs.create', 'dataflow.jobs.get', 'iam.serviceAccounts.actAs'],
    source:
      'https://cloud.google.com/dataflow/docs/concepts/security-and-permissions; https://cloud.google.com/dataflow/docs/guides/templates/run-flex-templates',
  },
  google_cloud_scheduler_job: {
    // The canary's HTTP target sends an OAuth token of the canary service account: attaching it needs actAs.
    permissions: ['cloudscheduler.jobs.create', 'cloudscheduler.jobs.get', 'iam.serviceAccounts.actAs'],
    source: 'https://cloud.google.com/scheduler/docs/access-control; https://cloud.google.com/scheduler/docs/http-target-auth',
  },
  google_monitoring_notification_channel: {
    permissions: ['monitoring.notificationChannels.create', 'monitoring.notificationChannels.get'],
    source: 'https://cloud.google.com/monitoring/access-control',
  },
  google_monitoring_alert_policy: {
    permissions: ['monitoring.alertPolicies.create', 'monitoring.alertPolicies.get'],
    source: 'https://cloud.google.com/monitoring/access-control',
  },
  google_monitoring_dashboard: {
    permissions: ['monitoring.dashboards.create', 'monitoring.dashboards.get'],
    source: 'https://cloud.google.com/monitoring/access-control',
  },
  // CMEK only (gcp.kmsKeyName): the key grants to the service agents and the lookups of their addresses.
  google_kms_crypto_key_iam_member: {
    permissions: ['cloudkms.cryptoKeys.getIamPolicy', 'cloudkms.cryptoKeys.setIamPolicy'],
    source: 'https://cloud.google.com/kms/docs/iam',
  },
  'data.google_project': {
    permissions: ['resourcemanager.projects.get'],
    source: 'https://cloud.google.com/resource-manager/reference/rest/v1/projects/get',
  },
  'data.google_bigquery_default_service_account': {
    permissions: ['bigquery.jobs.create'],
    source:
      'https://cloud.google.com/bigquery/docs/reference/rest/v2/projects/getServiceAccount ("Requires the bigquery.jobs.create permission")',
  },
  'data.google_storage_project_service_account': {
    permissions: ['resourcemanager.projects.get'],
    source: 'https://cloud.google.com/storage/docs/json_api/v1/projects/serviceAccount/get',
  },
};

/** The roles docs/gcp.md tells users to grant the deployer (on the project), each the narrowest predefined role for its part. */
export const DEPLOYER_ROLES = [
  'roles/serviceusage.serviceUsageAdmin',
  'roles/pubsub.admin',
  'roles/bigquery.dataOwner',
  'roles/storage.admin',
  'roles/iam.serviceAccountAdmin',
  'roles/iam.serviceAccountUser',
  'roles/resourcemanager.projectIamAdmin',
  'roles/dataflow.developer',
  'roles/monitoring.editor',
] as const;

/** Added with gcp.kmsKeyName: Cloud KMS Admin on the key (it alone, with Owner and Security Admin, sets a key's policy). */
export const CMEK_DEPLOYER_ROLES = ['roles/cloudkms.admin', 'roles/bigquery.jobUser'] as const;

/** Added with freshness.enabled (the default): the canary's Cloud Scheduler job (Admin is the only role that creates jobs). */
export const FRESHNESS_DEPLOYER_ROLES = ['roles/cloudscheduler.admin'] as const;

type DeployerRole =
  | (typeof DEPLOYER_ROLES)[number]
  | (typeof CMEK_DEPLOYER_ROLES)[number]
  | (typeof FRESHNESS_DEPLOYER_ROLES)[number];

/** The permissions of each documented role that this stack needs (predefined roles reference; see the file comment). */
export const ROLE_GRANTS: Record<DeployerRole, string[]> = {
  'roles/serviceusage.serviceUsageAdmin': [
    'serviceusage.services.enable',
    'serviceusage.services.get',
    'serviceusage.services.list',
  ],
  'roles/pubsub.admin': [
    'pubsub.topics.create',
    'pubsub.topics.get',
    'pubsub.topics.attachSubscription',
    'pubsub.subscriptions.create',
    'pubsub.subscriptions.get',
    'pubsub.subscriptions.getIamPolicy',
    'pubsub.subscriptions.setIamPolicy',
    'pubsub.topics.getIamPolicy',
    'pubsub.topics.setIamPolicy',
    'resourcemanager.projects.get',
    'serviceusage.services.list',
  ],
  'roles/bigquery.dataOwner': [
    'bigquery.datasets.create',
    'bigquery.datasets.get',
    'bigquery.datasets.update',
    'bigquery.datasets.getIamPolicy',
    'bigquery.datasets.setIamPolicy',
    'bigquery.tables.create',
    'bigquery.tables.get',
    'bigquery.tables.getIamPolicy',
    'bigquery.tables.setIamPolicy',
    'resourcemanager.projects.get',
  ],
  'roles/storage.admin': [
    'storage.buckets.create',
    'storage.buckets.get',
    'storage.buckets.getIamPolicy',
    'storage.buckets.setIamPolicy',
    'storage.objects.create',
    'storage.objects.get',
    'storage.objects.delete',
    'resourcemanager.projects.get',
  ],
  'roles/iam.serviceAccountAdmin': ['iam.serviceAccounts.create', 'iam.serviceAccounts.get', 'resourcemanager.projects.get'],
  'roles/iam.serviceAccountUser': ['iam.serviceAccounts.actAs', 'iam.serviceAccounts.get', 'resourcemanager.projects.get'],
  'roles/resourcemanager.projectIamAdmin': [
    'resourcemanager.projects.get',
    'resourcemanager.projects.getIamPolicy',
    'resourcemanager.projects.setIamPolicy',
  ],
  'roles/dataflow.developer': ['dataflow.jobs.create', 'dataflow.jobs.get', 'resourcemanager.projects.get'],
  'roles/monitoring.editor': [
    'monitoring.alertPolicies.create',
    'monitoring.alertPolicies.get',
    'monitoring.dashboards.create',
    'monitoring.dashboards.get',
    'monitoring.notificationChannels.create',
    'monitoring.notificationChannels.get',
    'resourcemanager.projects.get',
  ],
  'roles/cloudkms.admin': ['cloudkms.cryptoKeys.getIamPolicy', 'cloudkms.cryptoKeys.setIamPolicy'],
  'roles/cloudscheduler.admin': ['cloudscheduler.jobs.create', 'cloudscheduler.jobs.get', 'resourcemanager.projects.get'],
  'roles/bigquery.jobUser': ['bigquery.jobs.create', 'resourcemanager.projects.get'],
};

/** Every permission of `roles`, per ROLE_GRANTS. */
export function permissionsOf(roles: readonly string[]): Set<string> {
  return new Set(roles.flatMap((role) => ROLE_GRANTS[role as keyof typeof ROLE_GRANTS] ?? []));
}
