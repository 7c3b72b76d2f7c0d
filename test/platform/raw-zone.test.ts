import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { buildAwsApp } from '../../platform/aws-app';
import { ConfigError, parseConfig, readCdkJsonContext } from '../../platform/config';
import { RAW_ZONE_LAYOUT, RawZone, rawZoneSettings } from '../../platform/raw-zone';
import * as zlib from 'zlib';
import { readRecords } from '../../scripts/replay/raw-zone';
import { evaluatePrefix } from '../permissions/firehose';
import { complianceFindings, testApp, testStack } from '../support/aws';

type Resources = Record<string, { Type: string; Properties: any; DeletionPolicy?: string }>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The app as `cdk synth` builds it from cdk.json (assets not bundled): the two stacks that own Kinesis streams (only those built). */
function synthesizedApp(context: Record<string, unknown> = {}) {
  const app = testApp({ 'aws:cdk:bundling-stacks': [], ...context });
  buildAwsApp(app, parseConfig(app.node.getAllContext()), ['landingZone', 'kinesisToDeltaLake']);
  const template = (id: string) => Template.fromStack(app.node.findChild(id) as Stack);
  return { app, landing: template('LandingZone'), kinesis: template('KinesisToDeltaLake') };
}

const ofType = (template: Template, type: string) => Object.entries(template.toJSON().Resources as Resources).filter(([, r]) => r.Type === type);
const kinesisSources = () => Object.entries(parseConfig(readCdkJsonContext()).sources).filter(([, s]) => s.pipelines.includes('kinesisToDeltaLake')).map(([name]) => name);

/** A stack with one raw zone and a stream, for settings and API checks without the whole app. */
function zoneStack(props: Partial<ConstructorParameters<typeof RawZone>[2]> = {}, context: Record<string, unknown> = {}) {
  const stack = testStack(context);
  const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
  const zone = new RawZone(stack, 'RawZone', { runbook: 'landing-zone', ...props });
  return { stack, stream, zone };
}

