import * as fs from 'fs';
import { Testing } from 'cdktf';
import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import {
  CMEK_DEPLOYER_ROLES,
  DEPLOYER_ROLES,
  FRESHNESS_DEPLOYER_ROLES,
  PERMISSIONS_BY_TYPE,
  permissionsOf,
} from '../../../pipelines/pubsub-to-bigquery/deployer-permissions';
import { PubSubToBigQueryStack } from '../../../pipelines/pubsub-to-bigquery/stack';
import { fromRoot } from '../../../platform/paths';

const CMEK = {
  'gcp.kmsKeyName': 'projects/acme/locations/europe-west1/keyRings/r/cryptoKeys/k',
  'gcp.datasetLocation': 'europe-west1',
};

/** Resource types, and data source types as "data.<type>", of the stack synthesized with `overrides`. */
function synthesizedTypes(overrides: Record<string, unknown>): string[] {
  const config = parseConfig({ ...readCdkJsonContext(), ...overrides });
  const tf = JSON.parse(Testing.synth(new PubSubToBigQueryStack(Testing.app(), 'stack', config)));
  return [...Object.keys(tf.resource ?? {}), ...Object.keys(tf.data ?? {}).map((type) => `data.${type}`)];
}

/** Permissions the stack's types need that `roles` do not grant, as "type: permission". */
function notGranted(types: string[], roles: readonly string[]): string[] {
  const granted = permissionsOf(roles);
  return types.flatMap((type) =>
    (PERMISSIONS_BY_TYPE[type]?.permissions ?? []).filter((p) => !granted.has(p)).map((p) => `${type}: ${p}`),
  );
}

/** The roles docs/gcp.md's "Who may deploy" table lists, by its "When" column. */
function documentedRoles(): { always: string[]; cmek: string[]; freshness: string[] } {
  const doc = fs.readFileSync(fromRoot('docs', 'gcp.md'), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('Who may deploy'));
  expect(section).toBeDefined();
  const rows = [...section!.matchAll(/^\| `(roles\/[\w.]+)` \| ([^|]+) \|/gm)].map(([, role, when]) => ({
    role,
    when: when.trim(),
  }));
  return {
    always: rows.filter((r) => r.when === 'always').map((r) => r.role),
    cmek: rows.filter((r) => r.when === 'with `kmsKeyName`').map((r) => r.role),
    freshness: rows.filter((r) => r.when === 'with `freshness.enabled` (the default)').map((r) => r.role),
  };
}

const NO_CANARY = { 'freshness.enabled': false };

describe.each<[string, Record<string, unknown>, readonly string[]]>([
  ['cdk.json as it is', {}, [...DEPLOYER_ROLES, ...FRESHNESS_DEPLOYER_ROLES]],
  ['with alarm e-mails', { alarmEmails: 'oncall@example.com' }, [...DEPLOYER_ROLES, ...FRESHNESS_DEPLOYER_ROLES]],
  ['with CMEK', CMEK, [...DEPLOYER_ROLES, ...CMEK_DEPLOYER_ROLES, ...FRESHNESS_DEPLOYER_ROLES]],
  ['with freshness off', NO_CANARY, DEPLOYER_ROLES],
])('the deployer roles cover the synthesized stack (%s)', (_name, overrides, roles) => {
  const types = synthesizedTypes(overrides);

  test('every resource and data source type is in the permission table', () => {
    expect(types.filter((type) => !(type in PERMISSIONS_BY_TYPE))).toEqual([]);
  });

  test('every permission those types need is granted by the documented roles', () => {
    expect(notGranted(types, roles)).toEqual([]);
  });
});

describe('the roles docs/gcp.md lists', () => {
  test('are exactly the roles the permission test holds against the stack', () => {
    expect(documentedRoles()).toEqual({
      always: [...DEPLOYER_ROLES],
      cmek: [...CMEK_DEPLOYER_ROLES],
      freshness: [...FRESHNESS_DEPLOYER_ROLES],
    });
  });

  test('the freshness canary needs Cloud Scheduler Admin, and nothing else the list lacks', () => {
    expect(notGranted(synthesizedTypes({}), DEPLOYER_ROLES).sort()).toEqual([
      'google_cloud_scheduler_job: cloudscheduler.jobs.create',
      'google_cloud_scheduler_job: cloudscheduler.jobs.get',
    ]);
  });

  test('the roles docs/gcp.md offered before (Editor, Project IAM Admin, Service Account User) could not set IAM on the subscription, tables or bucket', () => {
    // roles/editor holds no setIamPolicy permission of Pub/Sub, BigQuery or Cloud Storage (IAM basic roles page:
    // Editor "does not include ... the ability to manage roles and permissions" of resources).
    const types = synthesizedTypes({});
    const missing = notGranted(types, ['roles/resourcemanager.projectIamAdmin', 'roles/iam.serviceAccountUser']);
    expect(missing).toEqual(
      expect.arrayContaining([
        'google_pubsub_subscription_iam_member: pubsub.subscriptions.setIamPolicy',
        'google_bigquery_table_iam_member: bigquery.tables.setIamPolicy',
        'google_storage_bucket_iam_member: storage.buckets.setIamPolicy',
      ]),
    );
  });

  test('without Pub/Sub Admin nothing else in the list can set IAM on the subscription', () => {
    const types = synthesizedTypes({});
    expect(notGranted(types, DEPLOYER_ROLES.filter((role) => role !== 'roles/pubsub.admin'))).toEqual(
      expect.arrayContaining(['google_pubsub_subscription_iam_member: pubsub.subscriptions.setIamPolicy']),
    );
  });

  test('CMEK needs its two extra roles: the key policy and the BigQuery service agent lookup', () => {
    const types = synthesizedTypes({ ...CMEK, ...NO_CANARY });
    expect(notGranted(types, DEPLOYER_ROLES).sort()).toEqual([
      'data.google_bigquery_default_service_account: bigquery.jobs.create',
      'google_kms_crypto_key_iam_member: cloudkms.cryptoKeys.getIamPolicy',
      'google_kms_crypto_key_iam_member: cloudkms.cryptoKeys.setIamPolicy',
    ]);
  });
});
