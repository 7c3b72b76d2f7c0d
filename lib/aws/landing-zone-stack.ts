import * as path from 'path';
import { Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { LandingTarget, LandingZone } from '../../constructs/aws/landing-zone';
import { PipelineMonitoring } from '../../constructs/aws/pipeline-monitoring';
import { SCHEMAS_DIR, StreamFoundryConfig } from '../config';

export interface LandingZoneStackProps extends StackProps {
  readonly config: StreamFoundryConfig;
}

/**
 * The landing zone on its own, publishing every configured source to a Kinesis stream of its own: a deployable
 * ingestion layer until the Kinesis and MSK pipelines bring their own brokers (they reuse the LandingZone construct).
 */
export class LandingZoneStack extends Stack {
  readonly stream: kinesis.Stream;
  readonly landingZone: LandingZone;

  constructor(scope: Construct, id: string, props: LandingZoneStackProps) {
    super(scope, id, props);
    const { config } = props;
    const settings = config.landingZone;
    const allowDestroy = config.allowDataDestruction;

    this.stream = new kinesis.Stream(this, 'Events', {
      ...(settings.streamShards === 0
        ? { streamMode: kinesis.StreamMode.ON_DEMAND }
        : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: settings.streamShards }),
      retentionPeriod: Duration.hours(settings.streamRetentionHours),
      encryption: kinesis.StreamEncryption.MANAGED,
      removalPolicy: allowDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    const monitoring = new PipelineMonitoring(this, 'Monitoring', {
      pipelineName: this.stackName,
      alarmEmails: config.alarmEmails,
    });
    this.landingZone = new LandingZone(this, 'LandingZone', {
      sources: settings.sources.map((name) => ({
        name,
        schemaFile: path.join(SCHEMAS_DIR, config.sources[name].schema),
        idField: config.sources[name].idField,
        partitionKeyField: config.sources[name].partitionKeyField,
        target: LandingTarget.kinesis(this.stream),
      })),
      monitoring,
      allowDestroy,
      noDataAlarmPeriod: Duration.minutes(settings.noDataAlarmMinutes),
      validatorMemoryMiB: settings.validatorMemoryMiB,
    });
    monitoring.facade.monitorKinesisDataStream({
      streamName: this.stream.streamName,
      alarmFriendlyName: 'events-stream',
      humanReadableName: 'Events stream',
      addPutRecordsThrottledAlarm: { Warning: { maxRecordsThrottledThreshold: 0 } },
    });
  }
}
