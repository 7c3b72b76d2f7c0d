import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { DataSource } from '../../../platform/data-source';
import { BUILD_ENV, JobBuildProperties } from '../handlers/job-build/contract';
import { HandlerProvider } from '../../../platform/functions';
import { fromRoot, PROJECT_ROOT } from '../../../platform/paths';

/** The job's Maven project (its pom copies `../../../schemas` into the JAR), and where the build finds it. */
const JOB_PATH = 'pipelines/msk-to-iceberg/job';
export const JOB_DIR = path.join(PROJECT_ROOT, JOB_PATH);
export const JOB_JAR = 'target/flink-iceberg-job.jar';
/** Ceiling of one cloud build (Maven from a cold cache takes a few minutes). */
export const BUILD_TIMEOUT = Duration.minutes(30);

const staged = new Map<string, string>();

/** What the JAR carries of a source: its schema (`schemas/<name>.schema.json`) and processing document. */
export type JobSource = Pick<DataSource, 'name' | 'schemaFile' | 'processing'>;

/**
 * The job source as the build needs it, laid out as in the repository: `pipelines/msk-to-iceberg/job/{pom.xml,src/main}`
 * and `schemas/` with each source's schema as `<source>.schema.json` (where the job looks it up by the source's name,
 * whatever the file is called) and its processing document (`<source>.processing.json`), which the pom copies into
 * the JAR; without tests, `target/` (local build output) or anything else. Staged once per process and set of sources.
 */
export function stageJobSource(sources: readonly JobSource[]): string {
  const schemas = sources.map((s) => ({ name: s.name, schema: fs.readFileSync(s.schemaFile, 'utf8'), processing: s.processing }));
  const key = JSON.stringify(schemas);
  const done = staged.get(key);
  if (done && fs.existsSync(done)) return done;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-flink-job-'));
  const job = path.join(dir, JOB_PATH);
  fs.cpSync(path.join(JOB_DIR, 'pom.xml'), path.join(job, 'pom.xml'));
  // src/main only: the build skips tests, so a change to them is no new JAR and no application update (a restart).
  fs.cpSync(path.join(JOB_DIR, 'src', 'main'), path.join(job, 'src', 'main'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'schemas'));
  for (const { name, schema, processing } of schemas) {
    fs.writeFileSync(path.join(dir, 'schemas', `${name}.schema.json`), schema);
    if (processing) fs.writeFileSync(path.join(dir, 'schemas', `${name}.processing.json`), `${JSON.stringify(processing, null, 2)}\n`);
  }
  staged.set(key, dir);
  return dir;
}

export interface JobBuildProps {
  /** Where the JAR goes. */
  readonly artifactBucket: s3.IBucket;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The sources whose schemas (and processing documents) are built into the JAR. */
  readonly sources: readonly JobSource[];
}

/**
 * Builds the Flink job's JAR from this repository's source during `cdk deploy`, in the cloud: the source is an S3
 * asset, CodeBuild runs Maven on a Java 17 image, a custom resource starts the build and waits for it. The JAR's key
 * is derived from the source's hash: a changed source is a new build and a new key, which updates the application.
 */
