import { BatchStopJobRunCommand, GetJobRunCommand, GetJobRunsCommand, GlueClient, JobRun, StartJobRunCommand } from '@aws-sdk/client-glue';
import { ACTIVE_STATES, RESTARTABLE_STATES } from './contract';

/** The Glue API calls the runner makes (a GlueClient, or a mock in tests). */
export type Glue = Pick<GlueClient, 'send'>;

/** Waiting: how to pause, what time it is, and until when an operation may wait. */
export interface Clock {
  sleep(ms: number): Promise<void>;
  now(): number;
}

export const isActive = (run: JobRun): boolean => (ACTIVE_STATES as readonly string[]).includes(run.JobRunState ?? '');
const isRestartable = (run: JobRun): boolean => (RESTARTABLE_STATES as readonly string[]).includes(run.JobRunState ?? '');

/** The job's most recent runs, newest first. */
export async function recentRuns(glue: Glue, jobName: string, maxResults = 50): Promise<JobRun[]> {
  const { JobRuns = [] } = await glue.send(new GetJobRunsCommand({ JobName: jobName, MaxResults: maxResults }));
  return [...JobRuns].sort((a, b) => (b.StartedOn?.getTime() ?? 0) - (a.StartedOn?.getTime() ?? 0));
}

/**
 * Starts a run with the job's current definition (script, arguments): the checkpoint in its arguments makes it
 * resume where the previous run stopped. If another run started meanwhile (the job allows one at a time), that run
 * is the answer: it runs the same definition.
 */
export async function startRun(glue: Glue, jobName: string): Promise<string> {
  try {
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: jobName }));
    return JobRunId!;
  } catch (error) {
    if ((error as Error).name !== 'ConcurrentRunsExceededException') throw error;
    const active = (await recentRuns(glue, jobName)).find((run) => isActive(run) && run.JobRunState !== 'STOPPING');
    if (!active) throw error;
    return active.Id!;
  }
}

/** Asks every active run of the job to stop; returns their ids. A job that no longer exists has none. */
export async function stopActiveRuns(glue: Glue, jobName: string): Promise<string[]> {
  let runs: JobRun[];
  try {
    runs = await recentRuns(glue, jobName);
  } catch (error) {
    if ((error as Error).name === 'EntityNotFoundException') return [];
    throw error;
  }
  const ids = runs.filter(isActive).map((run) => run.Id!);
  const toStop = runs.filter((run) => isActive(run) && run.JobRunState !== 'STOPPING').map((run) => run.Id!);
  if (toStop.length > 0) {
    const { Errors = [] } = await glue.send(new BatchStopJobRunCommand({ JobName: jobName, JobRunIds: toStop }));
    // A run that ended between the listing and the call cannot be stopped, and need not be.
    const real = Errors.filter((e) => !/not in a stoppable state|already|does not exist/i.test(e.ErrorDetail?.ErrorMessage ?? ''));
    if (real.length > 0) {
      throw new Error(`could not stop ${real.map((e) => `${e.JobRunId}: ${e.ErrorDetail?.ErrorCode} ${e.ErrorDetail?.ErrorMessage}`).join('; ')}`);
    }
  }
  return ids;
}

async function runState(glue: Glue, jobName: string, runId: string): Promise<JobRun> {
  const { JobRun: run } = await glue.send(new GetJobRunCommand({ JobName: jobName, RunId: runId }));
  return run!;
}

/** Waits until each of `runIds` has ended (a streaming run takes a minute or two to stop). */
export async function waitUntilEnded(glue: Glue, jobName: string, runIds: string[], clock: Clock, deadline: number, pollMs: number): Promise<void> {
  for (const runId of runIds) {
    for (;;) {
      if (!isActive(await runState(glue, jobName, runId))) break;
      if (clock.now() + pollMs > deadline) throw new Error(`run ${runId} of ${jobName} did not stop in time`);
      await clock.sleep(pollMs);
    }
  }
}

