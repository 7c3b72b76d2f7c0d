import contract from './contract.json';

/**
 * The freshness canary's contract (contract.json, read by the jobs too). A canary event is an ordinary, schema-valid
 * event of its source whose id field holds `CANARY_ID_PREFIX` followed by its publish time in epoch milliseconds as
 * 12 lower-case hex digits: it passes the validator like any event (the schemas set additionalProperties: false, so no
 * marker field could be added), carries its own publish time, and every exit recognises it by the id alone.
 */
export const CANARY_ID_PREFIX: string = contract.canaryIdPrefix;
const TIME_DIGITS: number = contract.canaryIdTimeDigits;
/** Receipts live under `<receiptsPrefix><source>/<canary id>/<committed epoch ms>.json` in the pipeline's output bucket. */
export const RECEIPTS_PREFIX: string = contract.receiptsPrefix;
export const FRESHNESS_METRIC = contract.metric;

const CANARY_ID = new RegExp(`^${CANARY_ID_PREFIX}([0-9a-f]{${TIME_DIGITS}})$`);

/** The canary id for an event published at `publishedAtMs`. */
export function canaryId(publishedAtMs: number): string {
  return CANARY_ID_PREFIX + Math.trunc(publishedAtMs).toString(16).padStart(TIME_DIGITS, '0');
}

/** The publish time (epoch ms) a canary id carries, or undefined when `id` is not a canary id. */
export function canaryPublishedAt(id: unknown): number | undefined {
  const match = typeof id === 'string' ? CANARY_ID.exec(id) : null;
  return match ? parseInt(match[1], 16) : undefined;
}

/** A receipt: the exit committed canary `id` of `source` at `committedAtMs`. */
export interface Receipt {
  source: string;
  id: string;
  publishedAtMs: number;
  committedAtMs: number;
}

/** The object key of a receipt: everything the reporter needs is in the key, so it never reads the object. */
export function receiptKey(r: Pick<Receipt, 'source' | 'id' | 'committedAtMs'>): string {
  return `${RECEIPTS_PREFIX}${r.source}/${r.id}/${Math.trunc(r.committedAtMs)}.json`;
}

/** The object body of a receipt, for people who look at it: the freshness it measured, in seconds. */
export function receiptBody(r: Receipt): string {
  return JSON.stringify({
    source: r.source,
    id: r.id,
    publishedAt: new Date(r.publishedAtMs).toISOString(),
    committedAt: new Date(r.committedAtMs).toISOString(),
    freshnessSeconds: (r.committedAtMs - r.publishedAtMs) / 1000,
  });
}

/** The receipt a key names, or undefined for any other key. */
export function parseReceiptKey(key: string): Receipt | undefined {
  if (!key.startsWith(RECEIPTS_PREFIX)) return undefined;
  const [source, id, file, ...rest] = key.slice(RECEIPTS_PREFIX.length).split('/');
  const publishedAtMs = canaryPublishedAt(id);
  const committed = /^(\d+)\.json$/.exec(file ?? '');
  if (rest.length > 0 || !source || publishedAtMs === undefined || !committed) return undefined;
  return { source, id, publishedAtMs, committedAtMs: Number(committed[1]) };
}

/** The landing object key of a canary: under the source's prefix, so its own validator takes it like any upload. */
export function canaryObjectKey(source: string, id: string): string {
  return `${source}/_canary/${id}.ndjson`;
}

/** Whether a landing object is a canary file (`<source>/_canary/...`): its events are counted apart from publishers'. */
export function isCanaryObjectKey(key: string): boolean {
  return /^[^/]+\/_canary\//.test(key);
}
