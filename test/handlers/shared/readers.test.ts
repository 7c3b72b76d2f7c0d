import { gzipSync } from 'node:zlib';
import { readJsonArray } from '../../../handlers/shared/json-array-reader';
import { readNdjson } from '../../../handlers/shared/ndjson-reader';
import { readObjectRecords, UnreadableObjectError } from '../../../handlers/shared/object-records';
import { RawRecord } from '../../../handlers/shared/raw-record';

const MAX = 1024 * 1024;

/** Feeds `data` in chunks of `size` bytes, the way a network stream may cut it anywhere. */
async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** Every record the reader yields, batches flattened, with its bytes as text. */
async function collect(batches: AsyncIterable<RawRecord[]>) {
  const out: Array<Omit<RawRecord, 'bytes'> & { text: string }> = [];
  for await (const batch of batches) {
    expect(batch.length).toBeGreaterThan(0); // readers never yield empty batches
    for (const { bytes, ...rest } of batch) out.push({ ...rest, text: bytes.toString('utf8') });
  }
  return out;
}

describe('readNdjson', () => {
  it('yields each line with its number, skipping blank lines but counting them, and strips CRLF', async () => {
    const data = Buffer.from('{"a":1}\r\n\r\n   \n{"b":2}\n\t\n{"c":3}');
    expect(await collect(readNdjson(chunked(data, 3), { maxRecordBytes: MAX }))).toEqual([
      { line: 1, text: '{"a":1}', byteLength: 7, truncated: false },
      { line: 4, text: '{"b":2}', byteLength: 7, truncated: false },
      { line: 6, text: '{"c":3}', byteLength: 7, truncated: false },
    ]);
  });

  it('reassembles multi-byte characters split at every possible chunk boundary', async () => {
    const lines = ['{"name":"Zoë 🚀 日本語"}', '{"emoji":"👩‍👩‍👧‍👦"}', '{"x":"é"}'];
    const data = Buffer.from(lines.join('\n') + '\n');
    for (let size = 1; size <= data.length; size++) {
      const texts = (await collect(readNdjson(chunked(data, size), { maxRecordBytes: MAX }))).map((r) => r.text);
      expect(texts).toEqual(lines);
    }
  });

  it('keeps only a prefix of a line longer than the cap, reporting its full length', async () => {
    const long = 'x'.repeat(5000);
    const data = Buffer.from(`{"ok":1}\n${long}\n{"ok":2}\n${long}`);
    const records = await collect(readNdjson(chunked(data, 700), { maxRecordBytes: 1000 }));
    expect(records).toEqual([
      { line: 1, text: '{"ok":1}', byteLength: 8, truncated: false },
      { line: 2, text: 'x'.repeat(1000), byteLength: 5000, truncated: true },
      { line: 3, text: '{"ok":2}', byteLength: 8, truncated: false },
      { line: 4, text: 'x'.repeat(1000), byteLength: 5000, truncated: true },
    ]);
  });

  it('starts counting at firstLine', async () => {
    const records = await collect(readNdjson(chunked(Buffer.from('{"a":1}\n'), 4), { maxRecordBytes: MAX, firstLine: 3 }));
    expect(records.map((r) => r.line)).toEqual([3]);
  });
});

describe('readJsonArray', () => {
  const read = (text: string, size = 7, maxRecordBytes = MAX) =>
    collect(readJsonArray(chunked(Buffer.from(text), size), { maxRecordBytes }));

  it('yields every element as raw text, whatever the nesting and the strings contain', async () => {
    const text = '[\n  {"a":"x,]}\\"y","b":[1,{"c":"["}]},\n  {"d":null} , 42,"str\\\\",\n  [1,2]\n]\n';
    for (const size of [1, 2, 5, 64]) {
      expect(await read(text, size)).toEqual([
        { line: 2, element: 1, text: '{"a":"x,]}\\"y","b":[1,{"c":"["}]}', byteLength: 33, truncated: false },
        { line: 3, element: 2, text: '{"d":null}', byteLength: 10, truncated: false },
        { line: 3, element: 3, text: '42', byteLength: 2, truncated: false },
        { line: 3, element: 4, text: '"str\\\\"', byteLength: 7, truncated: false },
        { line: 4, element: 5, text: '[1,2]', byteLength: 5, truncated: false },
      ]);
    }
  });

  it('keeps pretty-printed elements whole with the line they start on', async () => {
    const records = await read('[{\n  "a": 1,\n  "b": "é"\n},\n{\n  "a": 2\n}]');
    expect(records.map((r) => [r.line, JSON.parse(r.text)])).toEqual([
      [1, { a: 1, b: 'é' }],
      [5, { a: 2 }],
    ]);
  });

  it('has no records for an empty array', async () => {
    expect(await read('[ \n ]')).toEqual([]);
  });

  it('reports structural problems as records', async () => {
    expect(await read('[{"a":1},,{"b":2},]')).toEqual([
      { line: 1, element: 1, text: '{"a":1}', byteLength: 7, truncated: false },
      { line: 1, element: 2, text: '', byteLength: 0, truncated: false, problem: 'empty element in JSON array' },
      { line: 1, element: 3, text: '{"b":2}', byteLength: 7, truncated: false },
      { line: 1, element: 4, text: '', byteLength: 0, truncated: false, problem: 'trailing comma in JSON array' },
    ]);
    expect(await read('[{"a":1},\n{"b":')).toEqual([
      { line: 1, element: 1, text: '{"a":1}', byteLength: 7, truncated: false },
      {
        line: 2,
        element: 2,
        text: '{"b":',
        byteLength: 5,
        truncated: false,
        problem: 'unterminated JSON array: the object ends inside this element',
      },
    ]);
    expect(await read('[{"a":1}\n')).toEqual([
      { line: 1, element: 1, text: '{"a":1}', byteLength: 7, truncated: false },
      { line: 2, element: 2, text: '', byteLength: 0, truncated: false, problem: 'unterminated JSON array: missing closing bracket' },
    ]);
    expect(await read('[{"a":1}]\n\n{"b":2}\n')).toEqual([
      { line: 1, element: 1, text: '{"a":1}', byteLength: 7, truncated: false },
      { line: 3, element: 2, text: '{"b":2}\n', byteLength: 8, truncated: false, problem: 'data after the end of the JSON array' },
    ]);
  });

  it('caps an element larger than the limit', async () => {
    const records = await read(`[{"big":"${'y'.repeat(3000)}"},{"a":1}]`, 100, 500);
    expect(records[0]).toMatchObject({ element: 1, byteLength: 3010, truncated: true });
    expect(records[0].text).toHaveLength(500);
    expect(records[1]).toEqual({ line: 1, element: 2, text: '{"a":1}', byteLength: 7, truncated: false });
  });
});

