import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { QueueToS3Consumer } from './construct';
import { dataSources } from '../../platform/data-source';
import { addClusterPrometheus, addManagedGrafana, ManagedGrafana, PrometheusScraping } from '../../platform/observability';
import { PipelineStack, PipelineStackProps } from '../../platform/pipeline-stack';

/**
 * Pipeline 1: the one source that lists `queueToS3` is published to an SNS topic, queued in SQS and written to S3 by
 * the consumer service on EKS (settings: the `queueToS3` section), on a new cluster or `cluster.existingClusterName`.
 */
export class QueueToS3Stack extends PipelineStack {
  /** The pipeline of the one source that lists `queueToS3`. */
  readonly pipeline: QueueToS3Consumer;
  /** The Prometheus workspace and managed scraper of the cluster (absent when `prometheus.enabled` is false). */
  readonly prometheus?: PrometheusScraping;
  /** The Managed Grafana workspace with the dashboards (only when `grafana.enabled`: it needs IAM Identity Center or SAML). */
  readonly grafana?: ManagedGrafana;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config } = this;
    const settings = config.queueToS3;
    const sources = dataSources(config, 'queueToS3');
    if (sources.length !== 1) {
      throw new Error(`queueToS3: exactly one source must list "queueToS3" in its pipelines (found: ${sources.map((s) => s.name).join(', ') || 'none'})`);
    }
    const [source] = sources;
    const { existingClusterName, kubectlProviderArn, kubectlRoleArn } = settings.cluster;
    const existingCluster = existingClusterName
      ? eks.Cluster.fromClusterAttributes(this, 'ExistingCluster', {
          clusterName: existingClusterName,
          kubectlProvider: eks.KubectlProvider.fromKubectlProviderAttributes(this, 'KubectlProvider', {
            serviceToken: kubectlProviderArn!,
            role: iam.Role.fromRoleArn(this, 'KubectlRole', kubectlRoleArn!, { mutable: false }),
          }),
        })
      : undefined;

    this.pipeline = new QueueToS3Consumer(this, 'Pipeline', {
      source,
      fifo: settings.messaging.fifo,
      visibilityTimeout: Duration.seconds(settings.messaging.visibilityTimeoutSeconds),
      maxReceiveCount: settings.messaging.maxReceiveCount,
      retentionPeriod: Duration.days(settings.messaging.retentionDays),
      existingCluster,
      availabilityZones: settings.availabilityZones,
      installKeda: existingCluster ? !settings.cluster.kedaInstalled : true,
      consumer: {
        flushMaxMessages: settings.consumer.flushMaxMessages,
        flushMaxAge: Duration.seconds(settings.consumer.flushMaxAgeSeconds),
        minReplicas: settings.consumer.minReplicas,
        maxReplicas: settings.consumer.maxReplicas,
        messagesPerReplica: settings.consumer.messagesPerReplica,
        cpuMillicores: settings.consumer.cpuMillicores,
        memoryMiB: settings.consumer.memoryMiB,
      },
      alarms: {
        noDataMinutes: settings.alarms.noDataMinutes,
        maxMessageAge: Duration.seconds(settings.alarms.maxMessageAgeSeconds),
      },
      monitoring: this.monitoring,
      allowDestroy: this.allowDestroy,
    });

    const p = this.pipeline;
    // Freshness: a canary message to the topic; the consumer writes receipts beside its output.
    this.freshness.addCanary(source, { topic: p.topic });
    this.freshness.watchReceipts(p.outputBucket, [source.name]);

    const outputs: Record<string, [string, string]> = {
      TopicArn: [p.topic.topicArn, 'Publish here (aws sns publish --topic-arn ...)'],
      QueueUrl: [p.queue.queueUrl, 'The queue the consumer reads'],
      DeadLetterQueueUrl: [p.deadLetterQueue.queueUrl, 'Messages that failed maxReceiveCount times'],
      OutputLocation: [`s3://${p.outputBucket.bucketName}/${p.outputPrefix}`, 'Where the consumer writes gzip NDJSON by dt/hour'],
      ClusterName: [p.cluster.clusterName, 'EKS cluster running the consumer (namespace ' + p.namespace + ')'],
      AthenaWorkGroup: [p.table.workgroup.ref, 'Athena workgroup with the example query'],
      AthenaTable: [`${p.table.database.ref}.${p.table.table.ref}`, 'Glue table over the output (partition projection)'],
    };
    for (const [id, [value, description]] of Object.entries(outputs)) new CfnOutput(this, id, { value, description });

    // The consumer's /metrics and the cluster's container metrics in Amazon Managed Service for Prometheus (platform/observability).
    this.prometheus = addClusterPrometheus(this, 'Prometheus', {
      settings: config.prometheus,
      cluster: p.cluster,
      createdClusterVpc: p.createdCluster?.vpc,
      podNamespaces: [p.namespace],
      removalPolicy: this.removalPolicy,
    });
    // One Managed Grafana workspace for all five dashboards, beside the Prometheus workspace it queries (platform/observability).
    this.grafana = addManagedGrafana(this, 'Grafana', {
      settings: config.grafana,
      prometheusWorkspace: this.prometheus && { arn: this.prometheus.workspace.attrArn, queryEndpoint: this.prometheus.queryEndpoint },
      removalPolicy: this.removalPolicy,
    });
  }
}
