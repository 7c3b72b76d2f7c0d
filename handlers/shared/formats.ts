import addFormats from 'ajv-formats';

/**
 * Exact, faster versions of ajv-formats' full-mode checks for the formats nearly every event carries (timestamps,
 * ids, URLs). They accept and reject exactly what ajv-formats does (test/handlers/shared/formats.test.ts compares
 * them on edge cases and fuzzed input), but read characters instead of running large regular expressions, which
 * cost more than all other schema keywords together.
 */

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const [DASH, COLON, DOT, PLUS, SPACE] = [45, 58, 46, 43, 32];

/** Two decimal digits at `i` as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * RFC 3339 date-time, as ajv-formats' full mode: `YYYY-MM-DD`, `T`/`t`/space, `hh:mm:ss[.frac]`, then `Z`/`z` or an
 * offset `±hh[[:]mm]`; real calendar dates, and a leap second only at 23:59 UTC.
 */
export function isDateTime(s: string): boolean {
  const y1 = twoDigits(s, 0);
  const y2 = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const sep = s.charCodeAt(10);
  const hr = twoDigits(s, 11);
  const min = twoDigits(s, 14);
  const sec = twoDigits(s, 17);
  if (y1 < 0 || y2 < 0 || month < 0 || day < 0 || hr < 0 || min < 0 || sec < 0) return false;
  if (s.charCodeAt(4) !== DASH || s.charCodeAt(7) !== DASH || s.charCodeAt(13) !== COLON || s.charCodeAt(16) !== COLON) {
    return false;
  }
  if (sep !== 84 && sep !== 116 && sep !== SPACE) return false; // T, t or space

  let i = 19;
  if (s.charCodeAt(i) === DOT) {
    const start = ++i;
    while (isDigit(s.charCodeAt(i))) i++;
    if (i === start) return false;
  }
  let tzSign = 1;
  let tzH = 0;
  let tzM = 0;
  const zone = s.charCodeAt(i);
  if (zone === 90 || zone === 122) {
    i += 1; // Z or z
  } else if (zone === PLUS || zone === DASH) {
    tzSign = zone === DASH ? -1 : 1;
    tzH = twoDigits(s, i + 1);
    if (tzH < 0) return false;
    i += 3;
    if (i < s.length) {
      if (s.charCodeAt(i) === COLON) i++;
      tzM = twoDigits(s, i);
      if (tzM < 0) return false;
      i += 2;
    }
  } else {
    return false;
  }
  if (i !== s.length) return false;

  const year = y1 * 100 + y2;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS[month])) return false;
  if (tzH > 23 || tzM > 59) return false;
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  // A leap second (ss = 60) is valid only when the time is 23:59 in UTC.
  const utcMin = min - tzM * tzSign;
  const utcHr = hr - tzH * tzSign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
}

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);

/** `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex, any case), optionally prefixed `urn:uuid:`, as ajv-formats. */
export function isUuid(s: string): boolean {
  let offset = 0;
  if (s.length === 45) {
    if (s.slice(0, 9).toLowerCase() !== 'urn:uuid:') return false;
    offset = 9;
  } else if (s.length !== 36) {
    return false;
  }
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(offset + i);
    if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== DASH : !isHex(c)) return false;
  }
  return true;
}

/**
 * The common shape of an http(s) URL with nothing but RFC 3986 unreserved characters, sub-delims, ":" and "@": every
 * string this accepts is an RFC 3986 URI, so the full check only runs for the rest (percent-encoding, IP literals,
 * other schemes, and everything invalid).
 */
const PLAIN_HTTP_URL =
  /^https?:\/\/[a-z0-9\-._~!$&'()*+,;=]+(?::\d+)?(?:\/[a-z0-9\-._~!$&'()*+,;=:@/]*)?(?:\?[a-z0-9\-._~!$&'()*+,;=:@/?]*)?(?:#[a-z0-9\-._~!$&'()*+,;=:@/?]*)?$/i;
const fullUri = addFormats.get('uri', 'full') as (s: string) => boolean;

/** RFC 3986 URI, as ajv-formats' full mode. */
export function isUri(s: string): boolean {
  return PLAIN_HTTP_URL.test(s) || fullUri(s);
}
