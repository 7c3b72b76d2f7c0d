import { EntityNotFoundException, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import {
  DescribeApplicationCommand,
  DescribeApplicationOperationCommand,
  KinesisAnalyticsV2Client,
  ListApplicationOperationsCommand,
  ListApplicationSnapshotsCommand,
  StartApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createStarter } from '../../../../../pipelines/msk-to-iceberg/handlers/flink-app-starter/starter';
import type { IsCompleteEvent } from '../../../../../platform/handlers/custom-resource';

const flink = mockClient(KinesisAnalyticsV2Client);
const glue = mockClient(GlueClient);
const requestedAt = new Date('2026-11-22T10:00:00Z');
const starter = createStarter({ flink: new KinesisAnalyticsV2Client({}), glue: new GlueClient({}), now: () => requestedAt });

const props = { ServiceToken: 'x', ApplicationName: 'app', ConfigHash: 'h1', DatabaseName: 'db', TableName: 'orders' };
const event = (RequestType: 'Create' | 'Update' | 'Delete'): IsCompleteEvent =>
  ({ RequestType, ResourceProperties: props, PhysicalResourceId: 'app/starter', Data: { RequestedAt: requestedAt.toISOString() } }) as unknown as IsCompleteEvent;
const status = (ApplicationStatus: string) => flink.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus } as never });
const at = (seconds: number) => new Date(requestedAt.getTime() + seconds * 1000);

beforeEach(() => {
  flink.reset();
  glue.reset();
  glue.on(GetTableCommand).resolves({ Table: { Name: 'orders' } as never });
  flink.on(ListApplicationOperationsCommand).resolves({ ApplicationOperationInfoList: [] });
  flink.on(ListApplicationSnapshotsCommand).resolves({ SnapshotSummaries: [] });
  flink.on(StartApplicationCommand).resolves({});
});

test('onEvent answers at once with the time the deployment asked, named after the application', async () => {
  const result = await starter.onEvent({ RequestType: 'Create', ResourceProperties: props } as unknown as CloudFormationCustomResourceEvent);
  expect(result).toEqual({ PhysicalResourceId: 'app/starter', Data: { RequestedAt: requestedAt.toISOString() } });
});

test('a new application (READY, no snapshot) is started without restore, then complete once RUNNING with its table', async () => {
  status('READY');
  expect(await starter.isComplete(event('Create'))).toEqual({ IsComplete: false });
  expect(flink).toHaveReceivedCommandWith(StartApplicationCommand, {
    ApplicationName: 'app',
    RunConfiguration: { ApplicationRestoreConfiguration: { ApplicationRestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' }, FlinkRunConfiguration: { AllowNonRestoredState: false } },
  });
  status('RUNNING');
  expect(await starter.isComplete(event('Create'))).toEqual({ IsComplete: true });
  expect(glue).toHaveReceivedCommandWith(GetTableCommand, { DatabaseName: 'db', Name: 'orders' });
});

test('an application left READY after an update restarts from its latest snapshot', async () => {
  status('READY');
  flink.on(ListApplicationSnapshotsCommand).resolves({ SnapshotSummaries: [{ SnapshotName: 's1', SnapshotStatus: 'READY' } as never] });
  expect(await starter.isComplete(event('Update'))).toEqual({ IsComplete: false });
  expect(flink).toHaveReceivedCommandWith(StartApplicationCommand, {
    RunConfiguration: { ApplicationRestoreConfiguration: { ApplicationRestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT' }, FlinkRunConfiguration: { AllowNonRestoredState: false } },
  });
});

test('asked to (mskToIceberg.application.allowNonRestoredState), the start skips snapshot state the new job cannot map', async () => {
  status('READY');
  flink.on(ListApplicationSnapshotsCommand).resolves({ SnapshotSummaries: [{ SnapshotName: 's1', SnapshotStatus: 'READY' } as never] });
  const asked = { ...event('Update'), ResourceProperties: { ...props, AllowNonRestoredState: 'true' } } as unknown as IsCompleteEvent;
  expect(await starter.isComplete(asked)).toEqual({ IsComplete: false });
  expect(flink).toHaveReceivedCommandWith(StartApplicationCommand, {
    RunConfiguration: { ApplicationRestoreConfiguration: { ApplicationRestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT' }, FlinkRunConfiguration: { AllowNonRestoredState: true } },
  });
});

test('an update of a running application (Managed Flink restarts it itself) is waited for, never started twice', async () => {
  for (const s of ['UPDATING', 'STARTING', 'AUTOSCALING']) {
    status(s);
    expect(await starter.isComplete(event('Update'))).toEqual({ IsComplete: false });
  }
  status('READY');
  flink.on(ListApplicationOperationsCommand).resolves({
    ApplicationOperationInfoList: [{ Operation: 'StartApplication', OperationId: 'op1', StartTime: at(5), OperationStatus: 'IN_PROGRESS' }],
  });
  expect(await starter.isComplete(event('Update'))).toEqual({ IsComplete: false });
  expect(flink).not.toHaveReceivedCommand(StartApplicationCommand);
});

test('RUNNING but the table not yet created by the job: keep waiting', async () => {
  status('RUNNING');
  glue.on(GetTableCommand).rejects(new EntityNotFoundException({ message: 'no table', $metadata: {} }));
  expect(await starter.isComplete(event('Create'))).toEqual({ IsComplete: false });
});

test('a start that failed during this deployment fails it with the service reason; an older failure is retried', async () => {
  status('READY');
  flink.on(ListApplicationOperationsCommand).resolves({
    ApplicationOperationInfoList: [
      { Operation: 'StartApplication', OperationId: 'old', StartTime: at(-3600), OperationStatus: 'FAILED' },
      { Operation: 'StartApplication', OperationId: 'op2', StartTime: at(30), OperationStatus: 'FAILED' },
    ],
  });
  flink.on(DescribeApplicationOperationCommand).resolves({
    ApplicationOperationInfoDetails: { OperationFailureDetails: { ErrorInfo: { ErrorString: 'Iceberg table exists with other columns' } } } as never,
  });
  await expect(starter.isComplete(event('Create'))).rejects.toThrow(/did not stay running: Iceberg table exists with other columns/);
  expect(flink).toHaveReceivedCommandWith(DescribeApplicationOperationCommand, { ApplicationName: 'app', OperationId: 'op2' });

  flink.on(ListApplicationOperationsCommand).resolves({
    ApplicationOperationInfoList: [{ Operation: 'StartApplication', OperationId: 'old', StartTime: at(-3600), OperationStatus: 'FAILED' }],
  });
  expect(await starter.isComplete(event('Update'))).toEqual({ IsComplete: false });
  expect(flink).toHaveReceivedCommand(StartApplicationCommand);
});

test('a rolled-back update fails the deployment; delete does nothing', async () => {
  status('ROLLED_BACK');
  await expect(starter.isComplete(event('Update'))).rejects.toThrow(/rolled back/);
  flink.reset();
  expect(await starter.isComplete(event('Delete'))).toEqual({ IsComplete: true });
  expect(flink.calls()).toHaveLength(0);
});
