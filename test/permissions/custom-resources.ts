/**
 * Drives each custom-resource handler (the exported factory its index.ts wires) through Create, Update and Delete with
 * the properties the synthesized custom resource passes, against aws-sdk-client-mock, and returns the IAM requests it
 * made. The mocks answer just enough for every branch that calls AWS to run once.
 */
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import {
  DatabaseMigrationServiceClient,
  DescribeReplicationTasksCommand,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import {
  BatchStopJobRunCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  GetSchemaVersionCommand,
  GetSchemaVersionsDiffCommand,
  GetTableCommand,
  GlueClient,
  ListSchemaVersionsCommand,
  StartJobRunCommand,
} from '@aws-sdk/client-glue';
import { AttachRolePolicyCommand, CreateRoleCommand, GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import {
  DescribeApplicationCommand,
  DescribeApplicationOperationCommand,
  KinesisAnalyticsV2Client,
  ListApplicationOperationsCommand,
  ListApplicationSnapshotsCommand,
  StartApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { HeadObjectCommand, NotFound, S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createAccountRoles } from '../../pipelines/rds-cdc-to-s3/handlers/dms-account-roles/account-roles';
import { createTaskControl } from '../../pipelines/rds-cdc-to-s3/handlers/dms-task-control/task-control';
import { createStarter } from '../../pipelines/msk-to-iceberg/handlers/flink-app-starter/starter';
import { createControlHandler } from '../../pipelines/kinesis-to-delta-lake/handlers/glue-streaming-job/control';
import { createRestartHandler } from '../../pipelines/kinesis-to-delta-lake/handlers/glue-streaming-job/restarter';
import { createJobBuild } from '../../pipelines/msk-to-iceberg/handlers/job-build/build';
import { createTopicsHandler, TopicAdmin } from '../../pipelines/msk-to-iceberg/handlers/msk-topics/topics';
import { createVersionCheck } from '../../platform/schema-registry/handlers/version-check/check';
import { recorded } from '../support/aws-requests';
import { AwsRequest, REGION } from '../support/iam-proof';

type Properties = Record<string, unknown>;
type Event = CloudFormationCustomResourceEvent & { Data?: Record<string, string> };

/** A CloudFormation custom-resource event of `type` with `properties` (as the provider framework passes it on). */
export function cfnEvent(type: 'Create' | 'Update' | 'Delete', properties: Properties, physicalId = 'physical', data?: Record<string, string>): Event {
  const base = {
    ServiceToken: String(properties.ServiceToken ?? 'token'),
    ResponseURL: 'https://example.com',
    StackId: 'stack',
    RequestId: 'request',
    LogicalResourceId: 'Resource',
    ResourceType: 'Custom::Resource',
    ResourceProperties: { ServiceToken: 'token', ...properties },
  };
  const event =
    type === 'Create'
      ? { ...base, RequestType: type }
      : type === 'Update'
        ? { ...base, RequestType: type, PhysicalResourceId: physicalId, OldResourceProperties: base.ResourceProperties }
        : { ...base, RequestType: type, PhysicalResourceId: physicalId };
  return { ...event, ...(data ? { Data: data } : {}) } as Event;
}

/** Runs `scenario` with fresh mocks of `clients`; returns what they recorded, by service prefix. */
async function withMocks<T extends Record<string, object>>(clients: T, scenario: (mocks: { [K in keyof T]: ReturnType<typeof mockClient> }) => Promise<void>): Promise<AwsRequest[]> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const mocks = Object.fromEntries(Object.entries(clients).map(([prefix, client]) => [prefix, mockClient(client as any)])) as any;
  try {
    await scenario(mocks);
    return recorded(mocks);
  } finally {
    Object.values(mocks).forEach((m) => (m as ReturnType<typeof mockClient>).restore());
  }
}

/** handlers/job-build: HEAD the JAR (missing: a probe), start the build, poll it, HEAD again. */
export function jobBuildRequests(properties: Properties): Promise<AwsRequest[]> {
  return withMocks({ s3: S3Client, codebuild: CodeBuildClient }, async ({ s3, codebuild }) => {
    s3.on(HeadObjectCommand).rejectsOnce(new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } })).resolves({});
    codebuild.on(StartBuildCommand).resolves({ build: { id: `${properties.ProjectName}:build-1` } });
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: `${properties.ProjectName}:build-1`, buildStatus: 'SUCCEEDED' }] });
    const build = createJobBuild({ s3: new S3Client({ region: REGION }), codebuild: new CodeBuildClient({ region: REGION }) });
    const created = await build.onEvent(cfnEvent('Create', properties));
    if (!created.Data?.BuildId) throw new Error('scenario drifted: no build started');
    const done = await build.isComplete(cfnEvent('Create', properties, created.PhysicalResourceId, created.Data));
    if (!done.IsComplete) throw new Error('scenario drifted: build not complete');
  });
}

