/**
 * A DMS replication task that answers DescribeReplicationTasks / StartReplicationTask / StopReplicationTask as DMS does
 * (DMS API Reference; User Guide "Error handling task settings"), no kinder:
 * - a new task is `creating`, then `ready`; `start-replication` only from `ready`, `resume-processing` only from
 *   `stopped` / `failed`; anything else is an InvalidResourceStateFault;
 * - a started task is `starting`, then looks for the tables its mappings select: when none exists and the task settings
 *   do not set `ErrorBehavior.FailOnNoTablesCaptured` to false (DMS's default is true), the task goes to `failed` with
 *   "No tables were found at task initialization"; otherwise it is `running`.
 */
import {
  DatabaseMigrationServiceClient,
  DescribeReplicationTasksCommand,
  InvalidResourceStateFault,
  ReplicationTask,
  ResourceNotFoundFault,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import { AwsClientStub } from 'aws-sdk-client-mock';

export const NO_TABLES_MESSAGE = 'No tables were found at task initialization';

export interface FakeTaskOptions {
  readonly arn: string;
  readonly identifier: string;
  /** The task's ReplicationTaskSettings JSON, as deployed. */
  readonly settings: string;
  /** The source tables the task's mappings select, as they exist when the task starts. */
  readonly selectedTables: () => Promise<readonly string[]> | readonly string[];
  readonly now: () => Date;
}

type DmsMock = AwsClientStub<DatabaseMigrationServiceClient>;

export function fakeDmsTask(dms: DmsMock, options: FakeTaskOptions): { task: ReplicationTask } {
  const failOnNoTables = JSON.parse(options.settings).ErrorBehavior?.FailOnNoTablesCaptured !== false;
  const state: { task: ReplicationTask } = {
    task: { ReplicationTaskArn: options.arn, ReplicationTaskIdentifier: options.identifier, Status: 'creating' },
  };
  const fault = (message: string) => new InvalidResourceStateFault({ message, $metadata: {} });

  dms.on(DescribeReplicationTasksCommand).callsFake(async (input) => {
    const filter = input.Filters?.[0];
    const matches =
      (filter?.Name === 'replication-task-arn' && filter.Values?.includes(options.arn)) || filter?.Name === 'replication-instance-arn';
    if (!matches) throw new ResourceNotFoundFault({ message: 'No Tasks found matching provided filters', $metadata: {} });
    const t = state.task;
    if (t.Status === 'creating') state.task = { ...t, Status: 'ready' };
    else if (t.Status === 'starting') {
      const tables = await options.selectedTables();
      state.task =
        tables.length === 0 && failOnNoTables
          ? { ...t, Status: 'failed', LastFailureMessage: NO_TABLES_MESSAGE, StopReason: 'Stop Reason FATAL_ERROR Error Level FATAL' }
          : { ...t, Status: 'running' };
    } else if (t.Status === 'stopping') state.task = { ...t, Status: 'stopped', StopReason: 'Stop Reason NORMAL' };
    return { ReplicationTasks: [state.task] };
  });

  dms.on(StartReplicationTaskCommand).callsFake(async (input) => {
    const t = state.task;
    const allowed = input.StartReplicationTaskType === 'start-replication' ? ['ready'] : ['stopped', 'failed'];
    if (input.ReplicationTaskArn !== options.arn || !allowed.includes(t.Status ?? '')) {
      throw fault(`Replication task is in state ${t.Status}: ${input.StartReplicationTaskType} is not allowed`);
    }
    state.task = { ...t, Status: 'starting', ReplicationTaskStartDate: options.now(), LastFailureMessage: undefined, StopReason: undefined };
    return { ReplicationTask: state.task };
  });

  dms.on(StopReplicationTaskCommand).callsFake(async () => {
    if (state.task.Status !== 'running') throw fault(`Replication task is not running (${state.task.Status})`);
    state.task = { ...state.task, Status: 'stopping' };
    return { ReplicationTask: state.task };
  });
  return state;
}
