import type { Logger } from '@aws-lambda-powertools/logger';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { NAME } from '../../config/settings';
import { CatalogSource, CustomerCatalog, PAGE_LIMITS } from '../catalog';
import { CUSTOMER_NAME } from '../config';
import { CatalogError, CatalogStore } from './catalog-store';
import { matchingPrincipal } from './caller';
import { Cursor, CursorError, decodeCursor, encodeCursor } from './cursor';
import { DeadlineError, readPage } from './page';
import { SchemaMissingError, SchemaStore } from './schemas';

/** Where a first page starts when the request names no `since`. */
export const DEFAULT_SINCE_MS = 15 * 60 * 1000;
/**
 * How long a page may take: API Gateway ends the request after 29 s and the construct gives the function 25 s; a page
 * still unread after this answers 503 (retry) rather than letting the request time out.
 */
export const PAGE_DEADLINE_MS = 20_000;
/** The oldest `since`: Kinesis keeps records at most 7 days unless retention is extended, and these streams are not. */
export const MAX_SINCE_AGE_MS = 7 * 24 * 60 * 60 * 1000;

export interface HandlerDeps {
  catalogs: Pick<CatalogStore, 'get'>;
  schemas: Pick<SchemaStore, 'get'>;
  kinesis: Pick<KinesisClient, 'send'>;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  now?: () => number;
  /** Default PAGE_DEADLINE_MS. */
  pageDeadlineMs?: number;
}

/** The routes, as API Gateway's resources name them (also the `route` of the request log). */
export const ROUTES = {
  catalog: '/customers/{customer}',
  schema: '/customers/{customer}/sources/{source}/schema',
  events: '/customers/{customer}/sources/{source}/events',
} as const;
type RouteName = keyof typeof ROUTES;

// Anchored at the end only: behind a custom domain, the path starts with the mapping's base path.
const PATTERNS: [RouteName, RegExp][] = [
  ['catalog', /\/customers\/([^/]+)$/],
  ['schema', /\/customers\/([^/]+)\/sources\/([^/]+)\/schema$/],
  ['events', /\/customers\/([^/]+)\/sources\/([^/]+)\/events$/],
];

/** Kinesis (or Parameter Store) asks the caller to slow down: 429, try again in a second. */
const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'LimitExceededException', 'KMSThrottlingException', 'ThrottlingException']);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Outcome {
  status: number;
  body: string;
  headers?: Record<string, string>;
  count?: number;
  /** A fault of ours (500): logged with the request, at level error. */
  fault?: unknown;
}

const json = (status: number, value: unknown, extra: Partial<Outcome> = {}): Outcome => ({ status, body: JSON.stringify(value), ...extra });

/**
 * The delivery API (README.md): a customer's catalog, a source's schema, and bounded pages of a source's Kinesis
 * delivery stream. Every request is checked against the customer's principals, whatever API Gateway's resource policy
 * already decided, and logged in one JSON line without event payloads.
 */
export function createHandler(deps: HandlerDeps): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const now = deps.now ?? Date.now;
  return async (event) => {
    const started = now();
    const identity = event.requestContext?.identity;
    const log: Record<string, unknown> = { method: event.httpMethod, path: event.path, caller: identity?.userArn ?? null };
    let outcome: Outcome;
    try {
      outcome = await route(event, deps, now, log);
    } catch (err) {
      outcome = failure(err, log);
    }
    const line = { ...log, status: outcome.status, count: outcome.count ?? null, durationMs: now() - started };
    if (outcome.fault) deps.logger.error('request', { ...line, error: outcome.fault as Error });
    else deps.logger.info('request', line);
    return {
      statusCode: outcome.status,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...outcome.headers },
      body: outcome.body,
    };
  };
}

async function route(event: APIGatewayProxyEvent, deps: HandlerDeps, now: () => number, log: Record<string, unknown>): Promise<Outcome> {
  const found = PATTERNS.map(([name, pattern]) => [name, pattern.exec(event.path ?? '')] as const).find(([, m]) => m);
  if (!found) throw new HttpError(404, `no route ${event.path}: the routes are GET ${Object.values(ROUTES).join(', GET ')}`);
  const [name, match] = found;
  const customer = decode(match![1]);
  const sourceName = match![2] === undefined ? undefined : decode(match![2]);
  Object.assign(log, { route: ROUTES[name], customer, ...(sourceName === undefined ? {} : { source: sourceName }) });
  if (event.httpMethod !== 'GET') throw new HttpError(405, `${ROUTES[name]} answers GET only`, { Allow: 'GET' });

  if (!CUSTOMER_NAME.test(customer)) throw new HttpError(404, `no customer "${customer}"`);
  const catalog = await deps.catalogs.get(customer);
  if (!catalog) throw new HttpError(404, `no customer "${customer}"`);
  const principal = matchingPrincipal(event.requestContext?.identity ?? {}, catalog.principals);
  if (!principal) throw new HttpError(403, `the caller is not one of the principals of customer "${customer}"`);
  log.principal = principal;

  if (name === 'catalog') return json(200, catalog);
  const source = sourceOf(catalog, sourceName!);
  if (name === 'schema') {
    const bundled = deps.schemas.get(source.source);
    if (bundled.version !== source.schemaVersion) {
      // The function and the catalog are updated at different moments of a deploy: serve what is bundled, say so.
      deps.logger.warn('The bundled schema is not the version the catalog names', { source: source.source, catalog: source.schemaVersion, bundled: bundled.version });
    }
    return json(200, { source: source.source, schemaVersion: bundled.version, schema: bundled.schema }, { headers: { ETag: `"${bundled.version}"` } });
  }
  return events(event, deps, now, catalog, source);
}

