import * as fs from 'fs';
import { Duration, Stack, StackProps, Stage } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CodePipeline, CodePipelineSource, ManualApprovalStep, ShellStep } from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { configSchema, StreamFoundryConfig } from '../config';
import { applyCostTags } from '../cost-tags';
import { SecureBucket } from '../secure-bucket';
import { CicdEnvironment, environmentSettings, needsApproval } from './config';
import { secureDeploymentPipeline } from './compliance';

/**
 * The synth step's commands: the project's own, as the README gives them. `npm test` is the whole suite (types, jest
 * with cfn-lint and checkov, the Spark job's pytest, the Flink job's Maven build): its setup installs kcat and
 * PostgreSQL with apt-get (CodeBuild runs as root) and the Python venvs from PyPI, Maven fetches from Maven Central.
 */
export const SYNTH_COMMANDS = ['npm ci', 'npm run synth', 'npm test'] as const;

/**
 * What the synth build runs on: the standard image's runtimes the project targets (README "Toolchain": Node.js 20,
 * Python 3.11, Java 17 with Maven), and a LARGE machine (8 vCPU, 15 GB): Spark, the Flink mini cluster and jest run
 * side by side in `npm test`, which takes ~16 minutes on 2 cores.
 */
export const SYNTH_RUNTIMES = { nodejs: '20', python: '3.11', java: 'corretto17' } as const;

/**
 * cdk-assets, which publishes the stages' assets: pinned like every tool here (CDK Pipelines installs `latest` unless
 * told). The self-mutation step's CLI is the project's own `aws-cdk` (package.json): the CLI must read the cloud
 * assemblies of the pinned aws-cdk-lib.
 */
export const CDK_ASSETS_VERSION = '4.7.3';

/** Days a run's artifacts are kept. */
export const ARTIFACT_DAYS = 90;

/**
 * Props of `DeploymentPipelineStack`: the configuration with its `cicd` section, and how to build each environment's
 * stacks.
 */
export interface DeploymentPipelineStackProps extends StackProps {
  /** The configuration, with its `cicd` section. */
  readonly config: StreamFoundryConfig;
  /**
   * Builds one environment's stacks into its stage: the AWS app's own builder (platform/aws-app.ts `buildAwsStacks`),
   * so each stage deploys exactly the stacks `cdk deploy` would for that environment's configuration.
   */
  readonly buildStacks: (scope: Stage, config: StreamFoundryConfig) => Stack[];
}

/** One environment of the pipeline: its stage, configuration and stacks. */
export interface DeploymentStage {
  readonly environment: CicdEnvironment;
  readonly config: StreamFoundryConfig;
  readonly stage: Stage;
  readonly stacks: Stack[];
  /** Whether a manual approval precedes it. */
  readonly approval: boolean;
}

/**
 * The deployment pipeline (CDK Pipelines on CodePipeline): source from GitHub through a CodeConnections connection,
 * a synth step running the project's install, synth and tests, the pipeline updating itself, then one stage per
 * environment of `cicd.environments` in order, each after a manual approval where configured. Cross-account: the
 * artifacts are in a KMS-encrypted bucket whose key the target accounts' CDK deploy roles are granted.
 */
export class DeploymentPipelineStack extends Stack {
  /** The CDK pipeline: source, synth, self-update, then one stage per environment. */
  readonly pipeline: CodePipeline;
  /** The pipeline's artifact bucket, KMS-encrypted, its key granted to the target accounts' deploy roles. */
  readonly artifactBucket: SecureBucket;
  /** Each environment of `cicd.environments`, in deploy order: its stage, configuration and stacks. */
  readonly stages: DeploymentStage[];

