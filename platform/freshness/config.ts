import { z } from 'zod';
import { flag, integer } from '../config/settings';

/** Defaults of the `freshness` section (platform/freshness/README.md says why). */
export const FRESHNESS_DEFAULTS = {
  /** One canary event per source a minute: enough points for a 15-minute p95, a few cents a month per source. */
  intervalMinutes: 1,
  /** The processing window the specification asks for (seed 004: under 10 s); measured 5-7 s p95 locally. */
  targetSeconds: 10,
  /** The window of the SLO alarm's p95. */
  windowMinutes: 15,
} as const;

/**
 * The `freshness` section: a canary event per source every `intervalMinutes` through each pipeline, a Freshness
 * metric (seconds from publish to commit) and an SLO alarm when its p95 over `windowMinutes` exceeds `targetSeconds`.
 */
export const freshnessSchema = z.strictObject({
  /** Off: no canary runs, no freshness alarm; the exits still recognise canary ids, so `npm run verify` still works. */
  enabled: flag().default(true),
  /** Minutes between canary events (EventBridge / Cloud Scheduler rate). */
  intervalMinutes: integer(1, 60).default(FRESHNESS_DEFAULTS.intervalMinutes),
  /** The p95 freshness above which the SLO alarm fires, in seconds. */
  targetSeconds: integer(1, 3600).default(FRESHNESS_DEFAULTS.targetSeconds),
  /** The window of the p95, in minutes: at least 5 canary intervals, so one slow event does not page. */
  windowMinutes: integer(5, 1440).default(FRESHNESS_DEFAULTS.windowMinutes),
});

/** The `freshness` section, validated: `enabled`, `intervalMinutes`, `targetSeconds`, `windowMinutes`. */
export type FreshnessSettings = z.infer<typeof freshnessSchema>;
