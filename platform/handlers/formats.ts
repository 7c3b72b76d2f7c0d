/**
 * The formats nearly every event carries (timestamps, ids, URLs), checked exactly as their RFCs define them, and
 * character by character instead of with large regular expressions, which cost more than all other schema keywords
 * together. ajv-formats differs from the RFCs on these three (it accepts `+01` offsets, `urn:uuid:` prefixes and
 * non-numeric ports, and rejects `a:`), so they are this project's own; test/platform/handlers/formats.test.ts names
 * the RFC rule behind every case.
 */

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const [DASH, COLON, DOT, PLUS] = [45, 58, 46, 43];

/** Two decimal digits at `i` as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * RFC 3339 section 5.6 `date-time`:
 *   full-date "T" partial-time time-offset; full-date = 4DIGIT "-" 2DIGIT "-" 2DIGIT (a real calendar day);
 *   partial-time = time-hour ":" time-minute ":" time-second ["." 1*DIGIT] (hour 00-23, minute 00-59, second 00-60);
 *   time-offset = "Z" / ("+" / "-") time-hour ":" time-minute (both parts and the colon are required).
 * "T" and "Z" may be lower case (5.6, NOTE; ABNF strings are case-insensitive). Second 60 (a leap second) only
 * when the time is 23:59 in UTC (5.7), whatever the offset.
 */
export function isDateTime(s: string): boolean {
  if (s.length < 20) return false;
  const y1 = twoDigits(s, 0);
  const y2 = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hr = twoDigits(s, 11);
  const min = twoDigits(s, 14);
  const sec = twoDigits(s, 17);
  if (y1 < 0 || y2 < 0 || month < 0 || day < 0 || hr < 0 || min < 0 || sec < 0) return false;
  if (s.charCodeAt(4) !== DASH || s.charCodeAt(7) !== DASH || s.charCodeAt(13) !== COLON || s.charCodeAt(16) !== COLON) {
    return false;
  }
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 116) return false; // T or t

  let i = 19;
  if (s.charCodeAt(i) === DOT) {
    const start = ++i;
    while (isDigit(s.charCodeAt(i))) i++;
    if (i === start) return false;
  }
  let offsetMinutes = 0;
  const zone = s.charCodeAt(i);
  if (zone === 90 || zone === 122) {
    i += 1; // Z or z
  } else if (zone === PLUS || zone === DASH) {
    const tzH = twoDigits(s, i + 1);
    const tzM = twoDigits(s, i + 4);
    if (tzH < 0 || tzM < 0 || s.charCodeAt(i + 3) !== COLON || tzH > 23 || tzM > 59) return false;
    offsetMinutes = (zone === DASH ? -1 : 1) * (tzH * 60 + tzM);
    i += 6;
  } else {
    return false;
  }
  if (i !== s.length) return false;

  const year = y1 * 100 + y2;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS[month])) return false;
  if (hr > 23 || min > 59 || sec > 60) return false;
  if (sec < 60) return true;
  // Leap second: local time minus the offset must be 23:59 UTC.
  const utc = (((hr * 60 + min - offsetMinutes) % 1440) + 1440) % 1440;
  return utc === 23 * 60 + 59;
}

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);

/**
 * RFC 4122 section 3 / RFC 9562 section 4 string representation: 8-4-4-4-12 hexadecimal digits, case-insensitive on
 * input. No `urn:uuid:` prefix (that is the URN, RFC 4122 section 3's `"urn:uuid:" UUID`, not the UUID) and no braces.
 * Any version and variant, the Nil and Max UUIDs included.
 */
export function isUuid(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== DASH : !isHex(c)) return false;
  }
  return true;
}

/*
 * RFC 3986 section 3 (Appendix A collected ABNF), transcribed rule by rule. Character classes:
 *   unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"; sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" /
 *   "," / ";" / "="; pct-encoded = "%" HEXDIG HEXDIG; pchar = unreserved / pct-encoded / sub-delims / ":" / "@".
 */
const UNRESERVED_SUB = "a-z0-9\\-._~!$&'()*+,;=";
const PCT = '%[0-9a-f]{2}';
const PCHAR = `(?:[${UNRESERVED_SUB}:@]|${PCT})`;
const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = `${DEC_OCTET}(?:\\.${DEC_OCTET}){3}`;
const H16 = '[0-9a-f]{1,4}';
const LS32 = `(?:${H16}:${H16}|${IPV4})`;
/** The nine alternatives of IPv6address (RFC 3986 section 3.2.2). */
const IPV6 = [
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `(?:${H16})?::(?:${H16}:){4}${LS32}`,
  `(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3}${LS32}`,
  `(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2}${LS32}`,
  `(?:(?:${H16}:){0,3}${H16})?::${H16}:${LS32}`,
  `(?:(?:${H16}:){0,4}${H16})?::${LS32}`,
  `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
  `(?:(?:${H16}:){0,6}${H16})?::`,
].join('|');
const IP_LITERAL = `\\[(?:${IPV6}|v[0-9a-f]+\\.[${UNRESERVED_SUB}:]+)\\]`;
const USERINFO = `(?:[${UNRESERVED_SUB}:]|${PCT})*`;
const REG_NAME = `(?:[${UNRESERVED_SUB}]|${PCT})*`;
/** authority = [ userinfo "@" ] host [ ":" port ]; port = *DIGIT */
const AUTHORITY = `(?:${USERINFO}@)?(?:${IP_LITERAL}|${REG_NAME})(?::[0-9]*)?`;
const SEGMENT = `${PCHAR}*`;
/** hier-part = "//" authority path-abempty / path-absolute / path-rootless / path-empty */
const HIER_PART = `(?://${AUTHORITY}(?:/${SEGMENT})*|/(?:${PCHAR}+(?:/${SEGMENT})*)?|${PCHAR}+(?:/${SEGMENT})*|)`;
const QUERY_OR_FRAGMENT = `(?:${PCHAR}|[/?])*`;
/** URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]; scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
const URI = new RegExp(`^[a-z][a-z0-9+\\-.]*:${HIER_PART}(?:\\?${QUERY_OR_FRAGMENT})?(?:#${QUERY_OR_FRAGMENT})?$`, 'i');

/**
 * The usual shape of an http(s) URL: a reg-name host of unreserved characters, an optional numeric port, and paths,
 * queries and fragments of pchar without percent-encoding. Every string it accepts is an RFC 3986 URI, so the full
 * grammar runs only for the rest.
 */
const PLAIN_HTTP_URL =
  /^https?:\/\/[a-z0-9\-._~!$&'()*+,;=]+(?::[0-9]*)?(?:\/[a-z0-9\-._~!$&'()*+,;=:@/]*)?(?:\?[a-z0-9\-._~!$&'()*+,;=:@/?]*)?(?:#[a-z0-9\-._~!$&'()*+,;=:@/?]*)?$/i;

/** The full RFC 3986 grammar alone (the fast path's reference in the tests). */
export const matchesUriGrammar = (s: string): boolean => URI.test(s);

/** RFC 3986 section 3 `URI` (absolute, optional query and fragment); not a relative reference, not an IRI. */
export function isUri(s: string): boolean {
  return PLAIN_HTTP_URL.test(s) || URI.test(s);
}
