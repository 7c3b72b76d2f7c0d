/**
 * The permission proof (issue 15, "The tests that would have caught these"; test/permissions/README.md): every AWS
 * request our code makes, recorded from the handlers or listed by hand for the jobs, evaluated against the policies
 * the synthesized stacks deploy for the role that makes it. One synth of the app (as bin/aws.ts builds it from
 * cdk.json) serves every test.
 */
// The handlers' EMF metrics are not what this proves: keep the output readable.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

import { AwsRequest, deniedRequests, explain, runtimeRequests, StackPolicies, synthesizeApp, withTemplate } from '../support/iam-proof';
import {
  dmsAccountRolesRequests,
  dmsTaskControlRequests,
  flinkStarterRequests,
  glueControlRequests,
  glueRestarterRequests,
  jobBuildRequests,
  mskTopicsRequests,
  schemaVersionCheckRequests,
} from './custom-resources';
import { flinkJobRequests, glueJobRequests } from './jobs';
import { deliveryStreamRole, firehoseRequests } from './firehose';
import { readCdkJsonContext } from '../../platform/config';
import { kafkaProducerRequests, validatorRequests, ValidatorEnvironment } from './landing-validator';
import { bundleFetchRequests, consumerEnvironment, consumerRequests } from './queue-consumer';
import { consumerWaiterRequests, deliveryApiRequests } from './customer-delivery';
import { canaryOf, canaryRequests } from './freshness';
import { heartbeatReceiptsRequests, heartbeatWriterRequests } from '../pipelines/rds-cdc-to-s3/support/freshness-requests';
import { EXAMPLE_CUSTOMERS } from '../support/customers';

jest.setTimeout(120_000);

let stacks: Record<string, StackPolicies>;
beforeAll(() => {
  // With customers (cdk.json configures none): the jobs then also write delivery streams and topics, and the delivery
  // layer's own code (consumer waiter, API function) runs in pipelines 2 and 5.
  stacks = synthesizeApp({ customers: EXAMPLE_CUSTOMERS });
});

/** Roles the tests have proven (stack/role): the last test requires every role that runs our code among them. */
const proven = new Set<string>();

/**
 * The denied requests of `requests` made as the role running `resourceId` in `stack` (with what the service itself
 * does with that role), one line each.
 */
async function denied(stack: StackPolicies, resourceId: string, requests: AwsRequest[]): Promise<string[]> {
  proven.add(`${stack.stackName}/${stack.roleOf(resourceId)}`);
  return explain(await deniedRequests(stack, stack.roleOf(resourceId), [...runtimeRequests(stack, resourceId), ...requests]));
}

/** The validator function of `source` in `stack`: its logical id and its environment as deployed. */
function validator(stack: StackPolicies, source: string) {
  const id = stack.one('AWS::Lambda::Function', `LandingZone${source}Function`);
  const env = stack.value(stack.resources[id].Properties.Environment.Variables) as ValidatorEnvironment & Record<string, string>;
  const landingBucket = stack.physicalName(stack.one('AWS::S3::Bucket', 'LandingZoneLandingBucket'));
  return { id, env, landingBucket };
}

/** Every landing validator of every stack: [stack id, source, target]. */
function validators(): [string, string, string][] {
  return Object.entries(stacks).flatMap(([stackId, stack]) =>
    stack
      .find('AWS::Lambda::Function', 'LandingZone')
      .map((id) => stack.value(stack.resources[id].Properties.Environment?.Variables ?? {}))
      .filter((env) => env.SOURCE_NAME && env.TARGET)
      .map((env): [string, string, string] => [stackId, env.SOURCE_NAME, env.TARGET]),
  );
}

