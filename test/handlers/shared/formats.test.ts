import addFormats from 'ajv-formats';
import { isDateTime, isUri, isUuid } from '../../../handlers/shared/formats';

const stock = {
  'date-time': (addFormats.get('date-time', 'full') as { validate: (s: string) => boolean }).validate,
  uuid: (s: string) => (addFormats.get('uuid', 'full') as RegExp).test(s),
  uri: addFormats.get('uri', 'full') as (s: string) => boolean,
};

const SAMPLES = {
  'date-time': [
    '2026-11-20T09:15:02.120Z', '2026-11-20t09:15:02z', '2026-11-20 09:15:02+02:00', '2026-11-20T09:15:02+0200',
    '2026-11-20T09:15:02+02', '2026-11-20T09:15:02+02:', '2026-11-20T09:15:02+2:00', '2026-11-20T09:15:02.123456789-11:30',
    '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z', '2026-04-31T00:00:00Z', '2026-04-00T00:00:00Z', '2026-11-20T24:00:00Z', '2026-11-20T09:60:00Z',
    '2016-12-31T23:59:60Z', '2016-12-31T23:59:60.5Z', '2016-12-31T22:59:60-01:00', '2017-01-01T00:59:60+01:00',
    '2016-12-31T12:59:60Z', '2016-12-31T23:59:61Z', '2026-11-20T09:15:02', '2026-11-20T09:15:02+24:00',
    '2026-11-20T09:15:02+23:60', '2026-11-20', 'nonsense', '', '2026-11-20T09:15:02.Z', '2026-11-20TT09:15:02Z',
    '2026-11-20T09:15:02ZZ', '2026-11-20T09:15:02Z ', ' 2026-11-20T09:15:02Z', '2026-11-20X09:15:02Z', '２０２６-11-20T09:15:02Z',
    '2026/11/20T09:15:02Z', '2026-11-20T09-15-02Z', '2026-1-20T09:15:02Z', '2026-11-20T09:15:02+01:00:00',
  ],
  uuid: [
    '0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01', '0B7E4A52-8A1F-4C57-9A39-2F1D8E4C1A01', 'urn:uuid:0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01',
    'URN:UUID:0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01', 'urn:uid:x0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01', '0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a0',
    '0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01a', '0b7e4a528a1f-4c57-9a39-2f1d8e4c1a01-', '0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a0g',
    'g0b7e4a5-8a1f-4c57-9a39-2f1d8e4c1a01', '0b7e4a52_8a1f_4c57_9a39_2f1d8e4c1a01', '', '{0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01}',
  ],
  uri: [
    'https://shop.example.com/', 'https://shop.example.com', 'http://shop.example.com:8080/p/sku-42?q=boots&x=1#top',
    'https://shop.example.com/search?q=winter boots', 'https://shop.example.com/search?q=winter%20boots', 'https://shop.example.com/%zz',
    'https://user:pw@shop.example.com/', 'https://[2001:db8::1]/x', 'https://192.168.0.1:443/', 'mailto:someone@example.com',
    'urn:isbn:0451450523', 'ftp://ftp.example.com/file.txt', 'https://shop.example.com/p/ü', 'https://', 'https:///path', '//example.com',
    'example.com', '/relative/path', 'https://shop.example.com/a b', 'https://shop.example.com/#frag#twice', 'http://a:b:c/',
    'HTTPS://SHOP.EXAMPLE.COM/P?Q=1', 'https://shop.example.com/?a[]=1', "https://ex.com/!$&'()*+,;=:@", '', 'https:example.com',
  ],
};

const CHECKS = { 'date-time': isDateTime, uuid: isUuid, uri: isUri };

/** Deterministic mutations (replace, insert, delete one character) of the samples: where edge cases hide. */
function mutations(samples: string[], count: number): string[] {
  const alphabet = '0123456789-:.+TtZz /?#%@[]abcdefgxyzABCDEF:_~é';
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = samples[random(samples.length)];
    const at = random(s.length + 1);
    const c = alphabet[random(alphabet.length)];
    const kind = random(3);
    out.push(kind === 0 ? s.slice(0, at) + c + s.slice(at + 1) : kind === 1 ? s.slice(0, at) + c + s.slice(at) : s.slice(0, at) + s.slice(at + 1));
  }
  return out;
}

describe.each(Object.keys(CHECKS) as (keyof typeof CHECKS)[])('%s', (format) => {
  const check = CHECKS[format];

  test('agrees with ajv-formats full mode on edge cases', () => {
    const disagreements = SAMPLES[format].filter((s) => check(s) !== stock[format](s));
    expect(disagreements).toEqual([]);
  });

  test('agrees with ajv-formats full mode on 20,000 mutated samples', () => {
    const inputs = mutations(SAMPLES[format], 20_000);
    const disagreements = inputs.filter((s) => check(s) !== stock[format](s));
    expect(disagreements).toEqual([]);
    // The mutations must exercise both answers, or agreeing proves little.
    const accepted = inputs.filter((s) => check(s)).length;
    expect(accepted).toBeGreaterThan(200);
    expect(accepted).toBeLessThan(19_800);
  });
});
