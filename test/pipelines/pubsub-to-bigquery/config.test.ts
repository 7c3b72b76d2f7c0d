import * as fs from 'fs';
import * as path from 'path';
import { parseConfig, readCdkJsonContext, sourcesFeeding } from '../../../platform/config';
import { TEMPLATE_VERSION } from '../../../pipelines/pubsub-to-bigquery/construct/props';
import { configProblems } from '../../support/config';
import { PROJECT_ROOT } from '../../../platform/paths';

const SOURCES = {
  clickstream: { schema: 'clickstream.schema.json', idField: 'event_id', partitionKeyField: 'user_id', pipelines: ['gcp'] },
  orders: { schema: 'orders.schema.json', idField: 'event_id', partitionKeyField: 'order_id' },
};
const MINIMAL = { eventTimeField: 'occurred_at' };

/** The problems parseConfig reports for a gcp section (or a dotted gcp.* override). */
const problems = (context: Record<string, unknown>) => configProblems({ sources: SOURCES, ...context });

describe('gcp configuration', () => {
  test('the cdk.json gcp section is valid', () => {
    const config = parseConfig(readCdkJsonContext());
    expect(sourcesFeeding(config, 'gcp')).toEqual(['clickstream']);
    expect(config.gcp).toMatchObject({
      eventTimeField: 'occurred_at',
      clusteringFields: ['event_type', 'user_id'],
    });
  });

  test('the section is optional: the AWS app needs none of it', () => {
    const { clickstream, orders } = SOURCES;
    expect(parseConfig({ sources: { clickstream: { ...clickstream, pipelines: [] }, orders } }).gcp).toBeUndefined();
  });

  test('eventTimeField is enough; everything else has a safe default', () => {
    expect(parseConfig({ sources: SOURCES, gcp: MINIMAL }).gcp).toEqual({
      ...MINIMAL,
      region: 'europe-west1',
      clusteringFields: [],
      datasetLocation: 'EU',
      messageRetentionHours: 168,
      partitionExpirationDays: 0,
      deadLetterRetentionDays: 90,
      templateVersion: TEMPLATE_VERSION,
      maxWorkers: 3,
      privateWorkerIps: false,
      onDestroy: 'drain',
      writeSemantics: 'exactly-once',
      storageWriteApiStreams: 3,
      storageWriteApiTriggeringFrequencySeconds: 5,
      alerts: {
        oldestUnackedMessageAgeSeconds: 600,
        undeliveredMessages: 10_000,
        systemLagSeconds: 300,
        dataFreshnessSeconds: 900,
        deadLetterRowsPerHour: 0,
        noDataMinutes: 60,
      },
      notificationChannels: [],
    });
    // A real, dated template release: a redeploy runs the code that was tested, not whatever "latest" is that day.
    expect(TEMPLATE_VERSION).toMatch(/^\d{4}-\d{2}-\d{2}-00_RC\d{2}$/);
  });

  test('command-line overrides (-c gcp.maxWorkers=10) arrive as strings and are converted', () => {
    const gcp = parseConfig({
      sources: SOURCES,
      gcp: MINIMAL,
      'gcp.maxWorkers': '10',
      'gcp.clusteringFields': 'event_type,user_id',
      'gcp.privateWorkerIps': 'true',
      'gcp.subnetwork': 'regions/europe-west1/subnetworks/dataflow',
      'gcp.alerts.systemLagSeconds': '120',
    }).gcp!;
    expect(gcp.maxWorkers).toBe(10);
    expect(gcp.clusteringFields).toEqual(['event_type', 'user_id']);
    expect(gcp.privateWorkerIps).toBe(true);
    expect(gcp.alerts.systemLagSeconds).toBe(120);
  });

  test('the pipeline carries exactly one source, and a source cannot feed it without its section', () => {
    expect(problems({ gcp: MINIMAL, 'sources.clickstream.pipelines': [] })).toEqual([
      'sources: received []; expected exactly one source with "gcp" in its pipelines (the Pub/Sub to BigQuery pipeline carries one source)',
    ]);
    expect(problems({ gcp: MINIMAL, 'sources.orders.pipelines': 'gcp' })[0]).toContain(
      'sources: received ["clickstream","orders"]; expected exactly one source with "gcp" in its pipelines',
    );
    expect(problems({})).toEqual(['sources.clickstream.pipelines: received ["gcp"]; expected a "gcp" section for the pipeline this source feeds']);
  });

  test.each<[string, Record<string, unknown>, string]>([
    [
      'a missing event-time field',
      {},
      'gcp.eventTimeField: received nothing; expected a top-level field name',
    ],
    [
      'a nested event-time field',
      { ...MINIMAL, eventTimeField: 'page.ts' },
      'gcp.eventTimeField: received "page.ts"; expected a top-level field name',
    ],
    [
      'an invalid project id',
      { ...MINIMAL, projectId: 'My Project' },
      'gcp.projectId: received "My Project"; expected a Google Cloud project id (6-30 lower-case letters, digits or "-")',
    ],
    [
      'an AWS region',
      { ...MINIMAL, region: 'eu-west-1' },
      'gcp.region: received "eu-west-1"; expected a Google Cloud region such as "europe-west1"',
    ],
    [
      'a bad dataset location',
      { ...MINIMAL, datasetLocation: 'eu' },
      'gcp.datasetLocation: received "eu"; expected a BigQuery location such as "EU", "US" or "europe-west1"',
    ],
    [
      'five clustering fields',
      { ...MINIMAL, clusteringFields: ['a', 'b', 'c', 'd', 'e'] },
      'gcp.clusteringFields: received ["a","b","c","d","e"]; expected at most 4 clustering fields (a BigQuery limit)',
    ],
    [
      'a clustering field path',
      { ...MINIMAL, clusteringFields: ['page.url'] },
      'gcp.clusteringFields.0: received "page.url"; expected a top-level field name',
    ],
    [
      'zero workers',
      { ...MINIMAL, maxWorkers: 0 },
      'gcp.maxWorkers: received 0; expected a whole number from 1 to 1000',
    ],
    [
      'retention beyond 7 days',
      { ...MINIMAL, messageRetentionHours: 200 },
      'gcp.messageRetentionHours: received 200; expected a whole number from 1 to 168',
    ],
    [
      'an unknown destroy mode',
      { ...MINIMAL, onDestroy: 'delete' },
      'gcp.onDestroy: received "delete"; expected one of: drain, cancel',
    ],
    [
      'unknown write semantics',
      { ...MINIMAL, writeSemantics: 'exactly-twice' },
      'gcp.writeSemantics: received "exactly-twice"; expected one of: exactly-once, at-least-once',
    ],
    [
      'a malformed key name',
      { ...MINIMAL, kmsKeyName: 'my-key' },
      'gcp.kmsKeyName: received "my-key"; expected a Cloud KMS key name "projects/P/locations/L/keyRings/R/cryptoKeys/K"',
    ],
    [
      'a key outside the region',
      {
        ...MINIMAL,
        datasetLocation: 'europe-west1',
        kmsKeyName: 'projects/p/locations/europe/keyRings/r/cryptoKeys/k',
      },
      'gcp.kmsKeyName: received "projects/p/locations/europe/keyRings/r/cryptoKeys/k"; expected a key in the pipeline\'s region "europe-west1"',
    ],
    [
      'a key with a multi-region dataset',
      { ...MINIMAL, kmsKeyName: 'projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k' },
      'with datasetLocation "europe-west1" too (now "EU")',
    ],
    [
      'a bad template version',
      { ...MINIMAL, templateVersion: 'v2' },
      `gcp.templateVersion: received "v2"; expected "latest" or a template release such as "${TEMPLATE_VERSION}"`,
    ],
    [
      'a bad subnetwork',
      { ...MINIMAL, subnetwork: 'default' },
      'gcp.subnetwork: received "default"; expected a subnetwork "regions/REGION/subnetworks/NAME"',
    ],
    [
      'a flag that is not a boolean',
      { ...MINIMAL, privateWorkerIps: 'yes' },
      'gcp.privateWorkerIps: received "yes"; expected true or false',
    ],
    [
      'an alert threshold out of range',
      { ...MINIMAL, alerts: { systemLagSeconds: 5 } },
      'gcp.alerts.systemLagSeconds: received 5; expected a whole number from 30 to 86400',
    ],
    [
      'an unknown alert',
      { ...MINIMAL, alerts: { cpu: 90 } },
      'gcp.alerts: received {"cpu":90}; unknown setting(s) cpu',
    ],
    [
      'private worker IPs without a subnetwork (the default subnet has no Private Google Access)',
      { ...MINIMAL, privateWorkerIps: true },
      'gcp.privateWorkerIps: received true; expected gcp.subnetwork too ("regions/REGION/subnetworks/NAME" of a subnetwork with Private Google Access)',
    ],
    [
      'a notification channel given by display name',
      { ...MINIMAL, notificationChannels: ['oncall pager'] },
      'gcp.notificationChannels.0: received "oncall pager"; expected a notification channel id "projects/PROJECT/notificationChannels/ID"',
    ],
    ['an unknown setting', { ...MINIMAL, zone: 'europe-west1-b' }, 'unknown setting(s) zone'],
  ])('rejects %s with a message naming setting, value and expectation', (_what, gcp, message) => {
    expect(problems({ gcp }).join('\n')).toContain(message);
  });

  test('private worker IPs with a subnetwork, and existing notification channels (-c takes a comma-separated list)', () => {
    const gcp = parseConfig({
      sources: SOURCES,
      gcp: { ...MINIMAL, privateWorkerIps: true, subnetwork: 'regions/europe-west1/subnetworks/dataflow' },
      'gcp.notificationChannels': 'projects/acme-data/notificationChannels/123,projects/acme-ops/notificationChannels/456',
    }).gcp!;
    expect(gcp.privateWorkerIps).toBe(true);
    expect(gcp.notificationChannels).toEqual([
      'projects/acme-data/notificationChannels/123',
      'projects/acme-ops/notificationChannels/456',
    ]);
  });

  test('reports every invalid setting of the section at once', () => {
    expect(problems({ gcp: { maxWorkers: 0, onDestroy: 'delete' } })).toEqual([
      'gcp.eventTimeField: received nothing; expected a top-level field name',
      'gcp.maxWorkers: received 0; expected a whole number from 1 to 1000',
      'gcp.onDestroy: received "delete"; expected one of: drain, cancel',
    ]);
  });
});

