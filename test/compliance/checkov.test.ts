/**
 * checkov (Prisma Cloud's IaC scanner, pinned in scripts/setup/requirements-checkov.txt, in its own .venv-checkov) is
 * a second, independent opinion beside cdk-nag: one run over every CloudFormation template the AWS app synthesizes
 * from cdk.json and over the Google Cloud app's Terraform JSON. No check may fail. A check that does not apply is
 * skipped on its one resource with the reason: `skipCheckov` (platform/compliance) in the template's Metadata, and for
 * the Terraform JSON, which has no in-file skip, an entry with a comment in checkov-terraform-baseline.json (checkov's
 * baseline format). The test applies that baseline itself: with `--baseline`, checkov also drops every passed and
 * every Metadata-skipped check from its report, and a report left empty is not printed at all, so a clean run could
 * not be told from one that scanned nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { App as TerraformApp } from 'cdktf';
import { buildAwsApp } from '../../platform/aws-app';
import { buildGcpApp } from '../../platform/gcp-app';
import { acknowledgeCheckovFindings } from '../../platform/compliance';
import { parseConfig, readCdkJsonContext } from '../../platform/config';
import { PROJECT_ROOT } from '../../platform/paths';
import { testApp } from '../support/aws';

const CHECKOV = path.join(PROJECT_ROOT, '.venv-checkov', 'bin', 'checkov');
const BASELINE = path.join(__dirname, 'checkov-terraform-baseline.json'); // checkov's --baseline format

interface Check {
  check_id: string;
  check_name: string;
  file_abs_path: string;
  resource: string;
  suppress_comment?: string;
}
interface Report {
  check_type: string;
  results: { failed_checks: Check[]; skipped_checks: Check[] };
  summary: { passed: number; failed: number; skipped: number; parsing_errors: number; resource_count: number };
}
type CfnTemplate = { Resources: Record<string, { Type: string; Metadata?: Record<string, any> }> }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every AWS template (bundling skipped: checkov reads function properties, never code) and the Terraform JSON. */
function synthesize(): { templates: Record<string, CfnTemplate>; terraformJson: string; outdirs: string[] } {
  // Path metadata (as `cdk synth` writes it) names each finding's construct.
  const app = testApp({ 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true, alarmEmails: ['oncall@example.com'] });
  buildAwsApp(app, parseConfig(app.node.getAllContext()));
  const assembly = app.synth();
  const templates = Object.fromEntries(
    assembly.stacks.map((s) => {
      const file = path.join(assembly.directory, s.templateFile);
      return [file, JSON.parse(fs.readFileSync(file, 'utf8')) as CfnTemplate];
    }),
  );

  // The Google Cloud app as bin/gcp.ts builds it from cdk.json and the registry (gcp.kmsKeyName unset: Google-managed keys).
  const config = parseConfig(readCdkJsonContext());
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'checkov-cdktf-'));
  const gcp = new TerraformApp({ outdir });
  const [name] = buildGcpApp(gcp, config);
  gcp.synth();
  return { templates, terraformJson: path.join(outdir, 'stacks', name, 'cdk.tf.json'), outdirs: [assembly.directory, outdir] };
}

/** One checkov run over all files, offline (no mapping download, no version check); one report per framework. */
function runCheckov(files: string[]): Report[] {
  const args = [
    ...files.flatMap((f) => ['-f', f]),
    ...['--framework', 'cloudformation', 'terraform_json', '--skip-download'],
    ...['--output', 'json', '--compact'],
  ];
  const run = spawnSync(CHECKOV, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, CKV_SKIP_PACKAGE_UPDATE_CHECK: 'true', BC_SKIP_MAPPING: 'TRUE' },
  });
  if (run.error || ![0, 1].includes(run.status ?? -1)) {
    throw new Error(`checkov did not run (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr}`);
  }
  const output = JSON.parse(run.stdout) as Report | Report[];
  return Array.isArray(output) ? output : [output];
}

