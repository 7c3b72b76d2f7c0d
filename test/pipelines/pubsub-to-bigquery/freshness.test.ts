import * as fs from 'fs';
import * as vm from 'vm';
import { Testing } from 'cdktf';
import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import { canaryId, canaryPublishedAt, CANARY_ID_PREFIX } from '../../../platform/freshness/contract';
import { loadSchema } from '../../../platform/handlers/schema-validator';
import { headingAnchor } from '../../../platform/pipeline';
import { fromRoot } from '../../../platform/paths';
import { loadSamples } from '../../../platform/samples';
import { dataSources } from '../../../platform/data-source';
import {
  CANARY_FILTER_FUNCTION,
  canaryFilterUdf,
  canarySchedule,
  PubSubToBigQuery,
  STATIC_CANARY_ID,
} from '../../../pipelines/pubsub-to-bigquery/construct';
import { PubSubToBigQueryStack } from '../../../pipelines/pubsub-to-bigquery/stack';

type Resources = Record<string, Record<string, any>>;

function synth(overrides: Record<string, unknown> = {}): { resource: Resources } {
  const config = parseConfig({ ...readCdkJsonContext(), ...overrides });
  return JSON.parse(Testing.synth(new PubSubToBigQueryStack(Testing.app(), 'stack', config)));
}

/** The one resource of `type` whose id contains `id`. */
function one(tf: { resource: Resources }, type: string, id: string): [string, any] {
  const found = Object.entries(tf.resource[type] ?? {}).filter(([name]) => name.includes(id));
  expect(found.map(([name]) => name)).toHaveLength(1);
  return found[0];
}

/** Loads UDF source the way the template's Nashorn runtime does (evaluate the file, call the named function). */
function udf(source: string): (payload: string) => string | null | undefined {
  const context = vm.createContext({});
  vm.runInContext(source, context);
  return (payload) => context[CANARY_FILTER_FUNCTION](payload);
}

const config = parseConfig(readCdkJsonContext());
const [source] = dataSources(config, 'gcp');
const [sample] = loadSamples(config, source.name);
const validate = loadSchema(source.schemaFile);

