import { decideRestart, Glue, recentRuns, RestartDecision, startRun } from './runs';
import { METRIC, MetricName } from './contract';

/**
 * Keeps the streaming job running between deployments. Invoked by "Glue Job State Change" events of the job (a run
 * ended FAILED, TIMEOUT, ERROR or SUCCEEDED) and every few minutes by a schedule (EventBridge delivers service events
 * on a best-effort basis, and a backed-off restart is due later). Each invocation looks at the job's actual runs
 * and decides (`decideRestart`), so duplicate or missed events do no harm.
 */

export interface RestarterDeps {
  glue: Glue;
  jobName: string;
  maxRestartsPerHour: number;
  now(): number;
  /** Records one metric value (EMF); `flush` publishes them. */
  metric(name: MetricName, value: number): void;
  flush(): void;
  log(message: string, details: Record<string, unknown>): void;
}

export type RestartResult = RestartDecision & { jobRunId?: string };

export function createRestartHandler(deps: RestarterDeps) {
  return async function restart(): Promise<RestartResult> {
    if (!deps.jobName) throw new Error('the restarter has no job name (environment variable JOB_NAME)');
    try {
      const runs = await recentRuns(deps.glue, deps.jobName);
      const decision = decideRestart(runs, deps.now(), deps.maxRestartsPerHour);
      deps.log(`restarter: ${decision.action}`, { jobName: deps.jobName, ...decision });
      if (decision.action === 'give-up') deps.metric(METRIC.restartsExhausted, 1);
      if (decision.action !== 'start') {
        deps.metric(METRIC.jobRunning, runs.some((run) => ['STARTING', 'RUNNING', 'WAITING'].includes(run.JobRunState ?? '')) ? 1 : 0);
        return decision;
      }
      // Throttling and transient errors are retried by the SDK; anything else fails the invocation, which Lambda
      // retries and then sends to the dead-letter queue (alarmed), and the next scheduled check tries again.
      const jobRunId = await startRun(deps.glue, deps.jobName);
      deps.metric(METRIC.restartsStarted, 1);
      deps.metric(METRIC.jobRunning, 1);
      deps.log('restarter: started', { jobName: deps.jobName, jobRunId });
      return { ...decision, jobRunId };
    } finally {
      deps.flush();
    }
  };
}
