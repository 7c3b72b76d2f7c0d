import { z } from 'zod';
import { flag, integer, list, oneOf, text } from '../config/settings';

/** Defaults of the `prometheus` section (platform/observability/README.md says why). */
export const OBSERVABILITY_DEFAULTS = {
  /** The managed collector's floor: it refuses a scrape interval under 30 s (AMP user guide, "Scraper limitations"). */
  scrapeIntervalSeconds: 30,
  /** Amazon Managed Service for Prometheus keeps samples 150 days unless the workspace says otherwise. */
  retentionDays: 150,
  /** Grafana 10.4: the newest Amazon Managed Grafana version when this was written; service accounts need 9 or later. */
  grafanaVersion: '10.4',
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

/**
 * The `grafana` section: an Amazon Managed Grafana workspace in the queue-to-s3 stack, beside the Prometheus workspace,
 * with CloudWatch and that Prometheus workspace as data sources and docs/grafana's dashboards imported at every deploy.
 * Off by default: Managed Grafana signs users in only through IAM Identity Center (enabled in the organization or the
 * account before the deploy) or a SAML identity provider, neither of which a stack can set up for you.
 */
export const grafanaSchema = z
  .strictObject({
    /** On: the workspace, its role and the dashboards. Needs IAM Identity Center or a SAML IdP (see `authentication`). */
    enabled: flag().default(false),
    /** How users sign in: AWS_SSO (IAM Identity Center, enabled beforehand; assign users after the deploy) or SAML. */
    authentication: oneOf(['AWS_SSO', 'SAML'] as const).default('AWS_SSO'),
    /** SAML only: the IdP's metadata URL. Without it the workspace starts with SAML not configured (finish it in the console). */
    samlMetadataUrl: text(/^https:\/\/\S+$/, 'an https:// URL of the SAML identity provider metadata').optional(),
    /** Grafana version of the workspace (major.minor, 9.4 or later: the deploy uses service accounts). */
    grafanaVersion: text(/^(9|[1-9]\d+)\.\d+$/, 'a Grafana version major.minor, 9.4 or later (Amazon Managed Grafana offers e.g. 9.4, 10.4)').default(
      OBSERVABILITY_DEFAULTS.grafanaVersion,
    ),
  })
  .refine((g) => g.samlMetadataUrl === undefined || g.authentication === 'SAML', {
    path: ['samlMetadataUrl'],
    error: 'expected only with authentication SAML',
  });

export type GrafanaSettings = z.output<typeof grafanaSchema>;
