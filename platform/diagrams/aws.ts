/**
 * AWS half of the diagrams: a synthesized CloudFormation template (plus each logical id's construct path) as a
 * `StackModel`, and the table of what is drawn and which references mean data flow.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import { Access, ModelResource, Reference, StackModel, Vocabulary } from './graph';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Template = { Resources?: Record<string, { Type: string; Properties?: Record<string, any> }> };

/** The L1 ids CDK gives the CloudFormation resource of an L2 construct: not part of a readable path. */
const L1_IDS = new Set(['Resource', 'Default']);

/** Every `Ref`, `Fn::GetAtt` and `Fn::Sub` `${Id}` in `value` that names one of `ids`, with the property it is under. */
export function cfnReferences(value: unknown, ids: Set<string>, property = ''): { to: string; property: string }[] {
  const found: { to: string; property: string }[] = [];
  // Inside an intrinsic function (Fn::Join's list...) array positions are not properties either.
  const walk = (v: unknown, at: string, intrinsic = false) => {
    if (Array.isArray(v)) return v.forEach((item, i) => walk(item, intrinsic ? at : at ? `${at}.${i}` : String(i), intrinsic));
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string' && ids.has(o.Ref)) found.push({ to: o.Ref, property: at });
    const getAtt = o['Fn::GetAtt'];
    const target = Array.isArray(getAtt) ? getAtt[0] : typeof getAtt === 'string' ? getAtt.split('.')[0] : undefined;
    if (typeof target === 'string' && ids.has(target)) found.push({ to: target, property: at });
    const sub = o['Fn::Sub'];
    const text = typeof sub === 'string' ? sub : Array.isArray(sub) && typeof sub[0] === 'string' ? sub[0] : undefined;
    for (const m of text?.matchAll(/\$\{([^}!.]+)[^}]*\}/g) ?? []) if (ids.has(m[1])) found.push({ to: m[1], property: at });
    for (const [key, child] of Object.entries(o)) {
      // Intrinsic functions are not properties: a reference inside Fn::Join stays "under" the property that holds it.
      if (key.startsWith('Fn::') || key === 'Ref') walk(child, at, true);
      else walk(child, at ? `${at}.${key}` : key, intrinsic);
    }
  };
  walk(value, property);
  return found;
}

/**
 * IAM actions that move data, by direction: a principal allowed one of `write` on a resource sends data to it, one of
 * `read` receives data from it; `control` starts or stops it (drawn dashed). Everything else (describe, list, KMS,
 * logs, catalog calls) draws nothing.
 */
export const DATA_ACTIONS: Record<Access['access'], string[]> = {
  write: [
    'kinesis:PutRecord', 'kinesis:PutRecords', 'firehose:PutRecord', 'firehose:PutRecordBatch', 's3:PutObject',
    'sqs:SendMessage', 'sns:Publish', 'kafka-cluster:WriteData', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem',
  ],
  read: ['kinesis:GetRecords', 'kinesis:SubscribeToShard', 's3:GetObject', 'sqs:ReceiveMessage', 'kafka-cluster:ReadData', 'dynamodb:Query', 'dynamodb:GetItem'],
  control: ['glue:StartJobRun', 'dms:StartReplicationTask', 'kinesisanalytics:StartApplication', 'states:StartExecution'],
};

