/**
 * The deployment pipeline (platform/cicd): one synthesis of an app with a `cicd` section (two environments, the second
 * with its own sources and sizes and a manual approval), checked against the template, the app's own stacks for each
 * environment's configuration, cdk-nag and cfn-lint.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildAwsApp, buildAwsDeployment } from '../../../platform/aws-app';
import { ARTIFACT_DAYS, CDK_ASSETS_VERSION, DeploymentPipelineStack, SYNTH_COMMANDS, SYNTH_RUNTIMES } from '../../../platform/cicd/stack';
import { CFN_LINT_REASONS } from '../../../platform/compliance';
import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import { PROJECT_ROOT } from '../../../platform/paths';
import { complianceFindings, testApp } from '../../support/aws';
import { configProblems } from '../../support/config';

const CFN_LINT = path.join(PROJECT_ROOT, '.venv', 'bin', 'cfn-lint');

const CONNECTION = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9';
const SOURCE = (pipelines: string[]) => ({ schema: 'clickstream.schema.json', idField: 'event_id', partitionKeyField: 'user_id', pipelines });
/** Base: clickstream to the landing zone. prod: clickstream also to pipeline 2, bigger validator and stream, an approval. */
const CICD = {
  repository: 'acme/stream-foundry',
  branch: 'release',
  connectionArn: CONNECTION,
  account: '111111111111',
  region: 'eu-west-1',
  environments: [
    { name: 'dev', account: '222222222222', region: 'eu-west-1' },
    {
      name: 'prod',
      account: '333333333333',
      region: 'eu-west-1',
      settings: {
        sources: { clickstream: { pipelines: ['landingZone', 'kinesisToDeltaLake'] } },
        validator: { memoryMiB: 2048 },
        kinesisToDeltaLake: { stream: { shards: 2 } },
      },
    },
  ],
};
/** Settings the test app uses: one source, no Google Cloud pipeline (bundling skipped: the bundles have tests of their own). */
const BASE = { 'aws:cdk:bundling-stacks': [], alarmEmails: ['oncall@example.com'], sources: { clickstream: SOURCE(['landingZone']) }, gcp: undefined, rdsCdcToS3: undefined };

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** Every app this file makes has its own cdk.out in the temp directory: removed after. */
const apps: App[] = [];
const track = <T extends App>(app: T): T => (apps.push(app), app);
afterAll(() => apps.forEach((a) => fs.rmSync(a.outdir, { recursive: true, force: true })));

