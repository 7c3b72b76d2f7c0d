import { DEFAULT_NO_DATA_MINUTES } from '../../../platform/pipeline/alarm-settings';

export interface PubSubToBigQueryThresholds {
  /** @default 600 */
  readonly oldestUnackedMessageAgeSeconds?: number;
  /** @default 10000 */
  readonly undeliveredMessages?: number;
  /** @default 300 */
  readonly systemLagSeconds?: number;
  /** @default 900 */
  readonly dataFreshnessSeconds?: number;
  /** Records routed to the dead-letter table in the last hour above which the alert fires. @default 0 (any record) */
  readonly deadLetterRowsPerHour?: number;
  /** Minutes without a single message published to the topic before the "no data" alert fires. @default 60 */
  readonly noDataMinutes?: number;
}

type Thresholds = Required<PubSubToBigQueryThresholds>;

/** The default thresholds (README.md, "Alerts and thresholds", explains each). */
export const DEFAULT_THRESHOLDS: Thresholds = {
  oldestUnackedMessageAgeSeconds: 600,
  undeliveredMessages: 10_000,
  systemLagSeconds: 300,
  dataFreshnessSeconds: 900,
  deadLetterRowsPerHour: 0,
  noDataMinutes: DEFAULT_NO_DATA_MINUTES,
};

/** The thresholds with every default filled in (a threshold passed as `undefined` gets its default too). */
export function thresholdsWithDefaults(thresholds: PubSubToBigQueryThresholds = {}): Thresholds {
  const keys = Object.keys(DEFAULT_THRESHOLDS) as (keyof Thresholds)[];
  return Object.fromEntries(keys.map((key) => [key, thresholds[key] ?? DEFAULT_THRESHOLDS[key]])) as Thresholds;
}

/** The freshness SLO (the `freshness` settings section). */
export interface FreshnessSlo {
  /** The p95 data freshness above which the SLO alert fires, in seconds. */
  readonly targetSeconds: number;
  /** The window of the p95, in minutes. */
  readonly windowMinutes: number;
}

export interface PubSubToBigQueryMonitoringProps {
  readonly projectId: string;
  /** Name of the topic publishers send to (watched for silence). */
  readonly topicName: string;
  /** Name of the Pub/Sub subscription the job reads. */
  readonly subscriptionName: string;
  /** Name of the Dataflow job. */
  readonly jobName: string;
  /** Dataset and dead-letter table: named in the dead-letter alert, whose runbook queries the table. */
  readonly datasetId: string;
  readonly deadLetterTableId: string;
  /** Shown in alert titles and the dashboard name. */
  readonly pipelineName: string;
  /** Addresses notified of every alert; each becomes an e-mail notification channel. @default none */
  readonly notificationEmails?: string[];
  /** Channels you already have (ids "projects/P/notificationChannels/N"), notified as well. @default none */
  readonly existingNotificationChannels?: string[];
  readonly thresholds?: PubSubToBigQueryThresholds;
  /**
   * The freshness SLO alert: the p95 of Dataflow's data freshness (`job/data_watermark_age`) over `windowMinutes`
   * above `targetSeconds` (conditions.ts says what it measures). @default none
   */
  readonly freshness?: FreshnessSlo;
  /** User labels on alert policies and channels (cost tags). */
  readonly labels?: Record<string, string>;
  /**
   * Where docs/ is published (the `docsUrl` setting): every alert links `<docsUrl>/runbooks/pubsub-to-bigquery.md#<its
   * section>`. @default DEFAULT_DOCS_URL, the repository's docs folder
   */
  readonly docsUrl?: string;
}

/** A notification channel's id (its resource name), as Cloud Monitoring and the alert policy's `notification_channels` take it. */
export const NOTIFICATION_CHANNEL_ID = /^projects\/[^/]+\/notificationChannels\/\d+$/;

/** The pipeline's runbook, docs/runbooks/<RUNBOOK>.md: one section per alert, headed by the alert's title. */
export const RUNBOOK = 'pubsub-to-bigquery';
