import { CfnOutput, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { KinesisToDeltaLake, RUNBOOK } from './construct';
import { LandingTarget, LandingZone } from '../../platform/landing-zone/construct';
import { dataSources } from '../../platform/data-source';
import { attachLandingZone, PipelineStack, PipelineStackProps } from '../../platform/pipeline-stack';
import { RawZone, rawZoneSettings } from '../../platform/raw-zone';
import { alphanumeric } from '../../platform/names';
import { CustomerDelivery, deliverySources } from '../../platform/customer-delivery';

/**
 * Pipeline 2: every source that lists `kinesisToDeltaLake` gets its own Kinesis stream, Glue streaming job and
 * Delta table (settings: the `kinesisToDeltaLake` section), fed by a landing zone of its own (validator settings:
 * the `validator` section): a file dropped under `s3://<landing>/<source>/` ends up in the Delta table.
 */
export class KinesisToDeltaLakeStack extends PipelineStack {
  /** Each source's pipeline, by source name. */
  readonly pipelines: Record<string, KinesisToDeltaLake> = {};
  /**
   * The stack's landing zone: files dropped under `s3://<landing>/<source>/` are validated into the source's stream.
   */
  readonly landingZone: LandingZone;
  /** Every record of every source's stream as it arrived, under `<source>/` (table `<source>_raw` beside the Delta tables). */
  readonly rawZone: RawZone;
  /** The delivery streams, customer consumers and API, when customers read this stack's sources. */
  readonly customerDelivery?: CustomerDelivery;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config, monitoring, allowDestroy } = this;
    const settings = config.kinesisToDeltaLake;

    const sources = dataSources(config, 'kinesisToDeltaLake');
    const delivered = deliverySources(config, sources);
    if (delivered.length > 0) {
      this.customerDelivery = new CustomerDelivery(this, 'CustomerDelivery', {
        customers: config.customers,
        sources: delivered,
        broker: { kind: 'kinesis', retention: Duration.hours(settings.stream.retentionHours) },
        monitoring,
        allowDestroy,
      });
    }
    for (const source of sources) {
      const deliveryStream = this.customerDelivery?.streams[source.name];
      // The id is the source's name alone: adding or removing another source must not rename (replace) this one's
      // stream, bucket, key and tables (test/platform/stable-ids.test.ts).
      this.pipelines[source.name] = new KinesisToDeltaLake(this, source.name, {
        source,
        streamProps: this.streamProps(settings.stream),
        job: {
          triggerInterval: Duration.seconds(settings.job.triggerIntervalSeconds),
          workerType: settings.job.workerType,
          workers: settings.job.workers,
          autoScaling: settings.job.autoScaling,
          watermarkDelay: Duration.minutes(settings.job.watermarkDelayMinutes),
          maxRestartsPerHour: settings.job.maxRestartsPerHour,
        },
        upkeep: {
          interval: Duration.minutes(settings.maintenance.intervalMinutes),
          optimizeDays: settings.maintenance.optimizeDays,
          vacuumRetention: Duration.hours(settings.maintenance.vacuumRetentionHours),
          logRetention: Duration.days(settings.maintenance.logRetentionDays),
        },
        delivery: deliveryStream ? { stream: deliveryStream, partitionKeyField: source.partitionKeyField } : undefined,
        alarms: {
          maxIteratorAge: Duration.seconds(settings.alarms.iteratorAgeSeconds),
          noDataMinutes: settings.alarms.noDataMinutes,
        },
        monitoring,
        allowDestroy,
      });
    }

    this.rawZone = new RawZone(this, 'RawZone', { ...rawZoneSettings(config.rawZone), runbook: RUNBOOK, monitoring, allowDestroy });
    for (const [name, pipeline] of Object.entries(this.pipelines)) {
      this.rawZone.addKinesisSource(name, pipeline.stream, { database: { databaseName: pipeline.catalog.databaseName, resource: pipeline.catalog.database } });
    }

    this.landingZone = attachLandingZone(this, config, {
      pipeline: 'kinesisToDeltaLake',
      target: (source) => LandingTarget.kinesis(this.pipelines[source].stream),
      // A deploy restarts the job run with the new package (schema included) before the validator changes.
      readers: (source) => [this.pipelines[source].runner.run],
      monitoring,
    });
    // Freshness: a canary file per source through the landing zone; the job writes receipts beside its Delta table.
    for (const source of sources) {
      this.freshness.addCanary(source, { landingBucket: this.landingZone.landingBucket });
      this.freshness.watchReceipts(this.pipelines[source.name].lakeBucket, [source.name]);
    }
    this.addOutputs();
  }

  /** What the README's steps need: where to produce, where to land files, where to query. */
  private addOutputs(): void {
    new CfnOutput(this, 'LandingBucket', { value: this.landingZone.landingBucket.bucketName, description: 'Upload NDJSON files to s3://<this>/<source>/' });
    for (const [name, pipeline] of Object.entries(this.pipelines)) {
      const key = alphanumeric(name);
      new CfnOutput(this, `${key}Stream`, { value: pipeline.stream.streamName, description: `npm run produce -- --stream <this> --source ${name}` });
      new CfnOutput(this, `${key}Job`, { value: pipeline.streamingJob.jobName, description: `The Glue streaming job of ${name}` });
      new CfnOutput(this, `${key}JobLogs`, { value: pipeline.streamingJob.logGroupPrefix, description: `Log groups <this>/error (Spark) and <this>/output (the script) of ${name}'s job` });
      new CfnOutput(this, `${key}WorkGroup`, { value: pipeline.catalog.workgroup.ref, description: `Athena workgroup; tables ${pipeline.catalog.databaseName}.${pipeline.catalog.tableName} and ${pipeline.catalog.errorsTableName}` });
    }
  }
}
