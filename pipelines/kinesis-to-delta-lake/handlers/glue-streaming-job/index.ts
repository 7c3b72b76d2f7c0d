/**
 * Lambda entry points of the Glue streaming job runner: `onEvent` (the custom resource, through the CDK provider
 * framework) and `restart` (EventBridge: job state changes and a schedule). Clients are built once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GlueClient } from '@aws-sdk/client-glue';
import { ENV, JOB_DIMENSION, METRICS_NAMESPACE, RESTARTER_SERVICE } from './contract';
import { createControlHandler } from './control';
import { createRestartHandler } from './restarter';
import { sleep } from '../../../../platform/handlers/backoff';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
  return value;
};

// Throttling and transient Glue errors: the SDK retries with backoff (adaptive mode spaces calls when throttled).
const glue = new GlueClient({ maxAttempts: 8, retryMode: 'adaptive' });
const clock = { sleep, now: () => Date.now() };

export const onEvent = createControlHandler({
  glue,
  clock,
  startupCheckMs: Number(env(ENV.startupCheckSeconds, '0')) * 1000,
  pollMs: 10_000,
});

const logger = new Logger({ serviceName: RESTARTER_SERVICE });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: RESTARTER_SERVICE });

// Read at invocation, not at load: the custom-resource function shares this module and has no job name.
const jobName = process.env[ENV.jobName] ?? '';
export const restart = createRestartHandler({
  glue,
  jobName,
  maxRestartsPerHour: Number(env(ENV.maxRestartsPerHour, '5')),
  now: () => Date.now(),
  metric: (name, value) => {
    metrics.addDimension(JOB_DIMENSION, jobName);
    metrics.addMetric(name, MetricUnit.Count, value);
  },
  flush: () => metrics.publishStoredMetrics(),
  log: (message, details) => logger.info(message, details),
});