describe('the canary filter UDF (what the Dataflow job runs on every message)', () => {
  const tf = synth();
  // The deployed artifact: the object the job's javascriptTextTransformGcsPath points at.
  const [objectId, object] = one(tf, 'google_storage_bucket_object', 'CanaryFilterUdf');
  const drop = udf(object.content);

  test('the job runs it: both UDF parameters name the uploaded object and its function', () => {
    const job = Object.values(tf.resource.google_dataflow_flex_template_job)[0] as any;
    expect(job.parameters.javascriptTextTransformGcsPath).toBe(
      `gs://\${google_storage_bucket.PubSubToBigQuery_TempBucket_177D5BF0.name}/\${google_storage_bucket_object.${objectId}.name}`,
    );
    expect(job.parameters.javascriptTextTransformFunctionName).toBe(CANARY_FILTER_FUNCTION);
    expect(job.parameters.javascriptTextTransformFunctionName).toMatch(/^[A-Za-z0-9_]+$/);
    // outside temp/, which the bucket's lifecycle rule empties; content-addressed, replaced before the old one goes
    expect(object.name).toMatch(/^udf\/canary-filter-[0-9a-f]{8}\.js$/);
    expect(object.lifecycle).toEqual({ create_before_destroy: true });
  });

  test('drops canary events: the static canary and any id under the canary prefix', () => {
    for (const id of [STATIC_CANARY_ID, canaryId(Date.now())]) {
      expect(drop(JSON.stringify({ ...sample, [source.idField]: id }))).toBeNull();
    }
  });

  test('returns every other payload unchanged, byte for byte', () => {
    const business = JSON.stringify(sample);
    expect(drop(business)).toBe(business);
    // the prefix elsewhere in the event, an id that only contains it, a numeric id, a non-object, invalid JSON
    for (const payload of [
      JSON.stringify({ ...sample, user_id: `${CANARY_ID_PREFIX}000000000001` }),
      JSON.stringify({ ...sample, [source.idField]: `x-${CANARY_ID_PREFIX}000000000001` }),
      JSON.stringify({ ...sample, [source.idField]: 7 }),
      JSON.stringify([{ [source.idField]: STATIC_CANARY_ID }]),
      'null',
      `{"${source.idField}": "${STATIC_CANARY_ID}"`,
      '  {"not": "an event"}  ',
    ]) {
      expect(drop(payload)).toBe(payload);
    }
  });

  test('plain ES5 for Nashorn, one function, the id field as configured', () => {
    expect(object.content).not.toMatch(/\b(const|let|class)\b|=>|`/);
    expect(object.content).toContain(`event["${source.idField}"]`);
    expect(object.content).toBe(canaryFilterUdf(source.idField));
  });

  test('refuses an id field that is not a plain top-level name', () => {
    expect(() => canaryFilterUdf('a"];evil();//')).toThrow(/idField must be a top-level field name/);
  });

  test('stays when the canary is off: a canary sent by hand is still kept out of the table', () => {
    const off = synth({ 'freshness.enabled': false });
    const job = Object.values(off.resource.google_dataflow_flex_template_job)[0] as any;
    expect(job.parameters.javascriptTextTransformFunctionName).toBe(CANARY_FILTER_FUNCTION);
    expect(Object.keys(off.resource.google_storage_bucket_object)).toHaveLength(1);
  });
});

describe('the canary (Cloud Scheduler → Pub/Sub)', () => {
  const tf = synth();
  const [, job] = one(tf, 'google_cloud_scheduler_job', 'Canary');
  const [saId, serviceAccount] = one(tf, 'google_service_account', 'CanaryServiceAccount');
  const saEmail = `\${google_service_account.${saId}.email}`;
  const topic = `\${google_pubsub_topic.${Object.keys(tf.resource.google_pubsub_topic)[0]}.id}`;
  const request = JSON.parse(Buffer.from(job.http_target.body, 'base64').toString('utf8'));
  const event = JSON.parse(Buffer.from(request.messages[0].data, 'base64').toString('utf8'));

  test('runs every freshness.intervalMinutes (default 1) in the pipeline region, no retries', () => {
    expect(job).toMatchObject({
      name: 'stream-foundry-dev-clickstream-freshness-canary',
      region: 'europe-west1',
      schedule: '*/1 * * * *',
      time_zone: 'Etc/UTC',
      retry_config: { retry_count: 0 },
    });
    expect(synth({ 'freshness.intervalMinutes': 5 }).resource.google_cloud_scheduler_job).toMatchObject({
      [Object.keys(tf.resource.google_cloud_scheduler_job)[0]]: { schedule: '*/5 * * * *' },
    });
  });

  test("publishes to the pipeline's topic through Pub/Sub's publish method, as its own service account", () => {
    expect(job.http_target).toMatchObject({
      uri: `https://pubsub.googleapis.com/v1/${topic}:publish`,
      http_method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      oauth_token: { service_account_email: saEmail, scope: 'https://www.googleapis.com/auth/pubsub' },
    });
    expect(job.pubsub_target).toBeUndefined();
    // a service account id is 6-30 characters
    expect(serviceAccount.account_id).toMatch(/^canary-[a-z0-9-]{1,23}$/);
  });

  test('least privilege: roles/pubsub.publisher on that topic, and no other grant to the canary account', () => {
    const [, grant] = one(tf, 'google_pubsub_topic_iam_member', 'CanaryPublisher');
    expect(grant).toMatchObject({ topic, role: 'roles/pubsub.publisher', member: `serviceAccount:${saEmail}` });
    const grantsToCanary = Object.entries(tf.resource)
      .filter(([type]) => type.endsWith('_iam_member') || type.endsWith('_iam_binding') || type.endsWith('_iam_policy'))
      .flatMap(([type, resources]) => Object.values(resources).map((r: any) => ({ type, ...r })))
      .filter((r) => JSON.stringify(r).includes(saId));
    expect(grantsToCanary.map((r) => `${r.type} ${r.role}`)).toEqual(['google_pubsub_topic_iam_member roles/pubsub.publisher']);
    // the grant waits until IAM sees the new account; the job until the grant exists
    expect(grant.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^time_sleep\.PubSubToBigQuery_CanaryServiceAccountPropagation/)]));
    expect(job.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^google_pubsub_topic_iam_member\.PubSubToBigQuery_CanaryPublisher/)]));
  });

  test('the message is a schema-valid event of the source whose id is the static canary id', () => {
    expect(request.messages).toHaveLength(1);
    expect(event[source.idField]).toBe(STATIC_CANARY_ID);
    expect(STATIC_CANARY_ID.startsWith(CANARY_ID_PREFIX)).toBe(true);
    // no time in the id (the body is static): the publish time is the message's publishTime
    expect(canaryPublishedAt(STATIC_CANARY_ID)).toBe(0);
    expect(validate(event)).toBeFalsy(); // no violations
    expect({ ...event, [source.idField]: sample[source.idField] }).toEqual(sample);
    expect(request.messages[0].attributes).toEqual({ eventId: STATIC_CANARY_ID, canary: 'true' });
  });

  test('the deployed UDF drops exactly that message', () => {
    const [, object] = one(tf, 'google_storage_bucket_object', 'CanaryFilterUdf');
    const payload = Buffer.from(request.messages[0].data, 'base64').toString('utf8');
    expect(udf(object.content)(payload)).toBeNull();
  });

  test('enables the Cloud Scheduler API', () => {
    const apis = Object.values(tf.resource.google_project_service).map((s: any) => s.service);
    expect(apis).toContain('cloudscheduler.googleapis.com');
  });
});

