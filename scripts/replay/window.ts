/**
 * The replay window and the raw-zone hours it covers. The raw zone is partitioned by UTC arrival hour
 * (`<name>/dt=YYYY-MM-DD/hour=HH/`, written by Firehose for Kinesis sources and by the Flink job for Kafka topics),
 * so a window is a whole number of hours: [from, to), both on the hour.
 */
import { RAW_ZONE_LAYOUT } from '../../platform/raw-zone/layout';

/** A mistake in the command line: the message names the flag and the expected form. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Longest window without `--max-hours`: 31 days, so a typo in a year does not read a year of data. */
export const DEFAULT_MAX_HOURS = 31 * 24;

const HOUR_MS = 3_600_000;
const EXAMPLE = '2026-12-04T13:00Z';
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})$/;

export interface ReplayWindow {
  /** Inclusive, on the hour (UTC). */
  from: Date;
  /** Exclusive, on the hour (UTC). */
  to: Date;
  hours: number;
}

/** `2026-12-04T13:00Z`: how the script prints an hour. */
export const formatHour = (hour: Date): string => `${hour.toISOString().slice(0, 13)}:00Z`;

/**
 * An ISO 8601 instant with an explicit offset (`Z` or `±hh:mm`) that falls on a whole UTC hour. A time without an
 * offset is refused rather than guessed: the raw zone's hours are UTC, the shell's time zone is not.
 */
export function parseHour(flag: string, value: string | undefined): Date {
  const form = `a UTC instant on a whole hour, like ${EXAMPLE} (ISO 8601 with Z or an offset)`;
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required: ${form}`);
  const m = INSTANT.exec(value.trim());
  if (!m) throw new UsageError(`--${flag} "${value}" is not ${form}`);
  const [, y, mo, d, h, mi = '00', s = '00', frac = '', offset] = m;
  const utc = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac ? `.${frac.slice(0, 3).padEnd(3, '0')}` : ''}${offset.length === 5 ? `${offset.slice(0, 3)}:${offset.slice(3)}` : offset}`);
  // Date accepts 2026-02-30 (it rolls over): the fields as written must be the fields of the date it built.
  const local = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
  if (
    Number.isNaN(utc.getTime()) ||
    local.getUTCFullYear() !== +y ||
    local.getUTCMonth() !== +mo - 1 ||
    local.getUTCDate() !== +d ||
    local.getUTCHours() !== +h ||
    +mi > 59 ||
    +s > 59
  ) {
    throw new UsageError(`--${flag} "${value}" is not a valid date and time: expected ${form}`);
  }
  if (utc.getTime() % HOUR_MS !== 0 || /[1-9]/.test(frac)) {
    const before = new Date(Math.floor(utc.getTime() / HOUR_MS) * HOUR_MS);
    throw new UsageError(
      `--${flag} "${value}" is not on a whole hour: the raw zone is partitioned by UTC arrival hour; use ${formatHour(before)} or ${formatHour(new Date(before.getTime() + HOUR_MS))}`,
    );
  }
  return utc;
}

/**
 * The window [from, to). `to` may be the end of the current hour (so the hour being written is included) but not
 * later; a window longer than `maxHours` (default 31 days) needs `--max-hours`.
 */
export function parseWindow(args: { from?: string; to?: string; maxHours?: string; now: Date }): ReplayWindow {
  const from = parseHour('from', args.from);
  const to = parseHour('to', args.to);
  let maxHours = DEFAULT_MAX_HOURS;
  if (args.maxHours !== undefined) {
    maxHours = Number(args.maxHours);
    if (!/^\d+$/.test(args.maxHours) || !Number.isSafeInteger(maxHours) || maxHours < 1) {
      throw new UsageError(`--max-hours "${args.maxHours}" must be a whole number of hours, 1 or more`);
    }
  }
  if (from.getTime() >= to.getTime()) {
    throw new UsageError(`--to ${formatHour(to)} must be later than --from ${formatHour(from)} (the window is [from, to), at least one hour)`);
  }
  const latest = new Date(Math.ceil(args.now.getTime() / HOUR_MS) * HOUR_MS);
  if (to.getTime() > latest.getTime()) {
    throw new UsageError(
      `--to ${formatHour(to)} is in the future (now ${args.now.toISOString()}): the latest end is ${formatHour(latest)}, which includes the current hour`,
    );
  }
  const hours = (to.getTime() - from.getTime()) / HOUR_MS;
  if (hours > maxHours) {
    throw new UsageError(
      `the window ${formatHour(from)} to ${formatHour(to)} is ${hours} hours, longer than ${maxHours}${args.maxHours === undefined ? ' (31 days)' : ''}: replay it in parts, or raise the limit with --max-hours ${hours}`,
    );
  }
  return { from, to, hours };
}

/** Every hour of the window, oldest first, with its prefix. */
export function hourPrefixes(name: string, window: Pick<ReplayWindow, 'from' | 'to'>): Array<{ hour: Date; prefix: string }> {
  const hours: Array<{ hour: Date; prefix: string }> = [];
  for (let t = window.from.getTime(); t < window.to.getTime(); t += HOUR_MS) {
    const hour = new Date(t);
    hours.push({ hour, prefix: RAW_ZONE_LAYOUT.hourPrefix(name, hour) });
  }
  return hours;
}
