import { z } from 'zod';
import { integer, oneOf } from '../config/settings';

/**
 * Defaults of the raw zone (platform/raw-zone/README.md says what each costs). The raw zone is an archive, read by
 * Athena and by a replay: it needs no sub-minute freshness, and fewer, larger objects are cheaper to write and to read.
 */
export const RAW_ZONE_DEFAULTS = {
  /** Firehose's own default: an hour of a quiet source is 12 objects. */
  bufferSeconds: 300,
  /**
   * 64 MiB before compression: about 5-15 MiB of gzip for JSON events. GZIP is not splittable, so one Athena reader
   * takes a whole object: objects in that range keep scans parallel without the per-object overhead of small files.
   * Below ~220 KB/s per source the 300 s interval flushes first, so this only bounds busy sources.
   */
  bufferMiB: 64,
  /** Replays and investigations concern recent hours; after 90 days an hour costs ~1/6 of S3 Standard in Glacier IR. */
  archiveAfterDays: 90,
  archiveStorageClass: 'GLACIER_IR',
} as const;

/** Glacier storage classes an archived hour can move to (S3 lifecycle transition names). */
export const ARCHIVE_STORAGE_CLASSES = ['GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'] as const;
export type ArchiveStorageClass = (typeof ARCHIVE_STORAGE_CLASSES)[number];

/** Firehose's data-freshness alarm threshold when none is set: two buffer intervals plus five minutes. */
export function defaultFreshnessSeconds(bufferSeconds: number): number {
  return 2 * bufferSeconds + 300;
}

const alarmsSchema = z.strictObject({
  /**
   * Age of the oldest record not yet in S3 (Firehose `DeliveryToS3.DataFreshness`, maximum over 5 minutes) above which
   * the raw zone's lag alarm fires. @default 2 × bufferSeconds + 300 (900 s with the default buffer)
   */
  freshnessSeconds: integer(60, 86_400).optional(),
});

/**
 * The `rawZone` section: the raw zone of every stack whose sources reach a broker (platform/raw-zone). Each event is
 * archived unchanged, per source, under `s3://<raw bucket>/<source>/dt=YYYY-MM-DD/hour=HH/`, gzip, one per line.
 */
export const rawZoneSchema = z
  .strictObject({
    /** Seconds Firehose buffers a source's records before writing an object (0-900; whichever of time or size comes first). */
    bufferSeconds: integer(0, 900).default(RAW_ZONE_DEFAULTS.bufferSeconds),
    /** MiB (before compression) Firehose buffers before writing an object (1-128). */
    bufferMiB: integer(1, 128).default(RAW_ZONE_DEFAULTS.bufferMiB),
    /** Days after which an object moves to `archiveStorageClass` (S3 lifecycle; objects under 128 KB stay where they are). */
    archiveAfterDays: integer(1, 36_500).default(RAW_ZONE_DEFAULTS.archiveAfterDays),
    /**
     * Where archived objects go: GLACIER_IR (Instant Retrieval: Athena and a replay read it directly), GLACIER
     * (Flexible Retrieval) or DEEP_ARCHIVE (both need a restore before a query or a replay).
     */
    archiveStorageClass: oneOf(ARCHIVE_STORAGE_CLASSES).default(RAW_ZONE_DEFAULTS.archiveStorageClass),
    /** Days after which objects are deleted. Unset: never (the raw zone is the record of what arrived). */
    expireAfterDays: integer(2, 36_500).optional(),
    alarms: alarmsSchema.default(() => alarmsSchema.parse({})),
  })
  .superRefine((zone, ctx) => {
    const freshness = zone.alarms.freshnessSeconds;
    if (freshness !== undefined && freshness <= zone.bufferSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['alarms', 'freshnessSeconds'],
        input: freshness,
        message: `expected more seconds than bufferSeconds (${zone.bufferSeconds}): records wait that long in the buffer, so the alarm would fire at every flush`,
      });
    }
    if (zone.expireAfterDays !== undefined && zone.expireAfterDays <= zone.archiveAfterDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['expireAfterDays'],
        input: zone.expireAfterDays,
        message: `expected more days than archiveAfterDays (${zone.archiveAfterDays}): objects are archived before they expire`,
      });
    }
  });

export type RawZoneConfig = z.output<typeof rawZoneSchema>;
