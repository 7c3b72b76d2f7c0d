import { Testing } from 'cdktf';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { ConfigError, parseConfig, readCdkJsonContext } from '../../../platform/config';
import {
  API_PROPAGATION,
  PREREQUISITE_APIS,
  PubSubToBigQueryStack,
  REQUIRED_APIS,
} from '../../../pipelines/pubsub-to-bigquery/stack';

const COST_LABELS = {
  project: 'stream-foundry',
  team: 'data-platform',
  'cost-center': 'cc-0000',
  environment: 'dev',
  pipeline: 'pubsub-to-bigquery',
};

function synth(overrides: Record<string, unknown> = {}) {
  const config = parseConfig({ ...readCdkJsonContext(), ...overrides });
  const stack = new PubSubToBigQueryStack(Testing.app(), 'stack', config);
  const json = Testing.synth(stack);
  return { json, tf: JSON.parse(json), stack };
}

describe('PubSubToBigQueryStack from cdk.json', () => {
  const { json, tf } = synth();

  test('snapshot', () => {
    expect(json).toMatchSnapshot();
  });

  test('google and google-beta providers with the cost labels as default labels', () => {
    for (const provider of [GoogleProvider, GoogleBetaProvider]) {
      expect(json).toHaveProviderWithProperties(provider, {
        project: '${var.project_id}',
        region: 'europe-west1',
        default_labels: COST_LABELS,
      });
    }
  });

  test('without gcp.projectId the project is a required Terraform variable, never a guess', () => {
    expect(tf.variable.project_id).toEqual({
      type: 'string',
      description: expect.stringContaining('Google Cloud project to deploy into'),
    });
    expect(tf.variable.project_id.default).toBeUndefined();
  });

  test('names follow project-environment-source; table and partitioning from the gcp section', () => {
    expect(Object.values(tf.resource.google_pubsub_topic)[0]).toMatchObject({ name: 'stream-foundry-dev-clickstream' });
    expect(Object.values(tf.resource.google_bigquery_dataset)[0]).toMatchObject({
      dataset_id: 'stream_foundry_dev_clickstream',
      location: 'EU',
    });
    expect(json).toHaveResourceWithProperties(BigqueryTable, {
      table_id: 'clickstream',
      time_partitioning: { type: 'DAY', field: 'occurred_at' },
      clustering: ['event_type', 'user_id'],
    });
  });

  test('cost labels on every labelable resource', () => {
    const labelled = Object.entries(
      tf.resource as Record<string, Record<string, { labels?: object; user_labels?: object }>>,
    )
      .flatMap(([type, resources]) => Object.values(resources).map((r) => [type, r.labels ?? r.user_labels] as const))
      .filter(([, labels]) => labels !== undefined);
    expect(labelled.map(([type]) => type).sort()).toEqual(
      expect.arrayContaining([
        'google_bigquery_dataset',
        'google_bigquery_table',
        'google_dataflow_flex_template_job',
        'google_monitoring_alert_policy',
        'google_pubsub_subscription',
        'google_pubsub_topic',
        'google_storage_bucket',
      ]),
    );
    for (const [, labels] of labelled) expect(labels).toMatchObject(COST_LABELS);
  });

  test('enables the APIs it needs, keeps them on destroy, and every resource waits until they have propagated', () => {
    for (const service of REQUIRED_APIS.filter((api) => api !== 'cloudkms.googleapis.com')) {
      expect(json).toHaveResourceWithProperties(ProjectService, { service, disable_on_destroy: false });
    }
    expect(Object.keys(tf.resource.google_project_service)).not.toContain('api-cloudkms');
    const wait = tf.resource.time_sleep['api-propagation'];
    expect(wait).toMatchObject({ create_duration: API_PROPAGATION, provider: 'time' });
    expect([...wait.depends_on].sort()).toEqual(
      Object.keys(tf.resource.google_project_service).map((name) => `google_project_service.${name}`).sort(),
    );
    for (const [type, resources] of Object.entries(
      tf.resource as Record<string, Record<string, { depends_on?: string[] }>>,
    )) {
      for (const [name, resource] of Object.entries(resources)) {
        if (type === 'google_project_service' || name === 'api-propagation') continue;
        expect(resource.depends_on).toEqual(expect.arrayContaining(['time_sleep.api-propagation']));
      }
    }
  });

  test('the Storage Write API the template writes through is enabled explicitly', () => {
    expect(REQUIRED_APIS).toContain('bigquerystorage.googleapis.com');
    expect(json).toHaveResourceWithProperties(ProjectService, { service: 'bigquerystorage.googleapis.com' });
  });

  test('the APIs it cannot enable itself are checked at plan time by a data source that calls both', () => {
    expect(PREREQUISITE_APIS).toEqual(['cloudresourcemanager.googleapis.com', 'serviceusage.googleapis.com']);
    expect(tf.data.google_project_service['prerequisite-cloudresourcemanager']).toEqual({
      project: '${var.project_id}',
      service: 'cloudresourcemanager.googleapis.com',
    });
    // A data source that depends on a resource is read only at apply time: this one must depend on nothing.
    expect(tf.data.google_project_service['prerequisite-cloudresourcemanager'].depends_on).toBeUndefined();
    expect(Object.keys(tf.resource.google_project_service)).not.toEqual(
      expect.arrayContaining(['api-cloudresourcemanager']),
    );
  });

  test('every alert policy notifies the alarm e-mails and carries its runbook link and threshold', () => {
    const { tf: withEmails } = synth({ alarmEmails: 'oncall@example.com' });
    const policies = Object.values(
      withEmails.resource.google_monitoring_alert_policy as Record<string, Record<string, any>>,
    );
    // the seven pipeline alerts and the freshness SLO (freshness.enabled is the default)
    expect(policies).toHaveLength(8);
    const [channel] = Object.keys(withEmails.resource.google_monitoring_notification_channel);
    for (const policy of policies) {
      expect(policy.notification_channels).toEqual([`\${google_monitoring_notification_channel.${channel}.id}`]);
      expect(policy.documentation.mime_type).toBe('text/markdown');
      expect(policy.documentation.content).toMatch(
        /(Threshold: \d+|Fires after \d+s)\. Runbook: https:\/\/github\.com\/stream-foundry\/stream-foundry\/blob\/main\/docs\/runbooks\/pubsub-to-bigquery\.md#[a-z0-9-]+$/,
      );
    }
  });

  test('the dead-letter alert watches the Dataflow job by its name, not BigQuery storage metrics', () => {
    const policy = Object.values(tf.resource.google_monitoring_alert_policy as Record<string, any>).find(
      (p) => p.display_name === 'stream-foundry-dev-clickstream: Rejected records',
    );
    const job = Object.values(tf.resource.google_dataflow_flex_template_job as Record<string, any>)[0];
    expect(policy.conditions[0].condition_prometheus_query_language.query).toContain(`job_name="${job.name}"`);
    expect(json).not.toContain('uploaded_row_count');
  });

  test('outputs say where to publish and where rows land', () => {
    expect(Object.keys(tf.output).sort()).toEqual(['dataflow_job_id', 'dead_letter_table', 'table', 'topic']);
  });
});

