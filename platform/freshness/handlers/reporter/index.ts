/**
 * The freshness reporter (S3 ObjectCreated under `_freshness/` of each bucket a pipeline's exit writes receipts to):
 * turns each receipt into one `Freshness` value (seconds from publish to commit), from the key alone. A key that is
 * not a receipt is logged and skipped: nothing to measure, nothing to retry.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { S3Event } from 'aws-lambda';
import { z } from 'zod';
import { FRESHNESS_METRIC, parseReceiptKey } from '../../contract';
import { readEnv, required } from '../../../handlers/env';
import { ENV } from './env';


const env = readEnv('freshness-reporter', process.env, z.object({ [ENV.pipeline]: required() }));
const logger = new Logger({ serviceName: FRESHNESS_METRIC.service });
const metrics = new Metrics({ namespace: FRESHNESS_METRIC.namespace, serviceName: FRESHNESS_METRIC.service });

export interface Measurement {
  source: string;
  id: string;
  freshnessSeconds: number;
}

/** The measurements of an S3 event's receipts (keys arrive URL-encoded, spaces as "+"). */
export function measurements(event: S3Event): { measured: Measurement[]; skipped: string[] } {
  const measured: Measurement[] = [];
  const skipped: string[] = [];
  for (const record of event.Records ?? []) {
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    const receipt = parseReceiptKey(key);
    if (!receipt) skipped.push(key);
    else measured.push({ source: receipt.source, id: receipt.id, freshnessSeconds: Math.max(0, (receipt.committedAtMs - receipt.publishedAtMs) / 1000) });
  }
  return { measured, skipped };
}

export async function onEvent(event: S3Event): Promise<Measurement[]> {
  const { measured, skipped } = measurements(event);
  if (skipped.length > 0) logger.warn('not receipts: skipped', { keys: skipped });
  for (const m of measured) {
    // One EMF document per value, each with its own Source (published at once): the SLO alarm's p95 needs every value.
    const single = metrics.singleMetric();
    single.addDimensions({ [FRESHNESS_METRIC.dimensions.pipeline]: env[ENV.pipeline], [FRESHNESS_METRIC.dimensions.source]: m.source });
    single.addMetric(FRESHNESS_METRIC.name, MetricUnit.Seconds, m.freshnessSeconds);
    logger.info('freshness', { ...m });
  }
  return measured;
}
