/**
 * "Destroy, then deploy again" as users do it. With `allowDataDestruction: false` a destroy keeps the data
 * (DeletionPolicy Retain); the next deploy then creates every resource anew. A retained resource with a fixed
 * physical name makes that create fail ("... already exists") and the stack roll back, so a retained resource must
 * let CloudFormation generate its name, or take a name that differs per deployment (built from a resource the
 * stack creates anew). This holds the rule over every resource of every synthesized AWS stack.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildAwsApp } from '../../platform/aws-app';
import { parseConfig } from '../../platform/config';
import { testApp } from '../support/aws';

/** Where each type keeps the physical name that must be unique in the account and region. */
const NAME_PROPERTY: Record<string, string[]> = {
  'AWS::S3::Bucket': ['BucketName'],
  'AWS::Kinesis::Stream': ['Name'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::Logs::LogStream': ['LogGroupName', 'LogStreamName'],
  'AWS::Glue::Database': ['DatabaseInput', 'Name'],
  'AWS::Glue::Registry': ['Name'],
  'AWS::Glue::Schema': ['Name'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::SQS::Queue': ['QueueName'],
  'AWS::KMS::Alias': ['AliasName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::SSM::Parameter': ['Name'],
  'AWS::RDS::DBInstance': ['DBInstanceIdentifier'],
  'AWS::MSK::ServerlessCluster': ['ClusterName'],
  'AWS::MSK::Cluster': ['ClusterName'],
  'AWS::EKS::Cluster': ['Name'],
  'AWS::IAM::Role': ['RoleName'],
  'AWS::Athena::WorkGroup': ['Name'],
  'AWS::KinesisAnalyticsV2::Application': ['ApplicationName'],
  'AWS::DMS::ReplicationInstance': ['ReplicationInstanceIdentifier'],
};

interface Resource {
  Type: string;
  DeletionPolicy?: string;
  Properties?: Record<string, unknown>;
}

/**
 * True when `value` names something new on every create of the stack: a Ref/GetAtt to one of its resources, or the
 * stack's own id (its UUID changes when the stack is created again; the stack name does not).
 */
function refersToResource(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(refersToResource);
  if (value === null || typeof value !== 'object') return false;
  const object = value as Record<string, unknown>;
  if (typeof object.Ref === 'string' && (object.Ref === 'AWS::StackId' || !object.Ref.startsWith('AWS::'))) return true;
  if ('Fn::GetAtt' in object) return true;
  return Object.values(object).some(refersToResource);
}

function templates(): Record<string, Record<string, Resource>> {
  const app = testApp({ 'aws:cdk:bundling-stacks': [] });
  buildAwsApp(app, parseConfig(app.node.getAllContext()));
  const assembly = app.synth();
  return Object.fromEntries(
    assembly.stacks.map((s) => [s.stackName, JSON.parse(fs.readFileSync(path.join(assembly.directory, s.templateFile), 'utf8')).Resources]),
  );
}

describe('a stack destroyed and deployed again', () => {
  const all = templates();

  const retainedNames = (stack: string) => {
    const collisions = Object.entries(all[stack]).flatMap(([id, r]) => {
      if (r.DeletionPolicy !== 'Retain') return [];
      const [first, second] = NAME_PROPERTY[r.Type] ?? [];
      if (!first) return [];
      const value = second ? (r.Properties?.[first] as Record<string, unknown> | undefined)?.[second] : r.Properties?.[first];
      return value === undefined || refersToResource(value) ? [] : [`${id} (${r.Type}) ${JSON.stringify(value)}`];
    });
    return collisions;
  };
  for (const stack of Object.keys(all)) {
    test(`${stack}: no retained resource has a fixed name the next deploy would collide with`, () => expect(retainedNames(stack)).toEqual([]));
  }

  test('the rule sees what it looks for: a retained, fixed-name log group is reported', () => {
    const retained: Resource = { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain', Properties: { LogGroupName: '/aws-glue/jobs/x/error' } };
    const generated: Resource = { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain', Properties: { LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: 'Fn' }]] } } };
    expect(refersToResource(retained.Properties!.LogGroupName)).toBe(false);
    expect(refersToResource(generated.Properties!.LogGroupName)).toBe(true);
    expect(refersToResource({ 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'db']] })).toBe(false);
  });
});
