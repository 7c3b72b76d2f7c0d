import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { shortHash } from './names';
import { ResolvedProps } from './props';

/** Folders of the temp bucket: the lifecycle rule must match the job's temp location and never its staging one. */
const TEMP_PREFIX = 'temp';
const STAGING_PREFIX = 'staging';

/** The job's `tempLocation`: Beam's temporary files, deleted after a week. */
export function tempLocation(bucketName: string): string {
  return `gs://${bucketName}/${TEMP_PREFIX}`;
}

/** The job's `stagingLocation`: the files the running job was launched with, kept. */
export function stagingLocation(bucketName: string): string {
  return `gs://${bucketName}/${STAGING_PREFIX}`;
}

/** The bucket for Dataflow temp and staging files: `existingTempBucket`, or one we create (then also returned as `created`). */
export function buildTempBucket(
  scope: Construct,
  props: ResolvedProps,
  encryptionGrants: ITerraformDependable[],
): { name: string; created?: StorageBucket } {
  if (props.existingTempBucket) return { name: props.existingTempBucket.name };
  const project = props.projectId;
  const created = new StorageBucket(scope, 'TempBucket', {
    project,
    // Globally unique and within 63 characters whatever the project id and pipeline name are.
    name: `${project}-dataflow-${shortHash(props.name)}`,
    location: props.region.toUpperCase(),
    labels: { ...props.labels, purpose: 'dataflow-temp' },
    uniformBucketLevelAccess: true,
    publicAccessPrevention: 'enforced',
    encryption: props.kmsKeyName ? { defaultKmsKeyName: props.kmsKeyName } : undefined,
    // Only temp/ expires. staging/ holds the files the running job was launched with: workers that start later
    // (autoscaling, restarts, an update) read them, so deleting them after a week stops the job from restarting.
    lifecycleRule: [{ condition: { age: 7, matchesPrefix: [`${TEMP_PREFIX}/`] }, action: { type: 'Delete' } }],
    forceDestroy: props.allowDataDestruction,
    dependsOn: encryptionGrants,
    ...props.tempBucketProps,
  });
  return { name: created.name, created };
}
