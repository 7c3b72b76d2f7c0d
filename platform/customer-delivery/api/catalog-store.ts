import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { CustomerCatalog, catalogParameterName } from '../catalog';

/**
 * The customers' catalogs, read from Parameter Store and kept for a short time per container: a deploy that revokes a
 * customer (or a source) takes effect within `ttlMs`, and a busy API makes at most one GetParameter per customer per
 * `ttlMs` (Parameter Store's default throughput is 40 GetParameter/s per account and region).
 */

const kinesis = z.looseObject({
  streamArn: z.string(),
  streamName: z.string(),
  consumerName: z.string(),
  consumerArn: z.string(),
  keyArn: z.string(),
});
const kafka = z.looseObject({
  topic: z.string(),
  clusterArn: z.string(),
  bootstrapBrokers: z.string(),
  consumerGroupPrefix: z.string(),
  monitoredConsumerGroup: z.string(),
  readerRoleArn: z.string().optional(),
});
/** What the handler relies on; fields it does not know are kept (a newer construct may add some). */
export const catalogSchema: z.ZodType<CustomerCatalog> = z.looseObject({
  customer: z.string(),
  principals: z.array(z.string()),
  region: z.string(),
  sources: z.array(
    z.looseObject({
      source: z.string(),
      schemaVersion: z.string(),
      idField: z.string(),
      kinesis: kinesis.optional(),
      kafka: kafka.optional(),
    }),
  ),
});

export interface CatalogStoreOptions {
  ssm: Pick<SSMClient, 'send'>;
  prefix: string;
  ttlMs: number;
  /** Customers cached at most (the least recently loaded goes first). */
  maxEntries?: number;
  now?: () => number;
}

/** Thrown when a catalog parameter exists but is not a catalog: a deployment fault, never the caller's. */
export class CatalogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CatalogError';
  }
}

export class CatalogStore {
  private readonly entries = new Map<string, { expires: number; catalog: Promise<CustomerCatalog | undefined> }>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: CatalogStoreOptions) {
    this.maxEntries = options.maxEntries ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** The customer's catalog, or undefined when it has none (no parameter). A failed read is not cached. */
  get(customer: string): Promise<CustomerCatalog | undefined> {
    const now = this.now();
    const cached = this.entries.get(customer);
    if (cached && cached.expires > now) return cached.catalog;
    this.entries.delete(customer);
    const catalog = this.load(customer);
    this.entries.set(customer, { expires: now + this.options.ttlMs, catalog });
    catalog.catch(() => {
      if (this.entries.get(customer)?.catalog === catalog) this.entries.delete(customer);
    });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return catalog;
  }

  private async load(customer: string): Promise<CustomerCatalog | undefined> {
    const name = catalogParameterName(this.options.prefix, customer);
    let value: string | undefined;
    try {
      const { Parameter } = await this.options.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      value = Parameter?.Value;
    } catch (err) {
      if ((err as Error).name === 'ParameterNotFound') return undefined;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(value ?? '');
    } catch (err) {
      throw new CatalogError(`parameter ${name} is not JSON`, { cause: err });
    }
    const parsed = catalogSchema.safeParse(json);
    if (!parsed.success) throw new CatalogError(`parameter ${name} is not a customer catalog: ${z.prettifyError(parsed.error)}`);
    if (parsed.data.customer !== customer) throw new CatalogError(`parameter ${name} holds the catalog of "${parsed.data.customer}"`);
    return parsed.data;
  }
}