function sourceOf(catalog: CustomerCatalog, name: string): CatalogSource {
  const source = NAME.test(name) ? catalog.sources.find((s) => s.source === name) : undefined;
  if (!source) throw new HttpError(404, `no source "${name}" in the catalog of customer "${catalog.customer}"`);
  return source;
}

async function events(event: APIGatewayProxyEvent, deps: HandlerDeps, now: () => number, catalog: CustomerCatalog, source: CatalogSource): Promise<Outcome> {
  const query = event.queryStringParameters ?? {};
  const limit = parseLimit(query.limit);
  const since = query.since === undefined ? undefined : parseSince(query.since, now());
  let cursor: Cursor | undefined;
  if (query.cursor !== undefined) {
    if (since) throw new HttpError(400, 'give either cursor (the next page) or since (a first page), not both');
    try {
      cursor = decodeCursor(query.cursor, source.source);
    } catch (err) {
      if (err instanceof CursorError) throw new HttpError(400, `cursor: ${err.message}`);
      throw err;
    }
    if (cursor.since > now()) throw new HttpError(400, 'cursor: it starts in the future, so this API did not return it');
  }
  if (!source.kinesis) {
    if (source.kafka) {
      const { topic, consumerGroupPrefix } = source.kafka;
      throw new HttpError(
        409,
        `source "${source.source}" is delivered on Kafka, which this API does not page: read topic "${topic}" with a Kafka consumer ` +
          `(group ids starting with "${consumerGroupPrefix}"; the brokers and reader role are in GET /customers/${catalog.customer}): ` +
          'Kafka has no bounded, stateless read that fits one API request',
      );
    }
    throw new Error(`source "${source.source}" of customer "${catalog.customer}" has no delivery in the catalog`);
  }
  try {
    const page = await readPage(deps.kinesis, {
      streamName: source.kinesis.streamName,
      streamArn: source.kinesis.streamArn,
      source: source.source,
      limit,
      start: cursor ? { cursor } : { since: new Date(since ?? now() - DEFAULT_SINCE_MS) },
      now,
      signal: AbortSignal.timeout(deps.pageDeadlineMs ?? PAGE_DEADLINE_MS),
    });
    // Events are spliced in as the JSON text they were written as: parsing and printing them again would round
    // large numbers.
    const body = `{"events":[${page.events.join(',')}],"cursor":${JSON.stringify(encodeCursor(page.cursor))},"shards":${page.shards},"millisBehindLatest":${page.millisBehindLatest}}`;
    return { status: 200, body, count: page.events.length };
  } catch (err) {
    if (err instanceof CursorError) throw new HttpError(400, `cursor: ${err.message}`);
    if (err instanceof DeadlineError) {
      throw new HttpError(503, `the page of source "${source.source}" was not read in time; try again (a smaller limit reads less)`, { 'Retry-After': '1' });
    }
    if ((err as Error).name === 'ResourceNotFoundException') {
      throw new HttpError(503, `the delivery stream of source "${source.source}" is not available; try again later`, { 'Retry-After': '60' });
    }
    throw err;
  }
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return PAGE_LIMITS.default;
  const limit = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
  if (!(limit >= 1 && limit <= PAGE_LIMITS.max)) throw new HttpError(400, `limit: expected a whole number from 1 to ${PAGE_LIMITS.max} (got "${text}")`);
  return limit;
}

/** An ISO-8601 date and time with its offset ("2025-06-01T12:00:00Z", "...T14:00:00.250+02:00"). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseSince(text: string, now: number): Date {
  const time = ISO_8601.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time)) throw new HttpError(400, `since: expected an ISO-8601 date and time with an offset, such as 2025-06-01T12:00:00Z (got "${text}")`);
  if (time > now) throw new HttpError(400, `since: ${text} is in the future`);
  if (time < now - MAX_SINCE_AGE_MS) throw new HttpError(400, `since: ${text} is more than 7 days ago, older than the delivery stream keeps events`);
  return new Date(time);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function failure(err: unknown, log: Record<string, unknown>): Outcome {
  if (err instanceof HttpError) {
    log.error = err.message;
    return json(err.status, { error: err.message }, { headers: err.headers });
  }
  const name = (err as Error)?.name;
  if (THROTTLED.has(name)) {
    log.error = name;
    return json(429, { error: `throttled (${name}): the stream's read capacity is shared; try again in a second` }, { headers: { 'Retry-After': '1' } });
  }
  // A fault of ours (a catalog or schema the deploy got wrong, a permission, a bug): the details go to the log only.
  log.fault = err instanceof CatalogError ? 'catalog' : err instanceof SchemaMissingError ? 'schema' : 'internal';
  return json(500, { error: 'internal error; the platform team has the details in the function log' }, { fault: err });
}
