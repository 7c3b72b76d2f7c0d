/**
 * What every pipeline of the demo shares: the events it sends (a source's sample file, a few invalid events, one
 * duplicate, one replayed batch), the accounting it prints and checks, progress lines, and the list of what to stop.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SCHEMAS_DIR, StreamFoundryConfig } from '../../platform/config';
import type { InvalidEventRecord } from '../../platform/landing-zone/validator/error-output';
import type { DataSource } from '../../platform/data-source';
import { DEFAULT_RETRY_POLICY } from '../../platform/handlers/backoff';
import { loadSchemaFile } from '../../platform/handlers/schema-validator';
import { ObjectOutcome, processObject, ProcessorDeps } from '../../platform/landing-zone/validator/process-object';

export interface DemoContext {
  config: StreamFoundryConfig;
  /** Where the demo keeps what a user may look at afterwards (tables, buckets on disk). */
  workDir: string;
  /** Sample events per source (`--events N` repeats the sample file with fresh ids up to N; default: the file). */
  eventsPerSource?: number;
  /** Sources to run (default: every source the pipeline's stack would take). */
  sources?: string[];
  /** Registers a clean-up that runs on exit, on Ctrl-C and on failure, newest first. */
  onStop(what: string, stop: () => Promise<void> | void): void;
}

/** One pipeline's result for one source: read = published + rejected; published = committed + deduplicated. */
export interface Accounting {
  pipeline: string;
  source: string;
  read: number;
  published: number;
  rejected: number;
  /** The first reasons of the rejected events. */
  reasons: string[];
  deduplicated: number;
  committed: number;
  /** Events the pipeline's outputs do not explain (must be none). */
  unaccounted: string[];
  /** Publish-to-commit seconds of a freshness canary, if one went through. */
  freshnessSeconds?: number;
  /** What a user would query, a few rows. */
  rows: Array<Record<string, unknown>>;
  /** Where the outputs live. */
  locations: Array<[string, string]>;
  notes: string[];
}

const started = Date.now();

/** A progress line, with the seconds since the demo started. */
export function progress(pipeline: string, message: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${seconds}s] ${pipeline}: ${message}\n`);
}

/** The lines of the batch a demo publisher sends for `source`, and what each is meant to show. */
export interface DemoBatch {
  /** The first upload: samples, invalid events and one duplicate, one event per line. */
  lines: string[];
  /** The ids of the valid samples (each to be committed exactly once by a deduplicating pipeline). */
  validIds: string[];
  /** How many lines are invalid JSON or invalid against the schema. */
  invalid: number;
  /** The replayed batch: the first `replayed` sample lines again, sent after the first upload. */
  replay: string[];
}

/**
 * The demo's events for a source: its sample file (`schemas/<source>.samples.ndjson`, extended to `count` events
 * with fresh ids when asked), two invalid events (not JSON; the id field missing), one duplicate of the first
 * sample, and a replay of the first two samples.
 */
export function demoBatch(config: StreamFoundryConfig, source: string, count?: number): DemoBatch {
  const { idField } = config.sources[source];
  const file = path.join(SCHEMAS_DIR, `${source}.samples.ndjson`);
  const samples = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  if (samples.length === 0) throw new Error(`${file} holds no sample event`);
  const events: Array<Record<string, unknown>> = [];
  for (let i = 0; i < (count ?? samples.length); i++) {
    const sample = samples[i % samples.length];
    const round = Math.floor(i / samples.length);
    // Rounds after the first get fresh ids (the sample's id, a UUID, with its last 12 hex digits replaced), so they
    // are new events, not duplicates.
    events.push(round === 0 ? sample : { ...sample, [idField]: `${String(sample[idField]).slice(0, -12)}de${i.toString(16).padStart(10, '0')}` });
  }
  const ids = new Set(events.map((e) => String(e[idField])));
  if (ids.size !== events.length) throw new Error(`${file}: the demo's ${events.length} events need distinct "${idField}" values`);
  const lines = events.map((e) => JSON.stringify(e));
  const { [idField]: _omitted, ...withoutId } = events[0];
  void _omitted;
  const invalid = ['{"this is": not JSON', JSON.stringify(withoutId)];
  return {
    lines: [...lines, ...invalid, lines[0]],
    validIds: events.map((e) => String(e[idField])),
    invalid: invalid.length,
    replay: lines.slice(0, Math.min(2, lines.length)),
  };
}

/** Prints one pipeline's report. */
export function printReport(a: Accounting): void {
  const out: string[] = [];
  out.push('');
  out.push(`== ${a.pipeline} · source ${a.source}`);
  out.push(`   events read ${a.read}  published ${a.published}  rejected ${a.rejected}  deduplicated ${a.deduplicated}  committed ${a.committed}`);
  for (const reason of a.reasons.slice(0, 3)) out.push(`   rejected: ${reason}`);
  out.push(`   freshness (canary, publish -> committed): ${a.freshnessSeconds === undefined ? 'not measured' : `${a.freshnessSeconds.toFixed(1)} s`}`);
  out.push(`   accounted for: ${a.unaccounted.length === 0 ? 'every event' : `NOT ${a.unaccounted.length}: ${a.unaccounted.slice(0, 3).join('; ')}`}`);
  for (const note of a.notes) out.push(`   ${note}`);
  if (a.rows.length > 0) {
    out.push(`   what a user queries (${a.rows.length} rows shown):`);
    for (const row of a.rows) out.push(`     ${JSON.stringify(row).slice(0, 160)}`);
  }
  for (const [what, where] of a.locations) out.push(`   ${what.padEnd(22)} ${where}`);
  process.stdout.write(out.join('\n') + '\n');
}