/** handlers/glue-streaming-job control: start on Create, stop then start on Update, stop on Delete. */
export function glueControlRequests(properties: Properties): Promise<AwsRequest[]> {
  return withMocks({ glue: GlueClient }, async ({ glue }) => {
    let state = 'RUNNING';
    glue.on(StartJobRunCommand).callsFake(() => ((state = 'RUNNING'), { JobRunId: 'jr_new' }));
    glue.on(GetJobRunsCommand).callsFake(() => ({ JobRuns: [{ Id: 'jr_old', JobRunState: state }] }));
    glue.on(BatchStopJobRunCommand).callsFake(() => ((state = 'STOPPED'), { SuccessfulSubmissions: [{ JobRunId: 'jr_old' }], Errors: [] }));
    glue.on(GetJobRunCommand).callsFake((input) => ({ JobRun: { Id: input.RunId, JobRunState: state, StartedOn: new Date() } }));
    let now = 0;
    const onEvent = createControlHandler({
      glue: new GlueClient({ region: REGION }),
      clock: { now: () => now, sleep: async (ms: number) => void (now += ms) },
      startupCheckMs: 0,
      pollMs: 1,
    });
    const context = { getRemainingTimeInMillis: () => 600_000 };
    const name = String(properties.JobName);
    await onEvent(cfnEvent('Create', properties), context);
    await onEvent(cfnEvent('Update', properties, name), context);
    await onEvent(cfnEvent('Delete', properties, name), context);
  });
}

/** handlers/glue-streaming-job restarter: reads recent runs, restarts a failed one. */
export function glueRestarterRequests(jobName: string): Promise<AwsRequest[]> {
  return withMocks({ glue: GlueClient }, async ({ glue }) => {
    const ended = new Date(Date.now() - 3_600_000);
    glue.on(GetJobRunsCommand).resolves({ JobRuns: [{ Id: 'jr_1', JobRunState: 'FAILED', StartedOn: ended, CompletedOn: ended }] });
    glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_2' });
    const restart = createRestartHandler({
      glue: new GlueClient({ region: REGION }),
      jobName,
      maxRestartsPerHour: 5,
      now: () => Date.now(),
      metric: () => undefined,
      flush: () => undefined,
      log: () => undefined,
    });
    const result = await restart();
    if (result.action !== 'start') throw new Error(`scenario drifted: ${JSON.stringify(result)}`);
  });
}

/** handlers/flink-app-starter: start a READY application (snapshots listed), then see it RUNNING with its table; a failed start's reason. */
export function flinkStarterRequests(properties: Properties): Promise<AwsRequest[]> {
  return withMocks({ kinesisanalytics: KinesisAnalyticsV2Client, glue: GlueClient }, async ({ kinesisanalytics, glue }) => {
    const requestedAt = new Date(Date.now() - 1000);
    kinesisanalytics.on(DescribeApplicationCommand).resolvesOnce({ ApplicationDetail: { ApplicationStatus: 'READY' } as never })
      .resolvesOnce({ ApplicationDetail: { ApplicationStatus: 'RUNNING' } as never })
      .resolves({ ApplicationDetail: { ApplicationStatus: 'READY' } as never });
    kinesisanalytics.on(ListApplicationOperationsCommand).resolvesOnce({ ApplicationOperationInfoList: [] })
      .resolves({ ApplicationOperationInfoList: [{ Operation: 'StartApplication', OperationId: 'op-1', OperationStatus: 'FAILED', StartTime: new Date() }] });
    kinesisanalytics.on(ListApplicationSnapshotsCommand).resolves({ SnapshotSummaries: [{ SnapshotName: 's', SnapshotStatus: 'READY', ApplicationVersionId: 1 }] });
    kinesisanalytics.on(StartApplicationCommand).resolves({});
    kinesisanalytics.on(DescribeApplicationOperationCommand).resolves({ ApplicationOperationInfoDetails: { OperationFailureDetails: { ErrorInfo: { ErrorString: 'boom' } } } as never });
    glue.on(GetTableCommand).resolves({ Table: { Name: String(properties.TableName) } });
    const starter = createStarter({ flink: new KinesisAnalyticsV2Client({ region: REGION }), glue: new GlueClient({ region: REGION }) });
    const data = { RequestedAt: requestedAt.toISOString() };
    const physical = `${properties.ApplicationName}/starter`;
    if ((await starter.isComplete(cfnEvent('Create', properties, physical, data))).IsComplete) throw new Error('scenario drifted: started at once');
    if (!(await starter.isComplete(cfnEvent('Create', properties, physical, data))).IsComplete) throw new Error('scenario drifted: not running');
    await expectFailure(starter.isComplete(cfnEvent('Update', properties, physical, data)), 'boom');
  });
}

