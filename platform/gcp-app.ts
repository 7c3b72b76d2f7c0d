import { App, TerraformStack } from 'cdktf';
import { isBuilt, StreamFoundryConfig } from './config';
import { GcpPipelineKey, PIPELINES, stackName } from '../pipelines';
import { PubSubToBigQueryStack } from '../pipelines/pubsub-to-bigquery/stack';

/** The stack class of each Google Cloud pipeline of the registry (pipelines/index.ts). */
const STACKS: Record<GcpPipelineKey, new (scope: App, name: string, config: StreamFoundryConfig) => TerraformStack> = {
  gcp: PubSubToBigQueryStack,
};

/**
 * Adds every configured Google Cloud pipeline of the registry to `app`, each stack named `<project>-<environment>-<name>`
 * (CDK for Terraform addresses stacks by name). Returns the names: none when no source lists a Google Cloud pipeline.
 */
export function buildGcpApp(app: App, config: StreamFoundryConfig): string[] {
  const built: string[] = [];
  for (const entry of PIPELINES) {
    if (entry.cloud !== 'gcp' || !isBuilt(entry, config)) continue;
    const name = stackName(entry, config);
    new STACKS[entry.key](app, name, config);
    built.push(name);
  }
  return built;
}