describe('the configuration examples in docs/gcp.md', () => {
  const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'gcp.md'), 'utf8');
  // ```json blocks are cdk.json context fragments ("key": value, ...): wrapped in braces they are an object.
  const examples = [...doc.matchAll(/^```json\n([\s\S]*?)^```/gm)].map(([, body]) => {
    const text = body.trim();
    return JSON.parse(text.startsWith('{') ? text : `{${text}}`) as Record<string, unknown>;
  });

  test('there is at least the gcp section example', () => {
    expect(examples.some((example) => 'gcp' in example)).toBe(true);
  });

  test("the settings table states the real template default and lists every gcp setting", () => {
    expect(doc).toContain(`| \`templateVersion\` | \`${TEMPLATE_VERSION}\` |`);
    // First cell of each table row: "`maxWorkers`, `workerMachineType`" or "`alerts.*`".
    const rows = doc.split('\n').filter((line) => line.startsWith('| `'));
    const keys = new Set(rows.flatMap((row) => [...row.split('|')[1].matchAll(/`(\w+)/g)].map(([, key]) => key)));
    const settings = Object.keys(parseConfig(readCdkJsonContext()).gcp!);
    expect(settings.filter((key) => !keys.has(key))).toEqual([]);
  });

  test.each(examples.map((example, i) => [i + 1, example] as const))(
    'example %i parses, over cdk.json, through the configuration schema unchanged',
    (_n, example) => {
      const config = parseConfig({ ...readCdkJsonContext(), ...example });
      // Every setting the example spells out arrives as written (none dropped, renamed or defaulted away).
      if (example.gcp) expect(config.gcp).toMatchObject(example.gcp as object);
    },
  );
});

