/**
 * Permission proof: evaluates the AWS requests our code makes against the policies the synthesized stack deploys for
 * the role that makes them, identity and resource policies together, with an offline IAM evaluator
 * (`@cloud-copilot/iam-simulate`, AGPL: test-only). See test/permissions/README.md.
 *
 * A template is made concrete with a fixed account and region and a deterministic physical name per logical id (the
 * resource's own name property when it sets one), so the ARNs our code is given (a function's environment, a job's
 * arguments) and the ARNs the policies name resolve the same way.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getDenialReasons, runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { buildAwsApp } from '../../platform/aws-app';
import { parseConfig } from '../../platform/config';
import { testApp } from './aws';
import { AwsPipelineKey } from '../../pipelines';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
const PARTITION = 'aws';

/** One IAM request: what the authorizer sees for one API call (or one of its implied calls). */
export interface AwsRequest {
  action: string;
  /** The resource ARN, or `*` for actions without a resource type. */
  resource: string;
  /** Request context keys, e.g. `s3:prefix`. */
  context?: Record<string, string | string[]>;
  /**
   * An S3 GET/HEAD of a key that may not exist (an existence probe): S3 answers 404 only to a caller that may
   * s3:ListBucket the bucket, 403 otherwise (GetObject and HeadObject API reference, "Permissions").
   */
  mayBeMissing?: boolean;
  /** A multipart upload to an SSE-KMS bucket also needs kms:Decrypt (S3 user guide, "mpuAndPermissions"). */
  multipart?: boolean;
  /** For requests listed by hand: why the code makes it, and where. */
  why?: string;
}

export interface Denial {
  request: AwsRequest;
  /** The request this one is implied by (the KMS call of an S3 PUT, the ListBucket of a probe), if any. */
  impliedBy?: AwsRequest;
  result: string;
  reasons: string;
}

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Resource {
  Type: string;
  Properties?: Json;
  Metadata?: Json;
}
type PolicyDocument = { Version?: string; Statement: Json[] };