/** platform/schema-registry version check: a version AVAILABLE after a poll, then one in FAILURE (its explanation's reads). */
export function schemaVersionCheckRequests(properties: Properties): Promise<AwsRequest[]> {
  return withMocks({ glue: GlueClient }, async ({ glue }) => {
    const id = String(properties.SchemaVersionId);
    const statuses = ['PENDING', 'AVAILABLE', 'FAILURE'];
    glue.on(ListSchemaVersionsCommand).callsFake(() => ({
      Schemas: [
        { SchemaVersionId: 'earlier', VersionNumber: 1, Status: 'AVAILABLE' },
        { SchemaVersionId: id, VersionNumber: 2, Status: statuses.shift() ?? 'FAILURE' },
      ],
    }));
    glue.on(GetSchemaVersionCommand).resolves({ SchemaDefinition: '{"type":"object"}' });
    glue.on(GetSchemaVersionsDiffCommand).resolves({ Diff: '[]' });
    const onEvent = createVersionCheck({ glue: new GlueClient({ region: REGION }), clock: { now: () => 0, sleep: async () => undefined }, pollMs: 1 });
    const context = { getRemainingTimeInMillis: () => 300_000 };
    await onEvent(cfnEvent('Create', properties), context);
    await expectFailure(onEvent(cfnEvent('Update', properties, id), context), 'FAILURE');
  });
}

async function expectFailure(promise: Promise<unknown>, text: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    if (String((error as Error).message).includes(text)) return;
    throw error;
  }
  throw new Error(`scenario drifted: expected a failure mentioning "${text}"`);
}

/**
 * handlers/msk-topics: GetBootstrapBrokers (recorded), then kafkajs admin calls, which MSK authorizes as
 * kafka-cluster actions (MSK developer guide, "IAM access control": Semantics of actions). Run twice: a cluster
 * without the topic (create) and one with fewer partitions and another retention (grow, reconfigure).
 */
