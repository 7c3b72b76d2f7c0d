import { classify, compactJson, MAX_NESTING_DEPTH, nestingDepth, Rules } from '../../../../platform/landing-zone/validator/classify';
import { RawRecord } from '../../../../platform/handlers/raw-record';

const rules = (validate: Rules['validate'] = () => undefined): Rules => ({
  validate,
  idField: 'id',
  partitionKeyField: 'k',
  checkPartitionKey: () => undefined,
  checkSize: () => undefined,
});
const record = (text: string, extra: Partial<RawRecord> = {}): RawRecord => ({
  line: 1,
  bytes: Buffer.from(text),
  byteLength: Buffer.byteLength(text),
  truncated: false,
  ...extra,
});

describe('compactJson', () => {
  it('drops whitespace between tokens only: strings, escapes and numbers stay byte for byte', () => {
    const text = '{\n  "a b": "x \\" \\n\t y",\r\n  "n": 12345678901234567890,\n  "f": 1.0e2 , "u": "\\u00e9" }';
    expect(compactJson(Buffer.from(text)).toString()).toBe('{"a b":"x \\" \\n\t y","n":12345678901234567890,"f":1.0e2,"u":"\\u00e9"}');
  });
});

describe('nestingDepth', () => {
  it('counts the deepest nesting, ignoring brackets inside strings', () => {
    expect(nestingDepth(Buffer.from('{"a":[{"b":"[[[[{{{{"}]}'), 10)).toBe(3);
    expect(nestingDepth(Buffer.from(`${'['.repeat(600)}${']'.repeat(600)}`), 512)).toBe(513); // stops past the limit
  });
});

describe('classify', () => {
  it('publishes the bytes as written: a multi-line record is compacted, never re-serialized', () => {
    const text = '{\n  "id": "e1",\n  "k": "u",\n  "big": 9007199254740993\n}';
    const result = classify(record(text, { multiline: true }), rules());
    expect(result).toEqual({ valid: true, event: { id: 'e1', partitionKey: 'u', data: Buffer.from('{"id":"e1","k":"u","big":9007199254740993}') } });
  });

  it(`rejects a record nesting more than ${MAX_NESTING_DEPTH} levels before parsing it`, () => {
    const deep = `{"id":"e","k":"u","x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    let parsed = false;
    const result = classify(record(deep), rules(() => ((parsed = true), undefined)));
    expect(result).toEqual({ valid: false, reasons: [{ type: 'too_deep', message: `record nests more than ${MAX_NESTING_DEPTH} levels of arrays and objects` }] });
    expect(parsed).toBe(false);
  });

  it('rejects the event, not the object, when validating it exhausts the stack', () => {
    const overflow = (): never => {
      throw new RangeError('Maximum call stack size exceeded');
    };
    expect(classify(record('{"id":"e","k":"u"}'), rules(overflow))).toEqual({
      valid: false,
      reasons: [{ type: 'too_deep', message: 'validating the record failed: Maximum call stack size exceeded' }],
    });
  });
});
