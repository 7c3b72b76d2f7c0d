import { z } from 'zod';
import { integer, list, NAME, text } from '../config/settings';

/**
 * The `customers` section (docs/customer-onboarding.md): who reads the processed events of which sources, with which
 * AWS principals. A list, not a map, so that the same customer named twice is an error rather than the last entry
 * silently winning.
 */

/** Customer names: their consumer, Kafka group prefix, API path and alarms are named after them. */
export const CUSTOMER_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

/** An AWS account id (its root principal: the account's IAM decides who inside it reads) or an IAM role ARN. */
export const ACCOUNT_PRINCIPAL = /^\d{12}$/;
export const ROLE_PRINCIPAL = /^arn:aws[a-z-]*:iam::(\d{12}):role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** The pipelines that deliver processed events to customers: their jobs write a delivery stream or topic. */
export const DELIVERY_PIPELINES = ['kinesisToDeltaLake', 'mskToIceberg'] as const;
export type DeliveryPipeline = (typeof DELIVERY_PIPELINES)[number];

/**
 * Registered enhanced fan-out consumers per Kinesis stream (Kinesis quotas, "Consumers per data stream": 20; 50 with
 * On-demand Advantage, which these streams do not use). Each customer of a source has one on its delivery stream.
 */
export const MAX_CONSUMERS_PER_STREAM = 20;

export const customerSchema = z.strictObject({
  /** Lower-case letters, digits and "-" (2-32): its consumer, group prefix, API path and alarms carry it. */
  name: text(CUSTOMER_NAME, 'a lower-case name (2-32 letters, digits or "-", starting with a letter)'),
  /**
   * Who reads for the customer: a 12-digit account id (any principal that account's IAM allows) or an IAM role ARN
   * (only that role). Every principal of every customer is named in the resource policies of what it may read.
   */
  principals: list(
    z.union([text(ACCOUNT_PRINCIPAL, ''), text(ROLE_PRINCIPAL, '')], {
      error: 'expected a 12-digit AWS account id or an IAM role ARN "arn:aws:iam::ACCOUNT:role/NAME"',
    }),
  ).refine((p) => p.length > 0, { error: 'expected at least one principal' }),
  /**
   * Required by the trust policy of the customer's Kafka reader role (MSK Serverless), which the customer assumes:
   * the confused-deputy guard of a role another account assumes (IAM, "sts:ExternalId").
   */
  externalId: text(/^[\w+=,.@:/-]{2,1224}$/, 'an external id of 2-1224 letters, digits or +=,.@:/-').optional(),
  /** Sources whose processed events the customer reads (each must feed kinesisToDeltaLake or mskToIceberg). */
  sources: list(text(NAME, 'a source name')).refine((s) => s.length > 0, {
    error: 'expected at least one source',
  }),
  /** Requests per second the customer's API usage plan allows (steady rate; burst twice that). */
  apiRequestsPerSecond: integer(1, 1000).default(5),
});

export const customersSchema = list(customerSchema).default([]);

export type CustomerConfig = z.output<typeof customerSchema>;

/** The problems of a `customers` section against the sources it names, as [path, input, message]. */
export function customerProblems(
  customers: CustomerConfig[],
  sources: Record<string, { pipelines: readonly string[] }>,
  mskClusterType: 'serverless' | 'provisioned',
): [(string | number)[], unknown, string][] {
  const problems: [(string | number)[], unknown, string][] = [];
  const seenNames = new Map<string, number>();
  const seenPrincipals = new Map<string, string>();
  customers.forEach((customer, i) => {
    const at = (...rest: (string | number)[]) => ['customers', i, ...rest];
    if (seenNames.has(customer.name)) {
      problems.push([at('name'), customer.name, `expected each customer once: "${customer.name}" is also customers[${seenNames.get(customer.name)}]`]);
    }
    seenNames.set(customer.name, i);
    customer.principals.forEach((principal, j) => {
      const other = seenPrincipals.get(principal);
      if (other && other !== customer.name) {
        problems.push([at('principals', j), principal, `expected a principal of one customer only: it also reads for "${other}", so it could read both customers' data`]);
      }
      seenPrincipals.set(principal, customer.name);
    });
    customer.sources.forEach((name, j) => {
      const source = sources[name];
      if (!source) {
        problems.push([at('sources', j), name, `expected one of the configured sources (${Object.keys(sources).join(', ') || 'none'})`]);
      } else if (!source.pipelines.some((p) => (DELIVERY_PIPELINES as readonly string[]).includes(p))) {
        problems.push([
          at('sources', j),
          name,
          `expected a source that feeds ${DELIVERY_PIPELINES.join(' or ')} (their jobs write the delivery streams customers read); "${name}" feeds ${source.pipelines.join(', ') || 'nothing'}`,
        ]);
      }
    });
    const kafka = customer.sources.some((name) => sources[name]?.pipelines.includes('mskToIceberg'));
    if (kafka && mskClusterType === 'serverless' && !customer.externalId) {
      problems.push([
        at('externalId'),
        undefined,
        'expected an external id: this customer reads an mskToIceberg source on MSK Serverless, through a reader role it assumes (docs/customer-onboarding.md)',
      ]);
    }
  });
  for (const [name, source] of Object.entries(sources)) {
    if (!source.pipelines.includes('kinesisToDeltaLake')) continue;
    const readers = customers.filter((c) => c.sources.includes(name)).map((c) => c.name);
    if (readers.length > MAX_CONSUMERS_PER_STREAM) {
      problems.push([
        ['customers'],
        readers,
        `expected at most ${MAX_CONSUMERS_PER_STREAM} customers of source "${name}": each has an enhanced fan-out consumer on its delivery stream, and Kinesis registers at most ${MAX_CONSUMERS_PER_STREAM} per stream`,
      ]);
    }
  }
  return problems;
}
