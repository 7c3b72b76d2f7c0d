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
import { createTaskControl, IsCompleteEvent } from '../../../handlers/dms-task-control/task-control';

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
