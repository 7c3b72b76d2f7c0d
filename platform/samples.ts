import * as fs from 'fs';
import * as path from 'path';
import { StreamFoundryConfig } from './config';
import { dataSource } from './data-source';
import { loadSchema } from './handlers/schema-validator';

/**
 * A source's sample events (schemas/<source>.samples.ndjson), each checked against the source's JSON Schema with the
 * validator's own rules: a sample the pipeline would reject fails here, naming its line, before anything is sent.
 */
export function loadSamples(config: StreamFoundryConfig, source: string): Record<string, unknown>[] {
  if (!config.sources[source]) throw new Error(`unknown source "${source}" (cdk.json sources: ${Object.keys(config.sources).join(', ')})`);
  const { schemaFile } = dataSource(config, source);
  return readSamples(path.join(path.dirname(schemaFile), `${source}.samples.ndjson`), schemaFile);
}

/** The events of an NDJSON file (blank lines skipped), each valid against `schemaFile`; the first bad line fails. */
export function readSamples(file: string, schemaFile: string): Record<string, unknown>[] {
  const validate = loadSchema(schemaFile);
  const where = (line: number) => `${path.basename(file)}:${line}`;
  const samples = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((text, i) => ({ line: i + 1, text: text.trim() }))
    .filter(({ text }) => text.length > 0)
    .map(({ line, text }) => {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(text) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${where(line)}: not valid JSON (${(e as Error).message})`);
      }
      const violations = validate(event);
      if (violations) throw new Error(`${where(line)}: not valid against ${path.basename(schemaFile)}: ${JSON.stringify(violations[0])}`);
      return event;
    });
  if (samples.length === 0) throw new Error(`${path.basename(file)} holds no sample events`);
  return samples;
}
