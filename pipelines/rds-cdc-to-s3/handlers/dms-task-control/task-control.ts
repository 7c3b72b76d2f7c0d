import {
  DatabaseMigrationServiceClient,
  DescribeReplicationTasksCommand,
  ReplicationTask,
  ResourceNotFoundFault,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import { z } from 'zod';
import { customResource } from '../../../../platform/handlers/custom-resource';
import { HANDLER_DEADLINE_MINUTES, ROLE, StarterProperties, StopperProperties } from './contract';

/**
 * Keeps a DMS replication task running across CloudFormation deployments (see contract.ts for the two roles). Driven by
 * the CDK Provider framework: `onEvent` answers at once, `isComplete` is polled until the task reaches the state the
 * deployment needs. Nothing here remembers anything between polls: each poll reads the task's state from DMS.
 */

/** DMS task states (DescribeReplicationTasks `Status`). */
const IN_TRANSITION = new Set(['creating', 'modifying', 'starting', 'stopping', 'moving', 'testing', 'deleting']);

export interface TaskControlDeps {
  readonly dms: DatabaseMigrationServiceClient;
  readonly now?: () => Date;
  readonly log?: (message: string, details?: Record<string, unknown>) => void;
}

/** DMS's words for why a task stopped or failed. */
function reasonOf(t: ReplicationTask): string | undefined {
  return t.LastFailureMessage || t.StopReason || undefined;
}

const schema = z.discriminatedUnion(
  'Role',
  [
    z.object({ Role: z.literal(ROLE.stopper), ReplicationInstanceArn: z.string().min(1), ConfigHash: z.string().optional() }),
    z.object({ Role: z.literal(ROLE.starter), ReplicationTaskArn: z.string().min(1), ConfigHash: z.string().optional() }),
  ],
  { error: 'expected Role "stopper" with ReplicationInstanceArn or "starter" with ReplicationTaskArn' },
);

export function createTaskControl(deps: TaskControlDeps) {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? (() => undefined);

  async function tasksOn(instanceArn: string): Promise<ReplicationTask[]> {
    const tasks: ReplicationTask[] = [];
    let Marker: string | undefined;
    do {
      try {
        const page = await deps.dms.send(
          new DescribeReplicationTasksCommand({
            Filters: [{ Name: 'replication-instance-arn', Values: [instanceArn] }],
            WithoutSettings: true,
            Marker,
          }),
        );
        tasks.push(...(page.ReplicationTasks ?? []));
        Marker = page.Marker;
      } catch (error) {
        if (error instanceof ResourceNotFoundFault) return tasks; // no task on the instance (yet)
        throw error;
      }
    } while (Marker);
    return tasks;
  }

  async function task(arn: string): Promise<ReplicationTask | undefined> {
    try {
      const { ReplicationTasks } = await deps.dms.send(
        new DescribeReplicationTasksCommand({ Filters: [{ Name: 'replication-task-arn', Values: [arn] }], WithoutSettings: true }),
      );
      return ReplicationTasks?.[0];
    } catch (error) {
      if (error instanceof ResourceNotFoundFault) return undefined;
      throw error;
    }
  }

  async function stop(t: ReplicationTask): Promise<void> {
    log('stopping replication task', { task: t.ReplicationTaskArn, status: t.Status });
    await deps.dms.send(new StopReplicationTaskCommand({ ReplicationTaskArn: t.ReplicationTaskArn! }));
  }

  /** Fails the step with the task's state and DMS's reason once the deadline has passed (see contract.ts). */
  function checkDeadline(requestedAt: Date | undefined, waitingFor: string, tasks: readonly ReplicationTask[]): void {
    if (requestedAt === undefined || now().getTime() - requestedAt.getTime() < HANDLER_DEADLINE_MINUTES * 60_000) return;
    const states = tasks.map((t) => `${t.ReplicationTaskIdentifier} is "${t.Status}"${reasonOf(t) ? ` (${reasonOf(t)})` : ''}`).join('; ');
    throw new Error(`gave up after ${HANDLER_DEADLINE_MINUTES} minutes waiting for ${waitingFor}: ${states || 'no task found'} (see the task's CloudWatch logs)`);
  }

  /** Stopper: stop what runs now; isComplete waits for it (and stops what was still starting). */
  async function stopperIsComplete(p: StopperProperties, requestedAt: Date | undefined): Promise<boolean> {
    let settled = true;
    const tasks = await tasksOn(p.ReplicationInstanceArn);
    for (const t of tasks) {
      if (t.Status === 'running') {
        await stop(t);
        settled = false;
      } else if (IN_TRANSITION.has(t.Status ?? '') && t.Status !== 'creating') {
        settled = false;
      }
    }
    if (!settled) checkDeadline(requestedAt, 'the tasks to stop', tasks);
    return settled;
  }

  /**
   * Starter: drive the task to `running`. `ready` (never run) → start-replication; `stopped` or `failed` before this
   * deployment → resume-processing (a full-load-and-cdc task that has run can only be resumed or reloaded). A task that
   * stops or fails after this deployment started it fails the deployment with DMS's reason.
   */
  async function starterIsComplete(p: StarterProperties, requestedAt: Date | undefined): Promise<boolean> {
    const t = await task(p.ReplicationTaskArn);
    if (!t) throw new Error(`replication task ${p.ReplicationTaskArn} not found`);
    const status = t.Status ?? '';
    if (status === 'running') return true;
    const startedByUs =
      requestedAt !== undefined && t.ReplicationTaskStartDate !== undefined && t.ReplicationTaskStartDate.getTime() >= requestedAt.getTime();
    if ((status === 'stopped' || status === 'failed') && startedByUs) {
      throw new Error(
        `replication task ${t.ReplicationTaskIdentifier} ${status} after it was started: ${reasonOf(t) ?? 'no reason given'} (see the task's CloudWatch logs)`,
      );
    }
    checkDeadline(requestedAt, 'the task to run', [t]);
    if (IN_TRANSITION.has(status)) return false;
    if (status === 'ready' || status === 'stopped' || status === 'failed') {
      const type = status === 'ready' ? 'start-replication' : 'resume-processing';
      log('starting replication task', { task: t.ReplicationTaskArn, status, type });
      await deps.dms.send(new StartReplicationTaskCommand({ ReplicationTaskArn: t.ReplicationTaskArn!, StartReplicationTaskType: type }));
      return false;
    }
    throw new Error(`replication task ${t.ReplicationTaskIdentifier} is in an unexpected state "${status}"`);
  }

  /** Starter delete: stop the task so CloudFormation can delete it (DMS refuses to delete a running task). */
  async function starterDeleteIsComplete(arn: string): Promise<boolean> {
    const t = await task(arn);
    if (!t) return true;
    if (t.Status === 'running') {
      await stop(t);
      return false;
    }
    return !IN_TRANSITION.has(t.Status ?? '') || t.Status === 'deleting';
  }

  return customResource({
    schema,
    async onCreate(p, event) {
      // The starter's id is its task: a replaced task is a new starter, and CloudFormation then deletes the old starter,
      // which stops the old task before CloudFormation deletes it.
      const physicalId = p.Role === ROLE.stopper ? `${p.ReplicationInstanceArn}/task-stopper` : p.ReplicationTaskArn;
      log(`${p.Role} ${event.RequestType}`, { physicalId });
      return { PhysicalResourceId: physicalId, Data: { RequestedAt: now().toISOString() } };
    },
    async onDelete(p, event) {
      log(`${p.Role} Delete`, { physicalId: event.PhysicalResourceId });
    },

    async isComplete(p, event) {
      if (event.RequestType === 'Delete') {
        // The stopper has nothing to undo; the starter stops its task.
        return p.Role === ROLE.stopper ? true : starterDeleteIsComplete(event.PhysicalResourceId!);
      }
      const requestedAt = event.Data?.RequestedAt ? new Date(event.Data.RequestedAt) : undefined;
      return p.Role === ROLE.stopper ? stopperIsComplete(p as StopperProperties, requestedAt) : starterIsComplete(p as StarterProperties, requestedAt);
    },
  });
}
