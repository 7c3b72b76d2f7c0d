import { Construct } from 'constructs';
import { DataGoogleBigqueryDefaultServiceAccount } from '@cdktf/provider-google/lib/data-google-bigquery-default-service-account';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { DataGoogleStorageProjectServiceAccount } from '@cdktf/provider-google/lib/data-google-storage-project-service-account';
import { KmsCryptoKeyIamMember } from '@cdktf/provider-google/lib/kms-crypto-key-iam-member';

/**
 * Lets the Google service agents that encrypt at rest for us use the customer-managed key. Whatever is encrypted with
 * the key (topic, dataset, bucket, job) depends on these grants.
 */
export function grantServiceAgentsKeyUse(
  scope: Construct,
  project: string,
  kmsKeyName: string,
): KmsCryptoKeyIamMember[] {
  const number = new DataGoogleProject(scope, 'Project', { projectId: project }).number;
  const agents: Record<string, string> = {
    PubSub: `service-${number}@gcp-sa-pubsub.iam.gserviceaccount.com`,
    BigQuery: new DataGoogleBigqueryDefaultServiceAccount(scope, 'BigQueryAgent', { project }).email,
    Storage: new DataGoogleStorageProjectServiceAccount(scope, 'StorageAgent', { project }).emailAddress,
    Dataflow: `service-${number}@dataflow-service-producer-prod.iam.gserviceaccount.com`,
    Compute: `service-${number}@compute-system.iam.gserviceaccount.com`,
  };
  return Object.entries(agents).map(
    ([agent, email]) =>
      new KmsCryptoKeyIamMember(scope, `${agent}AgentKeyUse`, {
        cryptoKeyId: kmsKeyName,
        role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
        member: `serviceAccount:${email}`,
      }),
  );
}