/**
 * Waits until the run has been RUNNING for `startupCheckMs`: a script that fails at start (an import, a missing
 * argument, the schema) fails the deployment with Glue's error message, and the stack rolls back.
 */
export async function waitUntilRunning(glue: Glue, jobName: string, runId: string, startupCheckMs: number, clock: Clock, deadline: number, pollMs: number): Promise<JobRun> {
  let runningSince: number | undefined;
  for (;;) {
    const run = await runState(glue, jobName, runId);
    if (!isActive(run) || run.JobRunState === 'STOPPING') {
      throw new Error(`run ${runId} of ${jobName} ended ${run.JobRunState} at start: ${run.ErrorMessage ?? 'no error message'}`);
    }
    if (run.JobRunState === 'RUNNING') {
      runningSince ??= clock.now();
      if (clock.now() - runningSince >= startupCheckMs) return run;
    }
    if (clock.now() + pollMs > deadline) {
      if (run.JobRunState === 'RUNNING') return run; // running, only the extra check is cut short
      throw new Error(`run ${runId} of ${jobName} was still ${run.JobRunState} when the deployment could wait no longer`);
    }
    await clock.sleep(pollMs);
  }
}

export type RestartDecision =
  | { action: 'none'; reason: string }
  | { action: 'start'; reason: string }
  | { action: 'wait'; reason: string }
  | { action: 'give-up'; reason: string };

export const HOUR_MS = 3_600_000;
/** Backoff before the n-th restart within the hour: none for the first, then 1, 2, 4 ... minutes, at most 30. */
export function restartDelayMs(endedWithinHour: number): number {
  return endedWithinHour <= 1 ? 0 : Math.min(60_000 * 2 ** (endedWithinHour - 2), 30 * 60_000);
}

/**
 * What the restarter does, given the job's runs (newest first):
 *  - a run is starting, running or stopping: nothing (the deployment or Glue itself is at work);
 *  - no run yet: nothing (the deployment starts the first one);
 *  - the newest run ended STOPPED: nothing (stopped on purpose: by a deployment, which starts the next run itself,
 *    or by an operator pausing the stream);
 *  - it ended FAILED, TIMEOUT, ERROR, EXPIRED or SUCCEEDED: start a new run, which resumes from the checkpoint,
 *    unless `maxRestartsPerHour` runs already ended that way within the hour (give up: a crash loop needs a
 *    person), or the backoff since the last one has not passed yet (wait: the next check restarts it).
 */
export function decideRestart(runs: JobRun[], now: number, maxRestartsPerHour: number): RestartDecision {
  if (runs.length === 0) return { action: 'none', reason: 'the job has never run' };
  const active = runs.find(isActive);
  if (active) return { action: 'none', reason: `run ${active.Id} is ${active.JobRunState}` };
  const latest = runs[0];
  if (!isRestartable(latest)) return { action: 'none', reason: `run ${latest.Id} ended ${latest.JobRunState}: stopped on purpose, not restarted` };
  const ended = (run: JobRun) => run.CompletedOn?.getTime() ?? run.LastModifiedOn?.getTime() ?? run.StartedOn?.getTime() ?? 0;
  const endedWithinHour = runs.filter((run) => isRestartable(run) && now - ended(run) < HOUR_MS).length;
  if (endedWithinHour >= maxRestartsPerHour) {
    return { action: 'give-up', reason: `${endedWithinHour} runs ended within the hour (limit ${maxRestartsPerHour}); last: ${latest.JobRunState} ${latest.ErrorMessage ?? ''}`.trim() };
  }
  const delay = restartDelayMs(endedWithinHour);
  if (now - ended(latest) < delay) {
    return { action: 'wait', reason: `backing off ${delay / 1000} s after ${endedWithinHour} ended runs within the hour` };
  }
  return { action: 'start', reason: `run ${latest.Id} ended ${latest.JobRunState}: ${latest.ErrorMessage ?? 'no error message'}` };
}