describe('landing validator', () => {
  test('every validator of every stack (Kinesis and Kafka targets): every request the handler makes is allowed', async () => {
    const all = validators();
    expect(all.map(([, , target]) => target)).toEqual(expect.arrayContaining(['kinesis', 'kafka']));
    const denials: string[] = [];
    for (const [stackId, source, target] of all) {
      const stack = stacks[stackId];
      const { id, env, landingBucket } = validator(stack, source);
      const requests = await validatorRequests(env, landingBucket);
      expect(requests.map((r) => r.action)).toEqual(expect.arrayContaining(['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:PutObjectTagging']));
      expect(requests.some((r) => r.multipart)).toBe(true);
      if (target === 'kinesis') {
        expect(requests.map((r) => r.action)).toContain('kinesis:PutRecords');
      } else {
        // The producer's MSK IAM requests, on the cluster whose brokers the function is given.
        const cluster = stack.arn(stack.find('AWS::MSK::ServerlessCluster', '').concat(stack.find('AWS::MSK::Cluster', ''))[0]);
        requests.push(...kafkaProducerRequests(cluster, env.KAFKA_TOPIC));
      }
      denials.push(...(await denied(stack, id, requests)).map((d) => `${stackId} ${source}: ${d}`));
    }
    expect(denials).toEqual([]);
  });
});

/** The Pod Identity association of a service account (its role runs the pod's code). */
const podRole = (stack: StackPolicies, serviceAccount: string) =>
  stack.find('AWS::EKS::PodIdentityAssociation', '').find((id) => stack.resources[id].Properties.ServiceAccount === serviceAccount)!;

describe('queue consumer (pipeline 1 pod)', () => {
  test('QueueToS3: receive, extend leases, write data and error objects, delete, as its Pod Identity role', async () => {
    const stack = stacks.QueueToS3;
    const manifests = stack
      .find('Custom::AWSCDK-EKS-KubernetesResource', '')
      .flatMap((id) => JSON.parse(stack.value(stack.resources[id].Properties.Manifest)));
    const requests = [...bundleFetchRequests(manifests), ...(await consumerRequests(consumerEnvironment(manifests)))];
    expect(await denied(stack, podRole(stack, 'queue-consumer'), requests)).toEqual([]);
  });

  test("KEDA operator (the queue's scaler, configured by us): GetQueueAttributes on the queue", async () => {
    const stack = stacks.QueueToS3;
    const queue = stack.arn(stack.one('AWS::SQS::Queue', 'MessagingQueue'));
    // KEDA's aws-sqs-queue scaler reads ApproximateNumberOfMessages(+NotVisible) with GetQueueAttributes (KEDA docs, "AWS SQS Queue").
    const requests = [{ action: 'sqs:GetQueueAttributes', resource: queue, why: 'pipelines/queue-to-s3/construct/autoscaling.ts' }];
    expect(await denied(stack, podRole(stack, 'keda-operator'), requests)).toEqual([]);
  });

  test('EKS zone picker (pipelines/queue-to-s3/consumer/eks-zones): DescribeAvailabilityZones', async () => {
    const stack = stacks.QueueToS3;
    // The handler calls the Lambda runtime's EC2 client, not a bundled one: listed by hand (wildcard-only action).
    const requests = [{ action: 'ec2:DescribeAvailabilityZones', resource: '*', why: 'pipelines/queue-to-s3/handlers/eks-zones/index.ts' }];
    const [zones] = stack.customResources('Custom::EksSupportedZones');
    for (const handler of zones.handlers) expect(await denied(stack, handler, requests)).toEqual([]);
  });
});

