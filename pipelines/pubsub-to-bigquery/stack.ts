import * as fs from 'fs';
import {
  Aspects,
  IAspect,
  TerraformDataSource,
  TerraformOutput,
  TerraformResource,
  TerraformStack,
  TerraformVariable,
} from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { DataGoogleProjectService } from '@cdktf/provider-google/lib/data-google-project-service';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { PubSubToBigQuery } from './construct';
import { TimeSleep } from './construct/propagation';
import { PubSubToBigQueryMonitoring } from './monitoring';
import { ConfigError, StreamFoundryConfig } from '../../platform/config';
import { dataSources } from '../../platform/data-source';
import { canaryTemplate } from '../../platform/freshness';

/**
 * APIs that must be enabled before the first plan: the stack cannot enable them itself. google_project_service reads
 * the project through Cloud Resource Manager and enables services through Service Usage
 * (terraform-provider-google#6101, #11435), and google_project_iam_member calls Cloud Resource Manager.
 * `gcloud services enable cloudresourcemanager.googleapis.com serviceusage.googleapis.com --project=PROJECT`
 */
export const PREREQUISITE_APIS = ['cloudresourcemanager.googleapis.com', 'serviceusage.googleapis.com'] as const;

/**
 * How long resources wait after the stack enabled an API. Google's own error for a fresh API: "If you enabled this API
 * recently, wait a few minutes for the action to propagate to our systems and retry"; the provider does not retry it.
 */
export const API_PROPAGATION = '120s';

/** APIs the pipeline calls; enabled by the stack so a fresh project deploys without a manual step. */
export const REQUIRED_APIS = [
  'bigquery.googleapis.com',
  // The template writes through the BigQuery Storage Write API, which is this service (useStorageWriteApi=true).
  'bigquerystorage.googleapis.com',
  'cloudkms.googleapis.com',
  // The freshness canary's schedule (only with freshness.enabled).
  'cloudscheduler.googleapis.com',
  'compute.googleapis.com',
  'dataflow.googleapis.com',
  'iam.googleapis.com',
  'logging.googleapis.com',
  'monitoring.googleapis.com',
  'pubsub.googleapis.com',
  'storage.googleapis.com',
] as const;

/**
 * Pipeline 4: Pub/Sub → Dataflow → BigQuery for one configured source, with its alerts and dashboard.
 * Everything comes from the shared configuration (cdk.json context, section `gcp`).
 */
export class PubSubToBigQueryStack extends TerraformStack {
  /** The pipeline: topic, subscription, Dataflow job and BigQuery tables of the configured source. */
  public readonly pipeline: PubSubToBigQuery;
  /** The pipeline's alert policies, notification channels and dashboard. */
  public readonly monitoring: PubSubToBigQueryMonitoring;

