/**
 * Child process of `npm run bench`: a local Kinesis endpoint for PutRecords over real HTTP, one port per injected
 * latency (BENCH_LATENCIES_MS, e.g. "0,25"). Each request body is parsed and checked as Kinesis would (records,
 * partition keys, base64 data within the limits), answered after the port's delay, and counted. Prints the ports as
 * one JSON line; on SIGTERM prints the counts and exits. Runs in its own process so it does not take the validator's
 * CPU (the machine has two cores).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const latencies = (process.env.BENCH_LATENCIES_MS ?? '0,25').split(',').map(Number);
const counts = { calls: 0, records: 0, bytes: 0 };
let sequence = 0;

function answer(body: string): { status: number; json: unknown } {
  const request = JSON.parse(body) as { StreamName?: string; Records?: Array<{ Data?: string; PartitionKey?: string }> };
  const records = request.Records ?? [];
  if (!request.StreamName || records.length === 0 || records.length > 500) {
    return { status: 400, json: { __type: 'ValidationException', message: 'bad PutRecords request' } };
  }
  let bytes = 0;
  for (const r of records) {
    const size = Buffer.byteLength(r.Data ?? '', 'base64') + Buffer.byteLength(r.PartitionKey ?? '');
    if (!r.PartitionKey || size > 1024 * 1024) return { status: 400, json: { __type: 'ValidationException', message: 'bad record' } };
    bytes += size;
  }
  if (bytes > 5 * 1024 * 1024) return { status: 400, json: { __type: 'InvalidArgumentException', message: 'over 5 MiB' } };
  counts.calls++;
  counts.records += records.length;
  counts.bytes += bytes;
  return {
    status: 200,
    json: { FailedRecordCount: 0, Records: records.map(() => ({ SequenceNumber: String(++sequence), ShardId: 'shardId-000000000000' })) },
  };
}

function serve(delayMs: number): Promise<number> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { status, json } = answer(Buffer.concat(chunks).toString('utf8'));
      const reply = () => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      if (delayMs > 0) setTimeout(reply, delayMs);
      else reply();
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function main(): Promise<void> {
  const ports = await Promise.all(latencies.map(serve));
  process.stdout.write(`${JSON.stringify({ ports: Object.fromEntries(latencies.map((l, i) => [l, ports[i]])) })}\n`);
  process.on('SIGTERM', () => {
    process.stdout.write(`${JSON.stringify(counts)}\n`);
    process.exit(0);
  });
}

void main();
