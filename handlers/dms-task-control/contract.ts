/**
 * The contract between the RdsCdcToS3 construct (constructs/aws/rds-cdc-to-s3/replication.ts) and this handler: the
 * custom-resource properties. One handler backs two custom resources, told apart by `Role`:
 *
 * - `stopper`: runs BEFORE the task and the endpoints are updated (they depend on it). Triggered by `ConfigHash`, a
 *   hash of the task's and endpoints' settings: it stops every running task on the replication instance and waits
 *   until they are stopped, so CloudFormation's ModifyReplicationTask / ModifyEndpoint find them stopped.
 * - `starter`: runs AFTER the task (it references it). On create it waits for the task to be `ready` and starts it;
 *   on update (same `ConfigHash` trigger) it waits for CloudFormation's modification to finish and resumes it; on
 *   delete it stops the task so CloudFormation can delete it.
 */
export const ROLE = { stopper: 'stopper', starter: 'starter' } as const;
export type Role = (typeof ROLE)[keyof typeof ROLE];

export interface StopperProperties {
  readonly Role: typeof ROLE.stopper;
  /** The replication instance whose tasks are stopped (the pipeline's own instance). */
  readonly ReplicationInstanceArn: string;
  /** Changes whenever the task or an endpoint changes: what makes CloudFormation run this resource's update. */
  readonly ConfigHash: string;
}

export interface StarterProperties {
  readonly Role: typeof ROLE.starter;
  readonly ReplicationTaskArn: string;
  readonly ConfigHash: string;
}

export type TaskControlProperties = StopperProperties | StarterProperties;