describe('custom-resource handlers (each resource\'s handler functions, with its synthesized properties)', () => {
  /** Drives every custom resource of `type` in `stack` and proves the requests as each function running its handler. */
  async function proveCustomResources(stack: StackPolicies, type: string, drive: (properties: Record<string, unknown>) => Promise<AwsRequest[]>) {
    const resources = stack.customResources(type);
    expect(resources.length).toBeGreaterThan(0);
    const denials: string[] = [];
    for (const { id, properties, handlers } of resources) {
      const requests = await drive(properties);
      for (const handler of handlers) denials.push(...(await denied(stack, handler, requests)).map((d) => `${id} as ${handler}: ${d}`));
    }
    return denials;
  }

  test('schema version check (platform/schema-registry): lists the versions, reads two and their diff, in every stack with a landing zone', async () => {
    const withRegistry = Object.keys(stacks).filter((id) => stacks[id].find('Custom::SchemaVersionCheck', '').length > 0);
    expect(withRegistry.sort()).toEqual(['KinesisToDeltaLake', 'LandingZone', 'MskToIceberg']);
    for (const stack of withRegistry.map((id) => stacks[id])) expect(await proveCustomResources(stack, 'Custom::SchemaVersionCheck', schemaVersionCheckRequests)).toEqual([]);
  });

  test('Flink JAR build waiter (handlers/job-build): HEAD probe of the JAR, StartBuild, BatchGetBuilds', async () => {
    expect(await proveCustomResources(stacks.MskToIceberg, 'Custom::FlinkJobBuild', jobBuildRequests)).toEqual([]);
  });

  test('Glue streaming job runner (handlers/glue-streaming-job control): start, stop and poll runs of its job', async () => {
    expect(await proveCustomResources(stacks.KinesisToDeltaLake, 'Custom::GlueStreamingJobRun', glueControlRequests)).toEqual([]);
  });

  test('Glue streaming job restarter (handlers/glue-streaming-job restarter): read runs, restart the job', async () => {
    const stack = stacks.KinesisToDeltaLake;
    const restarters = stack.find('AWS::Lambda::Function', 'RunnerRestarter');
    expect(restarters.length).toBeGreaterThan(0);
    for (const id of restarters) {
      const jobName = stack.value(stack.resources[id].Properties.Environment.Variables).JOB_NAME;
      expect(await denied(stack, id, await glueRestarterRequests(jobName))).toEqual([]);
    }
  });

  test('Flink application starter (handlers/flink-app-starter): describe, snapshots, start, operations, its table', async () => {
    // onEvent makes no AWS call; isComplete drives the application. Both functions are proven with every request.
    expect(await proveCustomResources(stacks.MskToIceberg, 'Custom::FlinkApplicationStarter', flinkStarterRequests)).toEqual([]);
  });

  // kafka:GetBootstrapBrokers has no resource type ("specify *"): granted on the cluster ARN it was denied here.
  test('Kafka topics (handlers/msk-topics): bootstrap brokers, then create, grow and configure its topics', async () => {
    expect(await proveCustomResources(stacks.MskToIceberg, 'Custom::KafkaTopics', mskTopicsRequests)).toEqual([]);
  });

  test('DMS account roles (handlers/dms-account-roles): get, create and attach the account-wide roles', async () => {
    expect(await proveCustomResources(stacks.RdsCdcToS3, 'Custom::DmsAccountRoles', dmsAccountRolesRequests)).toEqual([]);
  });

  test('DMS task control (handlers/dms-task-control): describe, stop and start the replication task', async () => {
    const stack = stacks.RdsCdcToS3;
    const [stopper] = stack.customResources('Custom::DmsTaskStopper');
    const denials: string[] = [];
    for (const starter of stack.customResources('Custom::DmsTaskStarter')) {
      const requests = await dmsTaskControlRequests(stopper.properties, starter.properties);
      for (const handler of new Set([...stopper.handlers, ...starter.handlers])) denials.push(...(await denied(stack, handler, requests)));
    }
    expect(denials).toEqual([]);
  });
});

