import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PipelineMonitoring } from '../../../platform/pipeline-monitoring';
import { KEDA_CHART, QueueToS3Consumer, QueueToS3ConsumerProps, RUNBOOK } from '../../../pipelines/queue-to-s3/construct';
import { loadConfig } from '../../../pipelines/queue-to-s3/consumer/config';
import { ENV, HEALTH_PATH } from '../../../pipelines/queue-to-s3/consumer/contract';
import { consumerEnvironment } from '../../../pipelines/queue-to-s3/construct/workload';
import { SCHEMAS_DIR } from '../../../platform/config';
import { complianceFindings, testStack } from '../../support/aws';

// Construct tests skip esbuild (the stack test bundles for real): they look at wiring, not code.
const noBundling = { 'aws:cdk:bundling-stacks': [] };
const ORDERS = { name: 'orders', schemaFile: path.join(SCHEMAS_DIR, 'orders.schema.json'), idField: 'event_id' };

function build(props: Partial<QueueToS3ConsumerProps> = {}, setup?: (stack: Stack) => Partial<QueueToS3ConsumerProps>) {
  const stack = testStack(noBundling);
  const monitoring = new PipelineMonitoring(stack, 'Monitoring', { runbookLink: RUNBOOK, alarmEmails: ['oncall@example.com'] });
  const pipeline = new QueueToS3Consumer(stack, 'Pipeline', { source: ORDERS, monitoring, ...props, ...setup?.(stack) });
  return { stack, pipeline, template: Template.fromStack(stack) };
}