/** Whether the books balance: read = published + rejected, published = committed + deduplicated, nothing unexplained. */
export function balanced(a: Accounting): boolean {
  return a.unaccounted.length === 0 && a.read === a.published + a.rejected && a.published === a.committed + a.deduplicated;
}

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes (then throws naming `what`). */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
}

/** The publishers' retries in the demo: the Lambda's policy, with more attempts for emulators on a busy machine. */
export const DEMO_RETRY = { ...DEFAULT_RETRY_POLICY, maxAttempts: 8 };

/** The landing validator of `source` as the Lambda wires it (validator/index.ts), with local clients and publisher. */
export function localValidator(s3: S3Client, source: DataSource, errorBucket: string, createPublisher: ProcessorDeps['createPublisher']): ProcessorDeps & { s3: S3Client } {
  const { name, schemaFile, idField, partitionKeyField } = source;
  return { s3, source: name, errorBucket, validate: loadSchemaFile(schemaFile).validate, idField, partitionKeyField, createPublisher };
}

/**
 * Uploads `lines` to the landing bucket at `key` and runs the validator's own `processObject` on it, as the S3
 * notification would; `target` names where valid events go, for the progress line.
 */
export async function uploadThroughValidator(pipeline: string, deps: ProcessorDeps & { s3: S3Client }, landingBucket: string, key: string, lines: string[], target: string): Promise<ObjectOutcome> {
  const put = await deps.s3.send(new PutObjectCommand({ Bucket: landingBucket, Key: key, Body: lines.join('\n') + '\n' }));
  const outcome = await processObject({ bucket: landingBucket, key, etag: put.ETag, eventTime: new Date().toISOString() }, deps);
  progress(pipeline, `validator: s3://${landingBucket}/${key}: ${outcome.read} read, ${outcome.published} published to ${target}, ${outcome.invalid} to the error bucket`);
  return outcome;
}

/** Every record the validator wrote to the error bucket (one NDJSON line per rejected event). */
async function validatorRejections(s3: S3Client, bucket: string): Promise<InvalidEventRecord[]> {
  const invalid: InvalidEventRecord[] = [];
  const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const { Key } of Contents ?? []) {
    const text = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToString();
    invalid.push(...text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as InvalidEventRecord));
  }
  return invalid;
}

/**
 * The accounting of a pipeline behind a landing zone (2 and 5): every event sent (the uploads) is rejected by the
 * validator (its error bucket), rejected by the job (`jobReasons`, one per rejected record) or committed, its id once
 * in the table however often it was sent; the rest the job dropped as duplicates, exactly as many as were sent.
 */
export async function landingAccounting(a: {
  uploads: ObjectOutcome[];
  s3: S3Client;
  errorBucket: string;
  jobReasons: string[];
  committedIds: string[];
  batch: DemoBatch;
}): Promise<Pick<Accounting, 'read' | 'published' | 'rejected' | 'reasons' | 'deduplicated' | 'committed' | 'unaccounted'>> {
  const sum = (field: 'read' | 'published' | 'invalid') => a.uploads.reduce((n, u) => n + u[field], 0);
  const [read, published, validatorRejected] = [sum('read'), sum('published'), sum('invalid')];
  const invalid = await validatorRejections(a.s3, a.errorBucket);
  const committed = a.committedIds.length;
  const deduplicated = published - a.jobReasons.length - committed;
  const expectedDuplicates = read - validatorRejected - a.batch.validIds.length;
  const unaccounted: string[] = [];
  if (invalid.length !== validatorRejected) unaccounted.push(`the validator rejected ${validatorRejected} events, its error bucket holds ${invalid.length}`);
  unaccounted.push(...tableIdProblems(a.committedIds, a.batch.validIds));
  if (deduplicated !== expectedDuplicates) unaccounted.push(`${deduplicated} records dropped as duplicates, ${expectedDuplicates} duplicates were sent`);
  return {
    read,
    published,
    rejected: validatorRejected + a.jobReasons.length,
    reasons: [
      ...invalid.map((r) => `validator, line ${r.line}: ${r.reasons.map((x) => x.message ?? x.type).join('; ')}`),
      ...a.jobReasons.map((reason) => `job: ${reason}`),
    ],
    deduplicated,
    committed,
    unaccounted,
  };
}

/** What is wrong with a table's ids: committed twice, a valid event missing, an id never sent. */
function tableIdProblems(committedIds: string[], validIds: string[]): string[] {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  for (const id of committedIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const [id, n] of counts) if (n > 1) problems.push(`id ${id} committed ${n} times`);
  for (const id of validIds) if (!counts.has(id)) problems.push(`valid event ${id} is not in the table`);
  for (const id of counts.keys()) if (!validIds.includes(id)) problems.push(`the table holds ${id}, which was never sent`);
  return problems;
}
