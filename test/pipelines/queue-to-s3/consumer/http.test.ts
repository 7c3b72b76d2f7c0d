import type { Server } from 'node:http';
import type { Health } from '../../../../pipelines/queue-to-s3/consumer/consumer';
import { HEALTH_PATH, METRIC, METRICS_PATH } from '../../../../pipelines/queue-to-s3/consumer/contract';
import { createHttpServer, listen } from '../../../../pipelines/queue-to-s3/consumer/http';
import { createMetrics } from '../../../../pipelines/queue-to-s3/consumer/metrics';

let server: Server;
let base: string;
let health: Health;
const metrics = createMetrics({ processMetrics: true });

beforeAll(async () => {
  health = { status: 'ok', held: 3, consecutiveFailedFlushes: 0 };
  server = createHttpServer(() => health, metrics.registry);
  base = `http://127.0.0.1:${await listen(server, 0)}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

test('/healthz: 200 with the health as JSON while running, 503 once stopping', async () => {
  const ok = await fetch(`${base}${HEALTH_PATH}`);
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ status: 'ok', held: 3, consecutiveFailedFlushes: 0 });
  health = { ...health, status: 'stopping' };
  const stopping = await fetch(`${base}${HEALTH_PATH}?probe=liveness`);
  expect(stopping.status).toBe(503);
  expect(await stopping.json()).toMatchObject({ status: 'stopping' });
  health = { ...health, status: 'ok' };
});

test('/metrics: every contract metric in Prometheus text format, with the service label, plus process metrics', async () => {
  metrics.received.inc(5);
  metrics.written.inc({ output: 'data' }, 4);
  const res = await fetch(`${base}${METRICS_PATH}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  for (const name of Object.values(METRIC)) expect(text).toContain(`# TYPE ${name} `);
  expect(text).toContain('queue_consumer_messages_received_total{service="queue-consumer"} 5');
  expect(text).toContain('queue_consumer_messages_written_total{output="data",service="queue-consumer"} 4');
  expect(text).toContain('process_resident_memory_bytes');
});

test('anything else: 404, and only GET/HEAD', async () => {
  expect((await fetch(`${base}/`)).status).toBe(404);
  expect((await fetch(`${base}${METRICS_PATH}`, { method: 'POST' })).status).toBe(405);
});