describe('customer delivery (platform/customer-delivery)', () => {
  test('consumer waiter (handlers/consumer-active): describes its consumer until ACTIVE', async () => {
    const stack = stacks.KinesisToDeltaLake;
    const resources = stack.customResources('Custom::KinesisConsumerActive');
    expect(resources).toHaveLength(2); // acme and globex on clickstream
    for (const { properties, handlers } of resources) {
      const requests = await consumerWaiterRequests(properties);
      expect(requests.map((r) => r.action)).toEqual(['kinesis:DescribeStreamConsumer', 'kinesis:DescribeStreamConsumer']);
      for (const handler of handlers) expect(await denied(stack, handler, requests)).toEqual([]);
    }
  });

  test.each(['KinesisToDeltaLake', 'MskToIceberg'])('delivery API of %s: every route for every customer, with the catalog the stack deploys', async (stackId) => {
    const stack = stacks[stackId];
    const [fn] = stack.find('AWS::Lambda::Function', 'CustomerDeliveryApiFunction');
    const env = stack.value(stack.resources[fn].Properties.Environment.Variables);
    const catalogs = stack.find('AWS::SSM::Parameter', 'CustomerDelivery').map((id) => JSON.parse(stack.value(stack.resources[id].Properties.Value)));
    expect(catalogs.map((c) => c.customer).sort()).toEqual(stackId === 'MskToIceberg' ? ['acme'] : ['acme', 'globex']);
    for (const catalog of catalogs) {
      const requests = await deliveryApiRequests(env, catalog);
      expect(requests.some((r) => r.action === 'ssm:GetParameter')).toBe(true);
      if (stackId === 'KinesisToDeltaLake') expect(requests.map((r) => r.action)).toEqual(expect.arrayContaining(['kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords']));
      expect(await denied(stack, fn, requests)).toEqual([]);
    }
  });

  test("the API function may read no other stack's catalog and no source stream", async () => {
    const stack = stacks.KinesisToDeltaLake;
    const [fn] = stack.find('AWS::Lambda::Function', 'CustomerDeliveryApiFunction');
    const [source] = stack.find('AWS::Kinesis::Stream', 'clickstreamStream').filter((id) => !id.startsWith('CustomerDelivery'));
    const denials = await deniedRequests(stack, stack.roleOf(fn), [
      { action: 'ssm:GetParameter', resource: `arn:aws:ssm:eu-west-1:123456789012:parameter/stream-foundry/stream-foundry-dev-msk-to-iceberg/customers/acme` },
      { action: 'kinesis:GetRecords', resource: stack.arn(source) },
    ]);
    expect(denials.map((d) => d.request.action)).toEqual(['ssm:GetParameter', 'kinesis:GetRecords']);
  });
});

/** Every Glue job of the stack, proven with its deployed arguments. */
async function sparkJobDenials(stack: StackPolicies): Promise<string[]> {
    const jobs = stack.find('AWS::Glue::Job', '');
    expect(jobs.length).toBeGreaterThan(0);
    const denials: string[] = [];
    for (const id of jobs) {
      const requests = glueJobRequests(stack.value(stack.resources[id].Properties));
      denials.push(...(await denied(stack, id, requests)).map((d) => `${id}: ${d}`));
    }
    return denials;
}

/** Every Managed Flink application of the stack, proven with its deployed properties. */
async function flinkJobDenials(stack: StackPolicies): Promise<string[]> {
    const denials: string[] = [];
    const cluster = stack.arn(stack.one('AWS::MSK::ServerlessCluster', 'Pipeline'));
    const apps = stack.find('AWS::KinesisAnalyticsV2::Application', '');
    expect(apps.length).toBeGreaterThan(0);
    for (const id of apps) {
      const config = stack.value(stack.resources[id].Properties.ApplicationConfiguration);
      const code = config.ApplicationCodeConfiguration.CodeContent.S3ContentLocation;
      const properties = config.EnvironmentProperties.PropertyGroups.find((g: { PropertyGroupId: string }) => g.PropertyGroupId === 'job').PropertyMap;
      const logging = stack
        .find('AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption', '')
        .map((l) => stack.value(stack.resources[l].Properties))
        .find((l) => l.ApplicationName === stack.physicalName(id));
      const logStreamArn = logging?.CloudWatchLoggingOption.LogStreamARN;
      const requests = flinkJobRequests({ PropertyMap: properties, codeBucketArn: code.BucketARN, codeKey: code.FileKey, logStreamArn }, cluster);
      denials.push(...(await denied(stack, id, requests)).map((d) => `${id}: ${d}`));
    }
    return denials;
}

