import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import { addClusterPrometheus, prometheusSchema } from '../../../platform/observability';
import { scrapeConfigYaml, SCRAPE_JOBS } from '../../../platform/observability/scrape-config';
import { DEFAULT_HTTP_PORT, METRICS_PATH } from '../../../pipelines/queue-to-s3/consumer/contract';
import { QueueToS3Stack } from '../../../pipelines/queue-to-s3/stack';
import { complianceFindings, testApp, testStack } from '../../support/aws';

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('Prometheus for pipeline 1 (QueueToS3Stack as cdk.json configures it)', () => {
  // Without the compliance gate here: the cdk-nag test below checks this feature's constructs on their own.
  const app = new App({ context: { ...readCdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new QueueToS3Stack(app, 'QueueToS3', { config: parseConfig(app.node.getAllContext()), stackName: 'stream-foundry-dev-queue-to-s3' });
  const template = Template.fromStack(stack);
  const [scraperId, scraper] = Object.entries<any>(template.findResources('AWS::APS::Scraper'))[0];

  test('one workspace with retention and logging to a vended-logs group, deleted with the stack', () => {
    template.resourceCountIs('AWS::APS::Workspace', 1);
    template.hasResource('AWS::APS::Workspace', {
      DeletionPolicy: 'Delete',
      Properties: {
        WorkspaceConfiguration: { RetentionPeriodInDays: 150 },
        LoggingConfiguration: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PrometheusWorkspaceLogs'), 'Arn'] } },
      },
    });
    // Under /aws/vendedlogs/, and unique per stack creation (the stack id's UUID): retained, it cannot block a redeploy.
    const [logs] = Object.values(template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: Match.objectLike({}) } })).filter((r) => JSON.stringify(r).includes('/workspace'));
    expect(logs.Properties.LogGroupName).toEqual({
      'Fn::Join': ['', ['/aws/vendedlogs/prometheus/stream-foundry-dev-queue-to-s3/', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }, '/Prometheus/workspace']],
    });
  });

  test("one scraper on the stack's cluster, in its private subnets with the cluster security group, writing to the workspace, logging every component", () => {
    expect(scraperId).toMatch(/^PrometheusScraper/);
    expect(scraper.DeletionPolicy).toBe('Delete');
    const eksSource = scraper.Properties.Source.EksConfiguration;
    expect(eksSource.ClusterArn).toEqual({ 'Fn::GetAtt': [stack.resolve((stack.pipeline.cluster.node.defaultChild as any).logicalId), 'Arn'] });
    expect(eksSource.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^PipelineCluster/), 'ClusterSecurityGroupId'] }]);
    const privateSubnets = stack.pipeline.createdCluster!.vpc.privateSubnets.map((s) => stack.resolve(s.subnetId));
    expect(privateSubnets.length).toBeGreaterThanOrEqual(2);
    expect(eksSource.SubnetIds).toEqual(privateSubnets);
    expect(scraper.Properties.Destination.AmpConfiguration.WorkspaceArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^PrometheusWorkspace[0-9A-F]+$/), 'Arn'] });
    expect(scraper.Properties.ScraperLoggingConfiguration.ScraperComponents.map((c: any) => c.Type)).toEqual(['SERVICE_DISCOVERY', 'COLLECTOR', 'EXPORTER']);
  });

  test("the configuration blob is the module's YAML for the consumer's namespace, with the cluster's name as a label", () => {
    const join = scraper.Properties.ScrapeConfiguration.ConfigurationBlob['Fn::Base64']['Fn::Join'];
    const text = join[1].map((part: any) => (typeof part === 'string' ? part : '<cluster>')).join(join[0]);
    expect(text).toBe(scrapeConfigYaml({ scrapeIntervalSeconds: 30, clusterName: '<cluster>', podNamespaces: [stack.pipeline.namespace] }));
    expect(join[1].filter((part: any) => typeof part !== 'string')).toEqual([{ Ref: expect.stringMatching(/^PipelineCluster/) }]);
  });

  test("the consumer's pods carry exactly the annotations the pods job keeps, for the port and path it serves /metrics on", () => {
    const deployment = stack.pipeline.workloadManifests.find((m) => m.kind === 'Deployment') as any;
    const annotations = deployment.spec.template.metadata.annotations;
    expect(annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(DEFAULT_HTTP_PORT), 'prometheus.io/path': METRICS_PATH });
    // Kubernetes discovery turns annotation names into label names: every non-alphanumeric character becomes "_".
    const yaml = scrapeConfigYaml({ scrapeIntervalSeconds: 30, clusterName: 'c', podNamespaces: [stack.pipeline.namespace] });
    for (const name of Object.keys(annotations)) expect(yaml).toContain(`__meta_kubernetes_pod_annotation_${name.replace(/[^a-zA-Z0-9]/g, '_')}`);
    expect(yaml).toContain(`job_name: "${SCRAPE_JOBS.pods}"`);
  });

  test('the stack outputs the workspace and its query endpoint; cdk-nag finds nothing in the Prometheus constructs', () => {
    template.hasOutput('PrometheusQueryEndpoint', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PrometheusWorkspace'), 'PrometheusEndpoint'] } });
    template.hasOutput('PrometheusWorkspaceArn', Match.anyValue());
    const gated = testApp({ 'aws:cdk:bundling-stacks': [] });
    new QueueToS3Stack(gated, 'QueueToS3', { config: parseConfig(gated.node.getAllContext()), stackName: 'stream-foundry-dev-queue-to-s3' });
    expect(complianceFindings(gated).filter((f) => f.includes('QueueToS3/Prometheus'))).toEqual([]);
  });
});

