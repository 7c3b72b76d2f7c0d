/**
 * Users change things; CloudFormation replaces a resource whose logical id changes. A changed id on a stream, bucket,
 * key, table or cluster creates a new one and orphans the old one (retained, with its data) — the worst outcome of a
 * routine change. This synthesizes the app as cdk.json configures it, then again after the changes users make, and
 * requires every stateful resource that existed before to keep its logical id (and type) after. Code changes count
 * too: `stateful-ids.json` holds the stateful resources of the last release (cdk.json's configuration), and the code
 * of today must still build every one of them under the same id. After a deliberate, documented replacement, write it
 * again with `UPDATE_STATEFUL_IDS=1 npx jest test/platform/stable-ids.test.ts`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildAwsApp } from '../../platform/aws-app';
import { parseConfig, readCdkJsonContext } from '../../platform/config';
import { testApp } from '../support/aws';

/** Resource types that hold data or are expensive to replace: a new logical id on one of these is a lost resource. */
const STATEFUL = new Set([
  'AWS::Kinesis::Stream',
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::Glue::Database',
  'AWS::Glue::Table',
  'AWS::Glue::Registry',
  'AWS::Glue::Schema',
  'AWS::Glue::Job',
  'AWS::SNS::Topic',
  'AWS::SQS::Queue',
  'AWS::MSK::Cluster',
  'AWS::MSK::ServerlessCluster',
  'AWS::KinesisAnalyticsV2::Application',
  'AWS::Logs::LogGroup',
  'AWS::RDS::DBInstance',
  'AWS::SecretsManager::Secret',
  'AWS::DMS::ReplicationInstance',
  'AWS::DMS::ReplicationTask',
  'AWS::DMS::Endpoint',
  'AWS::EKS::Cluster',
  'AWS::Athena::WorkGroup',
  'AWS::EC2::VPC',
]);

type Context = Record<string, unknown>;
type Templates = Record<string, Record<string, { Type: string }>>;

/** Stateful resources of every stack the app builds from `context`: stack name -> logical id -> type. */
function statefulResources(context: Context): Templates {
  const app = testApp({ ...context, 'aws:cdk:bundling-stacks': [] });
  buildAwsApp(app, parseConfig(app.node.getAllContext()));
  const assembly = app.synth();
  return Object.fromEntries(
    assembly.stacks.map((stack) => {
      const resources: Record<string, { Type: string }> = JSON.parse(
        fs.readFileSync(path.join(assembly.directory, stack.templateFile), 'utf8'),
      ).Resources;
      return [stack.stackName, Object.fromEntries(Object.entries(resources).filter(([, r]) => STATEFUL.has(r.Type)))];
    }),
  );
}

/** "stack/LogicalId (Type)" for every stateful resource of `before` that `after` lacks or has with another type. */
function replaced(before: Templates, after: Templates): string[] {
  return Object.entries(before).flatMap(([stack, resources]) =>
    Object.entries(resources)
      .filter(([id, r]) => after[stack]?.[id]?.Type !== r.Type)
      .map(([id, r]) => `${stack}/${id} (${r.Type})`),
  );
}

const RELEASED = path.join(__dirname, 'stateful-ids.json');

const base = readCdkJsonContext() as Context & { sources: Record<string, { pipelines: string[] }> };
const baseline = statefulResources({});

/** The pipelines a second source may join (pipeline 1 carries exactly one source). */
const MULTI_SOURCE = ['landingZone', 'kinesisToDeltaLake', 'mskToIceberg'];

describe('stateful resources keep their logical ids when users change the configuration', () => {
  test('the code of today keeps every stateful resource of the last release (stateful-ids.json)', () => {
    // Stored as stack -> logical id -> type.
    const types = (t: Templates) => Object.fromEntries(Object.entries(t).map(([s, r]) => [s, Object.fromEntries(Object.entries(r).map(([id, { Type }]) => [id, Type]))]));
    if (process.env.UPDATE_STATEFUL_IDS) fs.writeFileSync(RELEASED, `${JSON.stringify(types(baseline), null, 2)}\n`);
    const stored: Record<string, Record<string, string>> = JSON.parse(fs.readFileSync(RELEASED, 'utf8'));
    const released: Templates = Object.fromEntries(Object.entries(stored).map(([s, r]) => [s, Object.fromEntries(Object.entries(r).map(([id, Type]) => [id, { Type }]))]));
    expect(replaced(released, baseline)).toEqual([]);
  });

  test('the baseline builds every AWS stack, each with stateful resources', () => {
    expect(Object.keys(baseline).sort()).toEqual(
      ['kinesis-to-delta-lake', 'landing-zone', 'msk-to-iceberg', 'queue-to-s3', 'rds-cdc-to-s3'].map((s) => `stream-foundry-dev-${s}`),
    );
    for (const resources of Object.values(baseline)) expect(Object.keys(resources).length).toBeGreaterThan(3);
  });

  test.each(MULTI_SOURCE)('adding a second source to %s replaces nothing the first sources own', (pipeline) => {
    const sources = { ...base.sources, audits: { ...base.sources.clickstream, pipelines: [pipeline] } };
    const after = statefulResources({ sources });
    expect(replaced(baseline, after)).toEqual([]);
    // The new source really got resources of its own (otherwise the test proves nothing).
    const added = Object.values(after).reduce((n, r) => n + Object.keys(r).length, 0);
    expect(added).toBeGreaterThan(Object.values(baseline).reduce((n, r) => n + Object.keys(r).length, 0));
  });

  test('adding a source that feeds every multi-source pipeline at once replaces nothing', () => {
    const sources = { ...base.sources, audits: { ...base.sources.orders, pipelines: MULTI_SOURCE } };
    expect(replaced(baseline, statefulResources({ sources }))).toEqual([]);
  });

  test('reordering the sources replaces nothing', () => {
    const reversed = Object.fromEntries(Object.entries(base.sources).reverse());
    expect(replaced(baseline, statefulResources({ sources: reversed }))).toEqual([]);
  });

  test('adding a table to the CDC pipeline replaces nothing', () => {
    const rds = base.rdsCdcToS3 as { tables: Record<string, unknown>[] };
    const tables = [...rds.tables, { schema: 'shop', name: 'customers', primaryKey: ['customer_id'] }];
    expect(replaced(baseline, statefulResources({ rdsCdcToS3: { ...rds, tables } }))).toEqual([]);
  });
});