/** AWS-managed policies our roles attach, with their documented statements (AWS Managed Policy Reference). */
const MANAGED_POLICIES: Record<string, PolicyDocument> = {
  'service-role/AWSLambdaBasicExecutionRole': {
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
  'service-role/AWSLambdaVPCAccessExecutionRole': {
    Statement: [
      { Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        Resource: '*',
      },
    ],
  },
};

/** Physical-name property per resource type: a resource that sets it is named so; otherwise its lower-cased logical id. */
const NAME_PROPERTY: Record<string, (p: Json) => Json> = {
  'AWS::S3::Bucket': (p) => p.BucketName,
  'AWS::Kinesis::Stream': (p) => p.Name,
  'AWS::SQS::Queue': (p) => p.QueueName,
  'AWS::SNS::Topic': (p) => p.TopicName,
  'AWS::IAM::Role': (p) => p.RoleName,
  'AWS::Lambda::Function': (p) => p.FunctionName,
  'AWS::Logs::LogGroup': (p) => p.LogGroupName,
  'AWS::Glue::Database': (p) => p.DatabaseInput?.Name,
  'AWS::Glue::Table': (p) => p.TableInput?.Name,
  'AWS::Glue::Job': (p) => p.Name,
  'AWS::Glue::Registry': (p) => p.Name,
  'AWS::Glue::Schema': (p) => p.Name,
  'AWS::KinesisAnalyticsV2::Application': (p) => p.ApplicationName,
  'AWS::MSK::ServerlessCluster': (p) => p.ClusterName,
  'AWS::MSK::Cluster': (p) => p.ClusterName,
  'AWS::CodeBuild::Project': (p) => p.Name,
  'AWS::EKS::Cluster': (p) => p.Name,
  'AWS::SecretsManager::Secret': (p) => p.Name,
  'AWS::DMS::ReplicationTask': (p) => p.ReplicationTaskIdentifier,
};

/**
 * The synthesized templates of the app as `bin/aws.ts` builds it from cdk.json (assets not bundled). One synth; `only`
 * builds just those stacks (the stacks reference nothing of each other).
 */
export function synthesizeApp(context: Record<string, unknown> = {}, only?: readonly AwsPipelineKey[]): Record<string, StackPolicies> {
  const app = testApp({ ...context, 'aws:cdk:bundling-stacks': [] });
  buildAwsApp(app, parseConfig(app.node.getAllContext()), only);
  const assembly = app.synth();
  return Object.fromEntries(
    assembly.stacks.map((s) => [s.id, new StackPolicies(JSON.parse(fs.readFileSync(path.join(assembly.directory, s.templateFile), 'utf8')), s.stackName)]),
  );
}

/** A synthesized template made concrete: intrinsics resolved, roles and resource policies found. */
export class StackPolicies {
  readonly resources: Record<string, Resource>;

  constructor(
    readonly template: Json,
    readonly stackName: string,
  ) {
    this.resources = template.Resources;
  }

  /** Logical ids of resources of `type` whose logical id (or CDK path) contains `part`. */
  find(type: string, part: string): string[] {
    return Object.entries(this.resources)
      .filter(([id, r]) => r.Type === type && (id.includes(part) || String(r.Metadata?.['aws:cdk:path'] ?? '').includes(part)))
      .map(([id]) => id);
  }

  /** The one resource of `type` matching `part`; throws naming the candidates otherwise. */
  one(type: string, part: string): string {
    const found = this.find(type, part);
    if (found.length !== 1) {
      const all = Object.keys(this.resources).filter((id) => this.resources[id].Type === type);
      throw new Error(`${this.stackName}: expected one ${type} matching "${part}", found ${JSON.stringify(found)} (all: ${all.join(', ')})`);
    }
    return found[0];
  }

  /** The role that runs a piece of code: a role's logical id, or a function, job, application or pod identity's. */
  roleOf(logicalId: string): string {
    const r = this.resources[logicalId];
    if (!r) throw new Error(`${this.stackName}: no resource ${logicalId}`);
    if (r.Type === 'AWS::IAM::Role') return logicalId;
    const p = r.Properties;
    const ref = p.Role ?? p.ServiceExecutionRole ?? p.RoleArn ?? p.ServiceRole ?? p.ExecutionRoleArn;
    const id = ref?.['Fn::GetAtt']?.[0] ?? ref?.Ref;
    if (!id || this.resources[id]?.Type !== 'AWS::IAM::Role') throw new Error(`${this.stackName}: cannot tell the role of ${logicalId} (${r.Type}): ${JSON.stringify(ref)}`);
    return id;
  }

  /** Deterministic physical name of a resource. */
  physicalName(logicalId: string): string {
    const r = this.resources[logicalId];
    const named = NAME_PROPERTY[r.Type]?.(r.Properties ?? {});
    return named !== undefined ? String(this.resolve(named)) : logicalId.toLowerCase();
  }

  /** `Ref` of a resource, as CloudFormation documents it per type. */
  private ref(logicalId: string): string {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': ACCOUNT,
      'AWS::Region': REGION,
      'AWS::Partition': PARTITION,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
      'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${this.stackName}/id`,
    };
    if (logicalId in pseudo) return pseudo[logicalId];
    const parameter = this.template.Parameters?.[logicalId];
    if (parameter) return parameter.Default ?? `parameter-${logicalId.toLowerCase()}`;
    const r = this.resources[logicalId];
    if (!r) throw new Error(`${this.stackName}: Ref to unknown ${logicalId}`);
    const name = this.physicalName(logicalId);
    switch (r.Type) {
      case 'AWS::SNS::Topic':
      case 'AWS::MSK::ServerlessCluster':
      case 'AWS::MSK::Cluster':
      case 'AWS::DMS::ReplicationTask':
      case 'AWS::DMS::ReplicationInstance':
      case 'AWS::DMS::Endpoint':
      case 'AWS::SecretsManager::Secret':
      case 'AWS::IAM::ManagedPolicy':
      case 'AWS::Kinesis::StreamConsumer':
        return this.arn(logicalId);
      case 'AWS::SQS::Queue':
        return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
      // A rotated database secret is referenced through its attachment, whose Ref is the secret's ARN.
      case 'AWS::SecretsManager::SecretTargetAttachment':
        return String(this.resolve(r.Properties.SecretId));
      case 'AWS::KMS::Key':
        return logicalId.toLowerCase();
      default:
        return name;
    }
  }

  /** The ARN of a resource (`Fn::GetAtt X.Arn`), in each service's documented format. */
  arn(logicalId: string): string {
    const r = this.resources[logicalId];
    const name = this.physicalName(logicalId);
    const regional = (service: string, resource: string) => `arn:${PARTITION}:${service}:${REGION}:${ACCOUNT}:${resource}`;
    switch (r.Type) {
      case 'AWS::S3::Bucket': return `arn:${PARTITION}:s3:::${name}`;
      case 'AWS::Kinesis::Stream': return regional('kinesis', `stream/${name}`);
      case 'AWS::KMS::Key': return regional('kms', `key/${name}`);
      case 'AWS::SNS::Topic': return regional('sns', name);
      case 'AWS::SQS::Queue': return regional('sqs', name);
      case 'AWS::IAM::Role': return `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}`;
      case 'AWS::IAM::ManagedPolicy': return `arn:${PARTITION}:iam::${ACCOUNT}:policy/${name}`;
      case 'AWS::Lambda::Function': return regional('lambda', `function:${name}`);
      case 'AWS::Logs::LogGroup': return regional('logs', `log-group:${name}:*`);
      case 'AWS::MSK::ServerlessCluster':
      case 'AWS::MSK::Cluster': return regional('kafka', `cluster/${name}/00000000-0000-0000-0000-000000000000-s1`);
      case 'AWS::CodeBuild::Project': return regional('codebuild', `project/${name}`);
      case 'AWS::EKS::Cluster': return regional('eks', `cluster/${name}`);
      case 'AWS::SecretsManager::Secret': return regional('secretsmanager', `secret:${name}-AbCdEf`);
      // DMS ARNs end with the resource identifier: ResourceIdentifier when set, else one DMS generates.
      case 'AWS::DMS::ReplicationTask': return regional('dms', `task:${this.dmsIdentifier(logicalId)}`);
      case 'AWS::DMS::ReplicationInstance': return regional('dms', `rep:${this.dmsIdentifier(logicalId)}`);
      case 'AWS::DMS::Endpoint': return regional('dms', `endpoint:${this.dmsIdentifier(logicalId)}`);
      case 'AWS::Glue::Job': return regional('glue', `job/${name}`);
      case 'AWS::Glue::Registry': return regional('glue', `registry/${name}`);
      // A schema's ARN names its registry: schema/<registry>/<schema> (Glue API, SchemaId).
      case 'AWS::Glue::Schema': return regional('glue', `schema/${String(this.resolve(r.Properties.Registry.Arn)).split('registry/')[1]}/${name}`);
      // A consumer's ARN ends in its creation timestamp (RegisterStreamConsumer): a fixed one here.
      case 'AWS::Kinesis::StreamConsumer': return `${this.resolve(r.Properties.StreamARN)}/consumer/${this.resolve(r.Properties.ConsumerName)}:1700000000`;
      case 'AWS::KinesisAnalyticsV2::Application': return regional('kinesisanalytics', `application/${name}`);
      case 'AWS::StepFunctions::StateMachine': return regional('states', `stateMachine:${name}`);
      default: return regional(r.Type.split('::')[1].toLowerCase(), name);
    }
  }

  private dmsIdentifier(logicalId: string): string {
    const id = this.resources[logicalId].Properties?.ResourceIdentifier;
    return id !== undefined ? String(this.resolve(id)) : logicalId.toUpperCase();
  }

  /**
   * Every custom resource of `type` (e.g. `Custom::FlinkJobBuild`, one per source for some): its resolved properties
   * and the functions that run its handler code (the provider framework's user functions named in the framework
   * function's environment, or the service token's function itself).
   */
  customResources(type: string): { id: string; properties: Record<string, unknown>; handlers: string[] }[] {
    const functions = Object.keys(this.resources).filter((id) => this.resources[id].Type === 'AWS::Lambda::Function');
    const byArn = new Map(functions.map((id) => [this.arn(id), id]));
    return this.find(type, '').map((id) => {
      const properties = this.resolve(this.resources[id].Properties);
      const token = byArn.get(properties.ServiceToken);
      if (!token) throw new Error(`${this.stackName}: the service token of ${id} is not a function of this stack: ${properties.ServiceToken}`);
      const env = this.resolve(this.resources[token].Properties.Environment?.Variables ?? {});
      const user = [env.USER_ON_EVENT_FUNCTION_ARN, env.USER_IS_COMPLETE_FUNCTION_ARN].filter(Boolean).map((arn: string) => byArn.get(arn)!);
      return { id, properties, handlers: user.length > 0 ? user : [token] };
    });
  }

  private getAtt(logicalId: string, attribute: string): string {
    const r = this.resources[logicalId];
    if (!r) throw new Error(`${this.stackName}: GetAtt of unknown ${logicalId}`);
    if (attribute === 'Arn' || attribute === 'TopicArn' || attribute === 'StreamArn' || attribute === 'ConsumerARN') return this.arn(logicalId);
    if (r.Type === 'AWS::SQS::Queue' && attribute === 'QueueName') return this.physicalName(logicalId);
    if (r.Type === 'AWS::SQS::Queue' && attribute === 'QueueUrl') return this.ref(logicalId);
    if (r.Type === 'AWS::KMS::Key' && attribute === 'KeyId') return this.ref(logicalId);
    if (r.Type === 'AWS::S3::Bucket' && attribute === 'RegionalDomainName') return `${this.physicalName(logicalId)}.s3.${REGION}.amazonaws.com`;
    return `${logicalId.toLowerCase()}-${attribute.toLowerCase()}`;
  }

  private condition(name: string): boolean {
    return Boolean(this.resolve(this.template.Conditions[name]));
  }

  /** Resolves CloudFormation intrinsics in `value` to concrete values. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [fn] = keys;
      const arg = value[fn];
      switch (fn) {
        case 'Ref': return arg === 'AWS::NoValue' ? NO_VALUE : this.ref(arg);
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
          return this.getAtt(id, attribute);
        }
        case 'Fn::Join': return (this.resolve(arg[1]) as Json[]).join(arg[0]);
        case 'Fn::Select': return this.resolve(arg[1])[Number(this.resolve(arg[0]))];
        case 'Fn::Split': return String(this.resolve(arg[1])).split(arg[0]);
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
          return String(text).replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
            if (name in vars) return String(this.resolve(vars[name]));
            const [id, attribute] = name.split(/\.(.*)/);
            return attribute ? this.getAtt(id, attribute) : this.ref(id);
          });
        }
        case 'Fn::If': return this.resolve(this.condition(arg[0]) ? arg[1] : arg[2]);
        case 'Fn::Equals': return JSON.stringify(this.resolve(arg[0])) === JSON.stringify(this.resolve(arg[1]));
        case 'Fn::Not': return !this.resolve(arg[0]);
        case 'Fn::And': return arg.every((a: Json) => this.resolve(a));
        case 'Fn::Or': return arg.some((a: Json) => this.resolve(a));
        case 'Condition': return this.condition(arg);
        case 'Fn::ImportValue': return `import-${String(this.resolve(arg)).toLowerCase()}`;
        case 'Fn::GetAZs': return [`${REGION}a`, `${REGION}b`, `${REGION}c`];
        case 'Fn::Base64': return Buffer.from(String(this.resolve(arg))).toString('base64');
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]).filter(([, v]) => v !== NO_VALUE));
  }

  /** A role's identity policies: inline, AWS::IAM::Policy and ManagedPolicy attached to it, AWS-managed by table. */
  identityPolicies(roleId: string): { name: string; policy: PolicyDocument }[] {
    const role = this.resources[roleId].Properties;
    if (role.PermissionsBoundary) throw new Error(`${roleId} has a permissions boundary: evaluate it (permissionBoundaryPolicies) before trusting the proof`);
    const attached = (r: Resource) =>
      (r.Properties.Roles ?? []).some((x: Json) => x?.Ref === roleId) || r.Properties.RoleName?.Ref === roleId;
    const policies = [
      ...(role.Policies ?? []).map((p: Json) => ({ name: `${roleId}/${p.PolicyName}`, policy: p.PolicyDocument })),
      ...Object.entries(this.resources)
        .filter(([, r]) => ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::RolePolicy'].includes(r.Type) && attached(r))
        .map(([id, r]) => ({ name: id, policy: r.Properties.PolicyDocument })),
    ];
    for (const managed of role.ManagedPolicyArns ?? []) {
      const local = managed?.Ref;
      if (local && this.resources[local]?.Type === 'AWS::IAM::ManagedPolicy') {
        if (!attached(this.resources[local])) policies.push({ name: local, policy: this.resources[local].Properties.PolicyDocument });
        continue;
      }
      const arn = String(this.resolve(managed));
      const name = arn.replace(/^arn:[^:]+:iam::aws:policy\//, '');
      const document = MANAGED_POLICIES[name];
      if (!document) throw new Error(`${roleId} attaches ${arn}: add its documented statements to MANAGED_POLICIES in test/support/iam-proof.ts`);
      policies.push({ name: `aws-managed/${name}`, policy: document });
    }
    return policies.map((p) => ({ name: p.name, policy: { Version: '2012-10-17', ...this.resolve(p.policy) } }));
  }

  /** Resource policies by the ARN of the resource they guard (buckets, keys, topics, queues, streams, secrets). */
  resourcePolicies(): Map<string, Json[]> {
    const byArn = new Map<string, Json[]>();
    const add = (arn: string, document: Json) => byArn.set(arn, [...(byArn.get(arn) ?? []), ...this.resolve(document).Statement]);
    const queueArn = (url: string) => {
      const [, , host, account, name] = url.split('/');
      return `arn:${PARTITION}:sqs:${host.split('.')[1]}:${account}:${name}`;
    };
    for (const [id, r] of Object.entries(this.resources)) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::S3::BucketPolicy') add(`arn:${PARTITION}:s3:::${this.resolve(p.Bucket)}`, p.PolicyDocument);
      if (r.Type === 'AWS::KMS::Key') add(this.arn(id), p.KeyPolicy);
      if (r.Type === 'AWS::SNS::TopicPolicy') for (const t of this.resolve(p.Topics)) add(t, p.PolicyDocument);
      if (r.Type === 'AWS::SQS::QueuePolicy') for (const q of this.resolve(p.Queues)) add(queueArn(q), p.PolicyDocument);
      if (r.Type === 'AWS::Kinesis::ResourcePolicy') add(this.resolve(p.ResourceArn), p.ResourcePolicy);
      if (r.Type === 'AWS::SecretsManager::ResourcePolicy') add(this.resolve(p.SecretId), p.ResourcePolicy);
    }
    return byArn;
  }

  /** The customer-managed key (in this template) that encrypts the resource `arn` guards, if any. */
  keyFor(resourceArn: string): string | undefined {
    const keys = new Set(Object.keys(this.resources).filter((id) => this.resources[id].Type === 'AWS::KMS::Key').map((id) => this.arn(id)));
    const inTemplate = (k: Json) => {
      const value = k === undefined ? undefined : String(this.resolve(k));
      if (value === undefined) return undefined;
      const arn = value.startsWith('arn:') ? value : `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/${value}`;
      return keys.has(arn) ? arn : undefined;
    };
    for (const [id, r] of Object.entries(this.resources)) {
      const p = r.Properties ?? {};
      const owns = (arn: string) => resourceArn === arn || resourceArn.startsWith(`${arn}/`);
      if (r.Type === 'AWS::S3::Bucket' && owns(this.arn(id))) {
        const rule = p.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
        return rule?.SSEAlgorithm?.startsWith('aws:kms') ? inTemplate(rule.KMSMasterKeyID) : undefined;
      }
      if (r.Type === 'AWS::Kinesis::Stream' && owns(this.arn(id))) return inTemplate(p.StreamEncryption?.KeyId);
      if ((r.Type === 'AWS::SQS::Queue' || r.Type === 'AWS::SNS::Topic') && this.arn(id) === resourceArn) return inTemplate(p.KmsMasterKeyId);
      if (r.Type === 'AWS::SecretsManager::Secret' && this.arn(id) === resourceArn) return inTemplate(p.KmsKeyId);
    }
    return undefined;
  }

  /** The deterministic name/ARN the template gives a resource, e.g. to build the requests a test drives. */
  value(intrinsic: Json): Json {
    return this.resolve(intrinsic);
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

/** The requests a request implies: KMS calls the service makes as the caller, and S3's ListBucket for a 404. */
export function impliedRequests(stack: StackPolicies, request: AwsRequest): AwsRequest[] {
  const { action, resource } = request;
  const implied: AwsRequest[] = [];
  const service = action.split(':')[0];
  const key = ['s3', 'kinesis', 'sqs', 'sns', 'secretsmanager'].includes(service) ? stack.keyFor(resource) : undefined;
  const kms = (...actions: string[]) =>
    actions.forEach((a) => implied.push({ action: a, resource: key!, context: { 'kms:ViaService': `${service}.${REGION}.amazonaws.com`, 'kms:CallerAccount': ACCOUNT } }));
  if (key) {
    // Each service documents the key permissions its callers need (S3 UsingKMSEncryption, Kinesis server-side
    // encryption "permissions to use user-generated KMS keys", SQS/SNS "key management", Secrets Manager "security-encryption").
    if (action === 's3:PutObject') kms('kms:GenerateDataKey', ...(request.multipart ? ['kms:Decrypt'] : []));
    if (action === 's3:GetObject' || action === 's3:GetObjectVersion') kms('kms:Decrypt');
    if (action === 'kinesis:PutRecords' || action === 'kinesis:PutRecord') kms('kms:GenerateDataKey');
    if (action === 'kinesis:GetRecords' || action === 'kinesis:SubscribeToShard') kms('kms:Decrypt');
    if (action === 'sqs:SendMessage' || action === 'sns:Publish') kms('kms:GenerateDataKey', 'kms:Decrypt');
    if (action === 'sqs:ReceiveMessage') kms('kms:Decrypt');
    if (action === 'secretsmanager:GetSecretValue') kms('kms:Decrypt');
  }
  if (request.mayBeMissing) {
    // S3 decides 404 vs 403 on ListBucket. Evaluated WITHOUT s3:prefix: AWS does not document evaluating it for this
    // decision (issue 15, finding 2), so a prefix-conditioned ListBucket does not count.
    const bucket = resource.replace(/^(arn:[^:]+:s3:::[^/]+)\/.*$/, '$1');
    implied.push({ action: 's3:ListBucket', resource: bucket, why: 'a missing key is a 404 only with s3:ListBucket on the bucket' });
  }
  return implied;
}

/**
 * What a service does with the role of the code it runs, whatever the code does: Lambda writes the function's logs
 * and, for a function in a VPC, manages its network interfaces (Lambda developer guide, configuration-vpc: these five
 * actions); Managed Flink in a VPC does the same (Managed Flink developer guide, "VPC application permissions").
 */
export function runtimeRequests(stack: StackPolicies, resourceId: string): AwsRequest[] {
  const r = stack.resources[resourceId];
  const p = r.Properties ?? {};
  const eni = (actions: string[], why: string) => actions.map((action) => ({ action, resource: '*', why }));
  if (r.Type === 'AWS::Lambda::Function') {
    const name = stack.physicalName(resourceId);
    const logGroup = p.LoggingConfig?.LogGroup ? stack.value(p.LoggingConfig.LogGroup) : `/aws/lambda/${name}`;
    const stream = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroup}:log-stream:2026/11/20/[$LATEST]0`;
    return [
      { action: 'logs:CreateLogStream', resource: stream, why: 'the Lambda runtime writes the function logs with its role' },
      { action: 'logs:PutLogEvents', resource: stream, why: 'the Lambda runtime writes the function logs with its role' },
      ...(p.VpcConfig
        ? eni(['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'], 'Lambda manages the network interfaces of a function in a VPC with its role')
        : []),
    ];
  }
  if (r.Type === 'AWS::KinesisAnalyticsV2::Application' && p.ApplicationConfiguration?.VpcConfigurations) {
    return eni(
      ['ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeDhcpOptions', 'ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface'],
      'Managed Flink creates the application\'s network interfaces in its VPC with the service execution role',
    );
  }
  return [];
}

const describe = (r: AwsRequest) => `${r.action} ${r.resource}${r.context && Object.keys(r.context).length ? ` ${JSON.stringify(r.context)}` : ''}`;

/** Evaluates every request (and what it implies) as `roleId`; returns the denied ones with the reason. */
export async function deniedRequests(stack: StackPolicies, roleId: string, requests: AwsRequest[]): Promise<Denial[]> {
  const identityPolicies = stack.identityPolicies(roleId);
  const resourcePolicies = stack.resourcePolicies();
  const principal = `arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/${stack.physicalName(roleId)}/session`;
  const seen = new Set<string>();
  const denials: Denial[] = [];
  const evaluate = async (request: AwsRequest, impliedBy?: AwsRequest) => {
    const id = describe(request);
    if (seen.has(id)) return;
    seen.add(id);
    const guarded = request.resource.startsWith('arn:aws:s3:::') ? request.resource.replace(/^(arn:aws:s3:::[^/]+).*$/, '$1') : request.resource;
    const statements = resourcePolicies.get(guarded);
    const simulation: Simulation = {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: { 'aws:SecureTransport': 'true', 'aws:PrincipalAccount': ACCOUNT, 'aws:PrincipalArn': stack.arn(roleId), ...request.context },
      },
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: statements ? { Version: '2012-10-17', Statement: statements } : undefined,
    };
    const response = await runSimulation(simulation, {});
    if (response.resultType === 'error' && /no\.resource\.types|must\.use\.wildcard/.test(JSON.stringify(response.errors))) {
      // The request names the resource AWS really evaluates where iam-data's reference data disagrees: DMS `task:<id>`
      // ARNs match no resource type there (the Service Authorization Reference lists `task:*`), and logs:DescribeLogGroups
      // is listed without a resource type although CloudWatch Logs evaluates it on `log-group::log-stream:` (its
      // AccessDenied messages say so). Evaluate the same policies without the input validation.
      const result = runUnsafeSimulation(simulation, {}) as unknown as string;
      if (result !== 'Allowed') denials.push({ request, impliedBy, result, reasons: '(evaluated without resource-type validation)' });
    } else if (response.resultType === 'error') {
      denials.push({ request, impliedBy, result: 'SimulationError', reasons: JSON.stringify(response.errors) });
    } else if (response.overallResult !== 'Allowed') {
      const analysis = response.resultType === 'single' ? response.result.analysis : response.results[0]?.analysis;
      const reasons = analysis ? JSON.stringify(getDenialReasons(analysis)) : '';
      denials.push({ request, impliedBy, result: response.overallResult, reasons });
    }
  };
  for (const request of requests) {
    await evaluate(request);
    for (const implied of impliedRequests(stack, request)) await evaluate(implied, request);
  }
  return denials;
}

/** One line per denial, for test failure messages: "<action> <resource> (<result>, implied by ...): reasons". */
export function explain(denials: Denial[]): string[] {
  return denials.map((d) => `${describe(d.request)} -> ${d.result}${d.impliedBy ? ` (implied by ${describe(d.impliedBy)})` : ''}${d.reasons ? `: ${d.reasons}` : ''}`);
}

/** A copy of `stack` with `edit` applied to its template (in memory): for the proof's own negative checks. */
export function withTemplate(stack: StackPolicies, edit: (template: Json) => void): StackPolicies {
  const template = structuredClone(stack.template);
  edit(template);
  return new StackPolicies(template, stack.stackName);
}
