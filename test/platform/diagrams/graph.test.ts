/**
 * The graph extraction of `npm run diagrams` (platform/diagrams) on small hand-built apps: what is drawn, what is
 * folded away, which references become data-flow edges, and how constructs become boxes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Testing, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { awsDiagrams, Diagram, gcpDiagrams, toDot } from '../../../platform/diagrams';

/** bucket -> (S3 notification) topic -> (subscription) function -> stream, in an `Ingest` construct; an alarm on the stream. */
class Ingest extends Construct {
  readonly stream: kinesis.Stream;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const bucket = new s3.Bucket(this, 'Landing');
    const topic = new sns.Topic(this, 'Uploads');
    bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SnsDestination(topic));
    this.stream = new kinesis.Stream(this, 'Events', { shardCount: 1 });
    const fn = new lambda.Function(this, 'Validator', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}') });
    topic.addSubscription(new subscriptions.LambdaSubscription(fn));
    bucket.grantRead(fn);
    this.stream.grantWrite(fn);
  }
}

class Monitoring extends Construct {
  constructor(scope: Construct, id: string, stream: kinesis.Stream) {
    super(scope, id);
    const topic = new sns.Topic(this, 'AlarmTopic');
    for (const [name, metric] of Object.entries({ Age: stream.metricGetRecordsIteratorAgeMilliseconds(), Throttled: stream.metricPutRecordsThrottledRecords() })) {
      new cloudwatch.Alarm(this, name, { metric, threshold: 1, evaluationPeriods: 1 }).addAlarmAction(new actions.SnsAction(topic));
    }
  }
}

function awsDiagram(): Diagram {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk.out-diagrams-test-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Small');
    const ingest = new Ingest(stack, 'Ingest');
    new Monitoring(stack, 'Monitoring', ingest.stream);
    const [diagram] = awsDiagrams(app);
    return diagram;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const label = (d: Diagram, id: string) => {
  const n = d.nodes.find((node) => node.id === id)!;
  return `${n.counted ? '' : (n.name ?? n.path.join('/')) + ' : '}${n.type}`;
};
const edges = (d: Diagram) => d.edges.map((e) => `${label(d, e.from)} -> ${label(d, e.to)}${e.label ? ` [${e.label}]` : ''}${e.style === 'control' ? ' (control)' : ''}`).sort();

describe('AWS: a small app', () => {
  const diagram = awsDiagram();

  test('draws the resources a reader cares about, and folds roles, policies, permissions, subscriptions and the notification handler away', () => {
    expect(diagram.nodes.map((n) => label(diagram, n.id)).sort()).toEqual([
      'CloudWatch alarms (2)',
      'Ingest/Events : Kinesis stream',
      'Ingest/Landing : S3 bucket',
      'Ingest/Uploads : SNS topic',
      'Ingest/Validator : Lambda function',
      'Monitoring/AlarmTopic : SNS topic',
    ]);
  });

  test('edges are the data flow: notification, subscription, what the function may read and write, alarm actions', () => {
    expect(edges(diagram)).toEqual([
      'CloudWatch alarms (2) -> Monitoring/AlarmTopic : SNS topic [alarm]',
      'Ingest/Landing : S3 bucket -> Ingest/Uploads : SNS topic [object created]',
      'Ingest/Landing : S3 bucket -> Ingest/Validator : Lambda function',
      'Ingest/Uploads : SNS topic -> Ingest/Validator : Lambda function [subscription]',
      'Ingest/Validator : Lambda function -> Ingest/Events : Kinesis stream',
    ]);
  });

  test('DOT: one box per construct holding two or more nodes, labels are the path below the box, deterministic', () => {
    const dot = toDot(diagram);
    expect(dot).toContain('subgraph "cluster_Ingest" {');
    expect(dot).toContain('subgraph "cluster_Monitoring" {');
    expect(dot).toMatch(/label="Validator\\nLambda function"/);
    expect(dot).toMatch(/label="CloudWatch alarms \(2\)"/);
    expect(toDot(awsDiagram())).toBe(dot);
  });
});

describe('Google Cloud: a small Terraform stack', () => {
  test('topic -> subscription -> (subscriber IAM) the job running as the service account; the scheduler publishes', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'small');
    new GoogleProvider(stack, 'google', { project: 'p' });
    const pipeline = new Construct(stack, 'Pipeline');
    const topic = new PubsubTopic(pipeline, 'Topic', { name: 't' });
    const subscription = new PubsubSubscription(pipeline, 'Subscription', { name: 's', topic: topic.id });
    const account = new ServiceAccount(pipeline, 'Worker', { accountId: 'worker' });
    new PubsubSubscriptionIamMember(pipeline, 'Subscriber', { subscription: subscription.name, role: 'roles/pubsub.subscriber', member: `serviceAccount:${account.email}` });
    new CloudSchedulerJob(pipeline, 'Reader', { name: 'r', schedule: '* * * * *', httpTarget: { uri: `https://example.com/${topic.id}`, oauthToken: { serviceAccountEmail: account.email } } });
    const [diagram] = gcpDiagrams(app);
    expect(diagram.nodes.map((n) => label(diagram, n.id)).sort()).toEqual([
      'Pipeline/Reader : Cloud Scheduler job',
      'Pipeline/Subscription : Pub/Sub subscription',
      'Pipeline/Topic : Pub/Sub topic',
    ]);
    expect(edges(diagram)).toEqual([
      'Pipeline/Reader : Cloud Scheduler job -> Pipeline/Topic : Pub/Sub topic [scheduled]',
      'Pipeline/Subscription : Pub/Sub subscription -> Pipeline/Reader : Cloud Scheduler job',
      'Pipeline/Topic : Pub/Sub topic -> Pipeline/Subscription : Pub/Sub subscription [subscription]',
    ]);
  });
});
