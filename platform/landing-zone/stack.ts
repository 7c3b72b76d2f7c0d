import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { LandingTarget, LandingZone, RUNBOOK } from './construct';
import { SCHEMAS_DIR, sourcesFeeding } from '../config';
import { pipelineMonitoring, PipelineStackProps } from '../pipeline-stack';

/**
 * The landing zone on its own, publishing every source that lists the `landingZone` pipeline to a Kinesis stream of
 * its own (settings: `landingZone.stream`): a deployable ingestion layer. The Kinesis and MSK pipelines embed the
 * same LandingZone construct in front of their own brokers.
 */
export class LandingZoneStack extends Stack {
  readonly stream: kinesis.Stream;
  readonly landingZone: LandingZone;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { stream } = config.landingZone;
    const allowDestroy = config.allowDataDestruction;

    this.stream = new kinesis.Stream(this, 'Events', {
      ...(stream.shards === 0
        ? { streamMode: kinesis.StreamMode.ON_DEMAND }
        : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: stream.shards }),
      retentionPeriod: Duration.hours(stream.retentionHours),
      encryption: kinesis.StreamEncryption.MANAGED,
      removalPolicy: allowDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    const monitoring = pipelineMonitoring(this, config);
    this.landingZone = new LandingZone(this, 'LandingZone', {
      sources: sourcesFeeding(config, 'landingZone').map((name) => ({
        name,
        schemaFile: path.join(SCHEMAS_DIR, config.sources[name].schema),
        idField: config.sources[name].idField,
        partitionKeyField: config.sources[name].partitionKeyField,
        target: LandingTarget.kinesis(this.stream),
      })),
      monitoring,
      allowDestroy,
      noDataMinutes: config.validator.noDataMinutes,
      validatorMemoryMiB: config.validator.memoryMiB,
    });
    monitoring.facade.monitorKinesisDataStream({
      streamName: this.stream.streamName,
      alarmFriendlyName: 'events-stream',
      humanReadableName: 'Events stream',
      addPutRecordsThrottledAlarm: { Warning: { maxRecordsThrottledThreshold: 0, runbookLink: monitoring.runbook(RUNBOOK)('stream-throttled') } },
    });
  }
}
