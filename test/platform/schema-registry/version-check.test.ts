/**
 * Custom::SchemaVersionCheck against a mocked Glue Schema Registry that answers as the API reference documents:
 * RegisterSchemaVersion leaves a version PENDING while it checks compatibility, then AVAILABLE or FAILURE (a FAILURE
 * version still exists, "unusable"); ListSchemaVersions pages with NextToken; GetSchemaVersion by schema + number;
 * GetSchemaVersionsDiff by two version numbers (SYNTAX_DIFF).
 */
import {
  GetSchemaVersionCommand,
  GetSchemaVersionsDiffCommand,
  GlueClient,
  ListSchemaVersionsCommand,
  SchemaVersionListItem,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { createVersionCheck } from '../../../platform/schema-registry/handlers/version-check/check';
import { cfnEvent } from '../../permissions/custom-resources';

const glue = mockClient(GlueClient);
const SCHEMA_ARN = 'arn:aws:glue:eu-west-1:123456789012:schema/stream-foundry-dev-landing-zone/clickstream';
const V1 = JSON.stringify({ type: 'object', additionalProperties: false, required: ['price'], properties: { price: { type: 'number' } } });
const V2 = JSON.stringify({ type: 'object', additionalProperties: false, required: ['price'], properties: { price: { type: 'string' } } });
const properties = { SchemaArn: SCHEMA_ARN, SchemaVersionId: 'v2-id', Release: '2', Compatibility: 'BACKWARD' };

/** A registry holding `versions` (their statuses change as `statuses` says, one per ListSchemaVersions call). */
function registry(statuses: string[], definitions: Record<number, string> = { 1: V1, 2: V2 }) {
  let call = 0;
  const listed = (): SchemaVersionListItem[] => [
    { SchemaArn: SCHEMA_ARN, SchemaVersionId: 'v1-id', VersionNumber: 1, Status: 'AVAILABLE' },
    { SchemaArn: SCHEMA_ARN, SchemaVersionId: 'v2-id', VersionNumber: 2, Status: statuses[Math.min(call++, statuses.length - 1)] as never },
  ];
  // Two pages: the check must follow NextToken to find its version.
  glue.on(ListSchemaVersionsCommand).callsFake((input) => {
    expect(input.SchemaId).toEqual({ SchemaArn: SCHEMA_ARN });
    if (!input.NextToken) return { Schemas: listed().slice(0, 1), NextToken: 'page-2' };
    call--; // the first page did not consume a status
    return { Schemas: listed().slice(1) };
  });
  glue.on(GetSchemaVersionCommand).callsFake((input) => {
    // By schema and number (authorized on the schema's ARN), never by a bare version id.
    expect(input).toEqual({ SchemaId: { SchemaArn: SCHEMA_ARN }, SchemaVersionNumber: { VersionNumber: expect.any(Number) } });
    return { SchemaVersionId: `v${input.SchemaVersionNumber!.VersionNumber}-id`, SchemaDefinition: definitions[input.SchemaVersionNumber!.VersionNumber!], Status: 'AVAILABLE' };
  });
  glue.on(GetSchemaVersionsDiffCommand).callsFake((input) => {
    expect(input).toEqual({ SchemaId: { SchemaArn: SCHEMA_ARN }, FirstSchemaVersionNumber: { VersionNumber: 1 }, SecondSchemaVersionNumber: { VersionNumber: 2 }, SchemaDiffType: 'SYNTAX_DIFF' });
    return { Diff: '[{"op":"replace","path":"/properties/price/type","value":"string"}]' };
  });
}

function handler() {
  let now = 0;
  const sleeps: number[] = [];
  const onEvent = createVersionCheck({
    glue: new GlueClient({ region: 'eu-west-1' }),
    clock: { now: () => now, sleep: async (ms) => void (sleeps.push(ms), (now += ms)) },
    pollMs: 3_000,
  });
  return { onEvent, sleeps };
}
const context = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

beforeEach(() => glue.reset());

test('an AVAILABLE version passes at once; its physical id is the version id', async () => {
  registry(['AVAILABLE']);
  const { onEvent, sleeps } = handler();
  await expect(onEvent(cfnEvent('Create', properties), context(300_000))).resolves.toEqual({ PhysicalResourceId: 'v2-id', Data: { VersionNumber: '2' } });
  expect(sleeps).toEqual([]);
});

test('a PENDING version (the registry still checking) is polled until AVAILABLE', async () => {
  registry(['PENDING', 'PENDING', 'AVAILABLE']);
  const { onEvent, sleeps } = handler();
  await expect(onEvent(cfnEvent('Update', properties, 'v2-id'), context(300_000))).resolves.toMatchObject({ PhysicalResourceId: 'v2-id' });
  expect(sleeps).toEqual([3_000, 3_000]);
});

test("a FAILURE fails the deploy with the mode, the version compared, the registry's diff and our checker's finding", async () => {
  registry(['PENDING', 'FAILURE']);
  const { onEvent } = handler();
  await expect(onEvent(cfnEvent('Create', properties), context(300_000))).rejects.toThrow(
    `${SCHEMA_ARN} version 2 (release v2): the registry refused it (status FAILURE) under BACKWARD compatibility. Checked against version 1. ` +
      `The registry's diff: [{"op":"replace","path":"/properties/price/type","value":"string"}] ` +
      `Stream Foundry's check agrees: clickstream: field "price" changed type number -> string: not BACKWARD compatible.`,
  );
});

test('a FAILURE our checker does not explain says the registry is stricter; a missing diff does not hide the failure', async () => {
  const optional = JSON.stringify({ type: 'object', additionalProperties: false, required: ['price'], properties: { price: { type: 'number' }, note: { type: 'string' } } });
  registry(['FAILURE'], { 1: V1, 2: optional });
  glue.on(GetSchemaVersionsDiffCommand).rejects(Object.assign(new Error('no diff'), { name: 'InvalidInputException' }));
  const { onEvent } = handler();
  const failure = onEvent(cfnEvent('Create', { ...properties, Compatibility: 'BACKWARD_ALL' }), context(300_000));
  await expect(failure).rejects.toThrow(/under BACKWARD_ALL compatibility\. Checked against version 1\. \(The registry's diff is not available: InvalidInputException\.\) Stream Foundry's check found no incompatibility/);
});

test('still PENDING at the deadline: fails, saying a redeploy waits longer', async () => {
  registry(['PENDING']);
  const { onEvent, sleeps } = handler();
  await expect(onEvent(cfnEvent('Create', properties), context(30_000))).rejects.toThrow('version 2 (release v2): still PENDING');
  expect(sleeps.length).toBeGreaterThan(0);
});

test('a version being deleted, or not among the schema\'s versions, fails', async () => {
  registry(['DELETING']);
  await expect(handler().onEvent(cfnEvent('Create', properties), context(300_000))).rejects.toThrow('status DELETING, expected AVAILABLE');
  glue.reset();
  registry(['AVAILABLE']);
  await expect(handler().onEvent(cfnEvent('Create', { ...properties, SchemaVersionId: 'other' }), context(300_000))).rejects.toThrow('version other (release v2) is not among its versions');
});

test('delete does nothing (AWS::Glue::SchemaVersion deletes the version)', async () => {
  registry(['AVAILABLE']);
  await expect(handler().onEvent(cfnEvent('Delete', properties, 'v2-id'), context(300_000))).resolves.toEqual({ PhysicalResourceId: 'v2-id' });
  expect(glue.calls()).toHaveLength(0);
});

test('bad properties name the property', async () => {
  await expect(handler().onEvent(cfnEvent('Create', { ...properties, Release: '0' }), context(300_000))).rejects.toThrow(/Release/);
});
