/**
 * Publishes a source's sample events (schemas/<source>.samples.ndjson) to the pipeline's Pub/Sub topic, so a fresh
 * deployment shows rows in BigQuery within minutes.
 *
 *   npx tsx scripts/publish-pubsub-samples.ts --project my-project [--source clickstream] [--topic name] [--dry-run]
 *
 * Defaults come from cdk.json (gcp.source, gcp.projectId, and the topic name the stack derives). Every sample is
 * validated against the source's JSON Schema first: an invalid sample would only end up in the dead-letter table.
 * Credentials: Application Default Credentials (`gcloud auth application-default login`); with PUBSUB_EMULATOR_HOST
 * set, the client talks to the local emulator instead.
 */
import { parseArgs } from 'util';
import { PubSub } from '@google-cloud/pubsub';
import { parseConfig, readCdkJsonContext, sourcesFeeding } from '../platform/config';
import { loadSamples } from '../platform/samples';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      project: { type: 'string' },
      source: { type: 'string' },
      topic: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const config = parseConfig(readCdkJsonContext());
  const sourceName = values.source ?? sourcesFeeding(config, 'gcp')[0];
  if (!sourceName || !config.sources[sourceName]) {
    throw new Error(`--source must name a configured source: ${Object.keys(config.sources).join(', ')}`);
  }
  const source = config.sources[sourceName];
  const project = values.project ?? config.gcp?.projectId;
  // The stack names the topic <project>-<environment>-<source> (pipelines/pubsub-to-bigquery/stack.ts).
  const topicName = values.topic ?? `${config.project}-${config.environment}-${sourceName}`;

  const samples = loadSamples(config, sourceName);
  if (values['dry-run']) {
    console.log(
      `${samples.length} ${sourceName} samples are valid; --dry-run, so nothing was published to ${topicName}`,
    );
    return;
  }
  if (!project && !process.env.PUBSUB_EMULATOR_HOST) {
    throw new Error('--project is required (or set gcp.projectId in cdk.json)');
  }

  const topic = new PubSub({ projectId: project }).topic(topicName);
  try {
    const ids = await Promise.all(
      samples.map((event) =>
        topic.publishMessage({
          json: event,
          // Attributes travel to the dead-letter table, which helps trace a failed record back to its event.
          attributes: { source: sourceName, eventId: String(event[source.idField] ?? '') },
        }),
      ),
    );
    console.log(
      `Published ${ids.length} ${sourceName} samples to projects/${project}/topics/${topicName}: ${ids.join(', ')}`,
    );
  } finally {
    await topic.flush();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
