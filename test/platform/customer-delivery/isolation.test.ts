/**
 * Customer isolation, proven with the offline IAM evaluator of the permission proof (test/support/iam-proof.ts) on the
 * templates `cdk synth` builds with two customers (test/support/customers.ts): each customer reads exactly its own
 * consumers, topics and API paths, writes nothing, reads no raw, error or lake data; an unlisted principal reads
 * nothing. Every customer principal is given an identity policy that allows everything, as a careless customer
 * account would: what stops it is our resource policies, trust policies and the cluster policy.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT, REGION, StackPolicies, synthesizeApp } from '../../support/iam-proof';
import { CUSTOMER_A, CUSTOMER_B, EXAMPLE_CUSTOMERS } from '../../support/customers';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const ACME = `arn:aws:iam::${CUSTOMER_A.principals[0]}:role/any-role-of-acme`; // an account principal: any of its roles
const GLOBEX = CUSTOMER_B.principals[0];
const STRANGER = 'arn:aws:iam::999988887777:role/admin';
const EVERYTHING = [{ name: 'admin', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }];

let kinesisStack: StackPolicies;
let mskStack: StackPolicies;
let provisionedMsk: StackPolicies;

beforeAll(() => {
  const stacks = synthesizeApp({ customers: EXAMPLE_CUSTOMERS }, ['kinesisToDeltaLake', 'mskToIceberg']);
  kinesisStack = stacks.KinesisToDeltaLake;
  mskStack = stacks.MskToIceberg;
  provisionedMsk = synthesizeApp({ customers: EXAMPLE_CUSTOMERS, 'mskToIceberg.cluster.type': 'provisioned' }, ['mskToIceberg']).MskToIceberg;
}, 600_000);

/** The decision for `principal` (in its own account, allowed everything there) on `resource` guarded by `resourcePolicy`. */
async function decide(principal: string, action: string, resource: string, resourcePolicy: Json, context: Record<string, string> = {}): Promise<string> {
  const principalAccount = principal.split(':')[4];
  const response = await runSimulation(
    {
      request: {
        principal,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: { 'aws:SecureTransport': 'true', 'aws:PrincipalAccount': principalAccount, 'aws:PrincipalArn': principal, ...context },
      },
      identityPolicies: EVERYTHING,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: resourcePolicy ? { Version: '2012-10-17', Statement: resourcePolicy } : undefined,
    },
    {},
  );
  // An error (a malformed ARN, an unknown action) must not pass as "denied".
  if (response.resultType === 'error') throw new Error(`${action} ${resource}: ${JSON.stringify(response.errors)}`);
  return response.overallResult;
}

const arnOf = (stack: StackPolicies, type: string, part: string) => stack.arn(stack.one(type, part));
const policyOf = (stack: StackPolicies, arn: string) => stack.resourcePolicies().get(arn);

