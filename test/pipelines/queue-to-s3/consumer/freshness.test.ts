/**
 * Freshness end to end on this machine: business events and canaries published to the SNS topic of fauxqs, queued
 * with raw delivery, consumed by the consumer service in-process with the environment the construct deploys
 * (local-pipeline.ts), written to the emulated S3. The data objects hold the business events only; each canary has its
 * receipt where the freshness reporter looks (platform/freshness receiptKey), committed after it was published.
 */
import { randomUUID } from 'node:crypto';
import { canaryId, parseReceiptKey, receiptBody } from '../../../../platform/freshness/contract';
import { LocalPipeline, receiptsOf, startLocalPipeline } from './local-pipeline';

const SOURCE = 'orders';
let pipeline: LocalPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

/** An orders event (schemas/orders.schema.json) with this id. */
const order = (eventId: string, n: number) =>
  JSON.stringify({
    order_id: `o-${n}`,
    event_id: eventId,
    customer_id: `c-${n % 7}`,
    status: 'placed',
    currency: 'EUR',
    total_amount: 10 + n,
    items: [{ sku: 's', quantity: 1, unit_price: 10 + n }],
    updated_at: new Date().toISOString(),
  });

const counter = (p: LocalPipeline, name: 'deleted' | 'canariesCommitted') => async () => (await p.consumer!.metrics[name].get()).values[0]?.value ?? 0;

/** Polls (50 ms) until `condition` holds, at most `timeoutMs`. */
async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('business events land in the data objects, canaries only as receipts at the right keys', async () => {
  const p = (pipeline = await startLocalPipeline({ source: SOURCE, idField: 'event_id' }));
  await p.startConsumer();
  const business = Array.from({ length: 120 }, (_, n) => ({ id: randomUUID(), n }));
  const published = Date.now();
  const canaries = [canaryId(published - 30), canaryId(published - 20), canaryId(published - 10)];
  const bodies = business.map(({ id, n }) => order(id, n));
  canaries.forEach((id, i) => bodies.splice(i * 40 + 5, 0, order(id, 1000 + i)));
  await p.publish(bodies);

  await eventually(async () => (await counter(p, 'deleted')()) === bodies.length, 'every message deleted');
  expect(await counter(p, 'canariesCommitted')()).toBe(3);

  // Data: exactly the business events, none of the canaries.
  const dataKeys = await p.keys(p.dataPrefix);
  expect(dataKeys.length).toBeGreaterThan(0);
  for (const key of dataKeys) expect(key).toMatch(/^orders\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/[^/]+\.ndjson\.gz$/);
  const lines = (await Promise.all(dataKeys.map((k) => p.read(k)))).flatMap((text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  expect(lines.map((l) => l.event_id).sort()).toEqual(business.map((b) => b.id).sort());

  // Receipts: one per canary under _freshness/orders/, committed after it was published, the body as the contract makes it.
  const receiptKeys = await p.keys(receiptsOf(SOURCE));
  const receipts = receiptKeys.map((key) => ({ key, receipt: parseReceiptKey(key)! }));
  expect(receipts.map((r) => r.receipt.id).sort()).toEqual([...canaries].sort());
  for (const { key, receipt } of receipts) {
    expect(receipt.source).toBe(SOURCE);
    expect(receipt.committedAtMs).toBeGreaterThanOrEqual(receipt.publishedAtMs);
    expect(receipt.committedAtMs).toBeLessThanOrEqual(Date.now());
    expect(await p.read(key)).toBe(receiptBody(receipt));
  }
  // Nothing else in the bucket: no error objects, nothing outside the three prefixes.
  expect((await p.keys('')).sort()).toEqual([...dataKeys, ...receiptKeys].sort());
});

test('no receipt while the consumer is stopped; the canary waits in the queue and is receipted once it runs again', async () => {
  const p = (pipeline = await startLocalPipeline({ source: SOURCE, idField: 'event_id' }));
  const id = canaryId(Date.now());
  await p.publish([order(id, 1), order(randomUUID(), 2)]);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(await p.keys(receiptsOf(SOURCE))).toEqual([]);

  await p.startConsumer();
  await eventually(async () => (await p.keys(receiptsOf(SOURCE))).length === 1, 'the receipt');
  const [key] = await p.keys(receiptsOf(SOURCE));
  expect(parseReceiptKey(key)).toMatchObject({ source: SOURCE, id });
  await p.stopConsumer();
  expect(p.log.at('error')).toEqual([]);
});
