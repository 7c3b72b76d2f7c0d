import { z } from 'zod';
import { integer } from '../config/settings';
import { noDataMinutesSetting } from '../pipeline/alarm-settings';

/**
 * The `validator` section: the landing-zone validator Lambda, shared by every pipeline that takes files through a
 * landing zone (each such stack builds its own LandingZone with these settings).
 */
export const validatorSchema = z.strictObject({
  /** Lambda memory; the validator streams objects, so memory bounds throughput, not object size. */
  memoryMiB: integer(256, 10240).default(1024),
  /** Minutes without a single event read (once events have flowed) before a source's "no data" alarm fires. */
  noDataMinutes: noDataMinutesSetting(),
});

/**
 * The `landingZone` section: the LandingZone stack, a landing zone publishing every source that lists the
 * `landingZone` pipeline to a Kinesis stream of its own. Its broker settings live here; other pipelines' brokers
 * live in their own sections.
 */
const landingStreamSchema = z.strictObject({
  /** 0 = on-demand capacity (scales by itself); otherwise the number of provisioned shards. */
  shards: integer(0, 500).default(0),
  /** Hours the stream keeps records (24 h to 365 days). */
  retentionHours: integer(24, 8760).default(24),
});

export const landingZoneSchema = z.strictObject({
  stream: landingStreamSchema.default(() => landingStreamSchema.parse({})),
});

export type ValidatorConfig = z.output<typeof validatorSchema>;
export type LandingZoneConfig = z.output<typeof landingZoneSchema>;