describe('readObjectRecords', () => {
  const ndjson = Buffer.from('{"a":1}\n{"b":"ü"}\n');
  const texts = async (body: Buffer, key: string, meta: { contentEncoding?: string; contentType?: string } = {}, size = 5) => {
    const result = await readObjectRecords(chunked(body, size), { key, ...meta }, MAX);
    return { compressed: result.compressed, format: result.format, records: await collect(result.batches) };
  };

  it('reads plain NDJSON', async () => {
    expect(await texts(ndjson, 'in/a.ndjson')).toEqual({
      compressed: false,
      format: 'ndjson',
      records: [
        { line: 1, text: '{"a":1}', byteLength: 7, truncated: false },
        { line: 2, text: '{"b":"ü"}', byteLength: 10, truncated: false },
      ],
    });
  });

  it.each([
    ['the .gz extension', 'in/a.ndjson.gz', {}],
    ['Content-Encoding', 'in/a.ndjson', { contentEncoding: 'gzip' }],
    ['Content-Type', 'in/a.data', { contentType: 'application/gzip' }],
    ['the magic number', 'in/a.ndjson', {}],
  ])('gunzips when told by %s', async (_, key, meta) => {
    const result = await texts(gzipSync(ndjson), key, meta, 3);
    expect(result.compressed).toBe(true);
    expect(result.records.map((r) => r.text)).toEqual(['{"a":1}', '{"b":"ü"}']);
  });

  it('reads concatenated gzip members', async () => {
    const body = Buffer.concat([gzipSync('{"a":1}\n'), gzipSync('{"b":2}\n')]);
    expect((await texts(body, 'x.ndjson.gz')).records.map((r) => r.text)).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('throws UnreadableObjectError for corrupt or truncated gzip', async () => {
    const gz = gzipSync(Buffer.from('{"a":1}\n'.repeat(10_000)));
    const truncated = gz.subarray(0, gz.length - 20);
    await expect(texts(truncated, 'x.ndjson.gz')).rejects.toThrow(UnreadableObjectError);
    await expect(texts(truncated, 'x.ndjson.gz')).rejects.toThrow('invalid gzip data: unexpected end of file');
    const garbage = Buffer.from('this is not gzip at all');
    await expect(texts(garbage, 'x.ndjson.gz')).rejects.toThrow(/invalid gzip data: incorrect header check/);
  });

  it('has no records for an empty object, even one named .gz', async () => {
    expect(await texts(Buffer.alloc(0), 'empty.ndjson.gz')).toEqual({ compressed: false, format: 'ndjson', records: [] });
    expect(await texts(Buffer.alloc(0), 'empty.json')).toEqual({ compressed: false, format: 'ndjson', records: [] });
  });

  it('detects a JSON array by .json extension and first significant byte, skipping BOM and blank lines', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\n \n[{"a":1},\n{"b":2}]')]);
    expect(await texts(body, 'in/a.json', {}, 1)).toEqual({
      compressed: false,
      format: 'json-array',
      records: [
        { line: 3, element: 1, text: '{"a":1}', byteLength: 7, truncated: false },
        { line: 4, element: 2, text: '{"b":2}', byteLength: 7, truncated: false },
      ],
    });
    expect((await texts(gzipSync(body), 'in/a.json.gz')).format).toBe('json-array');
    // A .json file of one object per line is NDJSON; an NDJSON file whose line is an array stays NDJSON.
    expect((await texts(Buffer.from('{"a":1}\n'), 'in/a.json')).format).toBe('ndjson');
    expect((await texts(Buffer.from('[1]\n'), 'in/a.ndjson')).format).toBe('ndjson');
  });

  it('strips a BOM from NDJSON', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ndjson]);
    expect((await texts(body, 'a.ndjson', {}, 1)).records[0]).toEqual({ line: 1, text: '{"a":1}', byteLength: 7, truncated: false });
  });
});
