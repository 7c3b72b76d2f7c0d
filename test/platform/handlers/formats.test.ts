import { isDateTime, isUri, isUuid, matchesUriGrammar } from '../../../platform/handlers/formats';

/** Each case: [input, expected, the RFC rule that decides it]. */
type Case = [string, boolean, string];

const DATE_TIME: Case[] = [
  ['2026-11-20T09:15:02.120Z', true, 'RFC 3339 5.6 date-time = full-date "T" full-time, time-secfrac, "Z"'],
  ['2026-11-20T09:15:02Z', true, 'RFC 3339 5.6 time-secfrac is optional'],
  ['2026-11-20t09:15:02z', true, 'RFC 3339 5.6 NOTE: "T" and "Z" may be lower case'],
  ['2026-11-20T09:15:02.123456789-11:30', true, 'RFC 3339 5.6 time-numoffset = ("+" / "-") time-hour ":" time-minute'],
  ['2026-11-20T09:15:02-00:00', true, 'RFC 3339 4.3 -00:00 (unknown local offset) is valid'],
  ['2026-11-20T09:15:02+01', false, 'RFC 3339 5.6 time-numoffset requires ":" time-minute'],
  ['2026-11-20T09:15:02+0100', false, 'RFC 3339 5.6 time-numoffset requires the ":"'],
  ['2026-11-20T09:15:02+01:', false, 'RFC 3339 5.6 time-minute = 2DIGIT'],
  ['2026-11-20T09:15:02+1:00', false, 'RFC 3339 5.6 time-hour = 2DIGIT'],
  ['2026-11-20T09:15:02+24:00', false, 'RFC 3339 5.6 time-hour 00-23 (in the offset too)'],
  ['2026-11-20T09:15:02+23:60', false, 'RFC 3339 5.6 time-minute 00-59 (in the offset too)'],
  ['2026-11-20T09:15:02+01:00:00', false, 'RFC 3339 5.6 time-numoffset has no seconds'],
  ['2026-11-20T24:00:00Z', false, 'RFC 3339 5.6 time-hour 00-23'],
  ['2026-11-20T24:59:60+01:00', false, 'RFC 3339 5.6 time-hour 00-23, even where the UTC time would be 23:59:60'],
  ['2026-11-20T09:60:00Z', false, 'RFC 3339 5.6 time-minute 00-59'],
  ['2016-12-31T23:59:60Z', true, 'RFC 3339 5.6/5.7 time-second 60 at 23:59 UTC (leap second)'],
  ['2016-12-31T23:59:60.5Z', true, 'RFC 3339 5.7 leap second with a fraction'],
  ['1998-12-31T15:59:60.123-08:00', true, 'RFC 3339 5.8 example: leap second in a local time 23:59:60 UTC'],
  ['2017-01-01T00:59:60+01:00', true, 'RFC 3339 5.7 leap second: 00:59:60+01:00 is 23:59:60 UTC'],
  ['2016-12-31T12:59:60Z', false, 'RFC 3339 5.7 second 60 only at 23:59 UTC'],
  ['2016-12-31T23:59:61Z', false, 'RFC 3339 5.6 time-second 00-60'],
  ['2024-02-29T00:00:00Z', true, 'RFC 3339 5.7 / Appendix C leap year (divisible by 4)'],
  ['2000-02-29T00:00:00Z', true, 'RFC 3339 Appendix C leap year (divisible by 400)'],
  ['1900-02-29T00:00:00Z', false, 'RFC 3339 Appendix C not a leap year (divisible by 100)'],
  ['2023-02-29T00:00:00Z', false, 'RFC 3339 5.7 date-mday 01-28 for February of a common year'],
  ['2026-04-31T00:00:00Z', false, 'RFC 3339 5.7 date-mday 01-30 for April'],
  ['2026-13-01T00:00:00Z', false, 'RFC 3339 5.6 date-month 01-12'],
  ['2026-00-10T00:00:00Z', false, 'RFC 3339 5.6 date-month 01-12'],
  ['2026-04-00T00:00:00Z', false, 'RFC 3339 5.6 date-mday starts at 01'],
  ['0000-01-01T00:00:00Z', true, 'RFC 3339 5.6 date-fullyear = 4DIGIT'],
  ['2026-11-20 09:15:02Z', false, 'RFC 3339 5.6 the separator is "T" (a space is only an application choice, not date-time)'],
  ['2026-11-20T09:15:02', false, 'RFC 3339 5.6 full-time requires time-offset'],
  ['2026-11-20T09:15:02.Z', false, 'RFC 3339 5.6 time-secfrac = "." 1*DIGIT'],
  ['2026-11-20T09:15', false, 'RFC 3339 5.6 partial-time requires seconds'],
  ['2026-11-20', false, 'RFC 3339 5.6 date-time requires full-time'],
  ['2026-11-20T09:15:02ZZ', false, 'RFC 3339 5.6 nothing after time-offset'],
  [' 2026-11-20T09:15:02Z', false, 'RFC 3339 5.6 nothing before full-date'],
  ['２０２６-11-20T09:15:02Z', false, 'RFC 3339 5.6 DIGIT is ASCII 0-9 (RFC 5234)'],
  ['2026-1-20T09:15:02Z', false, 'RFC 3339 5.6 date-month = 2DIGIT'],
  ['2026/11/20T09:15:02Z', false, 'RFC 3339 5.6 full-date separators are "-"'],
];