describe('raw zone in the stacks as cdk.json configures them', () => {
  const { landing, kinesis: k2dl } = synthesizedApp();

  test('LandingZone: one delivery stream reads the one Events stream into events/, by UTC arrival hour, gzip, a line per record', () => {
    landing.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 1);
    const [streamId] = ofType(landing, 'AWS::Kinesis::Stream').map(([id]) => id);
    landing.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: { KinesisStreamARN: { 'Fn::GetAtt': [streamId, 'Arn'] } },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RawZoneBucket'), 'Arn'] },
        Prefix: 'events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
        ErrorOutputPrefix: '_errors/events/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
        CompressionFormat: 'GZIP',
        BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 64 },
        ProcessingConfiguration: { Enabled: true, Processors: [{ Type: 'AppendDelimiterToRecord', Parameters: [] }] },
        CloudWatchLoggingOptions: Match.objectLike({ Enabled: true, LogGroupName: { Ref: Match.stringLikeRegexp('^RawZoneeventsLogs') } }),
      }),
    });
    // The bucket's default encryption applies: no key of Firehose's own that could differ from the zone's.
    const [[, stream]] = ofType(landing, 'AWS::KinesisFirehose::DeliveryStream');
    expect(stream.Properties.ExtendedS3DestinationConfiguration.EncryptionConfiguration).toBeUndefined();
  });

  test("no unreferenced mapping of Firehose's CIDR blocks (the L2 adds one for VPC destinations; cfn-lint W7001)", () => {
    for (const template of [landing, k2dl]) expect(Object.keys(template.toJSON().Mappings ?? {}).filter((m) => /firehose/i.test(m))).toEqual([]);
  });

  test('KinesisToDeltaLake: one delivery stream per source stream, each into its own prefix', () => {
    const sources = kinesisSources();
    expect(sources.length).toBeGreaterThan(0);
    const deliveries = ofType(k2dl, 'AWS::KinesisFirehose::DeliveryStream').map(([, r]) => r.Properties);
    expect(deliveries).toHaveLength(sources.length);
    const streams = ofType(k2dl, 'AWS::Kinesis::Stream').map(([id]) => id);
    expect(new Set(deliveries.map((d) => d.KinesisStreamSourceConfiguration.KinesisStreamARN['Fn::GetAtt'][0]))).toEqual(new Set(streams));
    expect(deliveries.map((d) => d.ExtendedS3DestinationConfiguration.Prefix).sort()).toEqual(sources.map((s) => `${s}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`).sort());
    for (const source of sources) {
      const delivery = deliveries.find((d) => d.ExtendedS3DestinationConfiguration.Prefix.startsWith(`${source}/`))!;
      // The source's stream, not another's.
      expect(delivery.KinesisStreamSourceConfiguration.KinesisStreamARN['Fn::GetAtt'][0]).toMatch(new RegExp(`^${source}Stream`));
      expect(delivery.ExtendedS3DestinationConfiguration.CompressionFormat).toBe('GZIP');
    }
  });

  test('one raw bucket per stack: zone key with a Bucket Key, Glacier IR after 90 days, never expired, retained', () => {
    for (const template of [landing, k2dl]) {
      const buckets = ofType(template, 'AWS::S3::Bucket').filter(([id]) => id.startsWith('RawZoneBucket'));
      expect(buckets).toHaveLength(1);
      const [[, bucket]] = buckets;
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
        { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^RawZoneBucketKey/), 'Arn'] } } },
      ]);
      const rule = bucket.Properties.LifecycleConfiguration.Rules.find((r: { Id: string }) => r.Id === 'archive-raw-events');
      expect(rule).toEqual({ Id: 'archive-raw-events', Status: 'Enabled', Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }] });
      for (const r of bucket.Properties.LifecycleConfiguration.Rules) expect(r.ExpirationInDays).toBeUndefined();
      const keys = ofType(template, 'AWS::KMS::Key').filter(([id]) => id.startsWith('RawZoneBucketKey'));
      expect(keys.map(([, k]) => [k.DeletionPolicy, k.Properties.EnableKeyRotation])).toEqual([['Retain', true]]);
    }
  });

  test('a Glue table <name>_raw per prefix: one string column, gzip text, dt and hour projected over the prefix', () => {
    const expectTable = (template: Template, name: string, database: unknown) =>
      template.hasResourceProperties('AWS::Glue::Table', {
        DatabaseName: database,
        TableInput: Match.objectLike({
          Name: `${name.replace(/-/g, '_')}_raw`,
          PartitionKeys: [Match.objectLike({ Name: 'dt', Type: 'string' }), Match.objectLike({ Name: 'hour', Type: 'string' })],
          Parameters: Match.objectLike({
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.dt.format': 'yyyy-MM-dd',
            'projection.hour.type': 'integer',
            'projection.hour.range': '0,23',
            'projection.hour.digits': '2',
            'storage.location.template': { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^RawZoneBucket') }, `/${name}/dt=\${dt}/hour=\${hour}/`]] },
          }),
          StorageDescriptor: Match.objectLike({
            Columns: [Match.objectLike({ Name: 'line', Type: 'string' })],
            InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            Compressed: true,
            SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe' }),
          }),
        }),
      });
    // The standalone landing zone has no catalog: the zone's own database.
    expectTable(landing, 'events', 'stream_foundry_dev_landing_zone_raw');
    landing.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: Match.objectLike({ Name: 'stream_foundry_dev_landing_zone_raw' }) });
    // Pipeline 2: beside each source's Delta tables, in its database.
    for (const source of kinesisSources()) expectTable(k2dl, source, `stream_foundry_dev_kinesis_to_delta_lake_${source.replace(/-/g, '_')}`);
    expect(ofType(k2dl, 'AWS::Glue::Database').map(([id]) => id).filter((id) => id.startsWith('RawZone'))).toEqual([]);
  });

  test('a stack output <key>RawZone per source: s3://<bucket>/<name>/', () => {
    const location = (name: string) => ({ 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^RawZoneBucket') }, `/${name}/`]] });
    landing.hasOutput('eventsRawZone', { Value: location('events') });
    for (const source of kinesisSources()) k2dl.hasOutput(RAW_ZONE_LAYOUT.outputKey(source), { Value: location(source) });
  });

  test('alarms: delivery freshness above 2 × buffer + 5 min, and failed S3 deliveries, each linking its runbook section', () => {
    const cases: [Template, string, string][] = [
      [landing, 'stream-foundry-dev-landing-zone-events', 'landing-zone'],
      ...kinesisSources().map((s): [Template, string, string] => [k2dl, `stream-foundry-dev-kinesis-to-delta-lake-${s}`, 'kinesis-to-delta-lake']),
    ];
    for (const [template, prefix, runbook] of cases) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: Match.stringLikeRegexp(`^${prefix}-raw-zone-lag`),
        Namespace: 'AWS/Firehose',
        MetricName: 'DeliveryToS3.DataFreshness',
        Statistic: 'Maximum',
        Threshold: 900,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
        AlarmDescription: Match.stringLikeRegexp(`Runbook: https://\\S+/runbooks/${runbook}.md#lag-raw-zone`),
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: Match.stringLikeRegexp(`^${prefix}-raw-zone-delivery-failed`),
        MetricName: 'DeliveryToS3.Success',
        Statistic: 'Average',
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 2,
        TreatMissingData: 'notBreaching',
        AlarmDescription: Match.stringLikeRegexp(`Runbook: https://\\S+/runbooks/${runbook}.md#raw-zone-delivery-failed`),
      });
    }
  });

  test("each delivery stream's role: only Firehose of this account, S3 object access only under its prefixes, no delete", () => {
    for (const template of [landing, k2dl]) {
      const roles = ofType(template, 'AWS::IAM::Role').filter(([id]) => /^RawZone.*Role/.test(id));
      expect(roles.length).toBe(ofType(template, 'AWS::KinesisFirehose::DeliveryStream').length);
      for (const [, role] of roles) {
        expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } } },
        ]);
      }
      for (const [id, policy] of ofType(template, 'AWS::IAM::Policy').filter(([id]) => /^RawZone.*RoleDefaultPolicy/.test(id))) {
        const statements: { Action: string | string[]; Resource: unknown }[] = policy.Properties.PolicyDocument.Statement;
        const actions = statements.flatMap((s) => [s.Action].flat());
        expect([id, actions.filter((a) => /Delete|\*/.test(a))]).toEqual([id, []]);
        const objectStatement = statements.find((s) => [s.Action].flat().includes('s3:PutObject'))!;
        const prefixes = (objectStatement.Resource as { 'Fn::Join': [string, unknown[]] }[]).map((r) => r['Fn::Join'][1][1]);
        const name = id.replace(/^RawZone(.*)RoleDefaultPolicy.*$/, '$1');
        expect(prefixes.sort()).toEqual([`/${name}/*`, `/_errors/${name}/*`].sort());
      }
    }
  });

  test('what each delivery stream writes, as its template configures Firehose, is what the replay script reads back', async () => {
    // Firehose itself cannot run here (moto does not read Kinesis, buffer, evaluate !{timestamp:…} or append
    // delimiters): the object is built from the template's settings and read with the replay script's own reader.
    const records = ['{"event_id":"a","n":1}', '{"event_id":"b","text":"comma, \\"quote\\" and ünïcode"}', 'not json: kept as it came'];
    for (const template of [landing, k2dl]) {
      for (const [id, delivery] of ofType(template, 'AWS::KinesisFirehose::DeliveryStream')) {
        const s3 = delivery.Properties.ExtendedS3DestinationConfiguration;
        const name = s3.Prefix.split('/')[0];
        for (const arrival of [new Date('2026-12-03T23:59:59.999Z'), new Date('2026-12-04T00:00:00Z'), new Date('2026-12-04T09:30:00Z')]) {
          // The replay script lists exactly these prefixes (scripts/replay/window.ts reads RAW_ZONE_LAYOUT).
          expect([id, evaluatePrefix(s3.Prefix, arrival)]).toEqual([id, RAW_ZONE_LAYOUT.hourPrefix(name, arrival)]);
        }
        const delimited = s3.ProcessingConfiguration.Processors.some((p: { Type: string }) => p.Type === 'AppendDelimiterToRecord');
        const body = Buffer.concat(records.map((r) => Buffer.from(delimited ? `${r}\n` : r)));
        const object = s3.CompressionFormat === 'GZIP' ? zlib.gzipSync(body) : body;
        const key = `${evaluatePrefix(s3.Prefix, new Date('2026-12-04T09:30:00Z'))}stream-1-2026-12-04-09-30-00-uuid${s3.CompressionFormat === 'GZIP' ? '.gz' : ''}`;
        const s3Client = { send: async () => ({ Body: (async function* () { yield object; })() }) } as never;
        const { batches, blank } = await readRecords(s3Client, 'raw', key);
        const read: string[] = [];
        for await (const batch of batches) read.push(...batch.map((r) => r.bytes.toString('utf8')));
        expect([id, read, blank()]).toEqual([id, records, 0]);
      }
    }
  });

  test("each delivery stream logs to its own log group, kept as long as the stack's other logs", () => {
    for (const template of [landing, k2dl]) {
      const groups = ofType(template, 'AWS::Logs::LogGroup').filter(([id]) => /^RawZone.*Logs/.test(id));
      expect(groups.length).toBe(ofType(template, 'AWS::KinesisFirehose::DeliveryStream').length);
      for (const [, group] of groups) expect([group.Properties.RetentionInDays, group.DeletionPolicy]).toEqual([30, 'Retain']);
    }
  });
});