describe('freshness (platform/freshness): the canary of every stack and the reporter', () => {
  test('each canary publishes every source of its stack into its entrance (landing prefix, with the bucket key; or the topic)', async () => {
    const checked: string[] = [];
    for (const stack of Object.values(stacks)) {
      const canary = canaryOf(stack);
      if (!canary) continue;
      expect(canary.targets.length).toBeGreaterThan(0);
      expect(await denied(stack, canary.functionId, await canaryRequests(canary.targets))).toEqual([]);
      checked.push(`${stack.stackName}: ${canary.targets.map((t) => `${t.source} -> ${t.entrance.kind}`).join(', ')}`);
    }
    expect(checked.length).toBeGreaterThanOrEqual(3); // pipelines 1, 2 and 5
  });

  test("a canary may not write another source's landing prefix", async () => {
    const stack = stacks.MskToIceberg ?? stacks.KinesisToDeltaLake;
    const canary = canaryOf(stack)!;
    const landing = canary.targets.find((t) => t.entrance.kind === 'landing')!;
    const other = { ...landing, source: 'someone-else' };
    const denials = await deniedRequests(stack, stack.roleOf(canary.functionId), await canaryRequests([other]));
    expect(denials.map((d) => d.request.action)).toContain('s3:PutObject');
  });

  test("pipeline 3's heartbeat: the writer reads the database secret (in the VPC); the receipt writer reads DMS's heartbeat files and writes receipts", async () => {
    const s = stacks.RdsCdcToS3;
    const writer = s.one('AWS::Lambda::Function', 'CdcHeartbeatWriter');
    const receipts = s.one('AWS::Lambda::Function', 'CdcHeartbeatReceiptWriter');
    const env = (id: string) => s.value(s.resources[id].Properties.Environment.Variables) as Record<string, string>;
    const writerRequests = heartbeatWriterRequests(env(writer));
    expect(writerRequests.map((r) => r.resource)).toEqual([expect.stringMatching(/^arn:aws:secretsmanager:/)]);
    expect(await denied(s, writer, writerRequests)).toEqual([]);
    const rawBucket = s.physicalName(s.one('AWS::S3::Bucket', 'CdcRawBucket'));
    expect(await denied(s, receipts, await heartbeatReceiptsRequests(env(receipts), rawBucket))).toEqual([]);
  });

  test('the reporter makes no AWS request of its own (its metric is EMF in its logs)', async () => {
    for (const stack of Object.values(stacks)) {
      for (const id of stack.find('AWS::Lambda::Function', 'FreshnessReporter')) expect(await denied(stack, id, [])).toEqual([]);
    }
  });
});

describe('jobs (requests listed by hand from the code, with the deployed arguments: test/permissions/jobs.ts)', () => {
  test('KinesisToDeltaLake Spark jobs on Glue: Kinesis, S3A on the Delta tables and checkpoint, logs and metrics, the delivery stream', async () => {
    expect(JSON.stringify(stacks.KinesisToDeltaLake.template)).toContain('--delivery-stream-arn'); // customers read clickstream
    expect(await sparkJobDenials(stacks.KinesisToDeltaLake)).toEqual([]);
  });

  test('MskToIceberg Flink applications: Kafka source, Iceberg on Glue and S3, the s3a error sink, the delivery topic', async () => {
    expect(JSON.stringify(stacks.MskToIceberg.template)).toContain('"delivery.topic":"delivery.orders"'); // acme reads orders
    expect(await flinkJobDenials(stacks.MskToIceberg)).toEqual([]);
  });

  test('with processing rules (docs/processing-rules.md): the aggregates tables and the hash key, on both engines', async () => {
    // clickstream with the example rules, fed to both job pipelines (no gcp: a source with rules feeds only those).
    const context = readCdkJsonContext();
    const sources = context.sources as Record<string, Record<string, unknown>>;
    const ruled = synthesizeApp({
      gcp: undefined,
      sources: { ...sources, clickstream: { ...sources.clickstream, rules: 'clickstream.rules.json', pipelines: ['landingZone', 'kinesisToDeltaLake', 'mskToIceberg'] } },
    });
    const glue = JSON.stringify(ruled.KinesisToDeltaLake.template);
    const flink = JSON.stringify(ruled.MskToIceberg.template);
    expect(glue).toContain('--hash-key-secret');
    expect(flink).toContain('catalog.aggregates.table');
    expect(await sparkJobDenials(ruled.KinesisToDeltaLake)).toEqual([]);
    expect(await flinkJobDenials(ruled.MskToIceberg)).toEqual([]);
  });
});

