import {
  DatabaseMigrationServiceClient,
  DescribeReplicationTasksCommand,
  ReplicationTask,
  ResourceNotFoundFault,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import { mockClient } from 'aws-sdk-client-mock';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { renderTaskSettings } from '../../../../../pipelines/rds-cdc-to-s3/construct/task-settings';
import { CLOUDFORMATION_TIMEOUT_MINUTES, HANDLER_DEADLINE_MINUTES, PROVIDER_TOTAL_TIMEOUT_MINUTES } from '../../../../../pipelines/rds-cdc-to-s3/handlers/dms-task-control/contract';
import { createTaskControl } from '../../../../../pipelines/rds-cdc-to-s3/handlers/dms-task-control/task-control';
import type { CdkCustomResourceIsCompleteResponse as IsCompleteResult, IsCompleteEvent } from '../../../../../platform/handlers/custom-resource';
import { fakeDmsTask, NO_TABLES_MESSAGE } from './dms-fake';

const dmsMock = mockClient(DatabaseMigrationServiceClient);
const INSTANCE = 'arn:aws:dms:eu-west-1:123456789012:rep:INSTANCE';
const TASK = 'arn:aws:dms:eu-west-1:123456789012:task:TASK';
const REQUESTED_AT = new Date('2026-11-22T12:00:00Z');

const control = createTaskControl({ dms: new DatabaseMigrationServiceClient({ region: 'eu-west-1' }), now: () => REQUESTED_AT });

function event(requestType: 'Create' | 'Update' | 'Delete', props: Record<string, string>, physicalId?: string): IsCompleteEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'token',
    ResponseURL: 'https://example.com',
    StackId: 'stack',
    RequestId: 'req',
    LogicalResourceId: 'Res',
    ResourceType: 'Custom::DmsTaskControl',
    ResourceProperties: { ServiceToken: 'token', ...props },
    ...(requestType !== 'Create' && { PhysicalResourceId: physicalId ?? 'id', OldResourceProperties: {} }),
    Data: { RequestedAt: REQUESTED_AT.toISOString() },
  } as unknown as IsCompleteEvent;
}
const stopper = (type: 'Create' | 'Update' | 'Delete') => event(type, { Role: 'stopper', ReplicationInstanceArn: INSTANCE, ConfigHash: 'h1' });
const starter = (type: 'Create' | 'Update' | 'Delete', physicalId = TASK) =>
  event(type, { Role: 'starter', ReplicationTaskArn: TASK, ConfigHash: 'h1' }, physicalId);
const task = (status: string, extra: Partial<ReplicationTask> = {}): ReplicationTask => ({
  ReplicationTaskArn: TASK,
  ReplicationTaskIdentifier: 'orders-cdc',
  Status: status,
  ...extra,
});
const describing = (...tasks: ReplicationTask[]) => dmsMock.on(DescribeReplicationTasksCommand).resolves({ ReplicationTasks: tasks });
const notFound = () => new ResourceNotFoundFault({ message: 'No Tasks found matching provided filters', $metadata: {} });

beforeEach(() => dmsMock.reset());

describe('onEvent', () => {
  test('the stopper is named after its instance, the starter after its task; both record when they were asked', async () => {
    await expect(control.onEvent(stopper('Create'))).resolves.toEqual({
      PhysicalResourceId: `${INSTANCE}/task-stopper`,
      Data: { RequestedAt: REQUESTED_AT.toISOString() },
    });
    await expect(control.onEvent(starter('Update', 'arn:old-task'))).resolves.toMatchObject({ PhysicalResourceId: TASK });
    await expect(control.onEvent(starter('Delete', 'arn:old-task'))).resolves.toMatchObject({ PhysicalResourceId: 'arn:old-task' });
    expect(dmsMock.calls()).toHaveLength(0);
  });

  test('rejects properties that name neither role', async () => {
    await expect(control.onEvent(event('Create', { Role: 'other' }))).rejects.toThrow(/expected Role "stopper"/);
  });
});

