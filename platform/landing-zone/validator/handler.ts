import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SNSEvent } from 'aws-lambda';
import { METRIC } from './contract';
import { isCanaryObjectKey } from '../../freshness/contract';
import { ObjectFailedError, ObjectOutcome, processObject, ProcessorDeps } from './process-object';
import { objectsFromSnsEvent } from './s3-events';

export interface HandlerDeps extends ProcessorDeps {
  logger: Logger;
  /** Built with the `Source` default dimension; `service` comes from POWERTOOLS_SERVICE_NAME. */
  metrics: Metrics;
}

export interface HandlerResult {
  objects: Array<{ bucket: string; key: string } & ObjectOutcome>;
}

/**
 * The Lambda entry point's logic: validates every object named by the S3 notifications in an SNS event, one after
 * another. A failing object does not stop the others, but the invocation then throws, so Lambda retries it and finally
 * hands it to the on-failure destination; objects that succeeded are processed again then, which is safe (same error
 * keys; duplicate events carry the same id).
 */
export function createHandler(deps: HandlerDeps): (event: SNSEvent, context?: Context) => Promise<HandlerResult> {
  const { logger, metrics } = deps;
  return async (event, context) => {
    if (context) logger.addContext(context);
    const { objects, ignored } = objectsFromSnsEvent(event);
    for (const notification of ignored) logger.info('Ignoring notification', { notification });

    const result: HandlerResult = { objects: [] };
    const failures: ObjectFailedError[] = [];
    for (const ref of objects) {
      const where = { bucket: ref.bucket, key: ref.key, versionId: ref.versionId, etag: ref.etag };
      try {
        const outcome = await processObject(ref, deps);
        if (outcome.status === 'missing') {
          logger.warn('Object no longer exists as named by the event; nothing to validate', where);
          continue;
        }
        publishMetrics(metrics, outcome, isCanaryObjectKey(ref.key));
        if (outcome.status === 'quarantined') logger.error('Object is unreadable and was quarantined', { ...where, ...outcome });
        else logger.info('Object validated', { ...where, ...outcome });
        result.objects.push({ bucket: ref.bucket, key: ref.key, ...outcome });
      } catch (err) {
        const failure = err instanceof ObjectFailedError ? err : new ObjectFailedError(ref, emptyOutcome(), err);
        // What was done before the failure did happen (and may be redone by the retry): count it.
        publishMetrics(metrics, failure.outcome, isCanaryObjectKey(ref.key));
        logger.error('Object failed; the invocation will fail and be retried', { ...where, ...failure.outcome, error: err as Error });
        failures.push(failure);
      }
    }
    if (failures.length > 0) {
      throw new Error(`${failures.length} of ${objects.length} objects failed: ${failures.map((f) => f.message).join(' | ')}`);
    }
    return result;
  };
}

function publishMetrics(metrics: Metrics, outcome: ObjectOutcome, canary: boolean): void {
  // A canary file's events are the platform's, not a publisher's: counted apart (METRIC's comment says why).
  if (canary) metrics.addMetric(METRIC.canaryEvents, MetricUnit.Count, outcome.read);
  metrics.addMetric(METRIC.eventsRead, MetricUnit.Count, canary ? 0 : outcome.read);
  metrics.addMetric(METRIC.eventsValid, MetricUnit.Count, canary ? 0 : outcome.valid);
  metrics.addMetric(METRIC.eventsInvalid, MetricUnit.Count, outcome.invalid);
  metrics.addMetric(METRIC.eventsPublished, MetricUnit.Count, canary ? 0 : outcome.published);
  metrics.addMetric(METRIC.publishRetries, MetricUnit.Count, outcome.retried);
  metrics.addMetric(METRIC.objectsQuarantined, MetricUnit.Count, outcome.status === 'quarantined' ? 1 : 0);
  metrics.publishStoredMetrics();
}

const emptyOutcome = (): ObjectOutcome => ({ status: 'processed', read: 0, valid: 0, invalid: 0, published: 0, retried: 0 });

