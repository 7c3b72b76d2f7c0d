import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { z } from 'zod';
import { Clock, Glue, startRun, stopActiveRuns, waitUntilEnded, waitUntilRunning } from './runs';

/**
 * The custom resource that keeps the streaming job running across deployments (CloudFormation never starts a Glue
 * job). Its properties hold the job's name and definition (script location, arguments, version, workers), so any
 * change of the job makes CloudFormation send an Update after it has updated the job:
 *  - Create: start a run (or adopt the one already running) and wait until it is RUNNING;
 *  - Update: stop the running run, wait until it has stopped, start a new one: it runs the new script and
 *    arguments, resuming from the checkpoint. A renamed job is a new job: its run is started, and the old job's run is
 *    stopped by the Delete CloudFormation sends for the old physical id;
 *  - Delete: stop the job's runs and wait until they have stopped, so the job can be deleted.
 */

const properties = z.object({ JobName: z.string().min(1) }).passthrough();

export interface ControlDeps {
  glue: Glue;
  clock: Clock;
  /** How long a new run must stay RUNNING before the deployment goes on. */
  startupCheckMs: number;
  pollMs: number;
}

export interface ControlResponse {
  PhysicalResourceId: string;
  Data?: { JobRunId: string };
}

/** A Lambda context's remaining time, less a margin to answer CloudFormation. */
export interface Deadline {
  getRemainingTimeInMillis(): number;
}

export function createControlHandler(deps: ControlDeps) {
  const { glue, clock } = deps;

  async function start(jobName: string, deadline: number): Promise<ControlResponse> {
    const runId = await startRun(glue, jobName);
    await waitUntilRunning(glue, jobName, runId, deps.startupCheckMs, clock, deadline, deps.pollMs);
    return { PhysicalResourceId: jobName, Data: { JobRunId: runId } };
  }

  return async function onEvent(event: CloudFormationCustomResourceEvent, context: Deadline): Promise<ControlResponse> {
    const deadline = clock.now() + context.getRemainingTimeInMillis() - 30_000;
    const { JobName: jobName } = properties.parse(event.ResourceProperties);
    switch (event.RequestType) {
      case 'Create':
        return start(jobName, deadline);
      case 'Update': {
        const previous = properties.parse(event.OldResourceProperties).JobName;
        if (previous === jobName) {
          const stopped = await stopActiveRuns(glue, jobName);
          await waitUntilEnded(glue, jobName, stopped, clock, deadline, deps.pollMs);
        }
        return start(jobName, deadline);
      }
      case 'Delete': {
        const stopped = await stopActiveRuns(glue, event.PhysicalResourceId);
        await waitUntilEnded(glue, event.PhysicalResourceId, stopped, clock, deadline, deps.pollMs);
        return { PhysicalResourceId: event.PhysicalResourceId };
      }
    }
  };
}
