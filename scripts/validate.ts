/**
 * `npm run validate -- --source <name> <file> [<file> ...]`: checks files of events against the source's CURRENT
 * schema (schemas/<name>.schema.json, as cdk.json names it) exactly as the landing validator will, with its code:
 * the same readers (NDJSON or JSON text, gzip/deflate/brotli, UTF-8 or UTF-16, the 1 MiB record cap), the same
 * per-record checks (platform/landing-zone/validator/classify.ts: JSON, encoding, nesting, the schema compiled as at
 * cold start, the id and partition-key fields) and the broker limits of every landing zone the source lands in
 * (Kinesis: partition key and 1 MiB record; Kafka: message.max.bytes), offline: nothing is read from or sent to AWS.
 *
 * Prints `<file>:<line>: <reason>` per rejected event (` element N` for JSON arrays, ` part N` for one of several
 * values on one line), then a summary. Exit 0: every event would be accepted; 1: an event would be rejected or the
 * file quarantined; 2: a usage error (unknown source, unreadable file, bad flags).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, parseConfig, readCdkJsonContext, StreamFoundryConfig } from '../platform/config';
import { dataSource } from '../platform/data-source';
import { canaryPublishedAt, CANARY_ID_PREFIX } from '../platform/freshness/contract';
import { KafkaWriter } from '../platform/handlers/kafka-writer';
import { KinesisWriter } from '../platform/handlers/kinesis-writer';
import { readObjectRecords, UnreadableObjectError } from '../platform/handlers/object-records';
import { MAX_RECORD_BYTES, Publisher } from '../platform/handlers/publisher';
import { RawRecord } from '../platform/handlers/raw-record';
import { loadSchemaFile, Validator } from '../platform/handlers/schema-validator';
import { PROJECT_ROOT } from '../platform/paths';
import { Classified, classifyRecord, Reason, Rules } from '../platform/landing-zone/validator/classify';
import { Pipeline, PIPELINES, SourcePipelineKey } from '../pipelines';
import { failureExitCode, Io, runMain } from './cli';
import { UsageError } from './replay/window';

const USAGE = `usage: npm run validate -- --source <name> <file> [<file> ...]
  <name>: a source of cdk.json; <file>: events as the landing bucket takes them (NDJSON, or .json; gzip allowed)`;

/**
 * The pipelines that put a landing zone in front of their broker, and that broker (the targets their stacks give
 * attachLandingZone: platform/landing-zone/stack.ts and pipelines/kinesis-to-delta-lake/stack.ts publish to Kinesis,
 * pipelines/msk-to-iceberg to its Kafka topics with the brokers' default message.max.bytes). A file can be dropped in
 * any of them, so it is checked against each.
 */
export const LANDING_ZONES: Partial<Record<SourcePipelineKey, 'kinesis' | 'kafka'>> = {
  landingZone: 'kinesis',
  kinesisToDeltaLake: 'kinesis',
  mskToIceberg: 'kafka',
};

/** One landing zone a source's files go through. */
export interface LandingZoneCheck {
  /** The pipeline's configuration key and CDK stack id (`MskToIceberg`). */
  pipeline: SourcePipelineKey;
  stackId: string;
  broker: 'kinesis' | 'kafka';
  rules: Rules;
}

/** An event of the file as the validator sees it, with the verdict of every landing zone the source lands in. */
export interface EventVerdict {
  line: number;
  element?: number;
  part?: number;
  valid: boolean;
  /** The reasons the validator records (its error file's `reasons`), from the first landing zone rejecting it. */
  reasons: Reason[];
  /** Reasons only some landing zones give (a broker limit), with the zones that give them. */
  onlyIn: Array<{ reason: Reason; stackIds: string[] }>;
  /** The id, when the event has a usable one. */
  eventId?: string;
}

export interface FileVerdict {
  events: EventVerdict[];
  /** Why the validator would quarantine the whole file (undecodable, or a record over 1 MiB), if it would. */
  quarantine?: string;
}

/** Nothing here publishes: the writers are built only for their limit checks (checkPartitionKey, checkSize). */
const offline = {
  send: () => Promise.reject(new Error('npm run validate never publishes')),
};