const UUID: Case[] = [
  ['0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01', true, 'RFC 9562 4 / RFC 4122 3: 8-4-4-4-12 hexDigits'],
  ['0B7E4A52-8A1F-4C57-9A39-2F1D8E4C1A01', true, 'RFC 9562 4: hex digits are case-insensitive on input'],
  ['00000000-0000-0000-0000-000000000000', true, 'RFC 9562 5.9 the Nil UUID'],
  ['ffffffff-ffff-ffff-ffff-ffffffffffff', true, 'RFC 9562 5.10 the Max UUID'],
  ['urn:uuid:0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01', false, 'RFC 4122 3: "urn:uuid:" UUID is the URN, not the UUID string'],
  ['{0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01}', false, 'RFC 9562 4: no braces'],
  ['0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a0', false, 'RFC 9562 4: node = 6hexOctet (12 digits)'],
  ['0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01a', false, 'RFC 9562 4: node = 6hexOctet (12 digits)'],
  ['0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a0g', false, 'RFC 9562 4: hexDigit is 0-9 a-f'],
  ['0b7e4a528a1f-4c57-9a39-2f1d8e4c1a01-', false, 'RFC 9562 4: "-" between the fields'],
  ['0b7e4a52_8a1f_4c57_9a39_2f1d8e4c1a01', false, 'RFC 9562 4: the separator is "-"'],
  ['0b7e4a528a1f4c579a392f1d8e4c1a01', false, 'RFC 9562 4: the hyphens are required'],
  ['', false, 'RFC 9562 4'],
];

const URI: Case[] = [
  ['https://shop.example.com/', true, 'RFC 3986 3: scheme ":" "//" authority path-abempty'],
  ['https://shop.example.com', true, 'RFC 3986 3.3: path-abempty may be empty'],
  ['http://shop.example.com:8080/p/sku-42?q=boots&x=1#top', true, 'RFC 3986 3.2.3 port, 3.4 query, 3.5 fragment'],
  ['http://shop.example.com:/', true, 'RFC 3986 3.2.3 port = *DIGIT (may be empty)'],
  ['http://shop.example.com:80a/', false, 'RFC 3986 3.2.3 port = *DIGIT'],
  ['http://a:b:c/', false, 'RFC 3986 3.2.3 port = *DIGIT (reg-name has no ":")'],
  ['a:', true, 'RFC 3986 3: hier-part = path-empty; scheme = ALPHA *(...)'],
  ['a+b-c.d:x', true, 'RFC 3986 3.1 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )'],
  ['1a:x', false, 'RFC 3986 3.1 scheme starts with ALPHA'],
  [':x', false, 'RFC 3986 3.1 scheme is not empty'],
  ['mailto:someone@example.com', true, 'RFC 3986 3.3 path-rootless of pchar ("@" is a pchar)'],
  ['urn:isbn:0451450523', true, 'RFC 3986 3.3 path-rootless (":" is a pchar)'],
  ['file:///etc/hosts', true, 'RFC 3986 3.2.2 reg-name may be empty'],
  ['https://', true, 'RFC 3986 3.2.2 empty reg-name, empty path-abempty'],
  ['https:///path', true, 'RFC 3986 3.2.2 empty reg-name'],
  ['https:example.com', true, 'RFC 3986 3.3 path-rootless'],
  ['https://shop.example.com/search?q=winter%20boots', true, 'RFC 3986 2.1 pct-encoded = "%" HEXDIG HEXDIG'],
  ['https://shop.example.com/%7e%7E', true, 'RFC 3986 2.1 HEXDIG is case-insensitive'],
  ['https://shop.example.com/%zz', false, 'RFC 3986 2.1 pct-encoded = "%" HEXDIG HEXDIG'],
  ['https://shop.example.com/%4', false, 'RFC 3986 2.1 two HEXDIG after "%"'],
  ['https://shop.example.com/search?q=winter boots', false, 'RFC 3986 2: a space is not allowed anywhere'],
  ['https://shop.example.com/p/ü', false, 'RFC 3986 2: non-ASCII characters must be percent-encoded (that would be an IRI)'],
  ['https://user:pw@shop.example.com/', true, 'RFC 3986 3.2.1 userinfo = *( unreserved / pct-encoded / sub-delims / ":" )'],
  ['https://us@er@shop.example.com/', false, 'RFC 3986 3.2.1 userinfo has no "@"'],
  ['https://[2001:db8::1]/x', true, 'RFC 3986 3.2.2 IP-literal = "[" IPv6address "]"'],
  ['https://[::ffff:192.0.2.1]:443/', true, 'RFC 3986 3.2.2 IPv6address with ls32 = IPv4address'],
  ['https://[::]/', true, 'RFC 3986 3.2.2 IPv6address "::"'],
  ['https://[1:2:3:4:5:6:7:8]/', true, 'RFC 3986 3.2.2 IPv6address 6( h16 ":" ) ls32'],
  ['https://[1:2:3:4:5:6:7:8:9]/', false, 'RFC 3986 3.2.2 at most eight h16'],
  ['https://[12345::1]/', false, 'RFC 3986 3.2.2 h16 = 1*4HEXDIG'],
  ['https://[1::2::3]/', false, 'RFC 3986 3.2.2 "::" at most once'],
  ['https://[v1.fe80::a+en1]/', true, 'RFC 3986 3.2.2 IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )'],
  ['https://[2001:db8::1/', false, 'RFC 3986 3.2.2 IP-literal needs "]"'],
  ['https://192.168.0.1:443/', true, 'RFC 3986 3.2.2 IPv4address (also a reg-name)'],
  ['https://shop.example.com/#frag#twice', false, 'RFC 3986 3.5 fragment = *( pchar / "/" / "?" ): no second "#"'],
  ['https://shop.example.com/?a[]=1', false, 'RFC 3986 3.4 "[" and "]" are gen-delims, not allowed in a query'],
  ["https://ex.com/!$&'()*+,;=:@", true, 'RFC 3986 2.2 sub-delims, ":" and "@" in a path'],
  ['https://ex.com/?q=/a?b#/c?d', true, 'RFC 3986 3.4/3.5 "/" and "?" in query and fragment'],
  ['HTTPS://SHOP.EXAMPLE.COM/P?Q=1', true, 'RFC 3986 3.1 scheme is case-insensitive'],
  ['//example.com', false, 'RFC 3986 4.2 a relative reference is not a URI'],
  ['/relative/path', false, 'RFC 3986 4.2 a relative reference is not a URI'],
  ['example.com', false, 'RFC 3986 3 a URI has a scheme'],
  ['', false, 'RFC 3986 3'],
];

