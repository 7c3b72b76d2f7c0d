import { z } from 'zod';
import { TEMPLATE_VERSION } from './construct/props';
import { flag, integer, list, oneOf, text } from '../../platform/config/settings';
import { noDataMinutesSetting } from '../../platform/pipeline/alarm-settings';

/**
 * The `gcp` section: Pipeline 4, Pub/Sub → Dataflow → BigQuery, deployed with CDK for Terraform (bin/gcp.ts).
 *
 * The source it carries is the one source that lists `gcp` in its `pipelines`. Everything has a safe default except
 * that source's event-time field. `projectId` is optional on
 * purpose: without it synth still works offline, and the Terraform output asks for the required variable
 * `project_id` at plan time (`terraform plan -var project_id=...`), so nothing is ever deployed to a guessed project.
 */

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

const alertsSchema = z.strictObject({
  /** Age of the oldest unacknowledged message on the Dataflow subscription: Dataflow is not keeping up or stopped. */
  oldestUnackedMessageAgeSeconds: integer(60, 86_400).default(600),
  /** Backlog on the Dataflow subscription. */
  undeliveredMessages: integer(1, 100_000_000).default(10_000),
  /** Dataflow system lag: how long an element has waited inside the pipeline. */
  systemLagSeconds: integer(30, 86_400).default(300),
  /** Dataflow data freshness (data watermark age): how far event time in BigQuery trails real time. */
  dataFreshnessSeconds: integer(60, 86_400).default(900),
  /** Records routed to the dead-letter table in the last hour above which the dead-letter alert fires (0 = any). */
  deadLetterRowsPerHour: integer(0, 1_000_000).default(0),
  /** Minutes without a single message published to the topic before the "no data" alert fires. */
  noDataMinutes: noDataMinutesSetting(),
});

