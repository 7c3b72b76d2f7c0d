/**
 * The contract between the KinesisToDeltaLake construct and its job-runner Lambdas: environment variables, metric
 * namespace, names and dimensions. Both sides import these; neither spells them out.
 */
export const ENV = {
  /** The Glue streaming job the function starts, stops and restarts. */
  jobName: 'JOB_NAME',
  /** Failed runs within the last hour after which the restarter gives up (and the exhausted alarm fires). */
  maxRestartsPerHour: 'MAX_RESTARTS_PER_HOUR',
  /** Seconds a new run must stay RUNNING before a deployment counts it as started. */
  startupCheckSeconds: 'STARTUP_CHECK_SECONDS',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

export const METRICS_NAMESPACE = 'StreamFoundry/GlueStreamingJob';
export const RESTARTER_SERVICE = 'glue-stream-restarter';
export const JOB_DIMENSION = 'JobName';

export const METRIC = {
  /** 1 when the job has a run starting or running, 0 when it has none (published on every check). */
  jobRunning: 'JobRunning',
  /** A run the restarter started after a failed, timed-out or finished one. */
  restartsStarted: 'RestartsStarted',
  /** The restarter found too many failed runs within the hour and did not restart. */
  restartsExhausted: 'RestartsExhausted',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Run states (Glue API `JobRunState`). */
export const ACTIVE_STATES = ['STARTING', 'RUNNING', 'WAITING', 'STOPPING'] as const;
/** A run that ended in one of these is restarted: a streaming job should never end on its own. */
export const RESTARTABLE_STATES = ['FAILED', 'TIMEOUT', 'ERROR', 'SUCCEEDED', 'EXPIRED'] as const;
/** A run that ended STOPPED was stopped on purpose (by the deployment or an operator) and is not restarted. */
export const FAILED_STATES = ['FAILED', 'TIMEOUT', 'ERROR', 'EXPIRED'] as const;
