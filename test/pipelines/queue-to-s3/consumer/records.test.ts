import { Batch, chunks } from '../../../../pipelines/queue-to-s3/consumer/batch';
import { batchIdOf, objectKey, partitionOf, sentAt, toRecord } from '../../../../pipelines/queue-to-s3/consumer/records';
import { canaryId } from '../../../../platform/freshness/contract';
import { sqsMessage, T0 } from './fixtures';

test('partitionOf: UTC date and hour, zero-padded', () => {
  expect(partitionOf(Date.parse('2026-01-05T03:59:59.999Z'))).toBe('dt=2026-01-05/hour=03');
  expect(partitionOf(Date.parse('2026-01-05T04:00:00.000Z'))).toBe('dt=2026-01-05/hour=04');
  expect(partitionOf(Date.parse('2026-12-31T23:30:00-02:00'))).toBe('dt=2027-01-01/hour=01');
});

test('sentAt: the SentTimestamp attribute, or the fallback when it is missing or malformed', () => {
  expect(sentAt(sqsMessage(1, { sentAt: 1234 }), 99)).toBe(1234);
  expect(sentAt({ MessageId: 'x' }, 99)).toBe(99);
  expect(sentAt({ MessageId: 'x', Attributes: { SentTimestamp: 'soon' } }, 99)).toBe(99);
});

test('toRecord: a JSON body is kept as it is, on one line', () => {
  const body = '{"b":2,"a":[1, 2]}';
  expect(toRecord(sqsMessage(1, { body }), 0)).toEqual({ output: 'data', partition: 'dt=2026-11-20/hour=09', line: body });
  // Any JSON value is valid; whitespace around it is trimmed.
  expect(toRecord(sqsMessage(1, { body: ' 42 ' }), 0).line).toBe('42');
});

test('toRecord: a pretty-printed JSON body is compacted to one line', () => {
  const record = toRecord(sqsMessage(1, { body: '{\n  "a": "x\\ny",\r\n  "b": 1\n}' }), 0);
  expect(record).toMatchObject({ output: 'data', line: '{"a":"x\\ny","b":1}' });
});

test('toRecord: a body that is not JSON becomes an error line with the body verbatim and the reason', () => {
  const record = toRecord(sqsMessage(7, { body: '{"a":', receiveCount: 3 }), 0);
  expect(record.output).toBe('error');
  expect(record.line).not.toContain('\n');
  expect(JSON.parse(record.line)).toEqual({
    reason: expect.stringMatching(/^invalid_json: .*JSON/),
    messageId: 'm-7',
    sentTimestamp: new Date(T0).toISOString(),
    receiveCount: 3,
    body: '{"a":',
  });
  expect(JSON.parse(toRecord({ MessageId: 'e', Body: undefined }, T0).line)).toMatchObject({ reason: 'invalid_json: empty body', body: '' });
});

test('objectKey and batchIdOf: time-ordered keys under the partition', () => {
  const id = batchIdOf(Date.parse('2026-11-20T09:30:01.234Z'), 'abc');
  expect(id).toBe('20261120T093001234Z-abc');
  expect(objectKey('clicks/', 'dt=2026-11-20/hour=09', id)).toBe('clicks/dt=2026-11-20/hour=09/20261120T093001234Z-abc.ndjson.gz');
  expect(objectKey('', 'dt=2026-11-20/hour=09', id)).toBe('dt=2026-11-20/hour=09/20261120T093001234Z-abc.ndjson.gz');
});

test('Batch.groups: one object per (output, partition), lines in arrival order', () => {
  const batch = new Batch('b1', T0);
  const add = (n: number, body: string | undefined, sent: number) =>
    batch.add({ messageId: `m-${n}`, receiptHandle: `rh-${n}`, visibleUntil: 0, record: toRecord(sqsMessage(n, { body, sentAt: sent }), T0) });
  add(1, undefined, T0);
  add(2, 'oops', T0);
  add(3, undefined, T0 + 3_600_000);
  add(4, undefined, T0);
  const groups = batch.groups({ outputBucket: 'lake', outputPrefix: 'd/', errorBucket: 'errs', errorPrefix: 'e/' });
  expect(groups.map((g) => [g.bucket, g.key, g.messages.map((m) => m.messageId)])).toEqual([
    ['lake', 'd/dt=2026-11-20/hour=09/b1.ndjson.gz', ['m-1', 'm-4']],
    ['errs', 'e/dt=2026-11-20/hour=09/b1.ndjson.gz', ['m-2']],
    ['lake', 'd/dt=2026-11-20/hour=10/b1.ndjson.gz', ['m-3']],
  ]);
  expect(batch.size).toBe(4);
  expect(batch.bytes).toBe(groups.flatMap((g) => g.lines).reduce((sum, l) => sum + l.length + 1, 0));
});

test('chunks: at most n per chunk, nothing lost', () => {
  expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  expect(chunks([], 10)).toEqual([]);
});

describe('toRecord: freshness canaries (platform/freshness), recognised by the id field alone', () => {
  const published = T0 - 2_500;
  const canary = (body: object) => sqsMessage(9, { body: JSON.stringify(body) });

  test('a JSON object whose id field holds a canary id is a canary carrying its publish time', () => {
    const id = canaryId(published);
    expect(toRecord(canary({ event_id: id, page: '/x' }), T0, 'event_id')).toEqual({ output: 'canary', id, publishedAtMs: published });
  });

  test('anything else stays data: another field, a look-alike id, a non-object, no id field configured', () => {
    const id = canaryId(published);
    expect(toRecord(canary({ other_id: id }), T0, 'event_id').output).toBe('data');
    expect(toRecord(canary({ event_id: id.toUpperCase() }), T0, 'event_id').output).toBe('data');
    expect(toRecord(canary({ event_id: `${id}0` }), T0, 'event_id').output).toBe('data');
    expect(toRecord(sqsMessage(9, { body: JSON.stringify([{ event_id: id }]) }), T0, 'event_id').output).toBe('data');
    expect(toRecord(sqsMessage(9, { body: JSON.stringify(id) }), T0, 'event_id').output).toBe('data');
    expect(toRecord(canary({ event_id: id }), T0, undefined).output).toBe('data');
    expect(toRecord(canary({ event_id: id }), T0).output).toBe('data');
  });

  test('Batch: canaries are in no group and add no bytes; canaries() lists them', () => {
    const batch = new Batch('b1', T0);
    const held = (n: number, body: object) => ({ messageId: `m-${n}`, receiptHandle: `rh-${n}`, visibleUntil: T0, record: toRecord(sqsMessage(n, { body: JSON.stringify(body) }), T0, 'event_id') });
    batch.add(held(1, { event_id: 'e-1' }));
    const bytes = batch.bytes;
    batch.add(held(2, { event_id: canaryId(published) }));
    expect(batch.bytes).toBe(bytes);
    expect(batch.size).toBe(2);
    const to = { outputBucket: 'lake', outputPrefix: 'clicks/', errorBucket: 'lake', errorPrefix: 'errors/' };
    expect(batch.groups(to).flatMap((g) => g.messages.map((m) => m.messageId))).toEqual(['m-1']);
    expect(batch.canaries().map((m) => m.messageId)).toEqual(['m-2']);
  });
});
