import { BatchStopJobRunCommand, GetJobRunCommand, GetJobRunsCommand, GlueClient, JobRun, StartJobRunCommand } from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { createControlHandler } from '../../../../../pipelines/kinesis-to-delta-lake/handlers/glue-streaming-job/control';
import { createRestartHandler } from '../../../../../pipelines/kinesis-to-delta-lake/handlers/glue-streaming-job/restarter';
import { decideRestart, HOUR_MS, restartDelayMs } from '../../../../../pipelines/kinesis-to-delta-lake/handlers/glue-streaming-job/runs';
import { MetricName } from '../../../../../pipelines/kinesis-to-delta-lake/handlers/glue-streaming-job/contract';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000);
const run = (id: string, state: string, startedMinutesAgo: number, endedMinutesAgo?: number, error?: string): JobRun => ({
  Id: id,
  JobRunState: state as JobRun['JobRunState'],
  StartedOn: at(startedMinutesAgo),
  CompletedOn: endedMinutesAgo === undefined ? undefined : at(endedMinutesAgo),
  ErrorMessage: error,
});

describe('decideRestart', () => {
  test('leaves a job alone that has a run starting, running or stopping, or never ran', () => {
    for (const state of ['STARTING', 'RUNNING', 'WAITING', 'STOPPING']) {
      expect(decideRestart([run('jr_2', state, 1), run('jr_1', 'FAILED', 30, 2)], NOW, 5).action).toBe('none');
    }
    expect(decideRestart([], NOW, 5)).toEqual({ action: 'none', reason: 'the job has never run' });
  });

  test('never restarts a run that was stopped on purpose (deployment or operator)', () => {
    expect(decideRestart([run('jr_2', 'STOPPED', 10, 1), run('jr_1', 'FAILED', 60, 20)], NOW, 5)).toMatchObject({ action: 'none', reason: expect.stringContaining('stopped on purpose') });
  });

  test('restarts at once after the first failure, timeout, error or an unexpected success', () => {
    for (const state of ['FAILED', 'TIMEOUT', 'ERROR', 'SUCCEEDED', 'EXPIRED']) {
      const decision = decideRestart([run('jr_1', state, 300, 0, 'boom')], NOW, 5);
      expect(decision).toMatchObject({ action: 'start', reason: expect.stringContaining(`ended ${state}: boom`) });
    }
  });

  test('backs off exponentially within the hour, and gives up at the limit', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(restartDelayMs)).toEqual([0, 60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000]);
    // Two failures within the hour, the last one 30 s ago: wait (1 minute), then start.
    const two = [run('jr_2', 'FAILED', 5, 0.5), run('jr_1', 'FAILED', 20, 10)];
    expect(decideRestart(two, NOW, 5).action).toBe('wait');
    expect(decideRestart(two, NOW + 31_000, 5).action).toBe('start');
    // Failures older than an hour do not count.
    expect(decideRestart([run('jr_2', 'FAILED', 5, 0.5), run('jr_1', 'FAILED', 200, 61)], NOW, 5).action).toBe('start');
    const five = [0, 5, 10, 20, 40].map((ago, i) => run(`jr_${5 - i}`, 'FAILED', ago + 1, ago, 'OOM'));
    expect(decideRestart(five, NOW, 5)).toMatchObject({ action: 'give-up', reason: expect.stringContaining('5 runs ended within the hour (limit 5); last: FAILED OOM') });
    expect(decideRestart(five, NOW + HOUR_MS, 5).action).toBe('start');
  });
});

