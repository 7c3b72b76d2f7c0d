import * as fs from 'fs';
import * as path from 'path';
import { canaryEvent } from './canary';
import { DataSource } from '../data-source';
import { loadSchema } from '../handlers/schema-validator';
import { readSamples } from '../samples';

/**
 * The event a source's canary starts from: the first sample event of the source (schemas/<source>.samples.ndjson) or
 * of its schema (schemas/<schema name>.samples.ndjson, for sources that share one), else the smallest event the schema
 * describes (required properties only). Checked with the validator's own rules once its id and event time are
 * replaced, so a canary the landing zone would reject fails synth instead of paging every minute.
 */
export function canaryTemplate(source: Pick<DataSource, 'name' | 'schemaFile' | 'idField' | 'eventTimeField'>): Record<string, unknown> {
  const candidates = [`${source.name}.samples.ndjson`, path.basename(source.schemaFile).replace(/\.schema\.json$/, '.samples.ndjson')].map((f) => path.join(path.dirname(source.schemaFile), f));
  const samples = candidates.find((f) => fs.existsSync(f));
  let template: Record<string, unknown>;
  try {
    template = samples ? readSamples(samples, source.schemaFile)[0] : (minimalEvent(JSON.parse(fs.readFileSync(source.schemaFile, 'utf8'))) as Record<string, unknown>);
  } catch (e) {
    throw new Error(`freshness: the canary of source "${source.name}" starts from its first sample event: ${(e as Error).message} (or set freshness.enabled to false)`);
  }
  const violations = loadSchema(source.schemaFile)(canaryEvent({ source: source.name, template, idField: source.idField, eventTimeField: source.eventTimeField }, Date.UTC(2026, 0, 1)));
  if (violations) {
    const replaced = [`sources.${source.name}.idField ("${source.idField}") set to a UUID-shaped canary id`, ...(source.eventTimeField ? [`the event-time field "${source.eventTimeField}" set to now`] : [])];
    throw new Error(
      `freshness: the canary event of "${source.name}" (${samples ? `the first event of ${path.basename(samples)}` : 'the smallest event its schema describes'}, with ${replaced.join(' and ')}) is not valid against ` +
        `${path.basename(source.schemaFile)}: ${JSON.stringify(violations[0])}. The id field must accept a string (format uuid, no pattern) and the ` +
        `event-time field a date-time${samples ? '' : `, or add ${path.join(path.basename(path.dirname(candidates[0])), path.basename(candidates[0]))} with one valid event`}; or set freshness.enabled to false`,
    );
  }
  return template;
}

type JsonSchema = { type?: string | string[]; const?: unknown; enum?: unknown[]; format?: string; minimum?: number; minLength?: number; minItems?: number; items?: JsonSchema; properties?: Record<string, JsonSchema>; required?: string[] };

/** The smallest value `schema` describes: required properties, minimums, first enum values (validated by the caller). */
function minimalEvent(schema: JsonSchema): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const type = [schema.type ?? 'object'].flat().find((t) => t !== 'null') ?? 'null';
  switch (type) {
    case 'object':
      return Object.fromEntries((schema.required ?? []).map((name) => [name, minimalEvent(schema.properties?.[name] ?? {})]));
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => minimalEvent(schema.items ?? {}));
    case 'string':
      if (schema.format === 'date-time') return '2026-01-01T00:00:00.000Z';
      if (schema.format === 'date') return '2026-01-01';
      if (schema.format === 'uuid') return '00000000-0000-4000-b000-000000000000';
      return 'canary'.padEnd(schema.minLength ?? 0, '-');
    case 'integer':
    case 'number':
      return schema.minimum ?? 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}
