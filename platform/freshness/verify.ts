import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CanaryClients, CanaryTarget, publishCanary } from './canary';
import { parseReceiptKey, Receipt, RECEIPTS_PREFIX } from './contract';

/**
 * `npm run verify`'s core, shared by the command (the user's credentials, a deployed stack) and the tests (local
 * emulators and engines): publish a few canary events through a pipeline's entrance and wait for the receipts its
 * exit writes once each is committed.
 */

/** One source of a pipeline: where to publish (none: its canary is the pipeline's own, e.g. a database heartbeat) and where receipts land. */
export interface VerifySource {
  readonly source: string;
  readonly target?: CanaryTarget;
  /** The bucket whose `_freshness/<source>/` the exit writes to. */
  readonly receiptsBucket: string;
}

export interface VerifyOptions {
  readonly pipeline: string;
  readonly sources: VerifySource[];
  /** Canary events per source. */
  readonly events: number;
  readonly timeoutMs: number;
  /** Between polls of the receipts, and between the events of one source. */
  readonly pollMs?: number;
  /** Where the pipeline's runbook explains the freshness alarm: printed when something does not arrive. */
  readonly runbookUrl: string;
  readonly clients: CanaryClients & { s3: Pick<S3Client, 'send'> };
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
}

export interface SourceVerdict {
  source: string;
  /** Canary ids published (empty for a source with no entrance of ours). */
  sent: string[];
  /** Receipts of those ids (or, with nothing sent, of canaries published after the start). */
  arrived: Receipt[];
  missing: string[];
}

export interface Verdict {
  ok: boolean;
  sources: SourceVerdict[];
  /** The report, line by line, as the command prints it. */
  lines: string[];
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The receipts under `_freshness/<source>/` whose canary was published at or after `sinceMs`. */
async function receipts(s3: Pick<S3Client, 'send'>, bucket: string, source: string, sinceMs: number): Promise<Receipt[]> {
  const found: Receipt[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${RECEIPTS_PREFIX}${source}/`, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const receipt = object.Key ? parseReceiptKey(object.Key) : undefined;
      if (receipt && receipt.publishedAtMs >= sinceMs) found.push(receipt);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

export async function verifyPipeline(options: VerifyOptions): Promise<Verdict> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const log = options.log ?? (() => undefined);
  const pollMs = options.pollMs ?? 1000;
  const started = now();
  const sent = new Map<string, string[]>();

  for (const s of options.sources) {
    const ids: string[] = [];
    if (s.target) {
      for (let i = 0; i < options.events; i++) {
        if (i > 0) await sleep(Math.min(pollMs, 1000)); // distinct publish milliseconds, distinct ids
        ids.push(await publishCanary(options.clients, s.target, now));
      }
      log(`${s.source}: sent ${ids.length} canary events (${ids.join(', ')})`);
    } else {
      log(`${s.source}: waiting for the pipeline's own canary (published after ${new Date(started).toISOString()})`);
    }
    sent.set(s.source, ids);
  }

  const arrived = new Map<string, Receipt[]>();
  const complete = (s: VerifySource) => {
    const ids = sent.get(s.source)!;
    const got = arrived.get(s.source) ?? [];
    return ids.length > 0 ? ids.every((id) => got.some((r) => r.id === id)) : got.length > 0;
  };
  const deadline = started + options.timeoutMs;
  for (;;) {
    for (const s of options.sources) {
      if (complete(s)) continue;
      const ids = sent.get(s.source)!;
      const found = await receipts(options.clients.s3, s.receiptsBucket, s.source, started);
      arrived.set(s.source, ids.length > 0 ? found.filter((r) => ids.includes(r.id)) : found);
    }
    if (options.sources.every(complete) || now() >= deadline) break;
    await sleep(pollMs);
  }

  const lines: string[] = [];
  const verdicts: SourceVerdict[] = options.sources.map((s) => {
    const ids = sent.get(s.source)!;
    // A redelivered canary may be committed twice: its first commit is the one that counts.
    const first = new Map<string, Receipt>();
    for (const r of (arrived.get(s.source) ?? []).sort((a, b) => a.committedAtMs - b.committedAtMs)) if (!first.has(r.id)) first.set(r.id, r);
    const got = [...first.values()];
    const missing = ids.length > 0 ? ids.filter((id) => !first.has(id)) : got.length > 0 ? [] : ['(no canary committed)'];
    for (const r of got) lines.push(`${options.pipeline} ${s.source}: ${r.id} committed after ${((r.committedAtMs - r.publishedAtMs) / 1000).toFixed(1)} s`);
    const seconds = got.map((r) => (r.committedAtMs - r.publishedAtMs) / 1000).sort((a, b) => a - b);
    if (seconds.length > 0) lines.push(`${options.pipeline} ${s.source}: ${got.length} arrived, freshness max ${seconds[seconds.length - 1].toFixed(1)} s, median ${seconds[Math.floor((seconds.length - 1) / 2)].toFixed(1)} s`);
    if (missing.length > 0) {
      lines.push(
        `${options.pipeline} ${s.source}: ${ids.length > 0 ? `${missing.length} of ${ids.length} canary events` : 'no canary'} not committed within ${Math.round(options.timeoutMs / 1000)} s` +
          `${ids.length > 0 ? ` (${missing.join(', ')})` : ''}; receipts expected under s3://${s.receiptsBucket}/${RECEIPTS_PREFIX}${s.source}/; where to look: ${options.runbookUrl}`,
      );
    }
    return { source: s.source, sent: ids, arrived: got, missing };
  });
  return { ok: verdicts.every((v) => v.missing.length === 0), sources: verdicts, lines };
}