describe('the deployment pipeline stack (cicd section)', () => {
  const app = track(testApp({ ...BASE, cicd: CICD }));
  buildAwsDeployment(app, parseConfig(app.node.getAllContext())); // as bin/aws.ts builds the app
  const findings = complianceFindings(app); // the one synthesis, through the compliance gate
  const assembly = app.synth();
  const pipelineStack = app.node.findChild('DeploymentPipeline') as DeploymentPipelineStack;
  const template = Template.fromJSON(JSON.parse(fs.readFileSync(path.join(assembly.directory, assembly.getStackArtifact(pipelineStack.artifactId).templateFile), 'utf8')));
  const pipeline = template.findResources('AWS::CodePipeline::Pipeline');
  const stages: { Name: string; Actions: { Name: string; RunOrder?: number; ActionTypeId: { Category: string; Provider: string }; Configuration?: Record<string, unknown> }[] }[] =
    Object.values(pipeline)[0].Properties.Stages;

  test('with a cicd section the app is the pipeline: its only top-level stack, in the pipeline account', () => {
    expect(assembly.stacks.map((s) => s.id)).toEqual(['DeploymentPipeline']);
    expect(pipelineStack.account).toBe('111111111111');
    expect(pipelineStack.region).toBe('eu-west-1');
    expect(pipelineStack.stackName).toBe('stream-foundry-deployment-pipeline');
  });

  test('without the section the app is the stacks; buildAwsApp (the tests\' app) builds the stacks either way', () => {
    const stackIds = (build: typeof buildAwsApp, cicd?: object) => {
      const plain = track(testApp({ ...BASE, cicd }));
      build(plain, parseConfig(plain.node.getAllContext()));
      return plain.node.children.filter((c) => c instanceof Stack).map((c) => c.node.id);
    };
    expect(stackIds(buildAwsDeployment)).toEqual(['LandingZone']);
    expect(stackIds(buildAwsApp, CICD)).toEqual(['LandingZone']);
  });

  test('passes the compliance gate: no unacknowledged cdk-nag finding in the pipeline or its stages', () => {
    expect(findings).toEqual([]);
  });

  test('source: the branch of the GitHub repository through the CodeConnections connection, on every push', () => {
    expect(stages[0].Name).toBe('Source');
    expect(stages[0].Actions).toEqual([
      expect.objectContaining({
        ActionTypeId: expect.objectContaining({ Category: 'Source', Provider: 'CodeStarSourceConnection' }),
        Configuration: { ConnectionArn: CONNECTION, FullRepositoryId: 'acme/stream-foundry', BranchName: 'release' }, // DetectChanges: true by default
      }),
    ]);
    // Its role may use this connection, under the service's old and new names, and no other.
    const role = (stages[0].Actions[0] as unknown as { RoleArn: { 'Fn::GetAtt': string[] } }).RoleArn['Fn::GetAtt'][0];
    const policy = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }))[0];
    const uses = policy.Properties.PolicyDocument.Statement.filter((s: { Action: unknown }) => JSON.stringify(s.Action).includes('UseConnection'));
    expect(uses.flatMap((s: { Action: string | string[]; Resource: string }) => [s.Action].flat().map((a) => [a, s.Resource])).sort()).toEqual([
      ['codeconnections:UseConnection', CONNECTION],
      ['codestar-connections:UseConnection', CONNECTION],
    ]);
  });

  test('synth: the project own commands (npm ci, npm run synth, npm test) on the targeted runtimes, a LARGE build', () => {
    expect(stages[1].Name).toBe('Build');
    expect(SYNTH_COMMANDS).toEqual(['npm ci', 'npm run synth', 'npm test']);
    const synth = Object.values(template.findResources('AWS::CodeBuild::Project')).find((p) =>
      String(p.Properties.Source.BuildSpec).includes('npm run synth'),
    )!;
    const spec = JSON.parse(synth.Properties.Source.BuildSpec);
    expect(spec.phases.build.commands).toEqual([...SYNTH_COMMANDS]);
    expect(spec.phases.install['runtime-versions']).toEqual(SYNTH_RUNTIMES);
    expect(spec.artifacts['base-directory']).toBe('cdk.out');
    expect(synth.Properties.Environment).toMatchObject({ ComputeType: 'BUILD_GENERAL1_LARGE', Image: 'aws/codebuild/standard:7.0', PrivilegedMode: false });
    expect(synth.Properties.TimeoutInMinutes).toBe(90);
    // Every build encrypts its output with the artifact bucket's key.
    for (const project of Object.values(template.findResources('AWS::CodeBuild::Project'))) {
      expect(project.Properties.EncryptionKey).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ArtifactsKey/), 'Arn'] });
    }
  });

  test('the pipeline updates itself with the project aws-cdk CLI, and publishes assets with a pinned cdk-assets', () => {
    const cli = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).devDependencies['aws-cdk'];
    expect(stages.map((s) => s.Name).slice(2, 4)).toEqual(['UpdatePipeline', 'Assets']);
    const specs = Object.values(template.findResources('AWS::CodeBuild::Project')).map((p) => String(p.Properties.Source.BuildSpec));
    expect(specs.some((s) => s.includes(`npm install -g aws-cdk@${cli}`))).toBe(true);
    const assets = fs.readdirSync(assembly.directory).filter((f) => f.startsWith('buildspec-')).map((f) => fs.readFileSync(path.join(assembly.directory, f), 'utf8'));
    expect([...specs, ...assets].some((s) => s.includes(`npm install -g cdk-assets@${CDK_ASSETS_VERSION}`))).toBe(true);
  });

  test('stages in order: dev, then the manual approval, then prod; each deploys its stacks into its own account', () => {
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'dev', 'prod']);
    const [dev, prod] = stages.slice(4);
    expect(dev.Actions.some((a) => a.ActionTypeId.Category === 'Approval')).toBe(false);
    const approval = prod.Actions.filter((a) => a.ActionTypeId.Category === 'Approval');
    expect(approval).toEqual([expect.objectContaining({ Name: 'Approve-prod', ActionTypeId: expect.objectContaining({ Provider: 'Manual' }) })]);
    const deploys = prod.Actions.filter((a) => a.ActionTypeId.Category === 'Deploy');
    expect(deploys.length).toBeGreaterThan(0);
    expect(Math.min(...deploys.map((a) => a.RunOrder ?? 1))).toBeGreaterThan(approval[0].RunOrder ?? 1);
    const roles = (stage: (typeof stages)[number]) =>
      JSON.stringify(stage.Actions.filter((a) => a.ActionTypeId.Category === 'Deploy').map((a) => (a as unknown as { RoleArn: unknown }).RoleArn));
    expect(roles(dev)).toContain('cdk-hnb659fds-deploy-role-222222222222-eu-west-1');
    expect(roles(prod)).toContain('cdk-hnb659fds-deploy-role-333333333333-eu-west-1');
    const stackNames = (stage: (typeof stages)[number]) => [...new Set(stage.Actions.flatMap((a) => (a.Configuration?.StackName ? [a.Configuration.StackName] : [])))];
    expect(stackNames(dev)).toEqual(['stream-foundry-dev-landing-zone']);
    expect(stackNames(prod).sort()).toEqual(['stream-foundry-prod-kinesis-to-delta-lake', 'stream-foundry-prod-landing-zone']);
  });

  test('each stage holds exactly the stacks the app builds for that environment (ids, names, accounts, templates)', () => {
    for (const { environment, config, stage } of pipelineStack.stages) {
      const reference = track(new App({ context: { ...readCdkJsonContext(), 'aws:cdk:bundling-stacks': [] } }));
      buildAwsApp(reference, config);
      const expected = reference.synth();
      const actual = assembly.getNestedAssembly(stage.artifactId);
      const summary = (a: CloudAssembly) => a.stacks.map((s) => ({ id: s.hierarchicalId.split('/').pop(), name: s.stackName, env: `${s.environment.account}/${s.environment.region}` }));
      expect(summary(actual)).toEqual(summary(expected));
      expect(summary(actual).every((s) => s.env === `${environment.account}/${environment.region}`)).toBe(true);
      for (const stack of expected.stacks) {
        const counterpart = actual.stacks.find((s) => s.stackName === stack.stackName)!;
        const resources = (a: CloudAssembly, file: string): Resources => JSON.parse(fs.readFileSync(path.join(a.directory, file), 'utf8')).Resources;
        const ours = resources(expected, stack.templateFile);
        // CDK derives a few logical ids from another construct's full path, which in a stage includes the stage's
        // (a Lambda permission for an SNS topic): matched by what remains without the stage and the path hash.
        const theirsRaw = resources(actual, counterpart.templateFile);
        const base = (id: string) => id.replace(`DeploymentPipeline${environment.name}`, '').replace(/[0-9A-F]{8}([0-9A-F]{8})?$/, '');
        const renamed = Object.keys(theirsRaw).filter((id) => !(id in ours)).map((id) => [id, Object.keys(ours).find((o) => !(o in theirsRaw) && base(o) === base(id))] as const);
        expect(renamed.filter(([, to]) => to === undefined)).toEqual([]);
        expect([...new Set(renamed.map(([id]) => theirsRaw[id].Type))]).toEqual(renamed.length > 0 ? ['AWS::Lambda::Permission'] : []); // stateless only
        const theirs: Resources = JSON.parse(renamed.reduce((json, [from, to]) => json.split(from).join(to!), JSON.stringify(theirsRaw)));
        expect(Object.entries(theirs).map(([id, r]) => `${id} ${r.Type}`).sort()).toEqual(Object.entries(ours).map(([id, r]) => `${id} ${r.Type}`).sort());
        // Properties too, but for the construct path some descriptions, log prefixes and dashboards name (the stage's
        // is longer), names CDK derives from it (statement ids: the path and its hash), and the placeholder hashes of
        // skipped bundling (from that path; real bundles hash their content).
        const normalized = (json: string) =>
          json
            .split(`${pipelineStack.node.id}/${environment.name}/`)
            .join('')
            .split(`${pipelineStack.node.id}${environment.name}`)
            .join('')
            .replace(/[0-9a-f]{64}/g, 'ASSET')
            .replace(/(?<=[A-Za-z0-9])[0-9A-F]{8}(?![A-Za-z0-9])/g, 'HASH');
        expect(normalized(JSON.stringify(theirs, null, 1))).toEqual(normalized(JSON.stringify(ours, null, 1)));
      }
    }
  });

  test("each stage's configuration is the base with the environment's settings over it", () => {
    const [dev, prod] = pipelineStack.stages;
    expect([dev.config.environment, dev.config.account, dev.config.region]).toEqual(['dev', '222222222222', 'eu-west-1']);
    expect([prod.config.environment, prod.config.account, prod.config.region]).toEqual(['prod', '333333333333', 'eu-west-1']);
    expect(dev.config.validator.memoryMiB).toBe(1024);
    expect(prod.config.validator.memoryMiB).toBe(2048);
    expect(prod.config.sources.clickstream).toMatchObject({ schema: 'clickstream.schema.json', pipelines: ['landingZone', 'kinesisToDeltaLake'] });
    expect(prod.config.kinesisToDeltaLake.stream).toEqual({ shards: 2, retentionHours: 24 });
    expect(prod.config.cicd).toBeUndefined();
    const prodStream = Template.fromStack(prod.stacks.find((s) => s.node.id === 'KinesisToDeltaLake') as Stack);
    prodStream.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 2 });
    Template.fromStack(prod.stacks.find((s) => s.node.id === 'LandingZone') as Stack).hasResourceProperties(
      'AWS::Lambda::Function',
      Match.objectLike({ MemorySize: 2048 }),
    );
  });

  test('artifacts: the pipeline keeps them in a KMS-encrypted, TLS-only, access-logged bucket it retains', () => {
    const buckets = template.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.anyValue() } });
    expect(Object.keys(buckets)).toEqual([expect.stringMatching(/^ArtifactsBucket/)]);
    const [id, bucket] = Object.entries(buckets)[0];
    expect(bucket).toMatchObject({ DeletionPolicy: 'Retain' });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(expect.arrayContaining([{ Id: 'expire-old-runs', ExpirationInDays: ARTIFACT_DAYS, Status: 'Enabled' }]));
    expect(JSON.stringify(bucket.Properties.BucketEncryption)).toContain('aws:kms');
    expect(Object.values(pipeline)[0].Properties.ArtifactStore).toMatchObject({ Location: { Ref: id }, EncryptionKey: { Type: 'KMS' } });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    // The environments' CDK deploy roles read the templates cross-account: the bucket and key policies name them, only them.
    const policies = JSON.stringify([template.findResources('AWS::KMS::Key'), template.findResources('AWS::S3::BucketPolicy')]);
    for (const account of ['222222222222', '333333333333']) expect(policies).toContain(`:iam::${account}:role/cdk-hnb659fds-deploy-role-${account}-eu-west-1`);
    expect(new Set([...policies.matchAll(/:iam::(\d{12}):/g)].map((m) => m[1]))).toEqual(new Set(['111111111111', '222222222222', '333333333333']));
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('least privilege: builds start only the pipeline own projects, and no policy grants an action on every resource but the CLI lookups', () => {
    const projects = Object.keys(template.findResources('AWS::CodeBuild::Project'));
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'));
    for (const [, policy] of policies) {
      for (const statement of policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]) {
        const actions = [statement.Action].flat();
        if (actions.some((a) => a.startsWith('codebuild:') && a.endsWith('Build'))) {
          for (const resource of [statement.Resource].flat()) expect(projects).toContain((resource as { 'Fn::GetAtt': string[] })['Fn::GetAtt']?.[0]);
        }
        if ([statement.Resource].flat().includes('*')) expect(actions.sort()).toEqual(['cloudformation:DescribeStacks', 's3:ListBucket']);
        const logs = JSON.stringify(statement.Resource);
        if (actions.includes('logs:CreateLogStream')) expect(logs).not.toContain('/aws/codebuild/*');
      }
    }
  });

  test('passes cfn-lint with no error and no warning: the pipeline template and every stage template', () => {
    expect(fs.existsSync(CFN_LINT)).toBe(true); // installed by `npm test` (scripts/setup/python-venv.sh)
    const files = [assembly, ...pipelineStack.stages.map((s) => assembly.getNestedAssembly(s.stage.artifactId))].flatMap((a) =>
      a.stacks.map((s) => path.join(a.directory, s.templateFile)),
    );
    expect(files).toHaveLength(4);
    const run = spawnSync(CFN_LINT, ['--format', 'parseable', ...files], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
    expect(run.status).toBe(0);
    for (const file of files) {
      const resources = JSON.parse(fs.readFileSync(file, 'utf8')).Resources as Record<string, { Metadata?: Record<string, any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const [id, resource] of Object.entries(resources)) {
        for (const rule of resource.Metadata?.['cfn-lint']?.config?.ignore_checks ?? []) expect(`${id} ${rule}: ${resource.Metadata?.[CFN_LINT_REASONS]?.[rule] ?? ''}`).toMatch(/: .{20,}/);
      }
    }
  });
});