describe('prometheus settings and an existing cluster', () => {
  const existing = (stack: Stack) =>
    eks.Cluster.fromClusterAttributes(stack, 'Existing', { clusterName: 'shared' });

  // An empty stack fails the app's template validation: these two build outside the gate.
  test('off: no workspace, no scraper', () => {
    const stack = new Stack(new App(), 'TestStack');
    const result = addClusterPrometheus(stack, 'Prometheus', {
      settings: prometheusSchema.parse({ enabled: false }),
      cluster: existing(stack),
      podNamespaces: ['queue-to-s3'],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    expect(result).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::APS::Workspace', 0);
  });

  test('an existing cluster without subnets gets no scraper and a warning that names the settings', () => {
    const stack = new Stack(new App(), 'TestStack');
    addClusterPrometheus(stack, 'Prometheus', { settings: prometheusSchema.parse({}), cluster: existing(stack), podNamespaces: ['queue-to-s3'], removalPolicy: RemovalPolicy.RETAIN });
    Template.fromStack(stack).resourceCountIs('AWS::APS::Scraper', 0);
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('prometheus.subnetIds'));
  });

  test('an existing cluster with its subnets and security group is scraped through them', () => {
    const stack = testStack();
    const settings = prometheusSchema.parse({ subnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1', securityGroupIds: ['sg-0123456789abcdef2'], scrapeIntervalSeconds: '60' });
    addClusterPrometheus(stack, 'Prometheus', { settings, cluster: existing(stack), podNamespaces: ['queue-to-s3'], removalPolicy: RemovalPolicy.RETAIN });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::APS::Scraper', {
      Source: { EksConfiguration: { SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], SecurityGroupIds: ['sg-0123456789abcdef2'], ClusterArn: Match.anyValue() } },
    });
    const blob = Object.values<any>(template.findResources('AWS::APS::Scraper'))[0].Properties.ScrapeConfiguration.ConfigurationBlob['Fn::Base64'];
    expect(JSON.stringify(blob)).toContain('scrape_interval: \\"60s\\"');
  });

  test('bad settings fail with the setting and what it expects', () => {
    const problems = (value: unknown) => prometheusSchema.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(problems({ scrapeIntervalSeconds: 10 })).toEqual(['scrapeIntervalSeconds: expected a whole number from 30 to 3600']);
    expect(problems({ subnetIds: ['vpc-1'] })).toEqual(['subnetIds.0: expected a subnet id (subnet- and 8 or 17 hex digits)']);
    expect(() =>
      addClusterPrometheus(testStack(), 'Prometheus', {
        settings: prometheusSchema.parse({ subnetIds: ['subnet-0123456789abcdef0'] }),
        cluster: existing(new Stack()),
        podNamespaces: ['queue-to-s3'],
        removalPolicy: RemovalPolicy.RETAIN,
      }),
    ).toThrow(/prometheus.subnetIds: expected two or more subnets/);
  });
});
