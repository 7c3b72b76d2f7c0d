/**
 * What a customer may read, as the delivery API serves it (`GET /customers/{customer}`): one document per customer,
 * written by the stack to Parameter Store and read by the API function. Shared by the construct (which writes it) and
 * the handler (which reads it), so both agree on names and shape. No CDK imports: the handler bundles this file.
 */

import { createHash } from 'crypto';

/**
 * A delivered schema's version, as the catalog names it and the API serves it: the first 12 hex digits of the SHA-256
 * of its canonical JSON (keys sorted, no spaces), so that it does not depend on how the file is formatted.
 */
export function schemaVersion(schema: unknown): string {
  return createHash('sha256').update(canonicalJson(schema)).digest('hex').slice(0, 12);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The delivery topic of a source on MSK. Source names have no ".", so no source's own topic can be named like it. */
export const deliveryTopic = (source: string) => `delivery.${source}`;

/**
 * The consumer groups a customer may use on a delivery topic: `<customer>.<anything>`. Customer names have no ".", so
 * one customer's prefix never matches another's groups (with "-", customer "a" would match "a-b"'s groups).
 */
export const consumerGroupPrefix = (customer: string) => `${customer}.`;

/** The group the platform watches for a customer's lag on a source (docs/customer-onboarding.md asks customers to use it). */
export const monitoredConsumerGroup = (customer: string, source: string) => `${consumerGroupPrefix(customer)}${source}`;

/** Parameter Store name of a customer's catalog under the stack's prefix. */
export const catalogParameterName = (prefix: string, customer: string) => `${prefix}/${customer}`;

/** The most events one page request returns, and the default. */
export const PAGE_LIMITS = { max: 500, default: 100 } as const;

export interface KinesisDelivery {
  readonly streamArn: string;
  readonly streamName: string;
  /** The customer's registered enhanced fan-out consumer: SubscribeToShard with this ARN. */
  readonly consumerName: string;
  readonly consumerArn: string;
  /** The stream's KMS key: the reader's own identity policy must allow kms:Decrypt on it (cross-account KMS needs both sides). */
  readonly keyArn: string;
}

export interface KafkaDelivery {
  readonly topic: string;
  readonly clusterArn: string;
  /** IAM bootstrap brokers (port 9098), reachable inside the pipeline's VPC or through a VPC connection. */
  readonly bootstrapBrokers: string;
  /** Consumer group ids the customer may use start with this. */
  readonly consumerGroupPrefix: string;
  /** The group whose lag the platform alarms on. */
  readonly monitoredConsumerGroup: string;
  /** MSK Serverless: the role in the platform's account the customer assumes (with its external id) to read. */
  readonly readerRoleArn?: string;
}

export interface CatalogSource {
  readonly source: string;
  /** First 12 hex digits of the SHA-256 of the delivered events' JSON Schema (`GET .../schema` serves it). */
  readonly schemaVersion: string;
  /** The event field that identifies an event: the consumer's dedup key (delivery is at least once). */
  readonly idField: string;
  readonly kinesis?: KinesisDelivery;
  readonly kafka?: KafkaDelivery;
}

export interface CustomerCatalog {
  readonly customer: string;
  /** The account ids and role ARNs that read for the customer. */
  readonly principals: string[];
  readonly region: string;
  readonly sources: CatalogSource[];
}
