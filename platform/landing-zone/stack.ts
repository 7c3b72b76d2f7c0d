import { CfnOutput } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { LandingTarget, LandingZone, RUNBOOK } from './construct';
import { attachLandingZone, PipelineStack, PipelineStackProps } from '../pipeline-stack';
import { RawZone, rawZoneSettings } from '../raw-zone';

/**
 * The landing zone on its own, publishing every source that lists the `landingZone` pipeline to a Kinesis stream of
 * its own (settings: `landingZone.stream`): a deployable ingestion layer. The Kinesis and MSK stacks attach the
 * same LandingZone in front of their own brokers, the same way (attachLandingZone).
 */
export class LandingZoneStack extends PipelineStack {
  /** The Kinesis stream the landing zone feeds: every source of this stack's valid events. */
  readonly stream: kinesis.Stream;
  /** The landing zone of the sources that list `landingZone`. */
  readonly landingZone: LandingZone;
  /** Every event of the stream as it arrived, under `events/` (the stream carries every source of this stack). */
  readonly rawZone: RawZone;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config, monitoring } = this;
    this.stream = new kinesis.Stream(this, 'Events', this.streamProps(config.landingZone.stream));
    this.landingZone = attachLandingZone(this, config, { pipeline: 'landingZone', target: () => LandingTarget.kinesis(this.stream), monitoring });
    monitoring.facade.monitorKinesisDataStream({
      streamName: this.stream.streamName,
      alarmFriendlyName: 'events-stream',
      humanReadableName: 'Events stream',
      addPutRecordsThrottledAlarm: { Warning: { maxRecordsThrottledThreshold: 0, runbookLink: monitoring.runbook(RUNBOOK)('stream-throttled') } },
    });
    this.rawZone = new RawZone(this, 'RawZone', { ...rawZoneSettings(config.rawZone), runbook: RUNBOOK, monitoring, allowDestroy: this.allowDestroy });
    this.rawZone.addKinesisSource('events', this.stream);
    // `npm run replay -- --stack LandingZone --source events` republishes to it (named like pipeline 2's `<source>Stream`).
    new CfnOutput(this, 'eventsStream', { value: this.stream.streamName, description: 'The Kinesis stream of every landing-zone source' });
  }
}
