import { ConfigError, parseConfig, parseConfigOrExit, readCdkJsonContext, sourcesFeeding } from '../../platform/config';
import { configProblems } from '../support/config';
import * as fs from 'fs';
import * as path from 'path';
import { dataSource, dataSources } from '../../platform/data-source';
import { PROJECT_ROOT } from '../../platform/paths';

const base = readCdkJsonContext();

/** The problems parseConfig reports for `overrides` applied over the project's cdk.json context. */
const problems = (overrides: Record<string, unknown>) => configProblems({ ...base, ...overrides });

describe('configuration', () => {
  test('the shipped cdk.json is valid and fills in defaults', () => {
    const config = parseConfig(base);
    expect(config).toMatchObject({
      environment: 'dev',
      project: 'stream-foundry',
      allowDataDestruction: false,
      alarmEmails: [],
      sources: {
        clickstream: { schema: 'clickstream.schema.json', idField: 'event_id', partitionKeyField: 'user_id', pipelines: expect.arrayContaining(['landingZone', 'gcp']) },
      },
      validator: { memoryMiB: 1024, noDataMinutes: 60 },
      landingZone: { stream: { shards: 0, retentionHours: 24 } },
    });
    expect(sourcesFeeding(config, 'landingZone')).toEqual(['clickstream', 'orders']);
    expect(config.account).toBeUndefined();
    expect(config.region).toBeUndefined();
  });

  test('an empty context gives the documented defaults', () => {
    expect(parseConfig({})).toMatchObject({
      environment: 'dev',
      team: 'data-platform',
      costCenter: 'unassigned',
      allowDataDestruction: false,
      sources: {},
      validator: { memoryMiB: 1024, noDataMinutes: 60 },
      landingZone: { stream: { shards: 0, retentionHours: 24 } },
    });
  });

  test('command-line strings (-c key=value) are coerced to the setting type', () => {
    const config = parseConfig({
      ...base,
      allowDataDestruction: 'true',
      alarmEmails: 'oncall@example.com, data@example.com',
      'validator.noDataMinutes': '30',
      'sources.clickstream.pipelines': 'gcp',
    });
    expect(config.allowDataDestruction).toBe(true);
    expect(config.alarmEmails).toEqual(['oncall@example.com', 'data@example.com']);
    expect(config.validator.noDataMinutes).toBe(30);
    expect(sourcesFeeding(config, 'landingZone')).toEqual(['orders']);
  });

  test('a dotted override changes one setting and keeps the rest of its section', () => {
    const config = parseConfig({ ...base, 'landingZone.stream.shards': 4 });
    expect(config.landingZone.stream).toEqual({ shards: 4, retentionHours: 24 });
    expect(config.sources.orders).toMatchObject({ idField: 'event_id', partitionKeyField: 'order_id' });
  });

  test('context keys that are not settings (CDK feature flags) are ignored', () => {
    const withFlags = parseConfig({ '@aws-cdk/core:newStyleStackSynthesis': true, 'aws:cdk:enable-path-metadata': true });
    expect(withFlags).toEqual(parseConfig({}));
  });

  test.each([
    [{ environment: 'Prod' }, 'environment: received "Prod"; expected a lower-case name'],
    [{ account: '1234' }, 'account: received "1234"; expected a 12-digit AWS account id'],
    [{ region: 'europe' }, 'region: received "europe"; expected an AWS region such as "eu-west-1"'],
    [{ team: 'Data Platform' }, 'team: received "Data Platform"; expected 1-63 lower-case letters'],
    [{ costCenter: '' }, 'costCenter: received ""; expected 1-63 lower-case letters'],
    [{ alarmEmails: ['oncall@example.com', 'not-an-address'] }, 'alarmEmails.1: received "not-an-address"; expected an e-mail address'],
    [{ alarmEmails: 42 }, 'alarmEmails: received 42; expected a list (JSON array or comma-separated string)'],
    [{ allowDataDestruction: 'yes' }, 'allowDataDestruction: received "yes"; expected true or false'],
    [{ 'validator.noDataMinutes': '2' }, 'validator.noDataMinutes: received 2; expected a whole number from 5 to 1440'],
    [{ 'validator.noDataMinutes': 'soon' }, 'validator.noDataMinutes: received "soon"; expected a whole number from 5 to 1440'],
    [{ 'validator.memoryMiB': 128 }, 'validator.memoryMiB: received 128; expected a whole number from 256 to 10240'],
    [{ 'landingZone.stream.shards': 2.5 }, 'landingZone.stream.shards: received 2.5; expected a whole number from 0 to 500'],
    [{ 'landingZone.stream.retentionHours': 12 }, 'landingZone.stream.retentionHours: received 12; expected a whole number from 24 to 8760'],
    [{ 'sources.orders.pipelines': 'landingZone,kinesisToDelta' }, 'sources.orders.pipelines.1: received "kinesisToDelta"; expected one of: landingZone, queueToS3, kinesisToDeltaLake, gcp, mskToIceberg'],
    [{ alarmTopicArn: 'alarms' }, 'alarmTopicArn: received "alarms"; expected an SNS topic ARN'],
    [{ alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall', alarmEmails: 'a@example.com' }, 'alarmEmails: received ["a@example.com"]; expected no e-mail addresses when alarmTopicArn is set'],
    [{ 'landingZone.retries': 3 }, 'landingZone: received {'],
    [{ sources: { Clicks: { schema: 'clickstream.schema.json', idField: 'id', partitionKeyField: 'id' } } }, 'sources.Clicks: received "Clicks"; expected a source name'],
    [{ sources: { clicks: { schema: 'missing.schema.json', idField: 'id', partitionKeyField: 'id' } } }, 'sources.clicks.schema: received "missing.schema.json"; expected a file in schemas/ (none found)'],
    [{ sources: { clicks: { schema: 'clickstream.json', idField: 'id', partitionKeyField: 'id' } } }, 'sources.clicks.schema: received "clickstream.json"; expected a file name in schemas/ ending in .schema.json'],
    [{ sources: { clicks: { schema: 'clickstream.schema.json', idField: 'event-id', partitionKeyField: 'id' } } }, 'sources.clicks.idField: received "event-id"; expected a top-level field name'],
  ])('rejects %j with a message naming the setting, the value and what is expected', (override, message) => {
    expect(problems(override).join('\n')).toContain(message);
  });

  test('an unknown setting inside a section is named', () => {
    expect(problems({ 'landingZone.retries': 3 })).toEqual([expect.stringMatching(/^landingZone: .*unknown setting\(s\) retries$/)]);
  });

  test('every problem is reported at once, in one error that says where settings come from', () => {
    try {
      parseConfig({ environment: 'PROD', alarmEmails: ['x'] });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toHaveLength(2);
      expect((error as Error).message).toMatch(/^Invalid Stream Foundry configuration \(cdk.json context or -c\):\n  - environment/);
    }
  });

  test('the apps print a configuration error without a stack trace and exit with status 1', () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      parseConfigOrExit({ environment: 'PROD' });
      expect(exit).toHaveBeenCalledWith(1);
      expect(error).toHaveBeenCalledWith(expect.stringMatching(/^Invalid Stream Foundry configuration .*\n  - environment: received "PROD"/));
    } finally {
      exit.mockRestore();
      error.mockRestore();
    }
  });
});