describe('Firehose delivery streams of the raw zones (requests listed by hand from the Firehose guide: test/permissions/firehose.ts)', () => {
  test('each reads its Kinesis stream and writes its prefix and error prefix, with the zone key (Bucket Key context) and its log group', async () => {
    const denials: string[] = [];
    let proved = 0;
    for (const stack of Object.values(stacks)) {
      for (const id of stack.find('AWS::KinesisFirehose::DeliveryStream', '')) {
        const requests = firehoseRequests(stack, id);
        expect(requests.map((r) => r.action)).toEqual(expect.arrayContaining(['kinesis:GetRecords', 's3:PutObject', 'kms:GenerateDataKey', 'logs:PutLogEvents']));
        denials.push(...(await denied(stack, deliveryStreamRole(stack, id), requests)).map((d) => `${stack.stackName}/${id}: ${d}`));
        proved += 1;
      }
    }
    expect(proved).toBeGreaterThanOrEqual(2); // the landing zone's Events stream and pipeline 2's source streams
    expect(denials).toEqual([]);
  });

  test("the proof bites: another source's prefix, and a key condition on the object ARN (AWS's example), are denied", async () => {
    const stack = stacks.LandingZone;
    const id = stack.one('AWS::KinesisFirehose::DeliveryStream', 'RawZone');
    const role = deliveryStreamRole(stack, id);
    const requests = firehoseRequests(stack, id);
    const put = requests.find((r) => r.action === 's3:PutObject')!;
    const elsewhere = { ...put, resource: put.resource.replace('/events/', '/orders/') };
    expect((await deniedRequests(stack, role, [elsewhere])).map((d) => d.request.action)).toEqual(['s3:PutObject']);
    // The guide's per-prefix encryption-context condition, as a copy would add it: with a Bucket Key it denies the write.
    const policyId = stack.find('AWS::IAM::Policy', 'RawZoneeventsRoleDefaultPolicy')[0];
    const copied = withTemplate(stack, (t) => {
      const kmsStatement = t.Resources[policyId].Properties.PolicyDocument.Statement.find((s: { Action: unknown }) => [s.Action].flat().includes('kms:GenerateDataKey'));
      kmsStatement.Condition = { StringLike: { 'kms:EncryptionContext:aws:s3:arn': `${stack.value({ 'Fn::GetAtt': [stack.one('AWS::S3::Bucket', 'RawZoneBucket'), 'Arn'] })}/events/*` } };
    });
    const kmsRequests = requests.filter((r) => r.action.startsWith('kms:'));
    expect((await deniedRequests(copied, role, kmsRequests)).map((d) => d.request.action)).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
  });
});

