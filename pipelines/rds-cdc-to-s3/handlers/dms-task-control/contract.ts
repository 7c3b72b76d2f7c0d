/**
 * The contract between the RdsCdcToS3 construct (pipelines/rds-cdc-to-s3/construct/replication.ts) and this handler: the
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

/**
 * Time budget of one deployment step, in minutes. CloudFormation gives a custom resource one hour (its ServiceTimeout
 * default and maximum, 3600 s); the provider framework's waiter gives up after `PROVIDER_TOTAL_TIMEOUT_MINUTES` and then
 * reports only "Operation timed out". So the handler itself fails first, at `HANDLER_DEADLINE_MINUTES`, with the task's
 * state and DMS's own reason (LastFailureMessage / StopReason), which CloudFormation shows as the resource's status reason.
 */
export const HANDLER_DEADLINE_MINUTES = 45;
export const PROVIDER_TOTAL_TIMEOUT_MINUTES = 50;
export const CLOUDFORMATION_TIMEOUT_MINUTES = 60;
