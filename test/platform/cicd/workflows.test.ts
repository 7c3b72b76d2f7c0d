/**
 * The GitHub Actions workflows (.github/workflows): they parse, call only the project's real npm scripts, pin every
 * action to a commit, authenticate to both clouds through OIDC (no stored keys), and run what the README says.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../../platform/paths';

// js-yaml comes with jest (@istanbuljs/load-nyc-config); YAML 1.2's core schema, so `on:` stays a key, not `true`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { safeLoad(text: string): unknown } = require('js-yaml');

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  environment?: unknown;
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, { branches?: string[] } | null>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

const DIR = path.join(PROJECT_ROOT, '.github', 'workflows');
const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const text = (file: string) => fs.readFileSync(path.join(DIR, file), 'utf8');
const workflows: Record<string, Workflow> = Object.fromEntries(files.map((f) => [f, yaml.safeLoad(text(f)) as Workflow]));
const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).scripts;
const steps = (workflow: Workflow) => Object.values(workflow.jobs).flatMap((job) => job.steps);
const runs = (workflow: Workflow) => steps(workflow).flatMap((s) => (s.run ? [s.run] : []));

test('the four workflows are there and parse as YAML, each with triggers and jobs of steps', () => {
  expect(files.sort()).toEqual(['ci.yml', 'deploy-aws.yml', 'gcp-terraform.yml', 'release.yml']);
  for (const workflow of Object.values(workflows)) {
    expect(Object.keys(workflow.on).length).toBeGreaterThan(0);
    for (const job of Object.values(workflow.jobs)) expect(job.steps.length).toBeGreaterThan(0);
  }
});

test.each(files)('%s: every `npm run X` is a script of package.json', (file) => {
  const used = runs(workflows[file]).flatMap((run) => [...run.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]));
  expect(used.length).toBeGreaterThan(0);
  expect(used.filter((name) => !(name in scripts))).toEqual([]);
});

test.each(files)('%s: every action is pinned to a full commit SHA, its version in a comment', (file) => {
  const uses = text(file)
    .split('\n')
    .filter((line) => /^\s*(- )?uses:/.test(line));
  expect(uses.length).toBeGreaterThan(0);
  for (const line of uses) expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  // One version of each action across the file.
  const pins = new Map<string, Set<string>>();
  for (const line of uses) {
    const [, action, sha] = /uses: ([^@]+)@(\w+)/.exec(line)!;
    pins.set(action, (pins.get(action) ?? new Set()).add(sha));
  }
  for (const shas of pins.values()) expect(shas.size).toBe(1);
});

test.each(files)('%s: least privilege by default (contents: read) and no long-lived cloud keys', (file) => {
  const workflow = workflows[file];
  expect(workflow.permissions.contents).toBe('read');
  const inputs = JSON.stringify(steps(workflow).map((s) => s.with ?? {}));
  for (const key of ['aws-access-key-id', 'aws-secret-access-key', 'credentials_json']) expect(inputs).not.toContain(key);
  expect(text(file)).not.toMatch(/secrets\./);
});

test('ci.yml: pull requests synthesize both apps and run every test, with no cloud access', () => {
  const ci = workflows['ci.yml'];
  expect(Object.keys(ci.on)).toEqual(['pull_request']);
  expect(ci.permissions).toEqual({ contents: 'read' });
  expect(runs(ci)).toEqual(['npm ci', 'npm run synth', 'npm test']);
  const setups = steps(ci).map((s) => s.uses?.split('@')[0]);
  expect(setups).toEqual(expect.arrayContaining(['actions/setup-node', 'actions/setup-python', 'actions/setup-java']));
});

test('deploy-aws.yml: a merge to main deploys the AWS stacks as the OIDC role, from the synthesized assembly', () => {
  const deploy = workflows['deploy-aws.yml'];
  expect(deploy.on).toEqual({ push: { branches: ['main'] } });
  expect(deploy.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  const [job] = Object.values(deploy.jobs);
  // An environment would change the token's sub claim away from the one the role trusts (repo:OWNER/REPO:ref:refs/heads/main).
  expect(job.environment).toBeUndefined();
  const credentials = job.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))!;
  expect(credentials.with).toMatchObject({ 'role-to-assume': '${{ vars.AWS_DEPLOY_ROLE_ARN }}', 'aws-region': '${{ vars.AWS_REGION }}' });
  const commands = job.steps.map((s) => s.run ?? s.uses?.split('@')[0]);
  expect(commands.indexOf('npm run synth:aws')).toBeLessThan(commands.indexOf('aws-actions/configure-aws-credentials'));
  expect(commands.at(-1)).toBe('npx cdk deploy --app cdk.out --all --require-approval never --progress events');
});

test('gcp-terraform.yml: the plan is posted on the pull request, applied on merge, both through Workload Identity Federation', () => {
  const gcp = workflows['gcp-terraform.yml'];
  expect(gcp.on).toEqual({ pull_request: null, push: { branches: ['main'] } });
  const { plan, apply } = gcp.jobs;
  expect(plan.if).toContain("github.event_name == 'pull_request'");
  expect(plan.permissions).toEqual({ contents: 'read', 'id-token': 'write', 'pull-requests': 'write' });
  expect(apply.if).toBe("github.event_name == 'push'");
  expect(apply.environment).toBeUndefined();
  const auth = (job: Job) => job.steps.find((s) => s.uses?.startsWith('google-github-actions/auth@'))!.with;
  expect(auth(plan)).toEqual({ workload_identity_provider: '${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}', service_account: '${{ vars.GCP_PLAN_SERVICE_ACCOUNT }}' });
  expect(auth(apply)).toEqual({ workload_identity_provider: '${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}', service_account: '${{ vars.GCP_APPLY_SERVICE_ACCOUNT }}' });
  const script = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');
  for (const job of [plan, apply]) {
    expect(script(job)).toContain('npm run synth:gcp');
    expect(script(job)).toContain('"backend": {"gcs": {}}'); // remote state, not the synthesized local backend
  }
  expect(script(plan)).toMatch(/terraform plan .*-out=tfplan/);
  expect(script(plan)).not.toContain('terraform apply');
  expect(script(apply)).toContain('terraform apply -input=false -no-color tfplan');
  const comment = plan.steps.find((s) => s.uses?.startsWith('actions/github-script@'))!;
  expect(String(comment.with!.script)).toContain('github.rest.issues.createComment');
});

test('release.yml: a version tag is tested, published through trusted publishing, then released on GitHub', () => {
  const release = workflows['release.yml'];
  expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } });
  expect(release.permissions).toEqual({ contents: 'read' });
  const { test: tests, publish, 'github-release': github } = release.jobs as Record<string, Job & { needs?: string | string[] }>;
  // The tag is checked against package.json and the changelog before the suite, and the suite is ci.yml's.
  expect(tests.steps.flatMap((s) => (s.run ? [s.run] : []))).toEqual([
    'npm ci',
    expect.stringContaining('npm run release:notes --silent -- "$GITHUB_REF_NAME"'),
    'npm run synth',
    'npm test',
  ]);
  // Only the publish job may mint an OIDC token, only the release job may write to the repository.
  expect(tests.permissions).toBeUndefined();
  expect(publish.needs).toBe('test');
  expect(publish.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  expect(github.needs).toEqual(['test', 'publish']);
  expect(github.permissions).toEqual({ contents: 'write' });
  const script = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');
  expect(script(publish)).toContain('npm publish --provenance --access public');
  expect(script(publish)).not.toMatch(/NODE_AUTH_TOKEN|NPM_TOKEN/);
  // npm's trusted publishing needs npm >= 11.5.1 on Node >= 22.14: the publish job's Node ships them.
  const node = publish.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))!;
  expect(Number(node.with!['node-version'])).toBeGreaterThanOrEqual(24);
  expect(script(github)).toContain('gh release create "$GITHUB_REF_NAME"');
});