/** Which of `access` a policy action (with IAM wildcards) grants: the strongest of write, read, control it matches. */
function accessOf(actions: string[]): Access['access'][] {
  const patterns = actions.map((a) => new RegExp(`^${a.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i'));
  return (Object.keys(DATA_ACTIONS) as Access['access'][]).filter((access) => DATA_ACTIONS[access].some((action) => patterns.some((p) => p.test(action))));
}

/** Properties holding a resource's own name, which ARNs in policies may be built from. */
const NAME_PROPERTIES = ['Name', 'JobName', 'ReplicationTaskIdentifier', 'ApplicationName', 'StateMachineName', 'FunctionName', 'StreamName', 'DeliveryStreamName', 'QueueName', 'TopicName', 'BucketName'];

/** A CloudFormation value as text, references left out (an ARN built with Fn::Join: "arn:...:job/name"). */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as any)?.['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) return join[1].map(flatten).join(join[0]);
  return '';
}

/** A property through which a resource runs as an IAM role (`Role`, `RoleArn`, `ServiceExecutionRole`...). */
const RUNS_AS = /(^|\.)[A-Za-z]*Role(Arn|ARN)?$/;

/** The Kubernetes objects of a cdk EKS manifest (its JSON text with references left as placeholders). */
function manifestObjects(resource: ModelResource): any[] {
  const manifest = resource.properties.Manifest;
  const text = typeof manifest === 'string' ? manifest : Array.isArray((manifest as any)?.['Fn::Join']?.[1]) ? (manifest as any)['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'ref')).join('') : '[]';
  try {
    return JSON.parse(text);
  } catch {
    return [];
  }
}
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);
const workloads = (r: ModelResource) => manifestObjects(r).filter((o) => WORKLOAD_KINDS.has(o?.kind));

/** The model of one synthesized stack. */
export function awsStackModel(stack: Stack, template: Template, id = stack.node.id, title = `${id}: ${stack.stackName}`): StackModel {
  const paths = new Map<string, string[]>();
  for (const c of stack.node.findAll()) {
    if (!(c instanceof CfnResource)) continue;
    const segments = c.node.path.split('/').slice(stack.node.path.split('/').length);
    while (segments.length > 1 && L1_IDS.has(segments[segments.length - 1])) segments.pop();
    // A SecureBucket's inner `Bucket`: "Lake/Bucket" reads as "Lake".
    if (segments.length > 1 && segments[segments.length - 1] === 'Bucket' && c.cfnResourceType === 'AWS::S3::Bucket') segments.pop();
    paths.set(stack.resolve(c.logicalId), segments);
  }
  return awsTemplateModel(id, title, template, (logicalId) => paths.get(logicalId) ?? [logicalId]);
}

/** The model of a template, given each logical id's construct path below the stack. */
export function awsTemplateModel(id: string, title: string, template: Template, pathOf: (logicalId: string) => string[]): StackModel {
  const entries = Object.entries(template.Resources ?? {});
  const ids = new Set(entries.map(([logicalId]) => logicalId));
  const resources: ModelResource[] = entries.map(([logicalId, r]) => ({ id: logicalId, type: r.Type, path: pathOf(logicalId), properties: r.Properties ?? {} }));
  const byId = new Map(resources.map((r) => [r.id, r]));
  const references: Reference[] = resources.flatMap((r) => cfnReferences(r.properties, ids).map((ref) => ({ from: r.id, ...ref })));

  // Who runs as each role: resources naming it in a role property; an EKS pod identity stands for the workloads
  // of the manifests that use its service account.
  const runsAs = new Map<string, string[]>();
  for (const ref of references) {
    const from = byId.get(ref.from)!;
    if (from.type.startsWith('AWS::IAM::') || byId.get(ref.to)?.type !== 'AWS::IAM::Role' || !RUNS_AS.test(ref.property)) continue;
    let principals = [ref.from];
    if (from.type === 'AWS::EKS::PodIdentityAssociation') {
      const { Namespace: namespace, ServiceAccount: account } = from.properties as { Namespace?: string; ServiceAccount?: string };
      principals = resources
        .filter((r) => workloads(r).some((w) => (w.metadata?.namespace ?? 'default') === namespace && (w.spec?.template?.spec?.serviceAccountName ?? w.spec?.jobTemplate?.spec?.template?.spec?.serviceAccountName) === account))
        .map((r) => r.id);
    }
    runsAs.set(ref.to, [...(runsAs.get(ref.to) ?? []), ...principals]);
  }

  // A policy may name a resource by its ARN built from the resource's literal name (a Glue job, a DMS task).
  const named = resources.flatMap((r) => NAME_PROPERTIES.map((p) => r.properties[p]).filter((n): n is string => typeof n === 'string').map((name) => ({ id: r.id, name })));
  const byName = (arn: unknown) => {
    const text = flatten(arn);
    return named.filter(({ name }) => text.endsWith(`/${name}`) || text.endsWith(`:${name}`) || text.includes(`:${name}/`) || text.includes(`/${name}/`)).map(({ id }) => id);
  };

  // What each role's identity policies allow, per (principal, resource): write wins over read.
  const strongest = new Map<string, Access>();
  const grant = (role: string, statements: any[]) => {
    for (const statement of statements ?? []) {
      if (statement.Effect !== 'Allow') continue;
      const access = accessOf([statement.Action ?? []].flat());
      const targets = [...cfnReferences(statement.Resource, ids).map((ref) => ref.to), ...[statement.Resource].flat().flatMap(byName)];
      for (const to of new Set(targets)) {
        for (const principal of runsAs.get(role) ?? []) {
          for (const a of access) {
            const key = `${principal}\u0000${to}\u0000${a === 'control' ? 'control' : 'data'}`;
            if (a === 'read' && strongest.get(key)?.access === 'write') continue;
            strongest.set(key, { principal, resource: to, access: a });
          }
        }
      }
    }
  };
  for (const r of resources) {
    const p = r.properties as any;
    if (r.type === 'AWS::IAM::Policy' || r.type === 'AWS::IAM::ManagedPolicy') {
      for (const { to: role } of cfnReferences(p.Roles, ids)) grant(role, p.PolicyDocument?.Statement);
    } else if (r.type === 'AWS::IAM::Role') {
      for (const policy of p.Policies ?? []) grant(r.id, policy.PolicyDocument?.Statement);
    }
  }
  return { id, title, resources, references, accesses: [...strongest.values()] };
}

/** What is drawn, and which references are data flow, in a CloudFormation template. */
export const AWS_VOCABULARY: Vocabulary = {
  shown: {
    'AWS::S3::Bucket': { label: 'S3 bucket', category: 'storage' },
    'AWS::Kinesis::Stream': { label: 'Kinesis stream', category: 'messaging' },
    'AWS::SNS::Topic': { label: 'SNS topic', category: 'messaging' },
    'AWS::SQS::Queue': { label: 'SQS queue', category: 'messaging' },
    'AWS::MSK::Cluster': { label: 'MSK cluster', category: 'messaging' },
    'AWS::MSK::ServerlessCluster': { label: 'MSK Serverless cluster', category: 'messaging' },
    'AWS::KinesisFirehose::DeliveryStream': { label: 'Firehose delivery stream', category: 'messaging' },
    'AWS::Lambda::Function': { label: 'Lambda function', category: 'compute' },
    'AWS::Glue::Job': { label: 'Glue streaming job', category: 'compute' },
    'AWS::KinesisAnalyticsV2::Application': { label: 'Managed Flink application', category: 'compute' },
    'AWS::DMS::ReplicationTask': { label: 'DMS replication task', category: 'compute' },
    'AWS::StepFunctions::StateMachine': { label: 'Step Functions state machine', category: 'compute' },
    'AWS::EKS::Cluster': { label: 'EKS cluster', category: 'compute' },
    'Custom::AWSCDK-EKS-KubernetesResource': {
      label: 'Kubernetes workload',
      category: 'compute',
      when: (r) => workloads(r).length > 0,
      name: (r) => workloads(r).map((w) => `${w.kind} ${w.metadata?.name}`).join(', '),
    },
    'AWS::RDS::DBInstance': { label: 'RDS database', category: 'database' },
    'AWS::RDS::DBCluster': { label: 'RDS cluster', category: 'database' },
    'AWS::DynamoDB::Table': { label: 'DynamoDB table', category: 'database' },
    'AWS::Glue::Table': { label: 'Glue table', category: 'catalog' },
    'AWS::Glue::Registry': { label: 'Glue schema registry', category: 'catalog' },
    'AWS::APS::Workspace': { label: 'Managed Prometheus workspace', category: 'monitoring' },
    'AWS::CloudWatch::Dashboard': { label: 'CloudWatch dashboard', category: 'monitoring' },
  },
  counted: {
    'AWS::CloudWatch::Alarm': { label: 'CloudWatch alarms', category: 'monitoring' },
    'AWS::CloudWatch::CompositeAlarm': { label: 'CloudWatch alarms', category: 'monitoring' },
  },
  flows: [
    { type: 'Custom::S3BucketNotifications', from: /^BucketName$/, to: /^NotificationConfiguration\./, label: 'object created' },
    { type: 'AWS::S3::Bucket', to: /^NotificationConfiguration\./, label: 'object created' },
    { type: 'AWS::SNS::Subscription', from: /^TopicArn$/, to: /^Endpoint$/, label: 'subscription' },
    { type: 'AWS::SNS::Subscription', to: /^RedrivePolicy\.deadLetterTargetArn$/, label: 'dead letter' },
    { type: 'AWS::SQS::Queue', to: /^RedrivePolicy\.deadLetterTargetArn$/, label: 'dead letter' },
    { type: 'AWS::Lambda::Function', to: /^DeadLetterConfig\.TargetArn$/, label: 'dead letter' },
    { type: 'AWS::Lambda::EventInvokeConfig', from: /^FunctionName$/, to: /^DestinationConfig\.OnFailure\./, label: 'on failure' },
    { type: 'AWS::SNS::Topic', to: /^Subscription\.\d+\.Endpoint$/, label: 'subscription' },
    { type: 'AWS::Lambda::EventSourceMapping', from: /^EventSourceArn$/, to: /^FunctionName$/, label: 'event source' },
    { type: 'AWS::KinesisFirehose::DeliveryStream', from: /^KinesisStreamSourceConfiguration\.|^MSKSourceConfiguration\./, to: /DestinationConfiguration\.(BucketARN|S3Configuration\.BucketARN)$/ },
    { type: 'AWS::DMS::ReplicationTask', from: /^SourceEndpointArn$/, to: /^TargetEndpointArn$/ },
    { type: 'AWS::DMS::Endpoint', from: /Settings\.SecretsManagerSecretId$|^ServerName$/, to: /^S3Settings\.BucketName$|^KinesisSettings\.StreamArn$|^KafkaSettings\.Broker$/ },
    { type: 'AWS::SecretsManager::SecretTargetAttachment', from: /^TargetId$/ },
    { type: 'AWS::Glue::Table', from: /^TableInput\.StorageDescriptor\.Location$/, label: 'table over' },
    { type: 'AWS::APS::Scraper', from: /^Source\./, to: /^Destination\./, label: 'metrics' },
    { type: 'AWS::CloudWatch::Alarm', to: /^(AlarmActions|OKActions|InsufficientDataActions)\./, label: 'alarm' },
    { type: 'AWS::CloudWatch::CompositeAlarm', to: /^(AlarmActions|OKActions|InsufficientDataActions)\./, label: 'alarm' },
  ],
  plumbingReference: /^ServiceToken$|LoggingConfiguration\.DestinationBucketName$|ResultConfiguration\.OutputLocation$/,
  plumbingClosure: new Set(['AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine']),
};
