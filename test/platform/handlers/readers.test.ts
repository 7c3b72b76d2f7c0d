import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { readJsonText, splitJsonValues } from '../../../platform/handlers/json-text-reader';
import { readNdjson } from '../../../platform/handlers/ndjson-reader';
import { readObjectRecords, UnreadableObjectError } from '../../../platform/handlers/object-records';
import { RawRecord } from '../../../platform/handlers/raw-record';

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
  it('ends lines at CR-only and mixed line ends too, wherever the chunks cut them', async () => {
    const data = Buffer.from('{"a":1}\r{"b":2}\r\n{"c":3}\n\r{"d":4}\r\r{"e":5}');
    for (const size of [1, 2, 3, 8, 100]) {
      expect((await collect(readNdjson(chunked(data, size), { maxRecordBytes: MAX }))).map((r) => [r.line, r.text])).toEqual([
        [1, '{"a":1}'],
        [2, '{"b":2}'],
        [3, '{"c":3}'],
        [5, '{"d":4}'],
        [7, '{"e":5}'],
      ]);
    }
  });

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

describe('readJsonText', () => {
  const read = (text: string, size = 7, maxRecordBytes = MAX) =>
    collect(readJsonText(chunked(Buffer.from(text), size), { maxRecordBytes }));

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

  it('reads a single pretty-printed object as one record, and objects one after the other as one each', async () => {
    expect(await read('{\n  "a": [1, 2],\n  "b": "}"\n}\n', 3)).toEqual([
      { line: 1, text: '{\n  "a": [1, 2],\n  "b": "}"\n}', byteLength: 29, truncated: false, multiline: true },
    ]);
    expect((await read('{"a":1}{"b":2}\n{"c":\n3}')).map((r) => [r.line, r.text])).toEqual([
      [1, '{"a":1}'],
      [1, '{"b":2}'],
      [2, '{"c":\n3}'],
    ]);
  });

  it('reads arrays one after the other, and objects after an array', async () => {
    expect((await read('[{"a":1},{"a":2}][{"a":3}]\n[{"a":4}]\n{"a":5}', 4)).map((r) => r.text)).toEqual([
      '{"a":1}',
      '{"a":2}',
      '{"a":3}',
      '{"a":4}',
      '{"a":5}',
    ]);
  });

  it('an unbalanced bracket breaks only its own element', async () => {
    const records = await read('[{"a":1},{"b":[1,2},{"c":3},{"d":{"e":1]},{"f":4}]', 5);
    expect(records.map((r) => r.text)).toEqual(['{"a":1}', '{"b":[1,2}', '{"c":3}', '{"d":{"e":1]}', '{"f":4}']);
    expect(records.filter((r) => r.problem)).toEqual([]);
  });

  it('an unterminated string breaks only its own element of a pretty-printed array', async () => {
    const records = await read('[\n  {"a": "abc},\n  {"b": 2},\n  {\n    "c": "x,\n    "d": 1\n  },\n  {"e": 5}\n]\n', 6);
    const parsed = records.map((r) => {
      try {
        return JSON.parse(r.text);
      } catch {
        return `broken: ${r.text}`;
      }
    });
    expect(parsed).toEqual([
      'broken: {"a": "abc},',
      { b: 2 },
      'broken: {\n    "c": "x,',
      'broken: "d": 1\n  }',
      { e: 5 },
    ]);
    expect(records.map((r) => r.line)).toEqual([2, 3, 4, 6, 8]);
  });

  it('reports structural problems as records, keeping the bytes', async () => {
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
        problem: 'the object ends inside this JSON value (unbalanced brackets or an unterminated string)',
      },
    ]);
    expect(await read('[{"a":1}\n')).toEqual([
      { line: 1, element: 1, text: '{"a":1}', byteLength: 7, truncated: false },
      { line: 2, element: 2, text: '', byteLength: 0, truncated: false, problem: 'unterminated JSON array: missing closing bracket' },
    ]);
    // Data that is neither an array nor an object: one record per line, which then fails to parse.
    expect(await read('[{"a":1}]\n, garbage\n')).toEqual([
      { line: 1, element: 1, text: '{"a":1}', byteLength: 7, truncated: false },
      { line: 2, text: ', garbage', byteLength: 9, truncated: false },
    ]);
  });

  it('caps an element larger than the limit', async () => {
    const records = await read(`[{"big":"${'y'.repeat(3000)}"},{"a":1}]`, 100, 500);
    expect(records[0]).toMatchObject({ element: 1, byteLength: 3010, truncated: true });
    expect(records[0].text).toHaveLength(500);
    expect(records[1]).toEqual({ line: 1, element: 2, text: '{"a":1}', byteLength: 7, truncated: false });
  });

  it('splitJsonValues cuts one line holding several values', () => {
    expect(splitJsonValues(Buffer.from('{"a":1}{"b":"}{"} {"c":[3]}'), { maxRecordBytes: MAX }).map((r) => r.bytes.toString())).toEqual([
      '{"a":1}',
      '{"b":"}{"}',
      '{"c":[3]}',
    ]);
  });
});