describe.each([
  ['date-time', isDateTime, DATE_TIME],
  ['uuid', isUuid, UUID],
  ['uri', isUri, URI],
] as const)('%s', (_, check, cases) => {
  it.each(cases.map(([input, expected, rule]) => [rule, input, expected] as const))('%s: %j → %s', (_rule, input, expected) => {
    expect(check(input)).toBe(expected);
  });
});

/** Deterministic mutations (replace, insert, delete one character) of the samples: where edge cases hide. */
function mutations(samples: string[], count: number, alphabet: string): string[] {
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

/**
 * The date-time check reads characters for speed; this is the same RFC 3339 5.6 ABNF written plainly as a regular
 * expression plus the calendar rules of 5.7, to fuzz the fast one against.
 */
function referenceDateTime(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const leapYear = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leapYear ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (!days || day < 1 || day > days || hour > 23 || minute > 59 || second > 60) return false;
  const offset = m[7] ? (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) : 0;
  if (m[7] && (Number(m[8]) > 23 || Number(m[9]) > 59)) return false;
  if (second < 60) return true;
  const utc = new Date(Date.UTC(2000, 0, 1, hour, minute) - offset * 60_000);
  return utc.getUTCHours() === 23 && utc.getUTCMinutes() === 59;
}

describe('fuzzed', () => {
  it('date-time agrees with a plain transcription of the RFC 3339 grammar on 20,000 mutated samples', () => {
    const inputs = mutations(DATE_TIME.map((c) => c[0]).filter(Boolean), 20_000, '0123456789-:.+TtZz /');
    const disagreements = inputs.filter((s) => isDateTime(s) !== referenceDateTime(s));
    expect(disagreements).toEqual([]);
    const accepted = inputs.filter(isDateTime).length;
    expect(accepted).toBeGreaterThan(200);
    expect(accepted).toBeLessThan(19_800);
  });

  it('uri: the fast path for plain http URLs never accepts what the full RFC 3986 grammar rejects', () => {
    // isUri = fast path OR full grammar: a disagreement would be a string the fast path accepts wrongly.
    const inputs = mutations(URI.map((c) => c[0]).filter(Boolean), 20_000, "0123456789-:.+/?#%@[]abcdefgxyzABCDEF_~é !$&'()*,;=");
    const plainHttp = inputs.filter((s) => /^https?:\/\/[^/@[%]*$/i.test(s));
    expect(plainHttp.length).toBeGreaterThan(100);
    expect(inputs.filter((s) => isUri(s) !== matchesUriGrammar(s))).toEqual([]);
    expect(plainHttp.filter(isUri).length).toBeGreaterThan(50);
  });
});
