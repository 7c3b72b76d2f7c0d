import { App, Stack, Stage } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeCheckovFindings, enableComplianceChecks } from './compliance';
import { applyCostTags } from './cost-tags';
import { isBuilt, StreamFoundryConfig } from './config';
import { DeploymentPipelineStack } from './cicd/stack';
import { LandingZoneStack } from './landing-zone/stack';
import { PipelineStackProps } from './pipeline-stack';
import { AwsPipelineKey, PIPELINES, stackName } from '../pipelines';
import { KinesisToDeltaLakeStack } from '../pipelines/kinesis-to-delta-lake/stack';
import { MskToIcebergStack } from '../pipelines/msk-to-iceberg/stack';
import { QueueToS3Stack } from '../pipelines/queue-to-s3/stack';
import { RdsCdcToS3Stack } from '../pipelines/rds-cdc-to-s3/stack';

/** The stack class of each AWS pipeline of the registry (pipelines/index.ts). */
const STACKS: Record<AwsPipelineKey, new (scope: Construct, id: string, props: PipelineStackProps) => Stack> = {
  landingZone: LandingZoneStack,
  queueToS3: QueueToS3Stack,
  kinesisToDeltaLake: KinesisToDeltaLakeStack,
  rdsCdcToS3: RdsCdcToS3Stack,
  mskToIceberg: MskToIcebergStack,
};

/**
 * The AWS app as `cdk synth|deploy` runs it (bin/aws.ts): with a `cicd` section, the deployment pipeline whose stages
 * hold the stacks per environment (one owner per CloudFormation stack: the pipeline, not also `cdk deploy`);
 * otherwise the stacks. Behind the compliance gate either way.
 */
export function buildAwsDeployment(app: App, config: StreamFoundryConfig): void {
  if (!config.cicd) return buildAwsApp(app, config);
  new DeploymentPipelineStack(app, 'DeploymentPipeline', { config, buildStacks: buildAwsStacks });
  enableComplianceChecks(app);
}

/**
 * Every configured AWS pipeline of the registry behind the compliance gate: what `cdk deploy` deploys without a
 * `cicd` section, and what each pipeline stage holds for its environment (the tests build this, with or without one).
 */
export function buildAwsApp(app: App, config: StreamFoundryConfig, only?: readonly AwsPipelineKey[]): void {
  buildAwsStacks(app, config, only);
  enableComplianceChecks(app);
}

/**
 * Adds every configured AWS pipeline of the registry to `scope` (the app, or a deployment pipeline's stage), tagged for
 * cost allocation, and returns the stacks. Tags and checkov skips are applied to `scope` itself: aspects stop at a
 * Stage's boundary, so a stage needs its own. `only` builds just those of them: the stacks reference nothing of each
 * other, so a test reading one stack's template gets the same template for a fraction of a whole-app synth.
 */
export function buildAwsStacks(scope: App | Stage, config: StreamFoundryConfig, only?: readonly AwsPipelineKey[]): Stack[] {
  const env = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const stacks: Stack[] = [];
  for (const entry of PIPELINES) {
    if (entry.cloud !== 'aws' || !isBuilt(entry, config) || (only && !only.includes(entry.key))) continue;
    stacks.push(new STACKS[entry.key](scope, entry.stackId, { stackName: stackName(entry, config), description: entry.description, env, config }));
  }
  applyCostTags(scope, config);
  acknowledgeCheckovFindings(scope);
  return stacks;
}
