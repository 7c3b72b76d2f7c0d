import { z } from 'zod';
import { customResource, HandlerContext } from '../../../../platform/handlers/custom-resource';
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

const schema = z.object({ JobName: z.string().min(1) });

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

export function createControlHandler(deps: ControlDeps) {
  const { glue, clock } = deps;

  async function start(jobName: string, deadline: number): Promise<ControlResponse> {
    const runId = await startRun(glue, jobName);
    await waitUntilRunning(glue, jobName, runId, deps.startupCheckMs, clock, deadline, deps.pollMs);
    return { PhysicalResourceId: jobName, Data: { JobRunId: runId } };
  }

  /** The Lambda's remaining time, less a margin to answer CloudFormation. */
  const deadline = (context?: HandlerContext) => clock.now() + (context?.getRemainingTimeInMillis() ?? 0) - 30_000;

  async function stop(jobName: string, deadlineMs: number): Promise<void> {
    const stopped = await stopActiveRuns(glue, jobName);
    await waitUntilEnded(glue, jobName, stopped, clock, deadlineMs, deps.pollMs);
  }

  return customResource({
    schema,
    onCreate: ({ JobName }, _event, context) => start(JobName, deadline(context)),
    async onUpdate({ JobName }, old, _event, context) {
      const until = deadline(context);
      if (old.JobName === JobName) await stop(JobName, until);
      return start(JobName, until);
    },
    async onDelete(_properties, event, context) {
      await stop(event.PhysicalResourceId, deadline(context));
    },
  }).onEvent;
}
