/** RegisteredSchema on its own: one registry version per version, registered in order, each checked AVAILABLE. */
import { Template } from 'aws-cdk-lib/assertions';
import * as glue from 'aws-cdk-lib/aws-glue';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RegisteredSchema, SchemaVersionChecker } from '../../../platform/schema-registry/registry';
import { testStack } from '../../support/aws';

const definition = (n: number) => JSON.stringify({ type: 'object', properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, { type: 'string' }])) });

function registered(versions: string[]) {
  const stack = testStack({ 'aws:cdk:bundling-stacks': [] });
  const registry = new glue.CfnRegistry(stack, 'Registry', { name: 'reg' });
  const checker = new SchemaVersionChecker(stack, 'Checker', { registry, logRetention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });
  const schema = new RegisteredSchema(stack, { registry, checker, name: 'orders', versions, compatibility: 'FULL', description: 'd' });
  return { schema, template: Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }> } };
}

test('three versions: the schema holds v1, v2 and v3 are versions, each registered after the one before it is AVAILABLE', () => {
  const { template } = registered([definition(1), definition(2), definition(3)]);
  const byId = (prefix: string) => Object.keys(template.Resources).find((id) => id.startsWith(prefix))!;
  const r = template.Resources;
  expect(r[byId('ordersSchema')].Properties).toMatchObject({ Name: 'orders', SchemaDefinition: definition(1), Compatibility: 'FULL', DataFormat: 'JSON', Registry: { Arn: { 'Fn::GetAtt': [byId('Registry'), 'Arn'] } } });
  expect(r[byId('ordersSchemaV2')]).toMatchObject({ Type: 'AWS::Glue::SchemaVersion', Properties: { SchemaDefinition: definition(2) }, DependsOn: [byId('ordersSchemaV1Check')] });
  expect(r[byId('ordersSchemaV3')]).toMatchObject({ Type: 'AWS::Glue::SchemaVersion', Properties: { SchemaDefinition: definition(3) }, DependsOn: [byId('ordersSchemaV2Check')] });
  for (const n of [1, 2, 3]) expect(r[byId(`ordersSchemaV${n}Check`)]).toMatchObject({ Type: 'Custom::SchemaVersionCheck', Properties: { Release: n, Compatibility: 'FULL' } });
  expect(Object.values(r).filter((x) => x.Type === 'AWS::Glue::SchemaVersion')).toHaveLength(2);
});

test("the checker may read this registry's schemas only", () => {
  const { template } = registered([definition(1)]);
  const policies = Object.values(template.Resources).filter((x) => x.Type === 'AWS::IAM::Policy');
  const statements = policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
  const glueStatement = statements.find((s) => [s.Action].flat().includes('glue:ListSchemaVersions'))!;
  expect(glueStatement.Action).toEqual(['glue:GetSchemaVersion', 'glue:GetSchemaVersionsDiff', 'glue:ListSchemaVersions']);
  expect(JSON.stringify(glueStatement.Resource)).toContain(':schema/reg/*');
});

test('no version to register fails naming the schema', () => {
  expect(() => registered([])).toThrow('schema "orders" has no version to register');
});