export const gcpSchema = z
  .strictObject({
    /** Google Cloud project id; leave unset to pass it at deploy time as the Terraform variable project_id. */
    projectId: text(
      /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
      'a Google Cloud project id (6-30 lower-case letters, digits or "-")',
    ).optional(),
    /** Region of the Dataflow job, the temp bucket and the Pub/Sub message storage. */
    region: text(/^[a-z]+-[a-z]+\d+$/, 'a Google Cloud region such as "europe-west1"').default('europe-west1'),
    /** Top-level date-time field of the source: the table is partitioned by day on it. */
    eventTimeField: text(FIELD, 'a top-level field name'),
    /** Up to four top-level columns BigQuery clusters the table on (order matters: most filtered first). */
    clusteringFields: list(text(FIELD, 'a top-level field name'))
      .refine((fields) => fields.length <= 4, { error: 'expected at most 4 clustering fields (a BigQuery limit)' })
      .default([]),
    /** BigQuery dataset location (multi-region "EU"/"US" or a region); should contain the Dataflow region. */
    datasetLocation: text(
      /^([A-Z]{2}|[a-z]+-[a-z]+\d+)$/,
      'a BigQuery location such as "EU", "US" or "europe-west1"',
    ).default('EU'),
    /** Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) for topic, dataset, bucket and job; unset = Google-managed keys. */
    kmsKeyName: text(
      /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/,
      'a Cloud KMS key name "projects/P/locations/L/keyRings/R/cryptoKeys/K"',
    ).optional(),
    /** How long Pub/Sub keeps messages (topic and subscription), so a stopped job can catch up or you can replay. */
    messageRetentionHours: integer(1, 168).default(168),
    /** Days a partition of the main table is kept; 0 = forever. */
    partitionExpirationDays: integer(0, 36_500).default(0),
    /** Days dead-letter rows are kept. */
    deadLetterRetentionDays: integer(1, 3_650).default(90),
    /**
     * Release of the Google-provided template (a dated folder of gs://dataflow-templates-REGION/), pinned so a redeploy
     * runs the code that was tested; "latest" follows Google's newest release. docs/gcp.md says how to move it.
     */
    templateVersion: text(
      /^(latest|\d{4}-\d{2}-\d{2}-\d{2}_RC\d{2})$/,
      `"latest" or a template release such as "${TEMPLATE_VERSION}"`,
    ).default(TEMPLATE_VERSION),
    /** Upper bound of Dataflow autoscaling. */
    maxWorkers: integer(1, 1_000).default(3),
    /** Worker machine type; unset = the Dataflow default for Streaming Engine jobs. */
    workerMachineType: text(
      /^[a-z0-9]+-[a-z0-9-]+$/,
      'a Compute Engine machine type such as "n2-standard-2"',
    ).optional(),
    /** Subnetwork for the workers ("regions/REGION/subnetworks/NAME" or a self link); unset = the "default" network. */
    subnetwork: text(
      /^(https:\/\/www\.googleapis\.com\/compute\/v1\/projects\/[^/]+\/)?regions\/[^/]+\/subnetworks\/[^/]+$/,
      'a subnetwork "regions/REGION/subnetworks/NAME"',
    ).optional(),
    /** Workers without public IPs; needs `subnetwork`, a subnetwork with Private Google Access. */
    privateWorkerIps: flag().default(false),
    /** What `destroy` does with the running job: drain (finish in-flight data) or cancel (drop it). */
    onDestroy: oneOf(['drain', 'cancel'] as const).default('drain'),
    /** BigQuery Storage Write API semantics: exactly-once, or cheaper at-least-once (duplicates share the source's idField). */
    writeSemantics: oneOf(['exactly-once', 'at-least-once'] as const).default('exactly-once'),
    /** Exactly-once only: Storage Write API streams (write parallelism). */
    storageWriteApiStreams: integer(1, 1_000).default(3),
    /** Exactly-once only: seconds between commits, i.e. how soon rows become visible. */
    storageWriteApiTriggeringFrequencySeconds: integer(1, 3_600).default(5),
    alerts: alertsSchema.default(() => alertsSchema.parse({})),
    /**
     * Existing Cloud Monitoring notification channels every alert notifies, besides the alarmEmails channels
     * (e.g. a PagerDuty or Slack channel you manage): "projects/PROJECT/notificationChannels/ID".
     */
    notificationChannels: list(
      text(
        /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/notificationChannels\/\d+$/,
        'a notification channel id "projects/PROJECT/notificationChannels/ID" (gcloud beta monitoring channels list --format="value(name)")',
      ),
    ).default([]),
  })
  .superRefine((gcp, ctx) => {
    // Without a subnetwork the workers land on the "default" network's subnet, whose Private Google Access is off:
    // workers without external IPs then cannot reach Pub/Sub, BigQuery or Storage and the job never starts
    // (Dataflow "Internet access for Dataflow" page: private IPs need a subnetwork with Private Google Access).
    if (gcp.privateWorkerIps && !gcp.subnetwork) {
      ctx.addIssue({
        code: 'custom',
        path: ['privateWorkerIps'],
        input: gcp.privateWorkerIps,
        message:
          'expected gcp.subnetwork too ("regions/REGION/subnetworks/NAME" of a subnetwork with Private Google Access): without it the workers run on the default subnet, which has no Private Google Access, and cannot reach Google APIs',
      });
    }
    // One key encrypts the topic, dataset, bucket and job, and each of them only accepts a key in its own location.
    const keyLocation = gcp.kmsKeyName?.split('/')[3];
    if (keyLocation !== undefined && (keyLocation !== gcp.region || gcp.datasetLocation !== gcp.region)) {
      ctx.addIssue({
        code: 'custom',
        path: ['kmsKeyName'],
        input: gcp.kmsKeyName,
        message: `expected a key in the pipeline's region "${gcp.region}", with datasetLocation "${gcp.region}" too (now "${gcp.datasetLocation}"): one key serves the topic, dataset, bucket and Dataflow job, which must share its location`,
      });
    }
  });

export type GcpConfig = z.output<typeof gcpSchema>;
export type GcpAlertsConfig = z.output<typeof alertsSchema>;
