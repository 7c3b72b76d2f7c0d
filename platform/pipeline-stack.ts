import { Stack, StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { PipelineMonitoring } from './pipeline-monitoring';
import { StreamFoundryConfig } from './config';

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
