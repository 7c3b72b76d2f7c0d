import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { HeadObjectCommand, NotFound, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createJobBuild } from '../../../../../pipelines/msk-to-iceberg/handlers/job-build/build';
import type { IsCompleteEvent } from '../../../../../platform/handlers/custom-resource';

const codebuild = mockClient(CodeBuildClient);
const s3 = mockClient(S3Client);
const build = createJobBuild({ codebuild: new CodeBuildClient({}), s3: new S3Client({}) });
const props = { ServiceToken: 'x', ProjectName: 'proj', SourceBucket: 'assets', SourceKey: 'src.zip', ArtifactBucket: 'artifacts', ArtifactKey: 'flink-iceberg/abc/flink-iceberg-job.jar' };
const event = (RequestType: string, Data?: Record<string, string>) => ({ RequestType, ResourceProperties: props, PhysicalResourceId: 'p', Data }) as unknown as IsCompleteEvent;
// S3's answer to a HEAD on a missing key for the deployed waiter role, which may ListBucket on the artifact bucket
// unconditioned (deployed-role.test.ts checks that against the synthesized policy and a strict S3 stand-in).
const missing = () => new NotFound({ message: 'UnknownError', $metadata: { httpStatusCode: 404 } });
// What the SDK makes of S3's 403 to a HEAD (no body): an S3ServiceException named "Unknown", not "Forbidden".
const denied = () => new S3ServiceException({ name: 'Unknown', message: 'UnknownError', $fault: 'client', $metadata: { httpStatusCode: 403 } });

beforeEach(() => {
  codebuild.reset();
  s3.reset();
});

test('a new source hash starts a build of that source with the artifact location, and waits for it', async () => {
  s3.on(HeadObjectCommand).rejects(missing());
  codebuild.on(StartBuildCommand).resolves({ build: { id: 'proj:1' } });
  const started = await build.onEvent(event('Create') as CloudFormationCustomResourceEvent);
  expect(started).toEqual({ PhysicalResourceId: 's3://artifacts/flink-iceberg/abc/flink-iceberg-job.jar', Data: { BuildId: 'proj:1' } });
  expect(codebuild).toHaveReceivedCommandWith(StartBuildCommand, {
    projectName: 'proj',
    sourceTypeOverride: 'S3',
    sourceLocationOverride: 'assets/src.zip',
    environmentVariablesOverride: [
      { name: 'ARTIFACT_BUCKET', value: 'artifacts', type: 'PLAINTEXT' },
      { name: 'ARTIFACT_KEY', value: 'flink-iceberg/abc/flink-iceberg-job.jar', type: 'PLAINTEXT' },
    ],
  });
  codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'proj:1', buildStatus: 'IN_PROGRESS' }] });
  expect(await build.isComplete(event('Create', started.Data))).toEqual({ IsComplete: false });
  codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'proj:1', buildStatus: 'SUCCEEDED' }] });
  s3.on(HeadObjectCommand).resolves({});
  expect(await build.isComplete(event('Create', started.Data))).toEqual({ IsComplete: true });
});

test('a JAR already built for this source is not rebuilt', async () => {
  s3.on(HeadObjectCommand).resolves({});
  const result = await build.onEvent(event('Update') as CloudFormationCustomResourceEvent);
  expect(result.Data).toEqual({ BuildId: '' });
  expect(codebuild).not.toHaveReceivedCommand(StartBuildCommand);
  expect(await build.isComplete(event('Update', result.Data))).toEqual({ IsComplete: true });
});

test('a failed build fails the deployment with the phase, the reason and the logs link', async () => {
  codebuild.on(BatchGetBuildsCommand).resolves({
    builds: [
      {
        id: 'proj:2',
        buildStatus: 'FAILED',
        phases: [{ phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{ message: 'COMMAND_EXECUTION_ERROR: mvn exited 1' }] }],
        logs: { deepLink: 'https://console/logs' },
      },
    ],
  });
  await expect(build.isComplete(event('Create', { BuildId: 'proj:2' }))).rejects.toThrow(/FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: mvn exited 1. Logs: https:\/\/console\/logs/);
});

test('a build that succeeded without uploading the JAR fails; delete keeps the JARs', async () => {
  codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'proj:3', buildStatus: 'SUCCEEDED' }] });
  s3.on(HeadObjectCommand).rejects(missing());
  await expect(build.isComplete(event('Create', { BuildId: 'proj:3' }))).rejects.toThrow(/does not exist/);
  expect(await build.onEvent(event('Delete') as CloudFormationCustomResourceEvent)).toEqual({ PhysicalResourceId: 'p' });
  expect(await build.isComplete(event('Delete'))).toEqual({ IsComplete: true });
});

test('a HEAD denied with 403 fails the deployment with what to grant, and starts no build', async () => {
  s3.on(HeadObjectCommand).rejects(denied());
  await expect(build.onEvent(event('Create') as CloudFormationCustomResourceEvent)).rejects.toThrow(/denied \(403\).*unconditioned s3:ListBucket/);
  expect(codebuild).not.toHaveReceivedCommand(StartBuildCommand);
});