describe('Kinesis delivery (pipeline 2)', () => {
  const consumer = (name: string) => arnOf(kinesisStack, 'AWS::Kinesis::StreamConsumer', `clickstream${name}Consumer`);
  const deliveryStream = () => arnOf(kinesisStack, 'AWS::Kinesis::Stream', 'CustomerDeliveryclickstreamStream');
  const key = () => arnOf(kinesisStack, 'AWS::KMS::Key', 'CustomerDeliveryKey');
  const viaKinesis = { 'kms:ViaService': `kinesis.${REGION}.amazonaws.com` };

  test.each([
    ['acme', ACME],
    ['globex', GLOBEX],
  ])('customer %s reads its own consumer, finds the shards and decrypts through Kinesis', async (name, principal) => {
    const own = consumer(name);
    for (const action of ['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard']) {
      expect(`${action}: ${await decide(principal, action, own, policyOf(kinesisStack, own))}`).toBe(`${action}: Allowed`);
    }
    for (const action of ['kinesis:ListShards', 'kinesis:DescribeStreamSummary']) {
      expect(`${action}: ${await decide(principal, action, deliveryStream(), policyOf(kinesisStack, deliveryStream()))}`).toBe(`${action}: Allowed`);
    }
    expect(await decide(principal, 'kms:Decrypt', key(), policyOf(kinesisStack, key()), viaKinesis)).toBe('Allowed');
    // Only through Kinesis: not as a general-purpose decryption key.
    expect(await decide(principal, 'kms:Decrypt', key(), policyOf(kinesisStack, key()))).not.toBe('Allowed');
  });

  test("one customer cannot read the other's consumer", async () => {
    for (const [principal, other] of [[ACME, consumer('globex')], [GLOBEX, consumer('acme')]]) {
      for (const action of ['kinesis:SubscribeToShard', 'kinesis:DescribeStreamConsumer']) {
        expect(await decide(principal, action, other, policyOf(kinesisStack, other))).toBe('ImplicitlyDenied');
      }
    }
  });

  test('customers cannot write, cannot read the stream on shared throughput, cannot manage it', async () => {
    for (const principal of [ACME, GLOBEX]) {
      for (const action of ['kinesis:PutRecord', 'kinesis:PutRecords', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:DeleteStream', 'kinesis:RegisterStreamConsumer', 'kinesis:PutResourcePolicy']) {
        expect(`${action}: ${await decide(principal, action, deliveryStream(), policyOf(kinesisStack, deliveryStream()))}`).toBe(`${action}: ImplicitlyDenied`);
      }
      for (const action of ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:PutKeyPolicy']) {
        expect(await decide(principal, action, key(), policyOf(kinesisStack, key()), viaKinesis)).toBe('ImplicitlyDenied');
      }
    }
  });

  test('customers cannot read the source stream, the raw zone, the lake or the landing and error data', async () => {
    const [source] = kinesisStack.find('AWS::Kinesis::Stream', 'clickstreamStream').filter((id) => !id.startsWith('CustomerDelivery')).map((id) => kinesisStack.arn(id)); // the pipeline's own
    expect(source).not.toBe(deliveryStream());
    const buckets = kinesisStack.find('AWS::S3::Bucket', '').map((id) => kinesisStack.arn(id));
    expect(buckets.length).toBeGreaterThanOrEqual(4); // raw zone, lake, landing, errors (and access logs)
    for (const principal of [ACME, GLOBEX]) {
      for (const action of ['kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:DescribeStream', 'kinesis:ListShards']) {
        expect(await decide(principal, action, source, policyOf(kinesisStack, source))).toBe('ImplicitlyDenied');
      }
      for (const bucket of buckets) {
        expect(`${bucket}: ${await decide(principal, 's3:GetObject', `${bucket}/clickstream/x.json`, policyOf(kinesisStack, bucket))}`).toMatch(/Denied$/);
        expect(`${bucket}: ${await decide(principal, 's3:ListBucket', bucket, policyOf(kinesisStack, bucket))}`).toMatch(/Denied$/);
      }
    }
  });

  test('an unlisted principal reads nothing, however broad its own permissions', async () => {
    for (const arn of [consumer('acme'), consumer('globex')]) {
      expect(await decide(STRANGER, 'kinesis:SubscribeToShard', arn, policyOf(kinesisStack, arn))).toBe('ImplicitlyDenied');
    }
    expect(await decide(STRANGER, 'kinesis:ListShards', deliveryStream(), policyOf(kinesisStack, deliveryStream()))).toBe('ImplicitlyDenied');
    expect(await decide(STRANGER, 'kms:Decrypt', key(), policyOf(kinesisStack, key()), viaKinesis)).toBe('ImplicitlyDenied');
  });

  test("each consumer's policy names only its customer; the stream's names exactly the readers of the source", () => {
    const principalsOf = (arn: string) => (policyOf(kinesisStack, arn) ?? []).flatMap((s: Json) => [s.Principal.AWS].flat()).sort();
    expect(principalsOf(consumer('acme'))).toEqual([`arn:aws:iam::${CUSTOMER_A.principals[0]}:root`]);
    expect(principalsOf(consumer('globex'))).toEqual([GLOBEX]);
    expect(principalsOf(deliveryStream())).toEqual([`arn:aws:iam::${CUSTOMER_A.principals[0]}:root`, GLOBEX].sort());
  });
});

describe('the delivery API', () => {
  /** `execute-api:/...` in a REST API's policy is API Gateway's shorthand for this API's ARN. */
  const apiPolicy = (stack: StackPolicies) => {
    const id = stack.one('AWS::ApiGateway::RestApi', 'CustomerDeliveryApi');
    const api = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${id.toLowerCase()}`;
    const statements = stack.resolve(stack.resources[id].Properties.Policy).Statement as Json[];
    const expand = (r: string) => r.replace(/^execute-api:/, api);
    return { api, statements: statements.map((s) => ({ ...s, Resource: [s.Resource].flat().map(expand) })) };
  };
  const invoke = async (stack: StackPolicies, principal: string, path: string) => {
    const { api, statements } = apiPolicy(stack);
    return decide(principal, 'execute-api:Invoke', `${api}/v1/GET${path}`, statements);
  };

  test('admits exactly the configured principals, each to its own paths', async () => {
    const cases: [string, string, string][] = [
      [ACME, '/customers/acme', 'Allowed'],
      [ACME, '/customers/acme/sources/clickstream/events', 'Allowed'],
      [ACME, '/customers/acme/sources/clickstream/schema', 'Allowed'],
      [ACME, '/customers/globex', 'ImplicitlyDenied'],
      [ACME, '/customers/globex/sources/clickstream/events', 'ImplicitlyDenied'],
      [ACME, '/customers/acmecorp', 'ImplicitlyDenied'],
      [GLOBEX, '/customers/globex/sources/clickstream/events', 'Allowed'],
      [GLOBEX, '/customers/acme', 'ImplicitlyDenied'],
      [STRANGER, '/customers/acme', 'ImplicitlyDenied'],
      [STRANGER, '/customers/globex/sources/clickstream/events', 'ImplicitlyDenied'],
    ];
    for (const [principal, path, expected] of cases) expect(`${principal} ${path}: ${await invoke(kinesisStack, principal, path)}`).toBe(`${principal} ${path}: ${expected}`);
    // The MSK stack's API: only acme reads orders there.
    expect(await invoke(mskStack, ACME, '/customers/acme')).toBe('Allowed');
    expect(await invoke(mskStack, GLOBEX, '/customers/globex')).toBe('ImplicitlyDenied');
  });

  test('every method requires IAM authorization and an API key', () => {
    const methods = kinesisStack.find('AWS::ApiGateway::Method', 'CustomerDelivery').map((id) => kinesisStack.resources[id].Properties);
    expect(methods).toHaveLength(3);
    for (const m of methods) expect(m).toMatchObject({ HttpMethod: 'GET', AuthorizationType: 'AWS_IAM', ApiKeyRequired: true });
  });
});

describe('Kafka delivery (pipeline 5)', () => {
  const topic = (stack: StackPolicies, name: string) => {
    const cluster = stack.arn(stack.find('AWS::MSK::ServerlessCluster', '')[0] ?? stack.one('AWS::MSK::Cluster', ''));
    return cluster.replace(':cluster/', ':topic/') + `/${name}`;
  };
  const group = (stack: StackPolicies, name: string) => topic(stack, name).replace(':topic/', ':group/');

  describe('MSK Serverless: a reader role per customer', () => {
    const reader = () => mskStack.one('AWS::IAM::Role', 'acmeReader');
    const trust = () => mskStack.resolve(mskStack.resources[reader()].Properties.AssumeRolePolicyDocument).Statement;

    test('only the customer, with its external id, assumes its reader role', async () => {
      const role = mskStack.arn(reader());
      const withId = { 'sts:ExternalId': CUSTOMER_A.externalId };
      expect(await decide(ACME, 'sts:AssumeRole', role, trust(), withId)).toBe('Allowed');
      expect(await decide(ACME, 'sts:AssumeRole', role, trust())).toBe('ImplicitlyDenied');
      expect(await decide(ACME, 'sts:AssumeRole', role, trust(), { 'sts:ExternalId': 'guess' })).toBe('ImplicitlyDenied');
      expect(await decide(GLOBEX, 'sts:AssumeRole', role, trust(), withId)).toBe('ImplicitlyDenied');
      expect(await decide(STRANGER, 'sts:AssumeRole', role, trust(), withId)).toBe('ImplicitlyDenied');
      // globex reads no Kafka source: it has no reader role at all.
      expect(mskStack.find('AWS::IAM::Role', 'globexReader')).toEqual([]);
    });

    test('the reader role reads its delivery topics with its own groups, and nothing else', async () => {
      const role = reader();
      const asReader = async (action: string, resource: string) => {
        const response = await runSimulation(
          {
            request: { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${mskStack.physicalName(role)}/acme`, action, resource: { resource, accountId: ACCOUNT }, contextVariables: {} },
            identityPolicies: mskStack.identityPolicies(role),
            serviceControlPolicies: [],
            resourceControlPolicies: [],
          },
          {},
        );
        if (response.resultType === 'error') throw new Error(JSON.stringify(response.errors));
        return response.overallResult;
      };
      const cluster = topic(mskStack, 'x').replace(/:topic\/(.*)\/x$/, ':cluster/$1');
      expect(await asReader('kafka-cluster:Connect', cluster)).toBe('Allowed');
      expect(await asReader('kafka-cluster:ReadData', topic(mskStack, 'delivery.orders'))).toBe('Allowed');
      expect(await asReader('kafka-cluster:DescribeTopic', topic(mskStack, 'delivery.orders'))).toBe('Allowed');
      expect(await asReader('kafka-cluster:AlterGroup', group(mskStack, 'acme.orders'))).toBe('Allowed');
      expect(await asReader('kafka-cluster:AlterGroup', group(mskStack, 'acme.anything'))).toBe('Allowed');
      // Not the source topic (raw events), not another customer's groups, not the pipeline's group, no writes.
      expect(await asReader('kafka-cluster:ReadData', topic(mskStack, 'orders'))).toBe('ImplicitlyDenied');
      expect(await asReader('kafka-cluster:AlterGroup', group(mskStack, 'globex.orders'))).toBe('ImplicitlyDenied');
      expect(await asReader('kafka-cluster:AlterGroup', group(mskStack, 'acmecorp.orders'))).toBe('ImplicitlyDenied');
      expect(await asReader('kafka-cluster:WriteData', topic(mskStack, 'delivery.orders'))).toBe('ImplicitlyDenied');
      expect(await asReader('kafka-cluster:CreateTopic', topic(mskStack, 'delivery.orders'))).toBe('ImplicitlyDenied');
      expect(await asReader('s3:GetObject', 'arn:aws:s3:::any-bucket/orders/x')).toBe('ImplicitlyDenied');
    });
  });

  describe('MSK provisioned: the cluster policy', () => {
    const clusterPolicy = () => {
      const id = provisionedMsk.one('AWS::MSK::ClusterPolicy', 'CustomerDelivery');
      return provisionedMsk.resolve(provisionedMsk.resources[id].Properties.Policy).Statement;
    };

    test('admits the customer to its delivery topic and groups, and nobody else to anything', async () => {
      expect(provisionedMsk.find('AWS::IAM::Role', 'Reader')).toEqual([]);
      const read = topic(provisionedMsk, 'delivery.orders');
      expect(await decide(ACME, 'kafka-cluster:ReadData', read, clusterPolicy())).toBe('Allowed');
      expect(await decide(ACME, 'kafka-cluster:AlterGroup', group(provisionedMsk, 'acme.orders'), clusterPolicy())).toBe('Allowed');
      expect(await decide(ACME, 'kafka-cluster:ReadData', topic(provisionedMsk, 'orders'), clusterPolicy())).toBe('ImplicitlyDenied');
      expect(await decide(ACME, 'kafka-cluster:WriteData', read, clusterPolicy())).toBe('ImplicitlyDenied');
      expect(await decide(ACME, 'kafka-cluster:AlterGroup', group(provisionedMsk, 'globex.orders'), clusterPolicy())).toBe('ImplicitlyDenied');
      expect(await decide(GLOBEX, 'kafka-cluster:ReadData', read, clusterPolicy())).toBe('ImplicitlyDenied');
      expect(await decide(STRANGER, 'kafka-cluster:ReadData', read, clusterPolicy())).toBe('ImplicitlyDenied');
    });
  });
});