/** The checks of each landing zone `source` lands in, as that zone's validator function runs them. */
export function landingZoneChecks(config: StreamFoundryConfig, source: string, validate: Validator): LandingZoneCheck[] {
  const { idField, partitionKeyField } = dataSource(config, source);
  return config.sources[source].pipelines.flatMap((pipeline) => {
    const broker = LANDING_ZONES[pipeline];
    if (!broker) return [];
    const entry: Pipeline = PIPELINES.find((p) => p.key === pipeline)!;
    const writer: Publisher =
      broker === 'kinesis'
        ? new KinesisWriter({ client: offline, streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${source}`, retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 } })
        : new KafkaWriter({ producer: offline, topic: source, retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 } });
    const rules: Rules = {
      validate,
      idField,
      partitionKeyField,
      checkPartitionKey: (key) => writer.checkPartitionKey(key),
      checkSize: (event) => writer.checkSize(event),
    };
    return [{ pipeline, stackId: entry.stackId ?? entry.key, broker, rules }];
  });
}

const reasonKey = (r: Reason): string => JSON.stringify([r.type, r.instancePath, r.keyword, r.message, r.field]);

/** Merges the zones' verdicts on one event: rejected if any zone rejects it. */
function merge(record: RawRecord, verdicts: Array<[LandingZoneCheck, Classified]>): EventVerdict {
  const rejected = verdicts.filter((v): v is [LandingZoneCheck, Extract<Classified, { valid: false }>] => !v[1].valid);
  const place = { line: record.line, ...(record.element !== undefined ? { element: record.element } : {}), ...(record.part !== undefined ? { part: record.part } : {}) };
  if (rejected.length === 0) {
    const [, first] = verdicts[0] as [LandingZoneCheck, Extract<Classified, { valid: true }>];
    return { ...place, valid: true, reasons: [], onlyIn: [], eventId: first.event.id };
  }
  const byKey = new Map<string, { reason: Reason; stackIds: string[] }>();
  for (const [zone, result] of rejected) {
    for (const reason of result.reasons) {
      const seen = byKey.get(reasonKey(reason)) ?? { reason, stackIds: [] };
      seen.stackIds.push(zone.stackId);
      byKey.set(reasonKey(reason), seen);
    }
  }
  const onlyIn = [...byKey.values()].filter((r) => r.stackIds.length < verdicts.length);
  const eventId = rejected.map(([, r]) => r.eventId).find((id) => id !== undefined);
  return { ...place, valid: false, reasons: rejected[0][1].reasons, onlyIn, ...(eventId !== undefined ? { eventId } : {}) };
}

/**
 * Reads `file` as the validator reads an object named like it (the name decides NDJSON or JSON text, as the key does)
 * and classifies every event with each zone's rules, through the validator's own `classifyRecord`.
 */
export async function validateFile(file: string, zones: LandingZoneCheck[]): Promise<FileVerdict> {
  if (zones.length === 0) throw new Error('no landing zone to validate for');
  const verdict: FileVerdict = { events: [] };
  const body = fs.createReadStream(file);
  try {
    const object = await readObjectRecords(body, { key: path.basename(file) }, MAX_RECORD_BYTES);
    for await (const batch of object.batches) {
      for (const raw of batch) {
        const perZone = zones.map((zone) => classifyRecord(raw, zone.rules, object.format));
        // Splitting one line into its values depends on the bytes only, so every zone sees the same events.
        perZone[0].forEach(([record], i) => verdict.events.push(merge(record, zones.map((zone, z) => [zone, perZone[z][i][1]]))));
        if (raw.truncated) {
          verdict.quarantine ??= `the record at line ${raw.line} is ${raw.byteLength} bytes, more than the ${MAX_RECORD_BYTES} bytes that can be kept (a missing line break?): the validator quarantines the file whole; its other events are processed as usual`;
        }
      }
    }
  } catch (err) {
    if (!(err instanceof UnreadableObjectError)) throw err;
    verdict.quarantine = verdict.quarantine ? `${err.message}; also, ${verdict.quarantine}` : err.message;
  } finally {
    body.destroy();
  }
  return verdict;
}

/** A reason as the validator words it in its error file: type, where, message; the detail Ajv keeps in params. */
export function describeReason(reason: Reason): string {
  if (reason.type !== 'schema') return `${reason.type}: ${reason.message}`;
  const params = reason.params ?? {};
  const detail =
    reason.keyword === 'enum'
      ? ` (${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})`
      : reason.keyword === 'additionalProperties'
        ? ` ("${params.additionalProperty}")`
        : reason.keyword === 'const'
          ? ` (${JSON.stringify(params.allowedValue)})`
          : '';
  return `schema ${reason.instancePath || '/'}: ${reason.message}${detail}`;
}

/** `<file>:<line>[ element N][ part N]`. */
const where = (file: string, e: Pick<EventVerdict, 'line' | 'element' | 'part'>): string =>
  `${file}:${e.line}${e.element !== undefined ? ` element ${e.element}` : ''}${e.part !== undefined ? ` part ${e.part}` : ''}`;

/** The lines `npm run validate` prints for one file's verdict (problems first, then the summary). */
export function report(file: string, verdict: FileVerdict, zones: LandingZoneCheck[]): { lines: string[]; ok: boolean } {
  const lines: string[] = [];
  let canaries = 0;
  for (const event of verdict.events) {
    if (!event.valid) {
      const scoped = new Map(event.onlyIn.map((o) => [reasonKey(o.reason), o.stackIds]));
      const all = [...event.reasons, ...event.onlyIn.map((o) => o.reason).filter((r) => !event.reasons.some((x) => reasonKey(x) === reasonKey(r)))];
      lines.push(
        `${where(file, event)}: ${all
          .map((r) => {
            const only = scoped.get(reasonKey(r));
            return only ? `${describeReason(r)} (only in the ${only.join(', ')} landing zone${only.length > 1 ? 's' : ''})` : describeReason(r);
          })
          .join('; ')}`,
      );
    } else if (canaryPublishedAt(event.eventId) !== undefined) {
      canaries++;
      lines.push(
        `${where(file, event)}: warning: id "${event.eventId}" is a freshness canary id (${CANARY_ID_PREFIX} + 12 hex digits): the validator accepts it, but every pipeline drops canaries before its tables; use another id`,
      );
    }
  }
  const invalid = verdict.events.filter((e) => !e.valid).length;
  const valid = verdict.events.length - invalid;
  if (verdict.quarantine) lines.push(`${file}: the landing validator would quarantine this file: ${verdict.quarantine}`);
  const zonesText = zones.map((z) => `${z.stackId} (${z.broker === 'kinesis' ? 'Kinesis' : 'Kafka'})`).join(', ');
  const events = verdict.events.length;
  lines.push(
    `${file}: ${events} event${events === 1 ? '' : 's'}, ${valid} valid, ${invalid} invalid${canaries > 0 ? `, ${canaries} with a canary id` : ''}${verdict.quarantine ? ', file quarantined' : ''} (landing zones: ${zonesText})`,
  );
  return { lines, ok: invalid === 0 && !verdict.quarantine };
}

export type { Io };

/** The command line: 0 when every event would be accepted, 1 when one would not, 2 for a usage error. */
export async function main(argv: string[], io: Io, deps?: { config?: StreamFoundryConfig }): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { source: { type: 'string' } } });
    const config = deps?.config ?? parseConfig(readCdkJsonContext());
    const known = Object.keys(config.sources);
    if (!values.source) throw new UsageError(`--source <name> is required: one of ${known.join(', ')}`);
    const source = values.source;
    if (!config.sources[source]) throw new UsageError(`unknown source "${source}": cdk.json has ${known.join(', ') || 'no sources'}`);
    if (positionals.length === 0) throw new UsageError('give at least one file to validate');
    for (const file of positionals) {
      try {
        if (!fs.statSync(file).isFile()) throw new UsageError(`${file} is not a file`);
        fs.accessSync(file, fs.constants.R_OK);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
      }
    }
    const { schemaFile } = dataSource(config, source);
    const schema = loadSchemaFile(schemaFile);
    if (schema.unknownKeywords.length > 0) io.log(`note: ${path.relative(PROJECT_ROOT, schemaFile)} has keywords JSON Schema does not define, not checked (as in the validator): ${schema.unknownKeywords.join(', ')}`);
    const zones = landingZoneChecks(config, source, schema.validate);
    if (zones.length === 0) {
      throw new UsageError(
        `source "${source}" lands in no landing zone (its pipelines: ${config.sources[source].pipelines.join(', ') || 'none'}); files are validated for ${Object.keys(LANDING_ZONES).join(', ')}`,
      );
    }
    io.log(`${source}: ${path.relative(PROJECT_ROOT, schemaFile)}, id field "${zones[0].rules.idField}", partition key field "${zones[0].rules.partitionKeyField}"`);
    let ok = true;
    for (const file of positionals) {
      const result = report(file, await validateFile(file, zones), zones);
      for (const line of result.lines) io.out(line);
      ok &&= result.ok;
    }
    return ok ? 0 : 1;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.log(err.message);
      return 2;
    }
    return failureExitCode(err, USAGE, io);
  }
}

if (require.main === module) runMain(main);
