import { App, Stack } from 'aws-cdk-lib';
import { acknowledgeCheckovFindings, enableComplianceChecks } from './compliance';
import { applyCostTags } from './cost-tags';
import { isBuilt, StreamFoundryConfig } from './config';
import { LandingZoneStack } from './landing-zone/stack';
import { PipelineStackProps } from './pipeline-stack';
import { AwsPipelineKey, PIPELINES, stackName } from '../pipelines';
import { KinesisToDeltaLakeStack } from '../pipelines/kinesis-to-delta-lake/stack';
import { MskToIcebergStack } from '../pipelines/msk-to-iceberg/stack';
import { QueueToS3Stack } from '../pipelines/queue-to-s3/stack';
import { RdsCdcToS3Stack } from '../pipelines/rds-cdc-to-s3/stack';

/** The stack class of each AWS pipeline of the registry (pipelines/index.ts). */
const STACKS: Record<AwsPipelineKey, new (scope: App, id: string, props: PipelineStackProps) => Stack> = {
  landingZone: LandingZoneStack,
  queueToS3: QueueToS3Stack,
  kinesisToDeltaLake: KinesisToDeltaLakeStack,
  rdsCdcToS3: RdsCdcToS3Stack,
  mskToIceberg: MskToIcebergStack,
};

/** Adds every configured AWS pipeline of the registry to `app`, tagged for cost allocation and behind the compliance gate. */
export function buildAwsApp(app: App, config: StreamFoundryConfig): void {
  const env = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  for (const entry of PIPELINES) {
    if (entry.cloud !== 'aws' || !isBuilt(entry, config)) continue;
    new STACKS[entry.key](app, entry.stackId, { stackName: stackName(entry, config), description: entry.description, env, config });
  }
  applyCostTags(app, config);
  acknowledgeCheckovFindings(app);
  enableComplianceChecks(app);
}
