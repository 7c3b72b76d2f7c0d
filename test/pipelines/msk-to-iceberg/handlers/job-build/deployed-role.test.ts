/**
 * The build waiter against S3 as S3 answers the role the construct deploys (finding 7). A real S3 client talks to a
 * local stand-in that answers like S3: a HEAD on a missing key gets 404 only when the caller may s3:ListBucket on the
 * bucket, otherwise 403 with no body (S3 API reference, HeadObject, "Permissions"). Whether a prefix-conditioned
 * ListBucket counts is undocumented, so only an unconditioned grant on the bucket counts here.
 */
import * as http from 'http';
import * as path from 'path';
import { AddressInfo } from 'net';
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { S3Client } from '@aws-sdk/client-s3';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { MskToIceberg } from '../../../../../pipelines/msk-to-iceberg/construct';
import { createJobBuild } from '../../../../../pipelines/msk-to-iceberg/handlers/job-build/build';
import type { IsCompleteEvent } from '../../../../../platform/handlers/custom-resource';
import { SCHEMAS_DIR } from '../../../../../platform/config';
import { testStack } from '../../../../support/aws';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** What the deployed waiter role and its custom resource look like in the synthesized template. */
function deployedWaiter() {
  const stack = testStack({ 'aws:cdk:bundling-stacks': [] });
  new MskToIceberg(stack, 'Pipe', {
    sources: [{ name: 'orders', schemaFile: path.join(SCHEMAS_DIR, 'orders.schema.json'), idField: 'event_id', partitionKeyField: 'order_id' }],
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const build = Object.values(resources).find((r) => r.Type === 'Custom::FlinkJobBuild')!;
  const bucketId: string = build.Properties.ArtifactBucket.Ref;
  const roleId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && /Builds the Flink job JAR/.test(r.Properties.Description ?? ''))![0];
  const statements: Statement[] = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
  const bucketArn = JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] });
  const mayList = statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      !s.Condition &&
      [s.Action].flat().some((a) => a === 's3:ListBucket' || a === 's3:List*' || a === 's3:*') &&
      [s.Resource].flat().some((r) => JSON.stringify(r) === bucketArn),
  );
  return { mayList, properties: build.Properties };
}

/** HEAD answers as S3 gives them to a caller with GetObject on the keys, and ListBucket on the bucket or not. */
async function strictS3(mayList: boolean, existing: Set<string>) {
  const server = http.createServer((req, res) => {
    const key = decodeURIComponent(req.url!.split('?')[0]);
    const status = existing.has(key) ? 200 : mayList ? 404 : 403;
    res.writeHead(status, { 'x-amz-request-id': 'req', 'x-amz-id-2': 'host', 'content-length': '0' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return { client, close: () => new Promise((resolve) => server.close(resolve)) };
}

const codebuild = mockClient(CodeBuildClient);

test('with the deployed role, the first deploy HEADs the missing JAR, gets 404, builds it and waits for it', async () => {
  const { mayList, properties } = deployedWaiter();
  const p = { ...properties, ProjectName: 'proj', SourceBucket: 'assets', SourceKey: 'src.zip', ArtifactBucket: 'artifacts', ArtifactKey: 'flink-iceberg/abc/flink-iceberg-job.jar' };
  const jar = `/${p.ArtifactBucket}/${p.ArtifactKey}`;
  const existing = new Set<string>();
  const s3 = await strictS3(mayList, existing);
  try {
    const build = createJobBuild({ codebuild: new CodeBuildClient({ region: 'us-east-1' }), s3: s3.client });
    const event = (Data?: Record<string, string>) => ({ RequestType: 'Create', ResourceProperties: p, Data }) as unknown as IsCompleteEvent;
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'proj:1' } });

    const started = await build.onEvent(event() as CloudFormationCustomResourceEvent);

    expect(started.Data).toEqual({ BuildId: 'proj:1' });
    expect(codebuild).toHaveReceivedCommandWith(StartBuildCommand, { projectName: 'proj' });
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'proj:1', buildStatus: 'SUCCEEDED' }] });
    existing.add(jar); // the build uploaded it
    expect(await build.isComplete(event(started.Data))).toEqual({ IsComplete: true });
  } finally {
    await s3.close();
  }
});

test('a role S3 answers 403 fails with what to grant, not with an SDK "Unknown" error', async () => {
  const s3 = await strictS3(false, new Set());
  try {
    const build = createJobBuild({ codebuild: new CodeBuildClient({ region: 'us-east-1' }), s3: s3.client });
    const p = { ProjectName: 'proj', SourceBucket: 'assets', SourceKey: 'src.zip', ArtifactBucket: 'artifacts', ArtifactKey: 'flink-iceberg/abc/flink-iceberg-job.jar' };
    await expect(build.onEvent({ RequestType: 'Create', ResourceProperties: p } as unknown as CloudFormationCustomResourceEvent)).rejects.toThrow(
      /denied \(403\).*unconditioned s3:ListBucket/,
    );
  } finally {
    await s3.close();
  }
});