/** The resolved statements of the policies attached to a role (by the role's logical id prefix). */
function roleStatements(template: Template, rolePrefix: string): { Action: string | string[]; Resource: unknown; Effect: string }[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${rolePrefix}`) }] } });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const actions = (s: { Action: string | string[] }) => [s.Action].flat();

/** The objects a KubernetesManifest resource applies, tokens replaced by "<token>" (the template's JSON text). */
function appliedObjects(template: Template, idPrefix: string): Record<string, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  const [resource] = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).filter(([id]) => id.startsWith(idPrefix));
  if (!resource) throw new Error(`no manifest ${idPrefix}`);
  const manifest = resource[1].Properties.Manifest;
  const text = typeof manifest === 'string' ? manifest : manifest['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : '<token>')).join('');
  return JSON.parse(text);
}

describe('QueueToS3Consumer, defaults (new cluster)', () => {
  const { stack, pipeline, template } = build();

  test('has no unacknowledged cdk-nag finding', () => {
    expect(complianceFindings(stack)).toEqual([]);
  });

  test('topic and queues are encrypted with one customer-managed key that SNS may use for this topic only', () => {
    const keyRef = { 'Fn::GetAtt': [stack.getLogicalId(pipeline.messagingKey.node.defaultChild as never), 'Arn'] };
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyRef, TopicName: 'TestStack-Pipeline-orders' });
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(2);
    for (const queue of Object.values(queues)) expect(queue.Properties.KmsMasterKeyId).toEqual(keyRef); // never alias/aws/sqs
    const key = template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('topic and queues') } });
    const statements = Object.values(key)[0].Properties.KeyPolicy.Statement;
    const sns = statements.filter((s: { Principal: { Service?: string } }) => s.Principal.Service === 'sns.amazonaws.com');
    expect(sns).toEqual([
      expect.objectContaining({
        Action: expect.arrayContaining(['kms:GenerateDataKey*', 'kms:Decrypt']),
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':TestStack-Pipeline-orders']] } },
        },
      }),
    ]);
  });

  test('the queue is subscribed with raw delivery; failures go to the dead-letter queue; visibility fits the batching', () => {
    const dlq = stack.getLogicalId(pipeline.deadLetterQueue.node.defaultChild as never);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      Endpoint: { 'Fn::GetAtt': [stack.getLogicalId(pipeline.queue.node.defaultChild as never), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 60,
      ReceiveMessageWaitTimeSeconds: 20,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    // Only this topic may send to the queue.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('Topic') } } } }),
        ]),
      },
    });
  });

  test('a new cluster: Kubernetes 1.35, Auto Mode, private endpoint, every control-plane log, encrypted secrets, kubectl layer v35', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      Version: '1.35',
      ComputeConfig: { Enabled: true, NodePools: ['system', 'general-purpose'] },
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false }),
      Logging: { ClusterLogging: { EnabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((Type) => ({ Type })) } },
      EncryptionConfig: [Match.objectLike({ Resources: ['secrets'] })],
    });
    template.hasResourceProperties('AWS::Lambda::LayerVersion', { Description: Match.stringLikeRegexp('kubectl') });
    // The kubectl provider runs inside the VPC (the endpoint is private).
    template.hasResourceProperties('AWS::Lambda::Function', { Description: 'onEvent handler for EKS kubectl resource provider', VpcConfig: Match.anyValue() });
  });

  test('the VPC\'s zones are picked at deploy time among those EKS supports, never the first names of Fn::GetAZs', () => {
    const [[pickerId, picker]] = Object.entries(template.findResources('Custom::EksSupportedZones'));
    expect(picker.Properties).toEqual(expect.objectContaining({ Count: 2, UnsupportedZoneIds: ['use1-az3', 'usw1-az2', 'cac1-az3'] }));
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet'));
    expect(subnets).toHaveLength(4);
    expect(subnets.map((s) => s.Properties.AvailabilityZone).sort((a, b) => a['Fn::GetAtt'][1].localeCompare(b['Fn::GetAtt'][1]))).toEqual([
      { 'Fn::GetAtt': [pickerId, 'Zone0'] },
      { 'Fn::GetAtt': [pickerId, 'Zone0'] },
      { 'Fn::GetAtt': [pickerId, 'Zone1'] },
      { 'Fn::GetAtt': [pickerId, 'Zone1'] },
    ]);
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::GetAZs');
    // The picker's function may describe zones (no resource-level permissions exist for it) and write its logs, nothing else.
    const picked = pipeline.createdCluster!.zonePicker!;
    const role = stack.getLogicalId(picked.node.findChild('Handler').node.findChild('Role').node.defaultChild as never);
    expect(roleStatements(template, role).flatMap(actions).sort()).toEqual(['ec2:DescribeAvailabilityZones', 'logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  test('consumer pods: Pod Identity trusted for this cluster, namespace and service account only, scoped to this queue, this bucket\'s two prefixes, this bundle object', () => {
    const role = stack.getLogicalId(pipeline.consumerRole.node.defaultChild as never);
    const trust = template.toJSON().Resources[role].Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            'aws:RequestTag/eks-cluster-arn': { 'Fn::GetAtt': [expect.stringMatching(/^PipelineCluster/), 'Arn'] },
            'aws:RequestTag/kubernetes-namespace': 'queue-to-s3',
            'aws:RequestTag/kubernetes-service-account': 'queue-consumer',
          },
        },
      },
    ]);
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'queue-to-s3', ServiceAccount: 'queue-consumer', RoleArn: { 'Fn::GetAtt': [role, 'Arn'] } });

    const statements = roleStatements(template, role);
    const queueArn = { 'Fn::GetAtt': [stack.getLogicalId(pipeline.queue.node.defaultChild as never), 'Arn'] };
    const sqsStatement = statements.find((s) => actions(s).includes('sqs:ReceiveMessage'))!;
    expect(sqsStatement.Resource).toEqual(queueArn);
    expect(actions(sqsStatement)).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']));
    const bucket = stack.getLogicalId(pipeline.outputBucket.node.defaultChild as never);
    const put = statements.find((s) => actions(s).includes('s3:PutObject'))!;
    expect(actions(put)).toEqual(['s3:PutObject']);
    // Data, errors, and this source's freshness receipts (platform/freshness): not the other sources' receipts.
    expect(put.Resource).toHaveLength(3);
    expect(put.Resource).toEqual(
      expect.arrayContaining([
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/orders/*']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/errors/orders/*']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/_freshness/orders/*']] },
      ]),
    );
    expect(pipeline.receiptsPrefix).toBe('_freshness/orders/');
    const get = statements.find((s) => actions(s).includes('s3:GetObject'))!;
    expect(JSON.stringify(get.Resource)).toMatch(/\.zip|\.js|"\/"/);
    expect(JSON.stringify(get.Resource)).not.toContain('*');
    // KMS: decrypt with the messaging key (receive), generate data keys with the bucket's key (put): nothing else.
    const kms = statements.filter((s) => actions(s).some((a) => a.startsWith('kms:')));
    expect(kms.flatMap(actions).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    for (const s of statements) expect(JSON.stringify(s.Resource)).not.toBe('"*"');
    // Finding 2: the consumer's S3 actions are PutObject (never reads the output) and GetObject on the bundle key:
    // no ListBucket anywhere, so nothing of the role may depend on S3 answering 404 rather than 403.
    expect(statements.flatMap(actions).filter((a) => a.startsWith('s3:')).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
  });

  test('KEDA: pinned Helm chart, installed after its operator identity, which may only read this queue\'s attributes', () => {
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Chart: 'keda',
      Version: KEDA_CHART.version,
      Repository: 'https://kedacore.github.io/charts',
      Namespace: 'keda',
      CreateNamespace: true,
    });
    expect(KEDA_CHART.version).toMatch(/^\d+\.\d+\.\d+$/);
    const operatorRole = stack.getLogicalId(pipeline.kedaOperatorRole!.node.defaultChild as never);
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'keda', ServiceAccount: 'keda-operator', RoleArn: { 'Fn::GetAtt': [operatorRole, 'Arn'] } });
    expect(roleStatements(template, operatorRole)).toEqual([
      expect.objectContaining({ Action: 'sqs:GetQueueAttributes', Resource: { 'Fn::GetAtt': [stack.getLogicalId(pipeline.queue.node.defaultChild as never), 'Arn'] } }),
    ]);
    const [helm] = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart'));
    expect(helm.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^PipelineKedaOperatorIdentityAssociation/)]));
  });

  test('the Deployment: stock Node.js image running the S3 bundle, contract env, probes on /healthz, limits, non-root read-only', () => {
    const objects = appliedObjects(template, 'PipelineClustermanifestWorkload');
    expect(objects.map((o) => `${o.apiVersion}/${o.kind}`)).toEqual(['v1/Namespace', 'v1/ServiceAccount', 'apps/v1/Deployment', 'policy/v1/PodDisruptionBudget', 'v1/Service']);
    const deployment = objects[2];
    expect(deployment.spec.replicas).toBeUndefined(); // KEDA owns it
    const pod = deployment.spec.template.spec;
    expect(pod.serviceAccountName).toBe('queue-consumer');
    const [init] = pod.initContainers;
    expect(init.image).toMatch(/^public\.ecr\.aws\/aws-cli\/aws-cli:\d+\.\d+\.\d+/);
    // One object by its exact key (no --recursive, no sync): the CLI sends HeadObject + GetObject, never ListObjects.
    expect(init.command).toEqual(['aws', 's3', 'cp', '<token>', '/bundle/index.js', '--only-show-errors']);
    expect(JSON.stringify(stack.resolve(pipeline.bundle.s3ObjectUrl))).toMatch(/^"s3:\/\/|"s3:\/\//);
    const [container] = pod.containers;
    expect(container.image).toMatch(/^public\.ecr\.aws\/docker\/library\/node:22\.\d+\.\d+-alpine/);
    expect(container.command).toEqual(['node', '/bundle/index.js']);
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toEqual(
      expect.objectContaining({
        [ENV.queueUrl]: '<token>',
        [ENV.outputBucket]: '<token>',
        [ENV.outputPrefix]: 'orders/',
        [ENV.errorPrefix]: 'errors/orders/',
        [ENV.sourceName]: 'orders',
        [ENV.idField]: 'event_id',
        [ENV.flushMaxMessages]: '10000',
        [ENV.flushMaxAgeMs]: '5000',
        [ENV.visibilityTimeoutSeconds]: '60',
        [ENV.httpPort]: '8080',
      }),
    );
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(container[probe].httpGet).toEqual({ path: HEALTH_PATH, port: 'http' });
    expect(container.resources).toEqual({ requests: { cpu: '500m', memory: '1024Mi' }, limits: { cpu: '1000m', memory: '1024Mi' } });
    for (const c of [init, container]) {
      expect(c.securityContext).toEqual(
        expect.objectContaining({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }),
      );
    }
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(env[ENV.shutdownTimeoutSeconds]));
    expect(objects[0].metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(objects[3].spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'queue-consumer' } } });
    // Pods start only once their Pod Identity association exists.
    const [workload] = Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).filter((r) => JSON.stringify(r).includes('"Deployment'));
    expect(workload.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^PipelineConsumerIdentityAssociation/)]));
  });

  test('the ScaledObject scales the Deployment on visible messages with the KEDA operator\'s identity, after KEDA is installed', () => {
    const [auth, scaled] = appliedObjects(template, 'PipelineClustermanifestScaling');
    expect(auth).toEqual(expect.objectContaining({ kind: 'TriggerAuthentication', spec: { podIdentity: { provider: 'aws' } } }));
    expect(scaled.spec).toEqual(
      expect.objectContaining({
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'queue-consumer' },
        minReplicaCount: 1,
        maxReplicaCount: 10,
        triggers: [
          {
            type: 'aws-sqs-queue',
            authenticationRef: { name: auth.metadata.name },
            metadata: { queueURL: '<token>', awsRegion: '<token>', queueLength: '1000', scaleOnInFlight: 'false' },
          },
        ],
      }),
    );
    const [scaling] = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).filter(([id]) => id.startsWith('PipelineClustermanifestScaling'));
    expect(scaling[1].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^PipelineClusterchartKeda/), expect.stringMatching(/^PipelineClustermanifestWorkload/)]));
  });

  test('Athena: a Glue table over the output prefix with partition projection, columns from the source schema, and a query', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'orders',
        PartitionKeys: [Match.objectLike({ Name: 'dt' }), Match.objectLike({ Name: 'hour' })],
        Parameters: Match.objectLike({ 'projection.enabled': 'true', 'projection.hour.digits': '2', 'storage.location.template': Match.anyValue() }),
        StorageDescriptor: Match.objectLike({
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' }),
          Columns: Match.arrayWith([
            { Name: 'order_id', Type: 'string' },
            { Name: 'total_amount', Type: 'double' },
            { Name: 'items', Type: 'array<struct<sku:string,quantity:bigint,unit_price:double>>' },
          ]),
        }),
      }),
    });
    const template_ = JSON.stringify(template.findResources('AWS::Glue::Table'));
    expect(template_).toContain('/orders/dt=${dt}/hour=${hour}/');
    template.hasResourceProperties('AWS::Athena::NamedQuery', { QueryString: Match.stringLikeRegexp('GROUP BY dt, hour') });
  });

  test('alarms: dead-letter queue, oldest message, no data, consumer errors, no healthy pods; each with its runbook section', () => {
    const alarms = Object.values({ ...template.findResources('AWS::CloudWatch::Alarm'), ...template.findResources('AWS::CloudWatch::CompositeAlarm') });
    const byRunbook = new Set(alarms.map((a) => /Runbook: \S+#(\S+)/.exec(a.Properties.AlarmDescription)?.[1]));
    expect([...byRunbook].sort()).toEqual(['consumer-errors', 'dead-letter-queue-not-empty', 'lag-oldest-message-age', 'no-data', 'no-healthy-pods']);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('Message-Age'),
      Threshold: 300,
      Metrics: Match.arrayWith([Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ApproximateAgeOfOldestMessage' }) }) })]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('FILL\\(running, 0\\) < 1') })]) });
    // The agent publishes restarts since its previous sample (a delta per pod), so the alarm sums them over 5 minutes
    // and fires on any restart; a DIFF/RATE over it would miss a steady crash loop.
    const restartAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'pod_number_of_container_restarts' } }));
    expect(restartAlarms).toHaveLength(1);
    expect(restartAlarms[0].Properties).toEqual(
      expect.objectContaining({ Namespace: 'ContainerInsights', Statistic: 'Sum', Period: 300, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' }),
    );
    expect(restartAlarms[0].Properties.Dimensions).toEqual(expect.arrayContaining([{ Name: 'PodName', Value: 'queue-consumer' }, { Name: 'Namespace', Value: 'queue-to-s3' }]));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('Runbook: https://\\S+/runbooks/queue-to-s3.md#consumer-errors'),
      Threshold: 20,
      EvaluationPeriods: 3,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('received - deleted') })]),
    });
    template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'amazon-cloudwatch-observability' });
  });
});

describe('QueueToS3Consumer, FIFO', () => {
  const { template } = build({ fifo: true });

  test('topic and both queues are FIFO with content-based deduplication', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { FifoTopic: true, ContentBasedDeduplication: true, TopicName: 'TestStack-Pipeline-orders.fifo' });
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const q of queues) expect(q.Properties).toEqual(expect.objectContaining({ FifoQueue: true, ContentBasedDeduplication: true }));
  });
});

describe('QueueToS3Consumer in an existing cluster', () => {
  const { stack, template } = build({ installKeda: false, containerInsights: false }, (s) => {
    const kedaOperatorRole = new iam.Role(s, 'KedaOperator', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    const existingCluster = eks.Cluster.fromClusterAttributes(s, 'Existing', {
      clusterName: 'platform',
      kubectlProvider: eks.KubectlProvider.fromKubectlProviderAttributes(s, 'Kubectl', {
        serviceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:platform-kubectl-provider',
        role: iam.Role.fromRoleArn(s, 'KubectlRole', 'arn:aws:iam::123456789012:role/platform-kubectl'),
      }),
    });
    return { existingCluster, kedaOperatorRole };
  });

  test('creates no cluster and no KEDA, binds the pods to the given cluster, and grants the given KEDA operator the queue', () => {
    template.resourceCountIs('AWS::EKS::Cluster', 0);
    template.resourceCountIs('Custom::AWSCDK-EKS-HelmChart', 0);
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { ClusterName: 'platform', ServiceAccount: 'queue-consumer' });
    const statements = roleStatements(template, 'KedaOperator');
    expect(statements).toEqual([expect.objectContaining({ Action: 'sqs:GetQueueAttributes' })]);
    expect(stack.resolve(statements[0].Resource)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^PipelineMessagingQueue/), 'Arn'] });
  });
});

describe('QueueToS3Consumer in chosen zones', () => {
  test('availabilityZones place the subnets there, with no zone picker', () => {
    const { template } = build({ availabilityZones: ['us-east-1b', 'us-east-1c'] });
    template.resourceCountIs('Custom::EksSupportedZones', 0);
    const zones = Object.values(template.findResources('AWS::EC2::Subnet')).map((s) => s.Properties.AvailabilityZone);
    expect(zones.sort()).toEqual(['us-east-1b', 'us-east-1b', 'us-east-1c', 'us-east-1c']);
  });

  test('fewer than two zones, zones of another region, or zones with an existing cluster or VPC are refused at synth', () => {
    const stack = testStack(noBundling);
    expect(() => new QueueToS3Consumer(stack, 'A', { source: ORDERS, availabilityZones: ['us-east-1b'] })).toThrow(/availabilityZones must name at least two different zones/);
    expect(() => new QueueToS3Consumer(stack, 'B', { source: ORDERS, availabilityZones: ['us-east-1b', 'us-east-1b'] })).toThrow(/at least two different zones/);
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'C', { clusterName: 'c' });
    expect(() => new QueueToS3Consumer(stack, 'D', { source: ORDERS, existingCluster: cluster, availabilityZones: ['us-east-1b', 'us-east-1c'] })).toThrow(/"availabilityZones" places a new VPC/);
    const inRegion = new Stack(testStack(noBundling).node.root as never, 'InRegion', { env: { region: 'eu-west-1' } });
    expect(() => new QueueToS3Consumer(inRegion, 'E', { source: ORDERS, availabilityZones: ['us-east-1b', 'us-east-1c'] })).toThrow(/us-east-1b, us-east-1c are not in the stack's region eu-west-1/);
  });
});

describe('QueueToS3Consumer props', () => {
  test('bring your own XOR override: both throw, naming both props', () => {
    const stack = testStack(noBundling);
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'C', { clusterName: 'c' });
    expect(() => new QueueToS3Consumer(stack, 'A', { source: ORDERS, existingCluster: cluster, clusterProps: {} })).toThrow(/"existingCluster" or "clusterProps"/);
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'my-bucket');
    expect(() => new QueueToS3Consumer(stack, 'B2', { source: ORDERS, existingOutputBucket: bucket, outputBucketProps: {} })).toThrow(/"existingOutputBucket" or "outputBucketProps"/);
  });

  test('a visibility timeout shorter than a batch, or more min than max replicas, is refused', () => {
    const stack = testStack(noBundling);
    expect(() => new QueueToS3Consumer(stack, 'A', { source: ORDERS, visibilityTimeout: Duration.seconds(5), consumer: { flushMaxAge: Duration.seconds(10) } })).toThrow(/visibilityTimeout \(5 s\) must exceed/);
    expect(() => new QueueToS3Consumer(stack, 'B', { source: ORDERS, consumer: { minReplicas: 4, maxReplicas: 2 } })).toThrow(/minReplicas \(4\) exceeds/);
  });
  test('a source id field that is not a top-level field name is refused, naming the setting', () => {
    const stack = testStack(noBundling);
    expect(() => new QueueToS3Consumer(stack, 'A', { source: { ...ORDERS, idField: 'a.b' } })).toThrow(
      'TestStack/A: source.idField must be a top-level field name of the source\'s events, got "a.b"',
    );
  });
});

test('the environment the construct deploys is one the consumer accepts: it recognises the source\'s canaries', () => {
  const env = consumerEnvironment({
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders',
    bucket: 'lake',
    outputPrefix: 'orders/',
    errorPrefix: 'errors/orders/',
    sourceName: 'orders',
    idField: 'event_id',
    region: 'eu-west-1',
    flushMaxMessages: 10_000,
    flushMaxAgeMs: 5_000,
    visibilityTimeoutSeconds: 60,
    shutdownTimeoutSeconds: 25,
  });
  expect(loadConfig(env)).toMatchObject({ outputPrefix: 'orders/', errorPrefix: 'errors/orders/', canary: { source: 'orders', idField: 'event_id' } });
});