describe('builds', () => {
  test('Flink JAR build (CodeBuild, our buildspec in pipelines/msk-to-iceberg/construct/job-build.ts): source, upload, logs', async () => {
    const stack = stacks.MskToIceberg;
    const project = stack.one('AWS::CodeBuild::Project', 'JobBuildProject');
    const p = stack.customResources('Custom::FlinkJobBuild')[0].properties as Record<string, string>;
    const logGroup = stack.value(stack.resources[project].Properties.LogsConfig.CloudWatchLogs.GroupName);
    const stream = `arn:aws:logs:${stack.value({ Ref: 'AWS::Region' })}:${stack.value({ Ref: 'AWS::AccountId' })}:log-group:${logGroup}:log-stream:build-1`;
    const requests: AwsRequest[] = [
      // CodeBuild downloads the S3 source with the project's role (CodeBuild user guide, "S3 source" permissions).
      { action: 's3:GetObject', resource: `arn:aws:s3:::${p.SourceBucket}/${p.SourceKey}` },
      { action: 's3:GetBucketLocation', resource: `arn:aws:s3:::${p.SourceBucket}` },
      { action: 's3:GetBucketAcl', resource: `arn:aws:s3:::${p.SourceBucket}` },
      // `aws s3 cp <jar> s3://...`: a multipart upload for a JAR above 8 MB (the CLI's multipart_threshold).
      { action: 's3:PutObject', resource: `arn:aws:s3:::${p.ArtifactBucket}/${p.ArtifactKey}`, multipart: true },
      { action: 'logs:CreateLogStream', resource: stream },
      { action: 'logs:PutLogEvents', resource: stream },
    ];
    expect(await denied(stack, project, requests)).toEqual([]);
  });
});

/**
 * Roles that run code which is not ours (CDK's own handlers, AWS services acting for the stack), with the reason
 * they are outside the proof. Anything else that runs code must be proven above.
 */
const NOT_OUR_CODE: [RegExp, string][] = [
  [/Providerframework|Providerwaiterstatemachine/, "CDK's custom-resource provider framework (invokes our handler; lambda:InvokeFunction granted by CDK)"],
  [/^BucketNotificationsHandler/, "CDK's S3 notifications handler"],
  [/^CustomVpcRestrictDefaultSG/, "CDK's default-security-group restriction handler"],
  [/^LogRetention/, "CDK's log-retention handler"],
  [/KubectlProvider/, "CDK's kubectl provider (aws-eks-v2)"],
  [/CloudWatchAgent/, 'the CloudWatch agent (Amazon image, AWS-managed CloudWatchAgentServerPolicy)'],
  [/Rotation/, 'the Secrets Manager rotation application (AWS Serverless Application Repository)'],
];