describe('stopper (runs before CloudFormation modifies the task or an endpoint)', () => {
  test('stops each running task of the instance and is complete only once none is running or stopping', async () => {
    describing(task('running'), task('ready', { ReplicationTaskArn: 'arn:other' }));
    await expect(control.isComplete(stopper('Update'))).resolves.toEqual({ IsComplete: false });
    expect(dmsMock.commandCalls(StopReplicationTaskCommand).map((c) => c.args[0].input)).toEqual([{ ReplicationTaskArn: TASK }]);
    expect(dmsMock.commandCalls(DescribeReplicationTasksCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'replication-instance-arn', Values: [INSTANCE] },
    ]);

    describing(task('stopping'));
    await expect(control.isComplete(stopper('Update'))).resolves.toEqual({ IsComplete: false });
    describing(task('stopped'), task('ready', { ReplicationTaskArn: 'arn:other' }));
    await expect(control.isComplete(stopper('Update'))).resolves.toEqual({ IsComplete: true });
    expect(dmsMock.commandCalls(StopReplicationTaskCommand)).toHaveLength(1);
  });

  test('waits for a task that is still starting, then stops it', async () => {
    describing(task('starting'));
    await expect(control.isComplete(stopper('Update'))).resolves.toEqual({ IsComplete: false });
    expect(dmsMock.commandCalls(StopReplicationTaskCommand)).toHaveLength(0);
  });

  test('on first deploy (no task on the instance yet: DMS answers ResourceNotFoundFault) there is nothing to stop', async () => {
    dmsMock.on(DescribeReplicationTasksCommand).rejects(notFound());
    await expect(control.isComplete(stopper('Create'))).resolves.toEqual({ IsComplete: true });
  });

  test('reads every page of tasks', async () => {
    dmsMock
      .on(DescribeReplicationTasksCommand)
      .resolvesOnce({ ReplicationTasks: [task('stopped')], Marker: 'next' })
      .resolvesOnce({ ReplicationTasks: [task('running', { ReplicationTaskArn: 'arn:second' })] });
    await expect(control.isComplete(stopper('Update'))).resolves.toEqual({ IsComplete: false });
    expect(dmsMock.commandCalls(StopReplicationTaskCommand)[0].args[0].input).toEqual({ ReplicationTaskArn: 'arn:second' });
  });

  test('delete does nothing', async () => {
    await expect(control.isComplete(stopper('Delete'))).resolves.toEqual({ IsComplete: true });
    expect(dmsMock.calls()).toHaveLength(0);
  });

  test('a DMS error other than "not found" fails the deployment', async () => {
    dmsMock.on(DescribeReplicationTasksCommand).rejects(new Error('AccessDenied'));
    await expect(control.isComplete(stopper('Update'))).rejects.toThrow('AccessDenied');
  });
});

describe('starter (runs after CloudFormation created or modified the task)', () => {
  test('create: waits while the task is being created, starts it (start-replication) once ready, completes when running', async () => {
    describing(task('creating'));
    await expect(control.isComplete(starter('Create'))).resolves.toEqual({ IsComplete: false });
    describing(task('ready'));
    await expect(control.isComplete(starter('Create'))).resolves.toEqual({ IsComplete: false });
    expect(dmsMock.commandCalls(StartReplicationTaskCommand).map((c) => c.args[0].input)).toEqual([
      { ReplicationTaskArn: TASK, StartReplicationTaskType: 'start-replication' },
    ]);
    describing(task('starting', { ReplicationTaskStartDate: new Date(REQUESTED_AT.getTime() + 5000) }));
    await expect(control.isComplete(starter('Create'))).resolves.toEqual({ IsComplete: false });
    describing(task('running', { ReplicationTaskStartDate: new Date(REQUESTED_AT.getTime() + 5000) }));
    await expect(control.isComplete(starter('Create'))).resolves.toEqual({ IsComplete: true });
    expect(dmsMock.commandCalls(StartReplicationTaskCommand)).toHaveLength(1);
  });

  test('update: waits out the modification, then resumes the stopped task (resume-processing keeps the CDC position)', async () => {
    const earlier = { ReplicationTaskStartDate: new Date(REQUESTED_AT.getTime() - 86_400_000) };
    describing(task('modifying', earlier));
    await expect(control.isComplete(starter('Update'))).resolves.toEqual({ IsComplete: false });
    describing(task('stopped', earlier));
    await expect(control.isComplete(starter('Update'))).resolves.toEqual({ IsComplete: false });
    expect(dmsMock.commandCalls(StartReplicationTaskCommand)[0].args[0].input).toEqual({
      ReplicationTaskArn: TASK,
      StartReplicationTaskType: 'resume-processing',
    });
  });

  test('a task that stops or fails after this deployment started it fails the deployment with the reason', async () => {
    describing(task('failed', { ReplicationTaskStartDate: new Date(REQUESTED_AT.getTime() + 1000), LastFailureMessage: 'Failed to connect to database' }));
    await expect(control.isComplete(starter('Create'))).rejects.toThrow(/orders-cdc failed after it was started: Failed to connect to database/);
    expect(dmsMock.commandCalls(StartReplicationTaskCommand)).toHaveLength(0);
  });

  test('a task that failed before this deployment is resumed', async () => {
    describing(task('failed', { ReplicationTaskStartDate: new Date(REQUESTED_AT.getTime() - 1000) }));
    await expect(control.isComplete(starter('Update'))).resolves.toEqual({ IsComplete: false });
    expect(dmsMock.commandCalls(StartReplicationTaskCommand)[0].args[0].input.StartReplicationTaskType).toBe('resume-processing');
  });

  test('a missing task fails the deployment', async () => {
    dmsMock.on(DescribeReplicationTasksCommand).rejects(notFound());
    await expect(control.isComplete(starter('Create'))).rejects.toThrow(/not found/);
  });

  test('delete: stops the running task (DMS cannot delete a running task) and waits until it is stopped', async () => {
    describing(task('running'));
    await expect(control.isComplete(starter('Delete', 'arn:old-task'))).resolves.toEqual({ IsComplete: false });
    expect(dmsMock.commandCalls(DescribeReplicationTasksCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'replication-task-arn', Values: ['arn:old-task'] },
    ]);
    expect(dmsMock.commandCalls(StopReplicationTaskCommand)).toHaveLength(1);
    describing(task('stopping'));
    await expect(control.isComplete(starter('Delete'))).resolves.toEqual({ IsComplete: false });
    describing(task('stopped'));
    await expect(control.isComplete(starter('Delete'))).resolves.toEqual({ IsComplete: true });
    dmsMock.on(DescribeReplicationTasksCommand).rejects(notFound());
    await expect(control.isComplete(starter('Delete'))).resolves.toEqual({ IsComplete: true });
  });
});

