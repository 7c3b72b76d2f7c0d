import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { CustomerDelivery, DeliveryCustomer, DeliverySource } from '../../../platform/customer-delivery';
import { SCHEMAS_DIR } from '../../../platform/config';
import { complianceFindings, testStack } from '../../support/aws';

const noBundling = { 'aws:cdk:bundling-stacks': [] };
const clickstream: DeliverySource = { name: 'clickstream', idField: 'event_id', schema: JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, 'clickstream.schema.json'), 'utf8')) };
const customer = (i: number, sources = ['clickstream']): DeliveryCustomer => ({ name: `customer-${i}`, principals: [String(100000000000 + i)], sources, apiRequestsPerSecond: 5 });

function kinesisDelivery(customers: DeliveryCustomer[]) {
  const stack = testStack(noBundling);
  const delivery = new CustomerDelivery(stack, 'Delivery', { customers, sources: [clickstream], broker: { kind: 'kinesis' } });
  return { stack, delivery, template: Template.fromStack(stack) };
}
const ofType = (template: Template, type: string) => Object.entries(template.findResources(type));

describe('CustomerDelivery on Kinesis', () => {
  test('registers consumers at most 5 at a time: the 6th waits for the 1st to be ACTIVE, and each policy for its own', () => {
    const { template } = kinesisDelivery(Array.from({ length: 7 }, (_, i) => customer(i)));
    const consumers = ofType(template, 'AWS::Kinesis::StreamConsumer');
    expect(consumers).toHaveLength(7);
    const waits = Object.fromEntries(ofType(template, 'Custom::KinesisConsumerActive').map(([id, r]) => [JSON.stringify(r.Properties.ConsumerArn), id]));
    const waitOf = (name: string) => waits[JSON.stringify({ 'Fn::GetAtt': [consumers.find(([, r]) => r.Properties.ConsumerName === name)![0], 'ConsumerARN'] })];
    const dependsOn = (name: string) => consumers.find(([, r]) => r.Properties.ConsumerName === name)![1].DependsOn ?? [];
    for (let i = 0; i < 5; i++) expect(dependsOn(`customer-${i}`)).toEqual([]);
    expect(dependsOn('customer-5')).toEqual([waitOf('customer-0')]);
    expect(dependsOn('customer-6')).toEqual([waitOf('customer-1')]);
    for (const [, policy] of ofType(template, 'AWS::Kinesis::ResourcePolicy').filter(([id]) => id.includes('ConsumerPolicy'))) {
      const consumerId = policy.Properties.ResourceArn['Fn::GetAtt'][0];
      expect(policy.DependsOn).toEqual([waits[JSON.stringify({ 'Fn::GetAtt': [consumerId, 'ConsumerARN'] })]]);
    }
  });

  test('the delivery stream is on demand, encrypted with its own rotated key, retained; the catalog is a standard parameter', () => {
    const { template } = kinesisDelivery([customer(1)]);
    const [[, stream]] = ofType(template, 'AWS::Kinesis::Stream');
    expect(stream.Properties).toMatchObject({ StreamModeDetails: { StreamMode: 'ON_DEMAND' }, StreamEncryption: { EncryptionType: 'KMS' } });
    expect(stream.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/stream-foundry/TestStack/customers/customer-1', Tier: 'Standard' });
  });

  test('removing a customer (a redeploy) removes its consumer, policies, statements, plan, key and catalog, and keeps the others as they are', () => {
    const both = kinesisDelivery([customer(1), customer(2)]).template.toJSON().Resources as Record<string, { Type: string; Properties: unknown }>;
    const one = kinesisDelivery([customer(1)]).template.toJSON().Resources as Record<string, { Type: string; Properties: unknown }>;
    const gone = Object.keys(both).filter((id) => !(id in one));
    // Its lag alarm too; and the API gets a new deployment: a REST API's changed resource policy takes effect only
    // when the API is deployed again (CDK names the deployment after a hash of the API, policy included).
    expect(gone.map((id) => both[id].Type).sort()).toEqual(
      [
        'AWS::ApiGateway::ApiKey', 'AWS::ApiGateway::Deployment', 'AWS::ApiGateway::UsagePlan', 'AWS::ApiGateway::UsagePlanKey', 'AWS::CloudWatch::Alarm',
        'AWS::Kinesis::ResourcePolicy', 'AWS::Kinesis::StreamConsumer', 'AWS::SSM::Parameter', 'Custom::KinesisConsumerActive',
      ].sort(),
    );
    // customer-1's consumer and its policy are the same resources with the same properties: nothing replaced.
    for (const id of Object.keys(one).filter((id) => /customer1Consumer/.test(id))) expect(one[id]).toEqual(both[id]);
    // customer-2 is no longer named anywhere: stream policy, key policy, API resource policy.
    expect(JSON.stringify(one)).not.toContain('100000000002');
    expect(JSON.stringify(both)).toContain('100000000002');
  });

  test('a catalog too large for a parameter fails synth naming the customer', () => {
    const many = Array.from({ length: 30 }, (_, i): DeliverySource => ({ ...clickstream, name: `source-${i}` }));
    const stack = testStack(noBundling);
    expect(() => new CustomerDelivery(stack, 'Delivery', { customers: [customer(1, many.map((s) => s.name))], sources: many, broker: { kind: 'kinesis' } })).toThrow(
      /the catalog of customer "customer-1" \(~\d+ bytes for 30 sources\) exceeds a Parameter Store parameter \(8 KB\)/,
    );
  });

  test('a customer of none of the sources is not built here; no customer at all is an error', () => {
    const { delivery } = kinesisDelivery([customer(1), { ...customer(2), sources: ['orders'] }]);
    expect(delivery.customers.map((c) => c.name)).toEqual(['customer-1']);
    expect(() => kinesisDelivery([{ ...customer(2), sources: ['orders'] }])).toThrow(/no customer reads any of clickstream/);
  });

  test('passes the compliance gate', () => {
    const { stack } = kinesisDelivery([customer(1), customer(2)]);
    expect(complianceFindings(stack)).toEqual([]);
  });
});