export async function mskTopicsRequests(properties: Properties): Promise<AwsRequest[]> {
  const clusterArn = String(properties.ClusterArn);
  const topicArn = (name: string) => `${clusterArn.replace(':cluster/', ':topic/')}/${name}`;
  const admin: AwsRequest[] = [];
  const sdk = await withMocks({ kafka: KafkaClient }, async ({ kafka }) => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: 'b-1:9098,b-2:9098' });
    const msk = new KafkaClient({ region: REGION });
    const topics = (properties.Topics as { Name: string; Partitions: string }[]).map((t) => t.Name);
    for (const existing of [false, true]) {
      const fake: TopicAdmin = {
        connect: async () => void admin.push({ action: 'kafka-cluster:Connect', resource: clusterArn }),
        disconnect: async () => undefined,
        listTopics: async () => {
          admin.push(...topics.map((t) => ({ action: 'kafka-cluster:DescribeTopic', resource: topicArn(t) })));
          return existing ? topics : [];
        },
        createTopics: async ({ topics: specs }) => {
          admin.push(...specs.map((t) => ({ action: 'kafka-cluster:CreateTopic', resource: topicArn(t.topic) })));
          return true;
        },
        fetchTopicMetadata: async (args) => {
          const names = args?.topics ?? [];
          admin.push(...names.map((t) => ({ action: 'kafka-cluster:DescribeTopic', resource: topicArn(t) })));
          return { topics: names.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }] })) };
        },
        createPartitions: async ({ topicPartitions }) => {
          admin.push(...topicPartitions.map((t) => ({ action: 'kafka-cluster:AlterTopic', resource: topicArn(t.topic) })));
          return true;
        },
        describeConfigs: async ({ resources }) => {
          admin.push(...resources.map((r) => ({ action: 'kafka-cluster:DescribeTopicDynamicConfiguration', resource: topicArn(r.name) })));
          return {
            throttleTime: 0,
            resources: resources.map((r) => ({ resourceType: r.type, resourceName: r.name, errorCode: 0, errorMessage: null, configEntries: [{ configName: 'retention.ms', configValue: '1', readOnly: false, isDefault: false, isSensitive: false, configSource: 1, configSynonyms: [] }] })),
          } as never;
        },
        alterConfigs: async ({ resources }) => {
          admin.push(...resources.map((r) => ({ action: 'kafka-cluster:AlterTopicDynamicConfiguration', resource: topicArn(r.name) })));
          return { throttleTime: 0, resources: [] } as never;
        },
      };
      const handler = createTopicsHandler({
        bootstrapBrokers: async (arn) => String((await msk.send(new GetBootstrapBrokersCommand({ ClusterArn: arn }))).BootstrapBrokerStringSaslIam).split(','),
        admin: () => fake,
      });
      await handler(cfnEvent(existing ? 'Update' : 'Create', properties, clusterArn));
    }
  });
  return [...sdk, ...admin];
}

/** handlers/dms-account-roles: roles missing (create, attach), then waiting for them to propagate. */
export function dmsAccountRolesRequests(properties: Properties): Promise<AwsRequest[]> {
  return withMocks({ iam: IAMClient }, async ({ iam }) => {
    iam.on(GetRoleCommand).rejectsOnce(new NoSuchEntityException({ message: 'no', $metadata: {} }))
      .rejectsOnce(new NoSuchEntityException({ message: 'no', $metadata: {} }))
      .resolves({ Role: { RoleName: 'r', Path: '/', RoleId: 'id', Arn: 'arn', CreateDate: new Date(0) } });
    iam.on(CreateRoleCommand).resolves({});
    iam.on(ListAttachedRolePoliciesCommand).resolvesOnce({ AttachedPolicies: [] }).resolvesOnce({ AttachedPolicies: [] })
      .callsFake((input) => ({ AttachedPolicies: ((properties.Roles as { RoleName: string; PolicyArn: string }[]).filter((r) => r.RoleName === input.RoleName)).map((r) => ({ PolicyArn: r.PolicyArn })) }));
    iam.on(AttachRolePolicyCommand).resolves({});
    const roles = createAccountRoles({ iam: new IAMClient({ region: REGION }) });
    await roles.onEvent(cfnEvent('Create', properties));
    if (!(await roles.isComplete(cfnEvent('Create', properties))).IsComplete) throw new Error('scenario drifted: roles not ready');
  });
}

/** handlers/dms-task-control: the stopper stops running tasks on the instance; the starter starts, and on delete stops, its task. */
export function dmsTaskControlRequests(stopper: Properties, starter: Properties): Promise<AwsRequest[]> {
  return withMocks({ dms: DatabaseMigrationServiceClient }, async ({ dms }) => {
    const taskArn = String(starter.ReplicationTaskArn);
    let status = 'running';
    dms.on(DescribeReplicationTasksCommand).callsFake(() => ({ ReplicationTasks: [{ ReplicationTaskArn: taskArn, ReplicationTaskIdentifier: 'task', Status: status }] }));
    dms.on(StopReplicationTaskCommand).callsFake(() => ((status = 'stopped'), {}));
    dms.on(StartReplicationTaskCommand).callsFake(() => ((status = 'running'), {}));
    const control = createTaskControl({ dms: new DatabaseMigrationServiceClient({ region: REGION }) });
    const data = { RequestedAt: new Date().toISOString() };
    await control.isComplete(cfnEvent('Update', stopper, 'stopper', data));
    await control.isComplete(cfnEvent('Create', starter, taskArn, data));
    await control.isComplete(cfnEvent('Delete', starter, taskArn, data));
  });
}
