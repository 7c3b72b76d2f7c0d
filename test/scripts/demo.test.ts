/**
 * `npm run demo` in its reduced form: pipeline 1 (no JVM: the cheapest real path) for one source with a few events,
 * through the real entry point in a child process, as a user runs it. Every event must be accounted for and the exit
 * code must say so; a bad argument must fail with the usage.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const demo = (...args: string[]) =>
  spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/demo/index.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 50_000 });

test('pipeline 1 with one source accounts for every event it sent and exits 0', () => {
  const run = demo('queueToS3', '--source', 'orders', '--events', '4');
  const workDir = /outputs under (\S+)/.exec(run.stdout)?.[1];
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  expect(run.stderr).not.toMatch(/failed/);
  expect(run.status).toBe(0);
  // 4 samples, 2 invalid, 1 duplicate, a replay of 2: the invalid JSON is rejected, the rest committed (at-least-once).
  expect(run.stdout).toMatch(/events read 9 {2}published 8 {2}rejected 1 {2}deduplicated 0 {2}committed 8/);
  expect(run.stdout).toMatch(/rejected: invalid_json/);
  expect(run.stdout).toMatch(/accounted for: every event/);
  expect(run.stdout).toMatch(/freshness \(canary, publish -> committed\): \d+\.\d s/);
  expect(run.stdout).toMatch(/Every event accounted for in 1 pipeline run/);
}, 60_000);

test('an unknown pipeline fails with the usage and a non-zero exit', () => {
  const run = demo('pipeline-9');
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/unknown pipeline "pipeline-9"[\s\S]*usage: npm run demo/);
}, 30_000);

/** The pids of every process below `pid`, from `ps`. */
function descendants(pid: number): number[] {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const below = (p: number): number[] => rows.filter(([, parent]) => parent === p).flatMap(([child]) => [child, ...below(child)]);
  return below(pid);
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('Ctrl-C stops everything the demo started and exits 130', async () => {
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/demo/index.ts', 'queueToS3', '--source', 'orders'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let started: number[] = [];
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // fauxqs (a child process) is up once the consumer starts: interrupt then.
      if (started.length === 0 && out.includes('starting the queue consumer')) {
        started = descendants(child.pid!);
        child.kill('SIGINT');
      }
    });
    child.stderr.resume();
    child.on('exit', (c) => resolve(c));
  });
  const workDir = /outputs under (\S+)/.exec(out)?.[1];
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  expect(code).toBe(130);
  expect(started.length).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 500));
  expect(started.filter(alive)).toEqual([]);
}, 30_000);
