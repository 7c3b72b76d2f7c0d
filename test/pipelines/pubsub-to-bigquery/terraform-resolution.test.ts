import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import { PubSubToBigQueryStack } from '../../../pipelines/pubsub-to-bigquery/stack';
import {
  TerraformJson,
  providerTypes,
  resolvedProvider,
  terraformResolutionProblems,
  typesMissingFromGa,
} from './terraform-resolution';
import { PROJECT_ROOT } from '../../../platform/paths';

/** The stack exactly as bin/gcp.ts builds it from cdk.json (plus overrides), as Terraform JSON. */
function synth(overrides: Record<string, unknown> = {}): TerraformJson {
  const config = parseConfig({ ...readCdkJsonContext(), ...overrides });
  return JSON.parse(Testing.synth(new PubSubToBigQueryStack(Testing.app(), 'stack', config)));
}

const clone = (tf: TerraformJson): TerraformJson => JSON.parse(JSON.stringify(tf));

describe('provider type lists come from the installed provider packages', () => {
  test('GA and beta lists are complete enough to tell them apart', () => {
    const ga = providerTypes('@cdktf/provider-google');
    const beta = providerTypes('@cdktf/provider-google-beta');
    expect(ga.resources.size).toBeGreaterThan(1000);
    expect(ga.dataSources.size).toBeGreaterThan(300);
    expect(ga.resources).toContain('google_pubsub_topic');
    expect(ga.dataSources).toContain('google_project');
    expect(ga.resources).not.toContain('google_dataflow_flex_template_job');
    expect(beta.resources).toContain('google_dataflow_flex_template_job');
  });
});

describe.each<[string, Record<string, unknown>]>([
  ['cdk.json as it is', {}],
  [
    'with CMEK (adds data sources)',
    {
      'gcp.kmsKeyName': 'projects/acme/locations/europe-west1/keyRings/r/cryptoKeys/k',
      'gcp.datasetLocation': 'europe-west1',
    },
  ],
  ['with a fixed project and alarm e-mails', { 'gcp.projectId': 'acme-data', alarmEmails: 'oncall@example.com' }],
])('the synthesized stack (%s) resolves as Terraform resolves it', (_name, overrides) => {
  const tf = synth(overrides);

  test('every resource and data source resolves to a declared provider that has its type; every reference is declared', () => {
    expect(terraformResolutionProblems(tf)).toEqual([]);
  });

  test('every type the GA google provider lacks names google-beta', () => {
    const betaOnly = typesMissingFromGa(tf);
    expect(betaOnly).toContain('google_dataflow_flex_template_job');
    for (const type of betaOnly) {
      for (const body of Object.values({ ...tf.resource?.[type], ...tf.data?.[type] })) {
        expect(resolvedProvider(type, body).name).toBe('google-beta');
      }
    }
  });
});

describe('the app as `cdktf synth` runs it (bin/gcp.ts)', () => {
  test('writes one stack whose Terraform JSON resolves', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-gcp-synth-'));
    try {
      const root = PROJECT_ROOT;
      execFileSync(process.execPath, [require.resolve('tsx/cli'), 'bin/gcp.ts'], {
        cwd: root,
        env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' },
        stdio: 'pipe',
      });
      const stacks = fs.readdirSync(path.join(outdir, 'stacks'));
      expect(stacks).toEqual(['stream-foundry-dev-pubsub-to-bigquery']);
      const tf = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stacks[0], 'cdk.tf.json'), 'utf8'));
      expect(terraformResolutionProblems(tf)).toEqual([]);
      expect(Object.values(tf.resource.google_dataflow_flex_template_job).map((job: any) => job.provider)).toEqual([
        'google-beta',
      ]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('the resolution check fails when Terraform would fail', () => {
  const tf = synth();
  const [jobName] = Object.keys(tf.resource!.google_dataflow_flex_template_job);

  test('the Flex template job without provider resolves to hashicorp/google, which lacks the type', () => {
    const broken = clone(tf);
    delete broken.resource!.google_dataflow_flex_template_job[jobName].provider;
    expect(terraformResolutionProblems(broken)).toEqual([
      `google_dataflow_flex_template_job.${jobName}: hashicorp/google has no resource type "google_dataflow_flex_template_job"`,
    ]);
  });

  test('removing the google-beta provider block', () => {
    const broken = clone(tf);
    delete broken.provider!['google-beta'];
    expect(terraformResolutionProblems(broken)).toEqual([
      `google_dataflow_flex_template_job.${jobName}: no provider "google-beta" block without alias is declared`,
    ]);
  });

  test('removing google-beta from required_providers', () => {
    const broken = clone(tf);
    delete broken.terraform!.required_providers!['google-beta'];
    expect(terraformResolutionProblems(broken)).toEqual([
      `google_dataflow_flex_template_job.${jobName}: provider "google-beta" is not in terraform.required_providers`,
    ]);
  });

  test('renaming the beta provider (local name and block) away from what the job names', () => {
    const broken = clone(tf);
    broken.terraform!.required_providers!.beta = broken.terraform!.required_providers!['google-beta'];
    delete broken.terraform!.required_providers!['google-beta'];
    broken.provider!.beta = broken.provider!['google-beta'];
    delete broken.provider!['google-beta'];
    expect(terraformResolutionProblems(broken)).toContain(
      `google_dataflow_flex_template_job.${jobName}: provider "google-beta" is not in terraform.required_providers`,
    );
  });

  test('pointing google-beta at the GA source', () => {
    const broken = clone(tf);
    broken.terraform!.required_providers!['google-beta'].source = 'hashicorp/google';
    expect(terraformResolutionProblems(broken)).toEqual([
      `google_dataflow_flex_template_job.${jobName}: hashicorp/google has no resource type "google_dataflow_flex_template_job"`,
    ]);
  });

  test('removing hashicorp/time from required_providers (the waits need it)', () => {
    const broken = clone(tf);
    delete broken.terraform!.required_providers!.time;
    const problems = terraformResolutionProblems(broken);
    expect(problems).toContain('time_sleep.api-propagation: provider "time" is not in terraform.required_providers');
    expect(problems.every((p) => p.startsWith('time_sleep.'))).toBe(true);
  });

  test('a time_sleep pointed at the google provider, which has no such type', () => {
    const broken = clone(tf);
    broken.resource!.time_sleep['api-propagation'].provider = 'google';
    expect(terraformResolutionProblems(broken)).toEqual([
      'time_sleep.api-propagation: hashicorp/google has no resource type "time_sleep"',
    ]);
  });

  test('an undeclared variable, data source or resource reference', () => {
    const broken = clone(tf);
    delete broken.variable!.project_id;
    broken.output!.extra = { value: '${data.google_project.nope.number} ${google_pubsub_topic.nope.id}' };
    const problems = terraformResolutionProblems(broken);
    expect(problems).toContain('provider.google: var.project_id is not declared');
    expect(problems).toContain('output.extra: data.google_project.nope is not declared');
    expect(problems).toContain('output.extra: google_pubsub_topic.nope is not declared');
  });
});
