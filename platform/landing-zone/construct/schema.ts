import * as fs from 'fs';
import { Annotations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { inspectSchema } from '../../handlers/schema-validator';
import { LandingZoneSource } from './props';

/**
 * The source's JSON Schema text, compiled now exactly as the validator compiles it at cold start, so a schema the
 * Lambda cannot load fails synth instead of every invocation. Unknown keywords (often typos: "prperties") are legal
 * JSON Schema but check nothing: synth warns, naming them.
 */
export function readSourceSchema(scope: Construct, source: LandingZoneSource): string {
  const where = `${scope.node.path}: the schema of source "${source.name}" (${source.schemaFile})`;
  let text: string;
  try {
    text = fs.readFileSync(source.schemaFile, 'utf8');
  } catch {
    throw new Error(`${where} is not readable`);
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where} is not JSON: ${(error as Error).message}`);
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new Error(`${where} is not a JSON Schema object`);
  }
  let unknownKeywords: string[];
  try {
    ({ unknownKeywords } = inspectSchema(schema));
  } catch (error) {
    throw new Error(`${where} cannot be compiled: ${(error as Error).message}`);
  }
  if (unknownKeywords.length > 0) {
    Annotations.of(scope).addWarningV2(
      `stream-foundry:unknownSchemaKeywords:${source.name}`,
      `${where} uses keywords JSON Schema does not define, which validate nothing (a typo?): ${unknownKeywords.join(', ')}`,
    );
  }
  return text;
}
