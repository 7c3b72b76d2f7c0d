/**
 * `Custom::SchemaVersionCheck`: fails the deployment unless a version registered in the Glue Schema Registry is
 * AVAILABLE. RegisterSchemaVersion (what `AWS::Glue::SchemaVersion` calls) may answer PENDING while the registry checks
 * compatibility, and a version that fails the check is still created, with status FAILURE, "unusable" (the
 * RegisterSchemaVersion and GetSchemaVersion API references; terraform-provider-aws issue 35152): without this check,
 * such a deploy succeeds. The registry says no more than FAILURE, so the reason given is what can be known: the mode,
 * the version it was checked against, the registry's own diff of the two, and Stream Foundry's checker's verdict.
 */
import type { GlueClient } from '@aws-sdk/client-glue';
import { GetSchemaVersionCommand, GetSchemaVersionsDiffCommand, ListSchemaVersionsCommand, SchemaVersionListItem } from '@aws-sdk/client-glue';
import { z } from 'zod';
import { cfn, customResource, HandlerContext } from '../../../handlers/custom-resource';
import { checkCompatibility, CompatibilityMode } from '../../compatibility';

const schema = z.object({
  SchemaArn: z.string().startsWith('arn:'),
  SchemaVersionId: z.string().min(1),
  /** The version's number in the repository (schemas/releases/<source>/v<N>), for the message. */
  Release: cfn.wholeNumber(1),
  /** The schema's compatibility mode (the registry checks with it). */
  Compatibility: z.string().min(1),
});
type Properties = z.infer<typeof schema>;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface VersionCheckDeps {
  glue: Pick<GlueClient, 'send'>;
  clock: Clock;
  pollMs: number;
}

/** How long the answer to CloudFormation needs. */
const MARGIN_MS = 20_000;

export function createVersionCheck(deps: VersionCheckDeps) {
  const { glue, clock } = deps;

  async function check(p: Properties, context?: HandlerContext) {
    const deadline = clock.now() + (context?.getRemainingTimeInMillis() ?? 0) - MARGIN_MS;
    for (;;) {
      // Listed, not fetched by id: ListSchemaVersions is authorized on the schema's ARN, a lookup by version id is not.
      const versions = await listVersions(p.SchemaArn);
      const version = versions.find((v) => v.SchemaVersionId === p.SchemaVersionId);
      if (!version) throw new Error(`${p.SchemaArn}: version ${p.SchemaVersionId} (release v${p.Release}) is not among its versions`);
      const name = `${p.SchemaArn} version ${version.VersionNumber} (release v${p.Release})`;
      switch (version.Status) {
        case 'AVAILABLE':
          return { PhysicalResourceId: p.SchemaVersionId, Data: { VersionNumber: String(version.VersionNumber) } };
        case 'FAILURE':
          throw new Error(`${name}: the registry refused it (status FAILURE) under ${p.Compatibility} compatibility. ${await explain(p, version.VersionNumber!, versions)}`);
        case 'PENDING':
          if (clock.now() + deps.pollMs > deadline) throw new Error(`${name}: still PENDING (the registry's compatibility check) when the check timed out; deploy again to wait longer`);
          await clock.sleep(deps.pollMs);
          break;
        default:
          throw new Error(`${name}: status ${version.Status}, expected AVAILABLE`);
      }
    }
  }

  /** What can be said about a FAILURE: the version it was compared with, the registry's diff, our checker's findings. */
  async function explain(p: Properties, number: number, versions: SchemaVersionListItem[]): Promise<string> {
    const previous = versions
      .filter((v) => v.Status === 'AVAILABLE' && (v.VersionNumber ?? 0) < number)
      .sort((a, b) => b.VersionNumber! - a.VersionNumber!)[0];
    if (!previous) return 'No earlier AVAILABLE version to compare it with.';
    const SchemaId = { SchemaArn: p.SchemaArn };
    const parts = [`Checked against version ${previous.VersionNumber}.`];
    try {
      const diff = await glue.send(
        new GetSchemaVersionsDiffCommand({
          SchemaId,
          FirstSchemaVersionNumber: { VersionNumber: previous.VersionNumber },
          SecondSchemaVersionNumber: { VersionNumber: number },
          SchemaDiffType: 'SYNTAX_DIFF',
        }),
      );
      parts.push(`The registry's diff: ${truncate(diff.Diff ?? '(empty)', 1500)}`);
    } catch (error) {
      parts.push(`(The registry's diff is not available: ${(error as Error).name}.)`);
    }
    const definition = async (VersionNumber: number) =>
      (await glue.send(new GetSchemaVersionCommand({ SchemaId, SchemaVersionNumber: { VersionNumber } }))).SchemaDefinition ?? '{}';
    const mode = p.Compatibility.replace(/_ALL$/, '') as CompatibilityMode;
    const source = p.SchemaArn.split('/').at(-1)!;
    const found = safeCheck(await definition(previous.VersionNumber!), await definition(number), mode, source);
    parts.push(found.length > 0 ? `Stream Foundry's check agrees: ${found.join('; ')}.` : "Stream Foundry's check found no incompatibility: the registry's JSON Schema rules are stricter here (platform/schema-registry/README.md).");
    return parts.join(' ');
  }

  async function listVersions(schemaArn: string): Promise<SchemaVersionListItem[]> {
    const versions: SchemaVersionListItem[] = [];
    let NextToken: string | undefined;
    do {
      const page = await glue.send(new ListSchemaVersionsCommand({ SchemaId: { SchemaArn: schemaArn }, NextToken }));
      versions.push(...(page.Schemas ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return versions;
  }

  return customResource({
    schema,
    onCreate: (properties, _event, context) => check(properties, context),
    onUpdate: (properties, _old, _event, context) => check(properties, context),
    // The version itself is AWS::Glue::SchemaVersion's to delete.
  }).onEvent;
}

function safeCheck(previous: string, next: string, mode: CompatibilityMode, source: string): string[] {
  if (!['BACKWARD', 'FORWARD', 'FULL'].includes(mode)) return [];
  try {
    return checkCompatibility(JSON.parse(previous), JSON.parse(next), mode, source).map((i) => i.format());
  } catch (error) {
    return [`(not comparable: ${(error as Error).message})`];
  }
}

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}...` : text);