describe('raw zone settings', () => {
  const problems = (rawZone: unknown) => {
    try {
      parseConfig({ ...readCdkJsonContext(), rawZone });
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems;
    }
  };

  test('defaults: 300 s, 64 MiB, Glacier IR after 90 days, never expired, freshness derived', () => {
    expect(parseConfig(readCdkJsonContext()).rawZone).toEqual({ bufferSeconds: 300, bufferMiB: 64, archiveAfterDays: 90, archiveStorageClass: 'GLACIER_IR', alarms: {} });
  });

  test('a bad value fails with the setting, the value and what is expected', () => {
    expect(problems({ bufferSeconds: 901 })).toEqual(['rawZone.bufferSeconds: received 901; expected a whole number from 0 to 900']);
    expect(problems({ bufferMiB: 0 })).toEqual(['rawZone.bufferMiB: received 0; expected a whole number from 1 to 128']);
    expect(problems({ archiveStorageClass: 'STANDARD_IA' })).toEqual(['rawZone.archiveStorageClass: received "STANDARD_IA"; expected one of: GLACIER_IR, GLACIER, DEEP_ARCHIVE']);
    expect(problems({ bufferSeconds: 0, alarms: { freshnessSeconds: 10 } })).toEqual(['rawZone.alarms.freshnessSeconds: received 10; expected a whole number from 60 to 86400']);
    expect(problems({ bufferSecond: 60 })).toEqual(['rawZone: received {"bufferSecond":60}; unknown setting(s) bufferSecond']);
  });

  test('expireAfterDays must come after archiveAfterDays', () => {
    expect(problems({ expireAfterDays: 90 })).toEqual([
      'rawZone.expireAfterDays: received 90; expected more days than archiveAfterDays (90): objects are archived before they expire',
    ]);
    expect(problems({ archiveAfterDays: 30, expireAfterDays: 31 })).toEqual([]);
  });

  test('an explicit freshness threshold must exceed the buffer interval', () => {
    expect(problems({ bufferSeconds: 600, alarms: { freshnessSeconds: 600 } })).toEqual([
      'rawZone.alarms.freshnessSeconds: received 600; expected more seconds than bufferSeconds (600): records wait that long in the buffer, so the alarm would fire at every flush',
    ]);
  });

  test('-c overrides reach the template: buffer, storage class, expiry, the derived and the explicit freshness threshold', () => {
    const config = parseConfig({ ...readCdkJsonContext(), 'rawZone.bufferSeconds': '60', 'rawZone.bufferMiB': '128', 'rawZone.archiveStorageClass': 'GLACIER', 'rawZone.expireAfterDays': '400' });
    const { stack, stream, zone } = zoneStack(rawZoneSettings(config.rawZone));
    zone.addKinesisSource('clickstream', stream);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({ BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 128 } }),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'archive-raw-events', Status: 'Enabled', ExpirationInDays: 400, Transitions: [{ StorageClass: 'GLACIER', TransitionInDays: 90 }] }]) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DeliveryToS3.DataFreshness', Threshold: 420 });

    const explicit = zoneStack(rawZoneSettings(parseConfig({ ...readCdkJsonContext(), 'rawZone.alarms.freshnessSeconds': '1200' }).rawZone));
    explicit.zone.addKinesisSource('clickstream', explicit.stream);
    Template.fromStack(explicit.stack).hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DeliveryToS3.DataFreshness', Threshold: 1200 });
  });

  test('allowDataDestruction: bucket, key and log groups go with the stack', () => {
    const { stack, stream, zone } = zoneStack({ allowDestroy: true });
    zone.addKinesisSource('clickstream', stream);
    const template = Template.fromStack(stack);
    for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::Logs::LogGroup']) {
      for (const [id, r] of ofType(template, type).filter(([id]) => id.startsWith('RawZone') && !id.startsWith('RawZoneMonitoring'))) expect([id, r.DeletionPolicy]).toEqual([id, 'Delete']);
    }
  });
});

