/**
 * Lambda entry points of the Glue streaming job runner: `onEvent` (the custom resource, through the CDK provider
 * framework) and `restart` (EventBridge: job state changes and a schedule). Clients are built once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GlueClient } from '@aws-sdk/client-glue';
import { z } from 'zod';
import { ENV, JOB_DIMENSION, METRICS_NAMESPACE, RESTARTER_SERVICE } from './contract';
import { createControlHandler } from './control';
import { createRestartHandler } from './restarter';
import { sleep } from '../../../../platform/handlers/backoff';
import { integer, optional, readEnv } from '../../../../platform/handlers/env';

// One module, two functions: the control function sets only the startup check, the restarter the job and its limit.
const env = readEnv('glue-streaming-job', process.env, z.object({
  [ENV.startupCheckSeconds]: integer(0, 900, 0),
  [ENV.maxRestartsPerHour]: integer(1, 1000, 5),
  [ENV.jobName]: optional(),
}));

// Throttling and transient Glue errors: the SDK retries with backoff (adaptive mode spaces calls when throttled).
const glue = new GlueClient({ maxAttempts: 8, retryMode: 'adaptive' });
const clock = { sleep, now: () => Date.now() };

export const onEvent = createControlHandler({
  glue,
  clock,
  startupCheckMs: env[ENV.startupCheckSeconds] * 1000,
  pollMs: 10_000,
});

const logger = new Logger({ serviceName: RESTARTER_SERVICE });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: RESTARTER_SERVICE });

// The custom-resource function shares this module and has no job name.
const jobName = env[ENV.jobName] ?? '';
export const restart = createRestartHandler({
  glue,
  jobName,
  maxRestartsPerHour: env[ENV.maxRestartsPerHour],
  now: () => Date.now(),
  metric: (name, value) => {
    metrics.addDimension(JOB_DIMENSION, jobName);
    metrics.addMetric(name, MetricUnit.Count, value);
  },
  flush: () => metrics.publishStoredMetrics(),
  log: (message, details) => logger.info(message, details),
});
