import { z } from 'zod';
import { flag, integer, list, text } from '../config/settings';

/** Defaults of the `prometheus` section (platform/observability/README.md says why). */
export const OBSERVABILITY_DEFAULTS = {
  /** The managed collector's floor: it refuses a scrape interval under 30 s (AMP user guide, "Scraper limitations"). */
  scrapeIntervalSeconds: 30,
  /** Amazon Managed Service for Prometheus keeps samples 150 days unless the workspace says otherwise. */
  retentionDays: 150,
} as const;

/**
 * The `prometheus` section: an Amazon Managed Service for Prometheus workspace and an AWS managed collector (scraper)
 * on pipeline 1's EKS cluster, collecting the consumer pods' /metrics and the cluster's container metrics.
 */
export const prometheusSchema = z.strictObject({
  /** Off: no workspace and no scraper (the Grafana dashboards' Prometheus panels then stay empty). */
  enabled: flag().default(true),
  /** Seconds between scrapes: at least 30 (the managed collector's minimum). */
  scrapeIntervalSeconds: integer(OBSERVABILITY_DEFAULTS.scrapeIntervalSeconds, 3600).default(OBSERVABILITY_DEFAULTS.scrapeIntervalSeconds),
  /** Days the workspace keeps samples. */
  retentionDays: integer(1, 1095).default(OBSERVABILITY_DEFAULTS.retentionDays),
  /**
   * Only with `queueToS3.cluster.existingClusterName`: two or more subnets of that cluster, in two zones, where the
   * scraper's network interfaces go. Without them, an existing cluster gets no scraper (synth warns).
   */
  subnetIds: list(text(/^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/, 'a subnet id (subnet- and 8 or 17 hex digits)')).default([]),
  /** Only with an existing cluster: security groups of the scraper's interfaces (the cluster security group lets it reach the pods). */
  securityGroupIds: list(text(/^sg-([0-9a-f]{8}|[0-9a-f]{17})$/, 'a security group id (sg- and 8 or 17 hex digits)')).default([]),
});

export type PrometheusSettings = z.output<typeof prometheusSchema>;
