import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MskToIceberg } from './construct';
import { dataSources } from '../../platform/data-source';
import { LandingZone } from '../../platform/landing-zone/construct';
import { attachLandingZone, PipelineStack, PipelineStackProps } from '../../platform/pipeline-stack';
import { rawZoneSettings } from '../../platform/raw-zone';
import { CustomerDelivery, deliverySources } from '../../platform/customer-delivery';

/**
 * Pipeline 5: every source that lists `mskToIceberg` lands through a landing zone into an MSK topic, and a Managed
 * Flink application writes it to an Iceberg table on S3 (settings: the `mskToIceberg` section; validator settings:
 * the `validator` section).
 */
export class MskToIcebergStack extends PipelineStack {
  /** The pipeline: the cluster, topics, Flink applications and Iceberg tables of every source. */
  readonly pipeline: MskToIceberg;
  /** The stack's landing zone: files dropped under `s3://<landing>/<source>/` are validated into the source's topic. */
  readonly landingZone: LandingZone;
  /** The delivery topics' customer access and API, when customers read this stack's sources. */
  readonly customerDelivery?: CustomerDelivery;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config, monitoring } = this;
    const settings = config.mskToIceberg;
    const { network, cluster, topic, application, upkeep, alarms } = settings;
    const sources = dataSources(config, 'mskToIceberg');
    const delivered = deliverySources(config, sources);
    this.pipeline = new MskToIceberg(this, 'Pipeline', {
      sources,
      deliverySources: delivered.map((s) => s.name),
      vpcProps: { maxAzs: network.maxAzs, natGateways: network.natGateways },
      interfaceEndpoints: network.interfaceEndpoints,
      cluster:
        cluster.type === 'serverless'
          ? { type: 'serverless' }
          : { type: 'provisioned', brokerNodes: cluster.brokerNodes, instanceType: cluster.instanceType, volumeSizeGiB: cluster.volumeSizeGiB, kafkaVersion: cluster.kafkaVersion },
      topic,
      application,
      upkeep,
      alarms,
      databaseName: `${config.project}_${config.environment}`.replace(/-/g, '_'),
      // The raw zone's lifecycle settings (its buffer settings are Firehose's: the job writes this raw zone itself).
      rawZoneProps: rawZoneSettings(config.rawZone),
      monitoring,
      allowDestroy: this.allowDestroy,
    });
    const { pipeline } = this;
    // Inside the pipeline construct, where pipeline 5 first released its landing zone: the zone's logical ids stay.
    this.landingZone = attachLandingZone(pipeline, config, {
      pipeline: 'mskToIceberg',
      target: (source) => pipeline.landingTarget(source),
      // The application's update restarts the job from its snapshot with the new package (schema included).
      readers: (source) => [pipeline.applications[source].application],
      monitoring,
      existingErrorBucket: pipeline.errorBucket,
    });
    // Freshness: a canary file per source through the landing zone; the Flink job writes receipts in the warehouse.
    for (const source of sources) this.freshness.addCanary(source, { landingBucket: this.landingZone.landingBucket });
    this.freshness.watchReceipts(pipeline.warehouseBucket, sources.map((s) => s.name));
    if (delivered.length > 0) {
      this.customerDelivery = new CustomerDelivery(this, 'CustomerDelivery', {
        customers: config.customers,
        sources: delivered,
        broker: {
          kind: 'kafka',
          cluster: { clusterArn: pipeline.cluster.clusterArn, clusterName: pipeline.cluster.clusterName, type: cluster.type, resourceArn: (kind, name) => pipeline.cluster.resourceArn(kind, name) },
          bootstrapBrokers: pipeline.topics.bootstrapBrokers,
        },
        monitoring,
        allowDestroy: this.allowDestroy,
      });
    }
    new CfnOutput(this, 'LandingBucket', { value: this.landingZone.landingBucket.bucketName, description: 'Upload NDJSON files to s3://<this>/<source>/' });
    new CfnOutput(this, 'ErrorBucket', { value: pipeline.errorBucket.bucketName, description: 'Rejected events: invalid/, quarantine/ (validator), flink/<source>/ (job)' });
    new CfnOutput(this, 'AthenaWorkGroup', { value: pipeline.workgroup.ref, description: 'Athena workgroup (results encrypted)' });
    new CfnOutput(this, 'GlueDatabaseName', { value: pipeline.lake.databaseName, description: 'Glue database of the Iceberg tables (one per source)' });
    new CfnOutput(this, 'ClusterArn', { value: pipeline.cluster.clusterArn, description: 'MSK cluster (IAM authentication)' });
    new CfnOutput(this, 'BootstrapBrokers', { value: pipeline.topics.bootstrapBrokers, description: 'IAM bootstrap brokers (port 9098), reachable from inside the VPC' });
    for (const [source, app] of Object.entries(pipeline.applications)) {
      new CfnOutput(this, `${source}Application`, { value: app.applicationName, description: `Managed Flink application of ${source}` });
    }
  }
}