test('CloudFormation events without Data (defensive): a starter treats every earlier start as before this deployment', async () => {
  const e = { ...starter('Create'), Data: undefined } as unknown as CloudFormationCustomResourceEvent;
  describing(task('stopped', { ReplicationTaskStartDate: new Date(0) }));
  await expect(control.isComplete(e)).resolves.toEqual({ IsComplete: false });
});

describe('first deploy before the tables exist (the README creates shop.orders after `cdk deploy`)', () => {
  let clock = REQUESTED_AT.getTime();
  const timed = createTaskControl({ dms: new DatabaseMigrationServiceClient({ region: 'eu-west-1' }), now: () => new Date(clock) });
  beforeEach(() => (clock = REQUESTED_AT.getTime()));

  /** The starter as the provider framework runs it: onEvent, then isComplete every 20 s until done or failed. */
  async function deployStarter(): Promise<IsCompleteResult> {
    const created = await timed.onEvent(starter('Create'));
    const e = { ...starter('Create'), Data: created.Data } as IsCompleteEvent;
    for (let poll = 0; poll < 20; poll++) {
      clock += 20_000;
      const result = await timed.isComplete(e);
      if (result.IsComplete) return result;
    }
    throw new Error('the task never settled');
  }

  test('with the deployed task settings (FailOnNoTablesCaptured false) the task starts with no table and runs', async () => {
    const dms = fakeDmsTask(dmsMock, { arn: TASK, identifier: 'orders-cdc', settings: renderTaskSettings(), selectedTables: () => [], now: () => new Date(clock) });
    await expect(deployStarter()).resolves.toEqual({ IsComplete: true });
    expect(dms.task.Status).toBe('running');
    expect(dmsMock.commandCalls(StartReplicationTaskCommand).map((c) => c.args[0].input.StartReplicationTaskType)).toEqual(['start-replication']);
  });

  test("with DMS's default (FailOnNoTablesCaptured true) the same start fails the deployment with DMS's reason", async () => {
    const settings = JSON.parse(renderTaskSettings());
    settings.ErrorBehavior.FailOnNoTablesCaptured = true;
    fakeDmsTask(dmsMock, { arn: TASK, identifier: 'orders-cdc', settings: JSON.stringify(settings), selectedTables: () => [], now: () => new Date(clock) });
    await expect(deployStarter()).rejects.toThrow(`orders-cdc failed after it was started: ${NO_TABLES_MESSAGE}`);
  });
});

describe('CloudFormation hears why before it gives up (one hour per custom resource)', () => {
  test('the deadline comes before the provider gives up, which comes before CloudFormation does', () => {
    expect(HANDLER_DEADLINE_MINUTES).toBeLessThan(PROVIDER_TOTAL_TIMEOUT_MINUTES);
    expect(PROVIDER_TOTAL_TIMEOUT_MINUTES).toBeLessThan(CLOUDFORMATION_TIMEOUT_MINUTES);
  });

  test('a task still starting at the deadline fails the starter with its state and the DMS reason', async () => {
    const late = createTaskControl({
      dms: new DatabaseMigrationServiceClient({ region: 'eu-west-1' }),
      now: () => new Date(REQUESTED_AT.getTime() + HANDLER_DEADLINE_MINUTES * 60_000),
    });
    describing(task('starting', { ReplicationTaskStartDate: REQUESTED_AT, StopReason: 'Stop Reason RECOVERABLE_ERROR' }));
    await expect(late.isComplete(starter('Create'))).rejects.toThrow(
      `gave up after ${HANDLER_DEADLINE_MINUTES} minutes waiting for the task to run: orders-cdc is "starting" (Stop Reason RECOVERABLE_ERROR)`,
    );
    const early = createTaskControl({
      dms: new DatabaseMigrationServiceClient({ region: 'eu-west-1' }),
      now: () => new Date(REQUESTED_AT.getTime() + (HANDLER_DEADLINE_MINUTES - 1) * 60_000),
    });
    await expect(early.isComplete(starter('Create'))).resolves.toEqual({ IsComplete: false });
  });

  test('a task that does not stop by the deadline fails the stopper the same way', async () => {
    const late = createTaskControl({
      dms: new DatabaseMigrationServiceClient({ region: 'eu-west-1' }),
      now: () => new Date(REQUESTED_AT.getTime() + HANDLER_DEADLINE_MINUTES * 60_000),
    });
    describing(task('stopping'));
    await expect(late.isComplete(stopper('Update'))).rejects.toThrow(/gave up after 45 minutes waiting for the tasks to stop: orders-cdc is "stopping"/);
  });
});