describe('readObjectRecords', () => {
  const ndjson = Buffer.from('{"a":1}\n{"b":"ü"}\n');
  const texts = async (body: Buffer, key: string, meta: { contentEncoding?: string; contentType?: string } = {}, size = 5) => {
    const result = await readObjectRecords(chunked(body, size), { key, ...meta }, MAX);
    return { compressed: result.encodings.length > 0, format: result.format, records: await collect(result.batches) };
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
    await expect(texts(garbage, 'x.ndjson.gz')).rejects.toThrow(/declared gzip .* but is not gzip data/);
  });

  it('has no records for an empty object, even one named .gz', async () => {
    expect(await texts(Buffer.alloc(0), 'empty.ndjson.gz')).toEqual({ compressed: false, format: 'ndjson', records: [] });
    expect(await texts(Buffer.alloc(0), 'empty.json')).toEqual({ compressed: false, format: 'json', records: [] });
  });

  it('reads a .json object as JSON text, skipping BOM and blank lines', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\n \n[{"a":1},\n{"b":2}]')]);
    expect(await texts(body, 'in/a.json', {}, 1)).toEqual({
      compressed: false,
      format: 'json',
      records: [
        { line: 3, element: 1, text: '{"a":1}', byteLength: 7, truncated: false },
        { line: 4, element: 2, text: '{"b":2}', byteLength: 7, truncated: false },
      ],
    });
    expect((await texts(gzipSync(body), 'in/a.json.gz')).format).toBe('json');
    expect((await texts(Buffer.from('[1]\n'), 'in/a.ndjson')).format).toBe('ndjson');
  });

  it('strips a BOM from NDJSON', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ndjson]);
    expect((await texts(body, 'a.ndjson', {}, 1)).records[0]).toEqual({ line: 1, text: '{"a":1}', byteLength: 7, truncated: false });
  });

  const events = Buffer.from('{"a":1}\n{"b":2}\n');
  const lines = ['{"a":1}', '{"b":2}'];
  const read = async (body: Buffer, key = 'x.ndjson', meta: { contentEncoding?: string; contentType?: string } = {}) => {
    const result = await readObjectRecords(chunked(body, 4), { key, ...meta }, MAX);
    return { encodings: result.encodings, charset: result.charset, texts: (await collect(result.batches)).map((r) => r.text) };
  };

  it('decodes zlib deflate (by its header or Content-Encoding), raw deflate and brotli (by Content-Encoding)', async () => {
    expect(await read(deflateSync(events))).toEqual({ encodings: ['deflate'], charset: 'utf-8', texts: lines });
    expect(await read(deflateRawSync(events), 'x.ndjson', { contentEncoding: 'deflate' })).toEqual({ encodings: ['deflate-raw'], charset: 'utf-8', texts: lines });
    expect(await read(brotliCompressSync(events), 'x.ndjson', { contentEncoding: 'br' })).toEqual({ encodings: ['br'], charset: 'utf-8', texts: lines });
  });

  it('decodes a double-gzipped file, and refuses more than three layers', async () => {
    expect(await read(gzipSync(gzipSync(events)), 'x.ndjson.gz')).toEqual({ encodings: ['gzip', 'gzip'], charset: 'utf-8', texts: lines });
    await expect(read(gzipSync(gzipSync(gzipSync(gzipSync(events)))))).rejects.toThrow('more than 3 layers of compression');
  });

  it('refuses data after the end of the gzip stream, but allows zero padding', async () => {
    const body = Buffer.concat([gzipSync(events), Buffer.alloc(512), Buffer.from('{"c":3}\n')]);
    await expect(read(body, 'x.ndjson.gz')).rejects.toThrow(UnreadableObjectError);
    await expect(read(body, 'x.ndjson.gz')).rejects.toThrow(/^8 bytes of data after the end of the gzip stream|^520 bytes of data after the end of the gzip stream/);
    await expect(read(Buffer.concat([gzipSync(events), Buffer.from('{"c":3}\n')]))).rejects.toThrow(/invalid gzip data/);
    expect((await read(Buffer.concat([gzipSync(events), Buffer.alloc(4096)]))).texts).toEqual(lines);
  });

  it('transcodes UTF-16 with a BOM (both byte orders) and without one, to UTF-8', async () => {
    const text = '{"a":"Zoë 🚀"}\n{"b":2}\n';
    const le = Buffer.from(text, 'utf16le');
    const be = Buffer.from(le).swap16();
    const expected = ['{"a":"Zoë 🚀"}', '{"b":2}'];
    expect(await read(Buffer.concat([Buffer.from([0xff, 0xfe]), le]))).toEqual({ encodings: [], charset: 'utf-16le', texts: expected });
    expect(await read(Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).toEqual({ encodings: [], charset: 'utf-16be', texts: expected });
    expect((await read(le)).texts).toEqual(expected);
    expect((await read(gzipSync(Buffer.concat([Buffer.from([0xff, 0xfe]), le])))).texts).toEqual(expected);
    // An unpaired surrogate is not text.
    await expect(read(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from([0x3d, 0xd8, 0x41, 0x00])]))).rejects.toThrow(/invalid UTF-16LE text/);
  });

  it.each([
    ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4]), {}, 'unsupported format: zstd'],
    ['bzip2', Buffer.from('BZh91AY&SY'), {}, 'unsupported format: bzip2'],
    ['UTF-32', Buffer.from([0xff, 0xfe, 0, 0, 0x7b, 0, 0, 0]), {}, 'unsupported format: UTF-32 (little-endian)'],
    ['an unknown Content-Encoding', events, { contentEncoding: 'compress' }, 'unsupported Content-Encoding "compress"'],
    ['a .gz name on plain text', events, {}, 'the object is declared gzip (by its key, Content-Encoding or Content-Type) but is not gzip data'],
  ])('refuses %s', async (name, body, meta, message) => {
    await expect(read(body, name.includes('.gz') ? 'x.ndjson.gz' : 'x.ndjson', meta)).rejects.toThrow(message);
  });
});