  constructor(scope: Construct, id: string, props: DeploymentPipelineStackProps) {
    const { config, buildStacks, ...stackProps } = props;
    const cicd = config.cicd;
    if (!cicd) throw new Error(`${id}: the deployment pipeline needs the "cicd" section of the configuration`);
    super(scope, id, {
      stackName: `${config.project}-deployment-pipeline`,
      description: `Stream Foundry: deployment pipeline (CDK Pipelines) for ${cicd.repository}@${cicd.branch} to ${cicd.environments.map((e) => e.name).join(', ')}`,
      env: { account: cicd.account, region: cicd.region },
      ...stackProps,
    });

    // Artifacts hold every environment's templates and assets: retained, versioned, KMS-encrypted, access-logged;
    // each run's expire after 90 days (a run is retried or rolled back within days, not months).
    this.artifactBucket = new SecureBucket(this, 'Artifacts', { lifecycleRules: [{ id: 'expire-old-runs', expiration: Duration.days(ARTIFACT_DAYS) }] });

    const source = CodePipelineSource.connection(cicd.repository, cicd.branch, { connectionArn: cicd.connectionArn });
    this.pipeline = new CodePipeline(this, 'Pipeline', {
      pipelineName: `${config.project}-deployment-pipeline`,
      artifactBucket: this.artifactBucket.bucket,
      synth: new ShellStep('Synth', { input: source, commands: [...SYNTH_COMMANDS], primaryOutputDirectory: 'cdk.out' }),
      synthCodeBuildDefaults: {
        buildEnvironment: { computeType: codebuild.ComputeType.LARGE },
        partialBuildSpec: codebuild.BuildSpec.fromObject({ phases: { install: { 'runtime-versions': SYNTH_RUNTIMES } } }),
        timeout: Duration.minutes(90),
      },
      codeBuildDefaults: { buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0 } },
      cliVersion: cdkCliVersion(),
      cdkAssetsCliVersion: CDK_ASSETS_VERSION,
      // One publishing project per asset type rather than one per asset: a fixed set of projects and roles to review.
      publishAssetsInParallel: false,
    });

    this.stages = cicd.environments.map((environment, i) => {
      const stageConfig = environmentConfig(config, environment);
      const stage = new Stage(this, environment.name, { env: { account: environment.account, region: environment.region } });
      const stacks = buildStacks(stage, stageConfig);
      const approval = needsApproval(environment, i);
      this.pipeline.addStage(stage, {
        pre: approval ? [new ManualApprovalStep(`Approve-${environment.name}`, { comment: `Deploy ${cicd.repository}@${cicd.branch} to ${environment.name} (${environment.account}/${environment.region})?` })] : [],
      });
      return { environment, config: stageConfig, stage, stacks, approval };
    });

    this.pipeline.buildPipeline();
    // CDK grants the source action codestar-connections:UseConnection; connections made since the service's rename
    // have codeconnections ARNs, authorized under the new prefix: grant that too, on this connection only.
    const sourceRole = this.pipeline.pipeline.node
      .findChild('Source')
      .node.findAll()
      .find((c): c is iam.Role => c instanceof iam.Role);
    if (!sourceRole) throw new Error(`${this.node.path}: the source action has no role to grant the connection to`);
    sourceRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['codeconnections:UseConnection'], resources: [cicd.connectionArn] }));
    applyCostTags(this, { ...config, environment: 'cicd' });
    secureDeploymentPipeline(this.pipeline, this.artifactBucket.bucket);
  }
}

/** The configuration of one environment: the base settings with the environment's over them (validated at parse). */
export function environmentConfig(config: StreamFoundryConfig, environment: CicdEnvironment): StreamFoundryConfig {
  return configSchema.parse(environmentSettings(config, environment));
}

/** The app's pinned `aws-cdk` CLI (its package.json, in the working directory), for the pipeline's self-mutation step. */
function cdkCliVersion(): string {
  const manifest = JSON.parse(fs.readFileSync('package.json', 'utf8'));
  const version: string | undefined = manifest.devDependencies?.['aws-cdk'] ?? manifest.dependencies?.['aws-cdk'];
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`package.json: expected an exact aws-cdk version in devDependencies (got ${version})`);
  return version;
}