describe('cicd settings: a wrong one fails synth naming it and what is expected', () => {
  const context = (cicd: Record<string, unknown>) => ({ ...readCdkJsonContext(), ...BASE, cicd: { ...CICD, ...cicd } });

  test('a bad account id', () => {
    expect(configProblems(context({ account: '12345' }))).toEqual(['cicd.account: received "12345"; expected the 12-digit AWS account id the pipeline runs in']);
    expect(configProblems(context({ environments: [{ name: 'dev', account: 'dev-account', region: 'eu-west-1' }] }))).toEqual([
      'cicd.environments.0.account: received "dev-account"; expected the 12-digit AWS account id the environment deploys to',
    ]);
  });

  test('an unknown setting, in the section and in an environment', () => {
    expect(configProblems(context({ branches: ['main'] }))).toEqual([expect.stringMatching(/^cicd: received \{"repository":"acme\/stream-foundry",.*\}; unknown setting\(s\) branches$/)]);
    expect(configProblems(context({ environments: [{ name: 'dev', account: '222222222222', region: 'eu-west-1', settings: { validatr: {} } }] }))).toEqual([
      'cicd.environments.0.settings: received ["validatr"]; unknown setting(s) validatr: expected settings of the configuration other than environment, account, region, cicd (an environment sets its name, account and region itself)',
    ]);
    expect(configProblems(context({ environments: [{ name: 'dev', account: '222222222222', region: 'eu-west-1', settings: { account: '444444444444' } }] }))[0]).toMatch(
      /^cicd\.environments\.0\.settings: received \["account"\]; unknown setting\(s\) account/,
    );
  });

  test("an environment's setting is checked as the configuration checks it, at its path", () => {
    const environments = [{ name: 'dev', account: '222222222222', region: 'eu-west-1', settings: { validator: { memoryMiB: 'lots' } } }];
    expect(configProblems(context({ environments }))).toEqual([expect.stringMatching(/^cicd\.environments\.0\.settings\.validator\.memoryMiB: received "lots"; expected a whole number from \d+ to \d+$/)]);
  });

  test('the connection, repository, environments and their names', () => {
    expect(configProblems(context({ connectionArn: 'arn:aws:s3:::bucket' }))).toEqual([
      'cicd.connectionArn: received "arn:aws:s3:::bucket"; expected a CodeConnections connection ARN "arn:aws:codeconnections:REGION:ACCOUNT:connection/ID"',
    ]);
    expect(configProblems(context({ repository: 'stream-foundry' }))).toEqual(['cicd.repository: received "stream-foundry"; expected a GitHub repository as "OWNER/REPO"']);
    expect(configProblems(context({ environments: [] }))).toEqual(['cicd.environments: received []; expected at least one environment']);
    expect(configProblems(context({ environments: [{ name: 'dev', account: '222222222222', region: 'us-east-1' }] }))).toEqual([
      'cicd.environments.0.region: received "us-east-1"; expected the pipeline\'s region, eu-west-1 (cicd.region): a pipeline deploys within its region (accounts may differ); deploy another region with a pipeline there',
    ]);
    const twice = { name: 'dev', account: '222222222222', region: 'eu-west-1' };
    expect(configProblems(context({ environments: [twice, twice] }))).toEqual(['cicd.environments.1.name: received "dev"; expected a name no other environment has']);
  });
});