describe('restarter', () => {
  const glue = mockClient(GlueClient);
  beforeEach(() => glue.reset());

  function restarter() {
    const metrics: [MetricName, number][] = [];
    let flushed = 0;
    const handler = createRestartHandler({
      glue: new GlueClient({}),
      jobName: 'job',
      maxRestartsPerHour: 5,
      now: () => NOW,
      metric: (name, value) => metrics.push([name, value]),
      flush: () => flushed++,
      log: () => undefined,
    });
    return { handler, metrics, flushed: () => flushed };
  }

  test('starts a new run (no overrides: the job definition and its checkpoint) after a failure and counts it', async () => {
    glue.on(GetJobRunsCommand).resolves({ JobRuns: [run('jr_1', 'FAILED', 60, 1, 'executor lost')] });
    glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_2' });
    const { handler, metrics, flushed } = restarter();
    await expect(handler()).resolves.toMatchObject({ action: 'start', jobRunId: 'jr_2' });
    expect(glue.commandCalls(StartJobRunCommand)[0].args[0].input).toEqual({ JobName: 'job' });
    expect(metrics).toEqual([['RestartsStarted', 1], ['JobRunning', 1]]);
    expect(flushed()).toBe(1);
  });

  test('a run started meanwhile (ConcurrentRunsExceeded) is adopted, not an error', async () => {
    glue.on(GetJobRunsCommand).resolvesOnce({ JobRuns: [run('jr_1', 'FAILED', 60, 1)] }).resolves({ JobRuns: [run('jr_3', 'STARTING', 0), run('jr_1', 'FAILED', 60, 1)] });
    glue.on(StartJobRunCommand).rejects(Object.assign(new Error('one at a time'), { name: 'ConcurrentRunsExceededException' }));
    await expect(restarter().handler()).resolves.toMatchObject({ action: 'start', jobRunId: 'jr_3' });
  });

  test('publishes JobRunning 0 and RestartsExhausted when giving up; leaves a stopped job stopped', async () => {
    glue.on(GetJobRunsCommand).resolves({ JobRuns: [0, 5, 10, 20, 40].map((ago, i) => run(`jr_${i}`, 'FAILED', ago + 1, ago)) });
    const givingUp = restarter();
    await expect(givingUp.handler()).resolves.toMatchObject({ action: 'give-up' });
    expect(givingUp.metrics).toEqual([['RestartsExhausted', 1], ['JobRunning', 0]]);
    glue.on(GetJobRunsCommand).resolves({ JobRuns: [run('jr_9', 'STOPPED', 10, 1)] });
    const stopped = restarter();
    await expect(stopped.handler()).resolves.toMatchObject({ action: 'none' });
    expect(glue.commandCalls(StartJobRunCommand)).toHaveLength(0);
    expect(stopped.metrics).toEqual([['JobRunning', 0]]);
  });

  test('fails the invocation (Lambda retries, then the dead-letter queue) when Glue refuses, metrics still flushed', async () => {
    glue.on(GetJobRunsCommand).resolves({ JobRuns: [run('jr_1', 'FAILED', 60, 1)] });
    glue.on(StartJobRunCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const r = restarter();
    await expect(r.handler()).rejects.toThrow('denied');
    expect(r.flushed()).toBe(1);
  });
});

describe('control (custom resource)', () => {
  const glue = mockClient(GlueClient);
  beforeEach(() => glue.reset());

  /** A clock whose sleeps advance time instantly. */
  function handler(startupCheckMs = 60_000) {
    let now = NOW;
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    return createControlHandler({ glue: new GlueClient({}), clock, startupCheckMs, pollMs: 10_000 });
  }
  const context = { getRemainingTimeInMillis: () => 14 * 60_000 };
  const base = { ServiceToken: 'arn', ResponseURL: 'u', StackId: 's', RequestId: 'r', LogicalResourceId: 'Run', ResourceType: 'Custom::GlueStreamingJobRun' };
  const props = (script: string) => ({ ServiceToken: 'arn', JobName: 'job', Definition: { ScriptLocation: script } });

  test('Create starts a run and waits until it has been RUNNING for the startup check', async () => {
    glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_1' });
    glue.on(GetJobRunCommand).resolvesOnce({ JobRun: run('jr_1', 'STARTING', 0) }).resolves({ JobRun: run('jr_1', 'RUNNING', 0) });
    const result = await handler()({ ...base, RequestType: 'Create', ResourceProperties: props('s3://a/v1.py') }, context);
    expect(result).toEqual({ PhysicalResourceId: 'job', Data: { JobRunId: 'jr_1' } });
    expect(glue.commandCalls(GetJobRunCommand).length).toBeGreaterThanOrEqual(7); // STARTING, then 60 s of RUNNING at 10 s polls
  });

  test('Create fails the deployment with Glue\'s message when the new script fails at start', async () => {
    glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_1' });
    glue.on(GetJobRunCommand).resolvesOnce({ JobRun: run('jr_1', 'RUNNING', 0) }).resolves({ JobRun: run('jr_1', 'FAILED', 0, 0, 'ModuleNotFoundError: stream_foundry_delta') });
    await expect(handler()({ ...base, RequestType: 'Create', ResourceProperties: props('s3://a/v1.py') }, context)).rejects.toThrow(
      'run jr_1 of job ended FAILED at start: ModuleNotFoundError: stream_foundry_delta',
    );
  });

  test('Update (new script) stops the running run, waits until it has stopped, then starts one on the new definition', async () => {
    const calls: string[] = [];
    glue.on(GetJobRunsCommand).resolves({ JobRuns: [run('jr_1', 'RUNNING', 100)] });
    glue.on(BatchStopJobRunCommand).callsFake((input) => (calls.push(`stop ${input.JobRunIds}`), { SuccessfulSubmissions: [{ JobRunId: 'jr_1' }] }));
    glue.on(GetJobRunCommand, { RunId: 'jr_1' }).resolvesOnce({ JobRun: run('jr_1', 'STOPPING', 100) }).resolves({ JobRun: run('jr_1', 'STOPPED', 100, 0) });
    glue.on(StartJobRunCommand).callsFake(() => (calls.push('start'), { JobRunId: 'jr_2' }));
    glue.on(GetJobRunCommand, { RunId: 'jr_2' }).resolves({ JobRun: run('jr_2', 'RUNNING', 0) });
    const result = await handler(0)(
      { ...base, RequestType: 'Update', PhysicalResourceId: 'job', ResourceProperties: props('s3://a/v2.py'), OldResourceProperties: props('s3://a/v1.py') },
      context,
    );
    expect(calls).toEqual(['stop jr_1', 'start']);
    expect(result).toEqual({ PhysicalResourceId: 'job', Data: { JobRunId: 'jr_2' } });
    // The stop completed before the start: jr_1 was polled until STOPPED.
    expect(glue.commandCalls(GetJobRunCommand, { RunId: 'jr_1' })).toHaveLength(2);
  });

  test('Update of a renamed job starts the new job; the old one is stopped by the Delete of its physical id', async () => {
    glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_9' });
    glue.on(GetJobRunCommand).resolves({ JobRun: run('jr_9', 'RUNNING', 0) });
    const result = await handler(0)(
      { ...base, RequestType: 'Update', PhysicalResourceId: 'old-job', ResourceProperties: props('s3://a/v1.py'), OldResourceProperties: { ...props('s3://a/v1.py'), JobName: 'old-job' } },
      context,
    );
    expect(result.PhysicalResourceId).toBe('job');
    expect(glue.commandCalls(BatchStopJobRunCommand)).toHaveLength(0);
  });

  test('Delete stops the runs and waits; a job that is already gone is fine', async () => {
    glue.on(GetJobRunsCommand).resolves({ JobRuns: [run('jr_1', 'RUNNING', 100), run('jr_0', 'FAILED', 300, 200)] });
    glue.on(BatchStopJobRunCommand).resolves({ SuccessfulSubmissions: [{ JobRunId: 'jr_1' }] });
    glue.on(GetJobRunCommand).resolves({ JobRun: run('jr_1', 'STOPPED', 100, 0) });
    await expect(handler()({ ...base, RequestType: 'Delete', PhysicalResourceId: 'job', ResourceProperties: props('x') }, context)).resolves.toEqual({ PhysicalResourceId: 'job' });
    expect(glue.commandCalls(BatchStopJobRunCommand)[0].args[0].input).toEqual({ JobName: 'job', JobRunIds: ['jr_1'] });
    glue.reset();
    glue.on(GetJobRunsCommand).rejects(Object.assign(new Error('no such job'), { name: 'EntityNotFoundException' }));
    await expect(handler()({ ...base, RequestType: 'Delete', PhysicalResourceId: 'job', ResourceProperties: props('x') }, context)).resolves.toEqual({ PhysicalResourceId: 'job' });
  });

  test('a run that will not stop fails the deployment instead of hanging', async () => {
    glue.on(GetJobRunsCommand).resolves({ JobRuns: [run('jr_1', 'RUNNING', 100)] });
    glue.on(BatchStopJobRunCommand).resolves({});
    glue.on(GetJobRunCommand).resolves({ JobRun: run('jr_1', 'STOPPING', 100) });
    await expect(handler()({ ...base, RequestType: 'Delete', PhysicalResourceId: 'job', ResourceProperties: props('x') }, context)).rejects.toThrow('did not stop in time');
  });
});
