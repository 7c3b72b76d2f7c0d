import { z } from 'zod';
import { ACCOUNT_ID, flag, NAME, REGION, text } from '../config/settings';

/**
 * The `cicd` section: a CDK Pipelines deployment pipeline (platform/cicd) that builds this repository's branch on every
 * push, runs the project's tests and deploys the AWS stacks to each environment in turn. Absent (as in the shipped
 * cdk.json), the app builds the stacks for `cdk deploy` instead.
 */

/** What an environment's `settings` may not set: the environment says them itself, and a pipeline has no pipeline. */
export const SET_BY_ENVIRONMENT = ['environment', 'account', 'region', 'cicd'] as const;

const account = (what: string) => text(ACCOUNT_ID, `the 12-digit AWS account id ${what}`);
const region = (what: string) => text(REGION, `the AWS region ${what}, such as "eu-west-1"`);

const environmentSchema = z.strictObject({
  /** The environment's name: its stage in the pipeline, its stack names (`<project>-<name>-<pipeline>`), its Environment tag. */
  name: text(NAME, 'a lower-case name such as "dev" or "prod" (2-24 letters, digits or "-")'),
  /** Where its stacks go (bootstrapped with `cdk bootstrap --trust <cicd.account>`). */
  account: account('the environment deploys to'),
  region: region('the environment deploys to'),
  /** A manual approval in the pipeline before this environment deploys. Unset: every environment but the first. */
  approval: flag().optional(),
  /**
   * Settings of this environment over the base configuration (the rest of the context): sources, sizes, thresholds.
   * Merged as `-c section.key=value` would: an object merges key by key, a value or a list replaces.
   */
  settings: z.record(z.string(), z.unknown(), { error: 'expected an object of settings, such as {"kinesisToDeltaLake": {"job": {"workers": 2}}}' }).default({}),
});

export const cicdSchema = z.strictObject({
  /** The GitHub repository the pipeline builds, as "OWNER/REPO". */
  repository: text(/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/, 'a GitHub repository as "OWNER/REPO"'),
  /** The branch it builds: each push to it runs the pipeline. */
  branch: text(/^(?!\/|.*\/\/|.*\/$|.*\.\.)[A-Za-z0-9._\/-]+$/, 'a branch name such as "main"').default('main'),
  /** The AWS CodeConnections (formerly CodeStar Connections) connection to GitHub, created and authorized in the console. */
  connectionArn: text(
    /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/,
    'a CodeConnections connection ARN "arn:aws:codeconnections:REGION:ACCOUNT:connection/ID"',
  ),
  /** The account and region the pipeline runs in (its own, ideally a tools account apart from the environments). */
  account: account('the pipeline runs in'),
  region: region('the pipeline runs in'),
  /** The environments, deployed in this order. */
  environments: z
    .array(environmentSchema, { error: 'expected a list of environments, such as [{"name": "dev", "account": "...", "region": "..."}]' })
    .min(1, { error: 'expected at least one environment' })
    .superRefine((environments, ctx) => {
      environments.forEach((environment, i) => {
        if (environments.findIndex((e) => e.name === environment.name) !== i) {
          ctx.addIssue({ code: 'custom', path: [i, 'name'], input: environment.name, message: 'expected a name no other environment has' });
        }
      });
    }),
}).superRefine((cicd, ctx) => {
  // Another region needs CodePipeline's cross-region support stack, and with it a pipeline role that may use every
  // KMS key of the account (it knows the replica's key by alias only): least privilege keeps a pipeline to its region.
  cicd.environments.forEach((environment, i) => {
    if (environment.region !== cicd.region) {
      ctx.addIssue({
        code: 'custom',
        path: ['environments', i, 'region'],
        input: environment.region,
        message: `expected the pipeline's region, ${cicd.region} (cicd.region): a pipeline deploys within its region (accounts may differ); deploy another region with a pipeline there`,
      });
    }
  });
});

export type CicdConfig = z.output<typeof cicdSchema>;
export type CicdEnvironment = CicdConfig['environments'][number];

/** Whether `environment` (at `index` in the list) waits for a manual approval. */
export function needsApproval(environment: CicdEnvironment, index: number): boolean {
  return environment.approval ?? index > 0;
}

/**
 * The settings of `environment`: the base settings (`cicd` dropped) with the environment's merged over them and
 * its name, account and region. Parse the result with the configuration schema.
 */
export function environmentSettings(base: Record<string, unknown>, environment: CicdEnvironment): Record<string, unknown> {
  const { cicd: _cicd, ...rest } = base; // eslint-disable-line @typescript-eslint/no-unused-vars
  const merged = merge(structuredClone(rest), structuredClone(environment.settings));
  return { ...merged, environment: environment.name, account: environment.account, region: environment.region };
}

type Issue = { path: PropertyKey[]; input?: unknown; message: string; code: string };
type Parse = (settings: Record<string, unknown>) => { success: true } | { success: false; error: { issues: Issue[] } };

/**
 * What is wrong with each environment's settings, as issues of the whole configuration (path from the root): a setting
 * the configuration does not have or the environment sets itself, and whatever the configuration schema (`parse`)
 * says of the merged settings. The schema is passed in: it contains this section.
 */
export function environmentProblems(
  cicd: CicdConfig,
  base: Record<string, unknown>,
  settingNames: readonly string[],
  parse: Parse,
): Issue[] {
  // What is wrong with the base settings is reported once, at its own path, not again for every environment.
  const key = (issue: Issue) => `${issue.path.map(String).join('.')}: ${issue.message}`;
  const { cicd: _cicd, ...rest } = base; // eslint-disable-line @typescript-eslint/no-unused-vars
  const baseResult = parse(rest);
  const reported = new Set(baseResult.success ? [] : baseResult.error.issues.map(key));
  return cicd.environments.flatMap((environment, i) => {
    const at = ['cicd', 'environments', i, 'settings'];
    const unknown = Object.keys(environment.settings).filter((key) => !settingNames.includes(key) || (SET_BY_ENVIRONMENT as readonly string[]).includes(key));
    if (unknown.length > 0) {
      return [
        {
          code: 'custom',
          path: at,
          input: unknown,
          message: `unknown setting(s) ${unknown.join(', ')}: expected settings of the configuration other than ${SET_BY_ENVIRONMENT.join(', ')} (an environment sets its name, account and region itself)`,
        },
      ];
    }
    const result = parse(environmentSettings(base, environment));
    return result.success ? [] : result.error.issues.filter((issue) => !reported.has(key(issue))).map((issue) => ({ ...issue, path: [...at, ...issue.path] }));
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` merged into `base`: objects key by key, anything else replaces. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(over)) {
    base[key] = isObject(value) && isObject(base[key]) ? merge(base[key] as Record<string, unknown>, value) : value;
  }
  return base;
}