  constructor(scope: Construct, id: string, config: StreamFoundryConfig) {
    super(scope, id);
    const gcp = config.gcp;
    if (!gcp) {
      throw new ConfigError([
        'gcp: received nothing; expected a "gcp" section naming at least eventTimeField, and a source with "gcp" in its pipelines',
      ]);
    }
    const [source] = dataSources(config, 'gcp'); // exactly one: the configuration checks it
    const schema = JSON.parse(fs.readFileSync(source.schemaFile, 'utf8'));

    // Without gcp.projectId the output still synthesizes; Terraform then requires -var project_id=... at plan time.
    const projectId =
      gcp.projectId ??
      new TerraformVariable(this, 'project_id', {
        type: 'string',
        description: 'Google Cloud project to deploy into (set gcp.projectId in cdk.json to fix it at synth time).',
      }).stringValue;
    const labels = {
      project: config.project,
      team: config.team,
      'cost-center': config.costCenter,
      environment: config.environment,
      pipeline: 'pubsub-to-bigquery',
    };

    // google-beta only for what GA lacks (the Flex template job); every such resource must name it explicitly.
    const betaProvider = new GoogleBetaProvider(this, 'google-beta', { project: projectId, region: gcp.region });
    for (const provider of [new GoogleProvider(this, 'google', { project: projectId, region: gcp.region }), betaProvider]) {
      // Default labels reach every labelable resource. Set as an override because CDKTF rewrites provider map keys
      // to snake_case ("cost-center" would become "cost_center"); resources also set `labels` explicitly.
      provider.addOverride('default_labels', labels);
    }

    // Read at plan time, before anything is created: the read calls Cloud Resource Manager (projects.get) and Service
    // Usage (services.list), so a project without them stops here with Google's "... API has not been used in project
    // ... before or it is disabled" naming the API, instead of halfway through the first apply (docs/gcp.md, Deploy).
    const prerequisites = new DataGoogleProjectService(this, 'prerequisite-cloudresourcemanager', {
      project: projectId,
      service: PREREQUISITE_APIS[0],
    });
    const freshness = config.freshness;
    const services = REQUIRED_APIS.filter(
      (api) =>
        (api !== 'cloudkms.googleapis.com' || gcp.kmsKeyName) &&
        (api !== 'cloudscheduler.googleapis.com' || freshness.enabled),
    );
    const apis = services.map(
      (service) =>
        // Left enabled on destroy: other workloads in the project may rely on the same APIs.
        new ProjectService(this, `api-${service.split('.')[0]}`, {
          project: projectId,
          service,
          disableOnDestroy: false,
        }),
    );
    const apisReady = new TimeSleep(this, 'api-propagation', {
      createDuration: API_PROPAGATION,
      dependsOn: apis,
      // Enabling another API later (CMEK adds Cloud KMS) waits again.
      triggers: { services: services.join(',') },
    });

    const name = `${config.project}-${config.environment}-${source.name}`;
    this.pipeline = new PubSubToBigQuery(this, 'PubSubToBigQuery', {
      projectId,
      betaProvider,
      region: gcp.region,
      name,
      schema,
      eventTimeField: source.eventTimeField,
      // The UDF that keeps canary events out of the table runs whether or not the canary does (the exits always
      // recognise canary ids), so a canary sent by hand is dropped too.
      idField: source.idField,
      // The source's canary event as every pipeline makes it (platform/freshness/template.ts), sent with the canary id.
      canary: freshness.enabled
        ? { intervalMinutes: freshness.intervalMinutes, event: canaryTemplate(source) }
        : undefined,
      clusteringFields: gcp.clusteringFields,
      tableId: source.name.replace(/-/g, '_'),
      labels,
      kmsKeyName: gcp.kmsKeyName,
      messageRetentionHours: gcp.messageRetentionHours,
      partitionExpirationDays: gcp.partitionExpirationDays,
      deadLetterRetentionDays: gcp.deadLetterRetentionDays,
      allowDataDestruction: config.allowDataDestruction,
      datasetProps: { location: gcp.datasetLocation },
      templateVersion: gcp.templateVersion,
      maxWorkers: gcp.maxWorkers,
      workerMachineType: gcp.workerMachineType,
      subnetwork: gcp.subnetwork,
      privateWorkerIps: gcp.privateWorkerIps,
      onDestroy: gcp.onDestroy,
      writeSemantics: gcp.writeSemantics,
      storageWriteApiStreams: gcp.storageWriteApiStreams,
      storageWriteApiTriggeringFrequencySeconds: gcp.storageWriteApiTriggeringFrequencySeconds,
    });
    this.monitoring = new PubSubToBigQueryMonitoring(this, 'Monitoring', {
      projectId,
      pipelineName: name,
      topicName: this.pipeline.topic.name,
      subscriptionName: this.pipeline.subscription.name,
      jobName: name,
      datasetId: this.pipeline.datasetId,
      deadLetterTableId: this.pipeline.deadLetterTable.tableId,
      notificationEmails: config.alarmEmails,
      existingNotificationChannels: gcp.notificationChannels,
      thresholds: gcp.alerts,
      labels,
      docsUrl: config.docsUrl,
      freshness: freshness.enabled
        ? { targetSeconds: freshness.targetSeconds, windowMinutes: freshness.windowMinutes }
        : undefined,
    });

    Aspects.of(this).add(new DependOnApis(apisReady, prerequisites));

    new TerraformOutput(this, 'topic', { value: this.pipeline.topic.id, description: 'Publish events here.' });
    new TerraformOutput(this, 'table', {
      value: `${projectId}.${this.pipeline.datasetId}.${this.pipeline.table.tableId}`,
      description: 'Events land here.',
    });
    new TerraformOutput(this, 'dead_letter_table', {
      value: `${projectId}.${this.pipeline.datasetId}.${this.pipeline.deadLetterTable.tableId}`,
      description: 'Records that failed, with the error.',
    });
    new TerraformOutput(this, 'dataflow_job_id', { value: this.pipeline.job.jobId });
  }
}

/**
 * Makes every resource wait until the APIs are enabled and have propagated, without threading dependsOn through each
 * construct. Data sources too (CMEK looks up the BigQuery and Storage service agents through their APIs): a data
 * source that depends on a pending change is read during apply instead of at plan time, when a fresh project does not
 * have those APIs yet. Only the prerequisite check stays a plan-time read.
 */
class DependOnApis implements IAspect {
  constructor(
    private readonly apisReady: TimeSleep,
    private readonly prerequisites: TerraformDataSource,
  ) {}

  visit(node: IConstruct): void {
    const resource = node instanceof TerraformResource && !(node instanceof ProjectService) && node !== this.apisReady;
    const dataSource = node instanceof TerraformDataSource && node !== this.prerequisites;
    if (resource || dataSource) {
      const ready = `${this.apisReady.terraformResourceType}.${this.apisReady.friendlyUniqueId}`;
      node.dependsOn = [...new Set([...(node.dependsOn ?? []), ready])];
    }
  }
}