describe('PubSubToBigQueryStack options', () => {
  test('gcp.projectId fixes the project at synth time', () => {
    const { tf } = synth({ 'gcp.projectId': 'acme-data' });
    expect(tf.variable).toBeUndefined();
    expect(tf.provider.google[0].project).toBe('acme-data');
  });

  test('gcp.notificationChannels are notified by every alert policy, next to the alarmEmails channels', () => {
    const channel = 'projects/acme-ops/notificationChannels/12345';
    const { tf } = synth({ alarmEmails: 'oncall@example.com', 'gcp.notificationChannels': channel });
    const [email] = Object.keys(tf.resource.google_monitoring_notification_channel);
    const policies = Object.values(tf.resource.google_monitoring_alert_policy as Record<string, any>);
    expect(policies).toHaveLength(8);
    for (const policy of policies) {
      expect(policy.notification_channels).toEqual([`\${google_monitoring_notification_channel.${email}.id}`, channel]);
    }
  });

  test('alarmEmails become notification channels', () => {
    const { tf } = synth({ alarmEmails: 'oncall@example.com' });
    expect(Object.values(tf.resource.google_monitoring_notification_channel)).toEqual([
      expect.objectContaining({ type: 'email', labels: { email_address: 'oncall@example.com' } }),
    ]);
  });

  test('another source: orders partitioned on updated_at', () => {
    const { tf } = synth({
      'sources.clickstream.pipelines': 'landingZone',
      'sources.orders.pipelines': 'landingZone,gcp',
      'gcp.eventTimeField': 'updated_at',
      'gcp.clusteringFields': 'status',
    });
    const tables = Object.values(tf.resource.google_bigquery_table) as {
      table_id: string;
      time_partitioning: object;
    }[];
    expect(tables.find((t) => t.table_id === 'orders')?.time_partitioning).toEqual({
      type: 'DAY',
      field: 'updated_at',
    });
  });

  test('CMEK enables Cloud KMS', () => {
    const { tf } = synth({
      'gcp.kmsKeyName': 'projects/acme/locations/europe-west1/keyRings/r/cryptoKeys/k',
      'gcp.datasetLocation': 'europe-west1',
    });
    expect(tf.resource.google_project_service['api-cloudkms']).toMatchObject({ service: 'cloudkms.googleapis.com' });
  });

  test('CMEK: the service-agent lookups wait for the APIs they call (read during apply on a fresh project), the prerequisite check does not', () => {
    const { tf } = synth({
      'gcp.kmsKeyName': 'projects/acme/locations/europe-west1/keyRings/r/cryptoKeys/k',
      'gcp.datasetLocation': 'europe-west1',
    });
    for (const type of ['google_bigquery_default_service_account', 'google_storage_project_service_account', 'google_project']) {
      for (const body of Object.values(tf.data[type] as Record<string, { depends_on?: string[] }>)) {
        expect(body.depends_on).toEqual(['time_sleep.api-propagation']);
      }
    }
    expect(tf.data.google_project_service['prerequisite-cloudresourcemanager'].depends_on).toBeUndefined();
  });

  test('a config without a gcp section fails with a ConfigError saying what is missing', () => {
    const config = parseConfig({ ...readCdkJsonContext(), gcp: undefined, 'sources.clickstream.pipelines': 'landingZone' });
    expect(() => new PubSubToBigQueryStack(Testing.app(), 'stack', config)).toThrow(ConfigError);
    expect(() => new PubSubToBigQueryStack(Testing.app(), 'other', config)).toThrow(
      'gcp: received nothing; expected a "gcp" section naming at least eventTimeField, and a source with "gcp" in its pipelines',
    );
  });

  test('an event-time field that is not a timestamp fails synth with the reason', () => {
    expect(() => synth({ 'gcp.eventTimeField': 'user_id' })).toThrow(
      'partition field "user_id" must be a TIMESTAMP or DATE (JSON Schema format date-time or date), found REQUIRED STRING',
    );
  });
});