describe('checkov over every synthesized template (CloudFormation and Terraform JSON)', () => {
  test('checkov is installed', () => {
    // Not a skip: without checkov the gate would pass silently.
    if (!fs.existsSync(CHECKOV)) throw new Error(`${CHECKOV} is missing: run \`bash scripts/setup/python-venv.sh\` (npm test's pretest does)`);
  });

  const installed = fs.existsSync(CHECKOV);
  const { templates, terraformJson, outdirs } = installed ? synthesize() : { templates: {}, terraformJson: '', outdirs: [] };
  afterAll(() => outdirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  const reports = installed ? runCheckov([...Object.keys(templates), terraformJson]) : [];
  const report = (type: string) => reports.find((r) => r.check_type === type);

  // The accepted Terraform JSON findings: "resource check" -> reason.
  const baseline: { failed_checks: { findings: { resource: string; check_ids: string[]; comment?: string }[] }[] } = JSON.parse(
    fs.readFileSync(BASELINE, 'utf8'),
  );
  const accepted = new Map(
    baseline.failed_checks.flatMap(({ findings }) => findings.flatMap((f) => f.check_ids.map((id) => [`${f.resource} ${id}`, f.comment ?? ''] as const))),
  );
  const isAccepted = (c: Check) => c.file_abs_path === terraformJson && accepted.has(`${c.resource} ${c.check_id}`);

  /** "CHECK stack LogicalId (construct path): name" for a CloudFormation finding, "CHECK resource (file)" otherwise. */
  const describeCheck = (c: Check): string => {
    const template = templates[c.file_abs_path];
    if (!template) return `${c.check_id} ${c.resource} (${path.basename(c.file_abs_path)}): ${c.check_name}`;
    const logicalId = c.resource.split('.').pop()!;
    const constructPath = template.Resources[logicalId]?.Metadata?.['aws:cdk:path'] ?? '?';
    return `${c.check_id} ${path.basename(c.file_abs_path, '.template.json')} ${logicalId} (${constructPath}): ${c.check_name}`;
  };

  test('scans every AWS stack and the Terraform JSON without parsing errors', () => {
    expect(installed).toBe(true);
    expect(Object.keys(templates).length).toBeGreaterThanOrEqual(5);
    expect(report('cloudformation')?.summary).toMatchObject({ parsing_errors: 0 });
    expect(report('cloudformation')!.summary.passed).toBeGreaterThan(1000);
    expect(report('terraform_json')?.summary).toMatchObject({ parsing_errors: 0 });
    expect(report('terraform_json')!.summary.passed).toBeGreaterThan(10);
  });

  test('no check fails (the Terraform JSON findings of the baseline aside)', () => {
    expect(installed).toBe(true);
    const failed = reports.flatMap((r) => r.results.failed_checks).filter((c) => !isAccepted(c));
    expect(failed.map(describeCheck).sort()).toEqual([]);
  });

  test('every baseline entry still matches a finding (a renamed resource leaves none behind)', () => {
    expect(installed).toBe(true);
    const found = new Set(report('terraform_json')!.results.failed_checks.map((c) => `${c.resource} ${c.check_id}`));
    expect([...accepted.keys()].filter((entry) => !found.has(entry))).toEqual([]);
  });

  test('every skip names its reason', () => {
    expect(installed).toBe(true);
    // CloudFormation: the comment in the resource's Metadata, which checkov reports as the suppress comment.
    for (const [file, template] of Object.entries(templates)) {
      for (const [id, resource] of Object.entries(template.Resources)) {
        for (const skip of resource.Metadata?.checkov?.skip ?? []) {
          expect(`${path.basename(file)} ${id} ${skip.id}: ${skip.comment ?? ''}`).toMatch(/: .{20,}/);
        }
      }
    }
    for (const skipped of report('cloudformation')?.results.skipped_checks ?? []) {
      expect(`${describeCheck(skipped)}: ${skipped.suppress_comment}`).not.toMatch(/No comment provided$/);
    }
    // Terraform JSON: the reason is the entry's comment in the baseline file.
    for (const [entry, reason] of accepted) expect(`${entry}: ${reason}`).toMatch(/: .{20,}/);
  });
});

describe('acknowledgeCheckovFindings: a skip only where it applies', () => {
  // A bare app: these resources are not meant to pass cdk-nag, only to show which skips the pass adds.
  const bareStack = () => new Stack(new App(), 'Test');
  const skips = (template: Template, type: string, idPrefix: string): string[] => {
    const [resource] = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(idPrefix)).map(([, r]) => r);
    return (resource.Metadata?.checkov?.skip ?? []).map((s: { id: string }) => s.id).sort();
  };

  test("a function's dead-letter check is skipped for an on-failure destination, never by default", () => {
    const stack = bareStack();
    const code = lambda.Code.fromInline('exports.handler = async () => {};');
    const props = { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code, environment: { NAME: 'x' } };
    new lambda.Function(stack, 'Plain', props);
    new lambda.Function(stack, 'Async', { ...props, onFailure: new SqsDestination(new sqs.Queue(stack, 'Failures', { enforceSSL: true })) });
    acknowledgeCheckovFindings(stack);
    const template = Template.fromStack(stack);
    expect(skips(template, 'AWS::Lambda::Function', 'Plain')).toEqual(['CKV_AWS_115', 'CKV_AWS_117', 'CKV_AWS_173']);
    expect(skips(template, 'AWS::Lambda::Function', 'Async')).toEqual(['CKV_AWS_115', 'CKV_AWS_116', 'CKV_AWS_117', 'CKV_AWS_173']);
  });

  test('a policy is skipped only when its "*" grants are network-interface actions', () => {
    const stack = bareStack();
    const role = (id: string, actions: string[]) =>
      new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }).addToPrincipalPolicy(
        new iam.PolicyStatement({ actions, resources: ['*'] }),
      );
    role('Vpc', ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface']);
    role('Writer', ['ec2:CreateNetworkInterface', 's3:PutObject']);
    acknowledgeCheckovFindings(stack);
    const template = Template.fromStack(stack);
    expect(skips(template, 'AWS::IAM::Policy', 'VpcDefaultPolicy')).toEqual(['CKV_AWS_111']);
    expect(skips(template, 'AWS::IAM::Policy', 'WriterDefaultPolicy')).toEqual([]);
  });
});