describe('canarySchedule', () => {
  test('every n minutes; hourly at minute 0; nothing outside 1-60', () => {
    expect(canarySchedule(1)).toBe('*/1 * * * *');
    expect(canarySchedule(15)).toBe('*/15 * * * *');
    expect(canarySchedule(60)).toBe('0 * * * *');
    for (const bad of [0, 61, 1.5]) expect(() => canarySchedule(bad)).toThrow(/intervalMinutes must be an integer from 1 to 60/);
  });

  test('a canary without idField fails: nothing would keep it out of the table', () => {
    expect(() =>
      Testing.synthScope((scope) => {
        new PubSubToBigQuery(scope, 'P', {
          projectId: 'acme-data',
          name: 'orders',
          schema: JSON.parse(fs.readFileSync(source.schemaFile, 'utf8')),
          eventTimeField: 'occurred_at',
          canary: { intervalMinutes: 1, event: sample },
        });
      }),
    ).toThrow(/canary needs idField/);
  });
});

describe('the freshness SLO alert', () => {
  const tf = synth({ alarmEmails: 'oncall@example.com' });
  const policies = Object.entries(tf.resource.google_monitoring_alert_policy) as [string, any][];
  const [, slo] = one(tf, 'google_monitoring_alert_policy', 'freshness-slo');
  const query = (t: { resource: Resources }) =>
    one(t, 'google_monitoring_alert_policy', 'freshness-slo')[1].conditions[0].condition_prometheus_query_language;

  test("p95 of Dataflow's data freshness over freshness.windowMinutes above freshness.targetSeconds", () => {
    expect(query(tf)).toEqual({
      query:
        'max(quantile_over_time(0.95, dataflow_googleapis_com:job_data_watermark_age{monitored_resource="dataflow_job",job_name="stream-foundry-dev-clickstream"}[15m])) > 10',
      duration: '0s',
      evaluation_interval: '60s',
      disable_metric_validation: true,
    });
    const custom = query(synth({ 'freshness.targetSeconds': 30, 'freshness.windowMinutes': 60 }));
    expect(custom.query).toMatch(/\[60m\]\)\) > 30$/);
  });

  test('notifies the same channels as every other alert and links the runbook section "Freshness"', () => {
    const channels = policies.map(([, p]) => p.notification_channels);
    expect(channels.every((c) => JSON.stringify(c) === JSON.stringify(slo.notification_channels))).toBe(true);
    expect(slo.notification_channels).toHaveLength(1);
    expect(slo.display_name).toBe('stream-foundry-dev-clickstream: Freshness');
    expect(slo.severity).toBe('ERROR');
    expect(slo.documentation.content).toMatch(/job\/data_watermark_age.*Threshold: 10\. Runbook: .*\/runbooks\/pubsub-to-bigquery\.md#freshness$/);
    const runbook = fs.readFileSync(fromRoot('docs', 'runbooks', 'pubsub-to-bigquery.md'), 'utf8');
    const section = runbook.split(/^## /m).find((s) => headingAnchor(s.split('\n')[0]) === 'freshness');
    for (const part of ['_Means_', '_Check_', '_Do_', STATIC_CANARY_ID, 'data_watermark_age']) expect(section).toContain(part);
  });

  test('the existing data-freshness alert stays (max over 5 minutes above 900 s: the outage alarm)', () => {
    const [, outage] = one(tf, 'google_monitoring_alert_policy', 'data-freshness_');
    expect(outage.conditions[0].condition_threshold.threshold_value).toBe(900);
  });

  test('on the dashboard, with the target drawn', () => {
    const dashboard = JSON.parse((Object.values(tf.resource.google_monitoring_dashboard)[0] as any).dashboard_json);
    const tile = dashboard.mosaicLayout.tiles.find((t: any) => t.widget.title === 'Freshness');
    expect(tile.widget.xyChart.dataSets[0].timeSeriesQuery.prometheusQuery).toMatch(/^max\(quantile_over_time\(0\.95, /);
    expect(tile.widget.xyChart.thresholds).toEqual([{ value: 10, label: 'alert threshold' }]);
  });
});

describe('freshness.enabled false', () => {
  const tf = synth({ 'freshness.enabled': false });

  test('no scheduler job, no canary account or grant, no SLO alert, no Cloud Scheduler API', () => {
    expect(tf.resource.google_cloud_scheduler_job).toBeUndefined();
    expect(tf.resource.google_pubsub_topic_iam_member).toBeUndefined();
    expect(Object.keys(tf.resource.google_service_account).filter((id) => id.includes('Canary'))).toEqual([]);
    expect(Object.keys(tf.resource.google_monitoring_alert_policy).filter((id) => id.includes('freshness-slo'))).toEqual([]);
    const apis = Object.values(tf.resource.google_project_service).map((s: any) => s.service);
    expect(apis).not.toContain('cloudscheduler.googleapis.com');
  });
});