describe('the proof itself', () => {
  test('removing one statement from a synthesized role policy denies exactly the request it allowed', async () => {
    const stack = stacks.LandingZone;
    const { id, env, landingBucket } = validator(stack, 'clickstream');
    const requests = await validatorRequests(env, landingBucket);
    const role = stack.roleOf(id);
    const policyId = stack.find('AWS::IAM::Policy', 'LandingZoneclickstreamRoleDefaultPolicy')[0];
    const without = withTemplate(stack, (t) => {
      const statements: { Action: string | string[] }[] = t.Resources[policyId].Properties.PolicyDocument.Statement;
      const index = statements.findIndex((s) => s.Action === 'kinesis:PutRecords' || (Array.isArray(s.Action) && s.Action.includes('kinesis:PutRecords')));
      expect(index).toBeGreaterThanOrEqual(0);
      statements.splice(index, 1);
    });
    const denials = await deniedRequests(without, role, requests);
    expect(denials.map((d) => `${d.request.action} ${d.request.resource} ${d.result}`)).toEqual([
      `kinesis:PutRecords ${env.KINESIS_STREAM_ARN} ImplicitlyDenied`,
    ]);
  });

  test("S3's 404 rule bites: a prefix-conditioned ListBucket does not let a probe of a missing key see 404", async () => {
    const stack = stacks.LandingZone;
    const { id, env, landingBucket } = validator(stack, 'clickstream');
    const policyId = stack.find('AWS::IAM::Policy', 'LandingZoneclickstreamRoleDefaultPolicy')[0];
    // The validator's role as it was before issue 15 finding 2: ListBucket only for s3:prefix clickstream/*.
    const prefixOnly = withTemplate(stack, (t) => {
      const listing = t.Resources[policyId].Properties.PolicyDocument.Statement.find((s: { Action: unknown }) => s.Action === 's3:ListBucket');
      listing.Condition = { StringLike: { 's3:prefix': 'clickstream/*' } };
    });
    const probe: AwsRequest = { action: 's3:GetObject', resource: `arn:aws:s3:::${landingBucket}/clickstream/deleted.json`, mayBeMissing: true };
    const denials = await deniedRequests(prefixOnly, stack.roleOf(id), [probe]);
    expect(denials.map((d) => [d.request.action, d.request.resource, d.impliedBy?.resource])).toEqual([
      ['s3:ListBucket', `arn:aws:s3:::${landingBucket}`, probe.resource],
    ]);
    // A listing that names the prefix is still allowed: the condition works, only the probe's 404 is not covered.
    const list: AwsRequest = { action: 's3:ListBucket', resource: `arn:aws:s3:::${landingBucket}`, context: { 's3:prefix': 'clickstream/' } };
    expect(await deniedRequests(prefixOnly, stack.roleOf(id), [list])).toEqual([]);
    // And the deployed role passes the probe.
    expect(explain(await deniedRequests(stack, stack.roleOf(id), [probe]))).toEqual([]);
    expect(env.SOURCE_NAME).toBe('clickstream');
  });

  test('a KMS request needs the key policy: an identity grant alone is not enough when the key policy does not delegate to IAM', async () => {
    const stack = stacks.LandingZone;
    const { id, env } = validator(stack, 'clickstream');
    const bucketId = stack.one('AWS::S3::Bucket', 'LandingZoneErrorBucket');
    const keyArn = stack.keyFor(stack.arn(bucketId));
    const put: AwsRequest = { action: 's3:PutObject', resource: `arn:aws:s3:::${env.ERROR_BUCKET}/invalid/source=clickstream/x.ndjson` };
    expect(keyArn).toMatch(/^arn:aws:kms:/); // the error bucket is SSE-KMS with a key of this stack
    const keyId = Object.keys(stack.resources).find((k) => stack.resources[k].Type === 'AWS::KMS::Key' && stack.arn(k) === keyArn)!;
    const noDelegation = withTemplate(stack, (t) => {
      t.Resources[keyId].Properties.KeyPolicy.Statement = [];
    });
    const denials = await deniedRequests(noDelegation, stack.roleOf(id), [put]);
    expect(denials.map((d) => d.request.action)).toEqual(['kms:GenerateDataKey']);
  });
});

// Declared last: jest runs a file's tests in order, so every proof above has run.
describe('coverage', () => {
  test('every role that runs our code is proven by a test above', () => {
    // Resources that run code with a role of their own (roleOf finds it).
    const runners = new Set(['AWS::Lambda::Function', 'AWS::Glue::Job', 'AWS::KinesisAnalyticsV2::Application', 'AWS::EKS::PodIdentityAssociation', 'AWS::CodeBuild::Project']);
    const unproven = Object.values(stacks).flatMap((stack) =>
      Object.entries(stack.resources)
        .filter(([id, r]) => runners.has(r.Type) && !NOT_OUR_CODE.some(([pattern]) => pattern.test(id)))
        .map(([id]) => `${stack.stackName}/${stack.roleOf(id)}`)
        .filter((role) => !proven.has(role)),
    );
    // Firehose delivery streams run with the role their source and destination name (roleOf cannot tell it).
    const firehoseRoles = Object.values(stacks).flatMap((stack) =>
      stack.find('AWS::KinesisFirehose::DeliveryStream', '').map((id) => `${stack.stackName}/${deliveryStreamRole(stack, id)}`),
    );
    unproven.push(...firehoseRoles.filter((role) => !proven.has(role)));
    expect([...new Set(unproven)]).toEqual([]);
  });
});
