import * as path from 'path';
import { Stack, StackProps } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { LandingTarget, LandingZone } from './landing-zone/construct';
import { PipelineMonitoring } from './pipeline-monitoring';
import { SCHEMAS_DIR, sourcesFeeding, StreamFoundryConfig } from './config';
import { SourcePipelineKey } from '../pipelines';

/** What every pipeline stack receives from the app (platform/aws-app.ts). */
export interface PipelineStackProps extends StackProps {
  readonly config: StreamFoundryConfig;
}

/**
 * A stack's monitoring as configured: alarms named after the stack, to e-mails or to an existing topic, linking
 * runbooks at the configured docs location (`docsUrl`). Every pipeline construct and landing zone of the stack shares it.
 */
export function pipelineMonitoring(stack: Stack, config: StreamFoundryConfig): PipelineMonitoring {
  return new PipelineMonitoring(stack, 'Monitoring', {
    docsUrl: config.docsUrl,
    alarmEmails: config.alarmEmails,
    existingAlarmTopic: config.alarmTopicArn ? sns.Topic.fromTopicArn(stack, 'AlarmTopic', config.alarmTopicArn) : undefined,
  });
}

export interface AttachedLandingZoneProps {
  /** The pipeline the zone feeds: every source that lists it lands here. */
  readonly pipeline: SourcePipelineKey;
  /** Where a source's valid events go. */
  readonly target: (source: string) => LandingTarget;
  readonly monitoring: PipelineMonitoring;
  /** The pipeline's error bucket, shared with the validators. @default one of the zone's own */
  readonly existingErrorBucket?: s3.IBucket;
}

/**
 * How a pipeline takes files, the one way: its stack attaches a landing zone (id `LandingZone`) beside the pipeline,
 * for every source that lists the pipeline, validated with the `validator` settings. `scope` holds the zone: the
 * stack, except for pipeline 5, whose zone was released inside its construct and stays there (the logical ids of its
 * buckets, key, topics, queue and log groups are kept).
 */
export function attachLandingZone(scope: Construct, config: StreamFoundryConfig, props: AttachedLandingZoneProps): LandingZone {
  return new LandingZone(scope, 'LandingZone', {
    sources: sourcesFeeding(config, props.pipeline).map((name) => {
      const { schema, idField, partitionKeyField } = config.sources[name];
      return { name, schemaFile: path.join(SCHEMAS_DIR, schema), idField, partitionKeyField, target: props.target(name) };
    }),
    monitoring: props.monitoring,
    existingErrorBucket: props.existingErrorBucket,
    allowDestroy: config.allowDataDestruction,
    noDataMinutes: config.validator.noDataMinutes,
    validatorMemoryMiB: config.validator.memoryMiB,
  });
}
