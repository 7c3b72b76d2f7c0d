import * as fs from 'fs';
import * as path from 'path';
import { schemasDirOf, sourcesFeeding, StreamFoundryConfig } from './config';
import { loadRules, ProcessingDocument, processingDocument, SchemaNode } from './processing-rules';
import { RegistryCompatibility, schemaHistory } from './schema-registry/versions';
import { SourcePipelineKey } from '../pipelines';

/**
 * A data source as every pipeline sees it, on AWS and Google Cloud alike: `sources.<name>` of the configuration
 * with its schema file found and its event-time field resolved. Each construct takes the fields it reads
 * (`Pick<DataSource, ...>`), so a stack passes what `dataSources()` returns.
 */
export interface DataSource {
  /** Source name (lower-case letters, digits and "-"): its topic, stream, table, prefix and job are named after it. */
  readonly name: string;
  /** Path of its JSON Schema (schemas/<name>.schema.json): validators and jobs check every event against it. */
  readonly schemaFile: string;
  /** Event field holding the event id: duplicates downstream are identified by it. */
  readonly idField: string;
  /** Event field whose value is the Kinesis partition key / Kafka message key. */
  readonly partitionKeyField: string;
  /**
   * Top-level `date-time` field: event time (table partitions, watermarks). As the pipeline configures it, else the
   * schema's one top-level date-time property; unset when neither says (a pipeline that needs it fails synth).
   */
  readonly eventTimeField?: string;
  /**
   * The source's processing rules checked against its schema, with the schemas of the tables they produce
   * (docs/processing-rules.md); only for the pipelines whose jobs apply them, and only when `rules` is set.
   */
  readonly processing?: ProcessingDocument;
  /**
   * The schema's versions, oldest first (definitions as registered): its releases in schemas/releases/<name>/, then
   * the current schema when it is new. The landing zone registers each in the Glue Schema Registry.
   * @default the schema file alone
   */
  readonly schemaVersions?: readonly string[];
  /** How the schema may evolve (`sources.<name>.compatibility`), as the registry checks it. @default BACKWARD */
  readonly compatibility?: RegistryCompatibility;
}

/** Where a pipeline that partitions by event time reads a source's event-time field: [setting, value]. */
const EVENT_TIME_SETTINGS = {
  kinesisToDeltaLake: (config, source) => [`kinesisToDeltaLake.eventTimeFields.${source}`, config.kinesisToDeltaLake.eventTimeFields[source]],
  mskToIceberg: (config, source) => [`mskToIceberg.eventTimeFields.${source}`, config.mskToIceberg.eventTimeFields[source]],
  gcp: (config) => ['gcp.eventTimeField', config.gcp?.eventTimeField],
} satisfies Partial<Record<SourcePipelineKey, (config: StreamFoundryConfig, source: string) => [string, string | undefined]>>;

/** The pipelines that need an event-time field: their sources always have one (or synth fails). */
type EventTimePipeline = keyof typeof EVENT_TIME_SETTINGS;

/** The sources that feed `pipeline`, in configuration order, resolved from the configuration. */
export function dataSources(config: StreamFoundryConfig, pipeline: EventTimePipeline): Required<DataSource>[];
export function dataSources(config: StreamFoundryConfig, pipeline: SourcePipelineKey): DataSource[];
export function dataSources(config: StreamFoundryConfig, pipeline: SourcePipelineKey): DataSource[] {
  return sourcesFeeding(config, pipeline).map((name) => dataSource(config, name, pipeline));
}

/** Source `name` as `pipeline` sees it (the pipeline decides where its event-time field is configured). */
export function dataSource(config: StreamFoundryConfig, name: string, pipeline: EventTimePipeline): Required<DataSource>;
export function dataSource(config: StreamFoundryConfig, name: string, pipeline?: SourcePipelineKey): DataSource;
export function dataSource(config: StreamFoundryConfig, name: string, pipeline?: SourcePipelineKey): DataSource {
  const { schema, idField, partitionKeyField, rules, compatibility } = config.sources[name];
  const schemasDir = schemasDirOf(config);
  const schemaFile = path.join(schemasDir, schema);
  const eventTime: ((config: StreamFoundryConfig, source: string) => [string, string | undefined]) | undefined =
    pipeline && pipeline in EVENT_TIME_SETTINGS ? EVENT_TIME_SETTINGS[pipeline as EventTimePipeline] : undefined;
  const [setting, configured] = eventTime?.(config, name) ?? [];
  const candidates = configured ? [configured] : dateTimeFields(schemaFile);
  if (setting && candidates.length !== 1) {
    throw new Error(
      `${setting}: set it to the event-time field of ${path.basename(schemaFile)} (top-level date-time properties: ${candidates.join(', ') || 'none'})`,
    );
  }
  const eventTimeField = candidates.length === 1 ? candidates[0] : undefined;
  const processing =
    rules && eventTimeField && (pipeline === 'kinesisToDeltaLake' || pipeline === 'mskToIceberg')
      ? processingDocument(
          { name, idField, eventTimeField },
          JSON.parse(fs.readFileSync(schemaFile, 'utf8')),
          loadRules(path.join(schemasDir, rules), `sources.${name}.rules`),
          `sources.${name}.rules`,
        )
      : undefined;
  const schemaVersions = schemaHistory(schemasDir, name, schemaFile).map((v) => v.definition);
  return { name, schemaFile, idField, partitionKeyField, eventTimeField, schemaVersions, compatibility, ...(processing ? { processing } : {}) };
}

/**
 * The JSON Schema of the rows a pipeline writes for a source (its tables, the events delivered to customers): the
 * output schema of its processing rules when it has some, else its own schema.
 */
export function tableSchema(source: Pick<DataSource, 'schemaFile' | 'processing'>): SchemaNode {
  return source.processing?.outputSchema ?? JSON.parse(fs.readFileSync(source.schemaFile, 'utf8'));
}

/** The top-level `format: date-time` properties of a JSON Schema file: the candidates for its event-time field. */
export function dateTimeFields(schemaFile: string): string[] {
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as { properties?: Record<string, { format?: string }> };
  return Object.entries(schema.properties ?? {})
    .filter(([, property]) => property.format === 'date-time')
    .map(([name]) => name);
}
