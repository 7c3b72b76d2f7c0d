/**
 * The freshness contract (platform/freshness/contract.ts) and its copies on the other side of each language boundary:
 * the Spark job's contract.json and the Flink job's stream-foundry-contract.json carry the same canary id prefix and
 * receipts prefix, so the three exits recognise the same canaries and write receipts where the reporter looks.
 */
import * as fs from 'fs';
import contract from '../../../platform/freshness/contract.json';
import { canaryId, canaryPublishedAt, parseReceiptKey, receiptBody, receiptKey } from '../../../platform/freshness/contract';
import { fromRoot } from '../../../platform/paths';

describe('canary ids', () => {
  test('carry their publish time, are UUID-shaped, and round-trip', () => {
    const at = Date.UTC(2026, 11, 4, 19, 0, 0, 123);
    const id = canaryId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id.startsWith('00000000-0000-4000-8000-')).toBe(true);
    expect(canaryPublishedAt(id)).toBe(at);
  });

  test('business ids, other types and near misses are not canaries', () => {
    for (const id of ['0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01', '00000000-0000-4000-8000-', '00000000-0000-4000-8000-0000000000zz', '00000000-0000-4000-8000-00000000000000', 'ORD-123456', 42, null, undefined, {}]) {
      expect(canaryPublishedAt(id)).toBeUndefined();
    }
    // Upper-case hex is not what canaryId writes: a different id.
    expect(canaryPublishedAt(canaryId(0xabcdef).toUpperCase())).toBeUndefined();
  });
});

describe('receipts', () => {
  test('the key names source, id and commit time; the body says the same for people', () => {
    const r = { source: 'clickstream', id: canaryId(1_000), publishedAtMs: 1_000, committedAtMs: 4_500 };
    const key = receiptKey(r);
    expect(key).toBe(`_freshness/clickstream/${r.id}/4500.json`);
    expect(parseReceiptKey(key)).toEqual(r);
    expect(JSON.parse(receiptBody(r))).toEqual({ source: 'clickstream', id: r.id, publishedAt: '1970-01-01T00:00:01.000Z', committedAt: '1970-01-01T00:00:04.500Z', freshnessSeconds: 3.5 });
  });

  test('other keys are not receipts', () => {
    const id = canaryId(1_000);
    for (const key of ['clickstream/events/part-0.parquet', `_freshness/clickstream/${id}/x.json`, `_freshness/clickstream/not-a-canary/1.json`, `_freshness/clickstream/${id}/1.json/extra`, `_freshness//${id}/1.json`]) {
      expect(parseReceiptKey(key)).toBeUndefined();
    }
  });
});

describe('the jobs carry the same contract', () => {
  test('Spark (pipeline 2): contract.json "canary"', () => {
    const spark = JSON.parse(fs.readFileSync(fromRoot('pipelines/kinesis-to-delta-lake/job/src/stream_foundry_delta/contract.json'), 'utf8'));
    expect(spark.canary).toMatchObject({ idPrefix: contract.canaryIdPrefix, receiptsPrefix: contract.receiptsPrefix });
  });

  test('Flink (pipeline 5): stream-foundry-contract.json "canary"', () => {
    const flink = JSON.parse(fs.readFileSync(fromRoot('pipelines/msk-to-iceberg/job/src/main/resources/stream-foundry-contract.json'), 'utf8'));
    expect(flink.canary).toMatchObject({ idPrefix: contract.canaryIdPrefix, receiptsPrefix: contract.receiptsPrefix });
  });
});