export class JobBuild extends Construct {
  readonly project: codebuild.Project;
  readonly source: s3assets.Asset;
  readonly artifactBucket: s3.IBucket;
  /** Key of the JAR in `artifactBucket`. */
  readonly artifactKey: string;
  /** Completes once the JAR exists: the application depends on it. */
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: JobBuildProps) {
    super(scope, id);
    this.artifactBucket = props.artifactBucket;
    this.source = new s3assets.Asset(this, 'Source', { path: stageJobSource(props.sources) });
    this.artifactKey = `flink-iceberg/${this.source.assetHash}/flink-iceberg-job.jar`;

    const logGroup = new logs.LogGroup(this, 'BuildLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.project = new codebuild.Project(this, 'Project', {
      description: 'Builds the flink-iceberg job JAR (Maven) from the repository source',
      source: codebuild.Source.s3({ bucket: this.source.bucket, path: this.source.s3ObjectKey }),
      environment: { buildImage: codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5, computeType: codebuild.ComputeType.MEDIUM },
      encryptionKey: props.artifactBucket.encryptionKey,
      timeout: BUILD_TIMEOUT,
      cache: codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM),
      logging: { cloudWatch: { logGroup } },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: {
          install: { 'runtime-versions': { java: 'corretto17' } },
          build: {
            commands: [
              `cd ${JOB_PATH}`,
              'mvn -B -ntp package -DskipTests',
              `aws s3 cp ${JOB_JAR} "s3://$${BUILD_ENV.artifactBucket}/$${BUILD_ENV.artifactKey}"`,
            ],
          },
        },
        cache: { paths: ['/root/.m2/**/*'] },
      }),
    });
    const artifactObjects = props.artifactBucket.arnForObjects('flink-iceberg/*');
    // Finding 2: the build only uploads (`aws s3 cp` to S3 sends PutObject or a multipart upload, never a HEAD), so it
    // probes no key and needs no ListBucket here; CDK's grant for the S3 source reads the source asset.
    this.project.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [artifactObjects] }));
    props.artifactBucket.encryptionKey?.grant(this.project, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.acknowledgeProjectGrants(artifactObjects);

    const waiter = new HandlerProvider(this, 'Waiter', {
      entry: fromRoot('pipelines', 'msk-to-iceberg', 'handlers', 'job-build', 'index.ts'),
      purpose: 'Builds the Flink job JAR in CodeBuild and waits for it',
      isComplete: { queryInterval: Duration.seconds(30), totalTimeout: BUILD_TIMEOUT },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    waiter.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds'], resources: [this.project.projectArn] }));
    waiter.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [artifactObjects] }));
    // Finding 2 choice: ListBucket, unconditioned, on the pipeline's own artifact bucket. The waiter HEADs the JAR
    // before it exists and S3 answers that HEAD with 404 only to a caller allowed s3:ListBucket on the bucket, else 403
    // (S3 API reference, HeadObject "Permissions"); whether a prefix-conditioned grant counts is undocumented. The
    // bucket holds nothing but build outputs, whose key names are source hashes: listing them exposes nothing.
    waiter.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.artifactBucket.bucketArn] }));
    props.artifactBucket.encryptionKey?.grant(waiter.role, 'kms:Decrypt');

    const properties: JobBuildProperties = {
      ProjectName: this.project.projectName,
      SourceBucket: this.source.s3BucketName,
      SourceKey: this.source.s3ObjectKey,
      ArtifactBucket: props.artifactBucket.bucketName,
      ArtifactKey: this.artifactKey,
    };
    this.resource = new CustomResource(this, 'Resource', { serviceToken: waiter.serviceToken, resourceType: 'Custom::FlinkJobBuild', properties });
    this.resource.node.addDependency(waiter.role);
    Validations.of(waiter.role.node.tryFindChild('DefaultPolicy')!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(this).resolve(artifactObjects))}]`,
      reason: 'The build waiter checks whether the JAR of a source hash exists under flink-iceberg/, whose keys are hashes.',
    });
  }

  /** What CDK's CodeBuild grants add (source asset read, project logs and reports, the encryption key), plus the JAR upload. */
  private acknowledgeProjectGrants(artifactObjects: string): void {
    const stack = Stack.of(this);
    const policy = this.project.role!.node.tryFindChild('DefaultPolicy')!;
    const flat = (arn: string) => flattenCfnReference(stack.resolve(arn));
    const findings: [string, string][] = [
      ['Action::s3:GetObject*', "CDK's grant for the build's S3 source: read the job source asset"],
      ['Action::s3:GetBucket*', "CDK's grant for the build's S3 source: read the job source asset"],
      ['Action::s3:List*', "CDK's grant for the build's S3 source: read the job source asset"],
      ['Action::kms:GenerateDataKey*', "CDK's grant of the project's encryption key (the artifact bucket's key) for build artifacts"],
      ['Action::kms:ReEncrypt*', "CDK's grant of the project's encryption key (the artifact bucket's key) for build artifacts"],
      [`Resource::${flat(artifactObjects)}`, 'the build uploads the JAR under flink-iceberg/<source hash>/'],
      // Built from the stack's partition, region and account as CDK's grant builds them: literal when cdk.json sets
      // account and region, pseudo parameters otherwise (a hard-coded <AWS::Region> matched only the latter).
      [`Resource::${flat(`arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/codebuild/${this.project.projectName}:*`)}`, "CDK's grant: the project's own default log group"],
      [`Resource::${flat(`arn:${stack.partition}:codebuild:${stack.region}:${stack.account}:report-group/${this.project.projectName}-*`)}`, "CDK's grant: the project's own report groups"],
    ];
    for (const [finding, reason] of findings) Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: `${reason}.` });
  }
}