describe('data sources as the pipelines see them (platform/data-source.ts)', () => {
  const config = parseConfig(base);

  test('a source resolves to its schema file and fields, with the event-time field its schema names', () => {
    expect(dataSources(config, 'kinesisToDeltaLake')).toEqual([
      {
        name: 'clickstream',
        schemaFile: path.join(PROJECT_ROOT, 'schemas', 'clickstream.schema.json'),
        idField: 'event_id',
        partitionKeyField: 'user_id',
        eventTimeField: 'occurred_at',
        // One released version (schemas/releases/clickstream/v1), which the current schema still is.
        schemaVersions: [fs.readFileSync(path.join(PROJECT_ROOT, 'schemas', 'releases', 'clickstream', 'v1.schema.json'), 'utf8')],
        compatibility: 'BACKWARD',
      },
    ]);
    // Typed: a pipeline that needs event time gets a string, no `undefined` to handle.
    const eventTimes: string[] = dataSources(config, 'mskToIceberg').map((s) => s.eventTimeField);
    expect(eventTimes).toEqual(['updated_at']);
    expect(dataSources(config, 'landingZone').map((s) => s.name)).toEqual(['clickstream', 'orders']);
  });

  test("the pipeline's own event-time setting wins over the schema", () => {
    const configured = parseConfig({ ...base, 'kinesisToDeltaLake.eventTimeFields': { clickstream: 'received_at' } });
    expect(dataSource(configured, 'clickstream', 'kinesisToDeltaLake').eventTimeField).toBe('received_at');
    expect(dataSource(configured, 'clickstream', 'mskToIceberg').eventTimeField).toBe('occurred_at');
    expect(dataSource(config, 'clickstream', 'gcp').eventTimeField).toBe(config.gcp!.eventTimeField);
  });

  test('a schema without exactly one date-time field fails synth naming the setting, only where event time is needed', () => {
    const schemaFile = path.join(PROJECT_ROOT, 'schemas', 'clickstream.schema.json');
    const nodeFs = jest.requireActual<typeof fs>('fs'); // the module itself: data-source.ts reads through it
    const read = nodeFs.readFileSync;
    const spy = jest.spyOn(nodeFs, 'readFileSync').mockImplementation(((file: fs.PathOrFileDescriptor, options?: unknown) =>
      file === schemaFile ? JSON.stringify({ properties: { a: { format: 'date-time' }, b: { format: 'date-time' } } }) : read(file, options as BufferEncoding)) as typeof fs.readFileSync);
    try {
      expect(() => dataSource(config, 'clickstream', 'kinesisToDeltaLake')).toThrow(
        'kinesisToDeltaLake.eventTimeFields.clickstream: set it to the event-time field of clickstream.schema.json (top-level date-time properties: a, b)',
      );
      expect(dataSource(config, 'clickstream', 'landingZone').eventTimeField).toBeUndefined();
    } finally {
      spy.mockRestore();
    }
  });
});