describe('RawZone API', () => {
  test('addArchivedSource: table, output and location for a source a job writes itself; grantWrite only under its prefix', () => {
    const { stack, zone } = zoneStack({ database: { databaseName: 'lake' } });
    const archive = zone.addArchivedSource('payments');
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com') });
    archive.grantWrite(writer);
    expect(archive.bucket).toBe(zone.bucket);
    expect(archive.key).toBe(zone.key);
    expect(stack.resolve(archive.location)).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^RawZoneBucket/) }, '/payments/']] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
    template.hasResourceProperties('AWS::Glue::Table', { DatabaseName: 'lake', TableInput: Match.objectLike({ Name: 'payments_raw' }) });
    template.resourceCountIs('AWS::Glue::Database', 0);
    template.hasOutput('paymentsRawZone', {});
    const [[, policy]] = ofType(template, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('Writer'));
    const s3Statement = policy.Properties.PolicyDocument.Statement.find((s: { Action: string[] }) => [s.Action].flat().includes('s3:PutObject'));
    expect([...s3Statement.Action].sort()).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:ListMultipartUploadParts', 's3:PutObject']);
    expect(s3Statement.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^RawZoneBucket/), 'Arn'] }, '/payments/*']] });
    expect(complianceFindings(stack)).toEqual([]);
  });

  test('a source is archived once, under a valid name; settings outside Firehose and S3 limits fail synth naming the prop', () => {
    const { stream, zone } = zoneStack();
    zone.addKinesisSource('clickstream', stream);
    expect(() => zone.addArchivedSource('clickstream')).toThrow('the raw zone already archives "clickstream"');
    expect(() => zone.addArchivedSource('Bad_Name')).toThrow(/a raw zone source name must be lower-case/);
    expect(() => zoneStack({ bufferInterval: Duration.seconds(901) })).toThrow('"bufferInterval" must be 0-900 seconds (got 901)');
    expect(() => zoneStack({ archiveAfter: Duration.days(30), expireAfter: Duration.days(30) })).toThrow('"expireAfter" (30 days) must be later than "archiveAfter" (30 days)');
  });

  test('the layout the replay script reads', () => {
    expect(RAW_ZONE_LAYOUT.hourPrefix('clickstream', new Date('2026-12-04T07:59:59Z'))).toBe('clickstream/dt=2026-12-04/hour=07/');
    expect(RAW_ZONE_LAYOUT.outputKey('web-orders')).toBe('weborders' + 'RawZone');
    expect(RAW_ZONE_LAYOUT.tableName('web-orders')).toBe('web_orders_raw');
  });

  test('cdk-nag: compliant, KDF1 and the prefix wildcards acknowledged on the delivery stream and its policy only', () => {
    const { stack, stream, zone } = zoneStack();
    zone.addKinesisSource('clickstream', stream);
    expect(complianceFindings(stack)).toEqual([]);
  });
});
