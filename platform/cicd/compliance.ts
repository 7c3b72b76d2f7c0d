import { ArnFormat, Lazy, Stack, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as cp from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CodePipeline } from 'aws-cdk-lib/pipelines';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { IConstruct } from 'constructs';
import { suppressCfnLint } from '../compliance';

/**
 * The deployment pipeline's IAM, held to the compliance gate (platform/compliance). CDK Pipelines writes the roles; here
 * the one grant broader than the pipeline is narrowed, and each remaining wildcard is acknowledged on its one policy,
 * with its reason. A wildcard not known here (a new CDK release granting more) stays a finding and fails synth.
 */

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** The actions CDK Pipelines' shared asset role holds on every CodeBuild project, log group and report group of the account. */
const ACCOUNT_WIDE = {
  logs: actionSet(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents']),
  reports: actionSet(['codebuild:CreateReportGroup', 'codebuild:CreateReport', 'codebuild:UpdateReport', 'codebuild:BatchPutTestCases', 'codebuild:BatchPutCodeCoverages']),
  builds: actionSet(['codebuild:BatchGetBuilds', 'codebuild:StartBuild', 'codebuild:StopBuild']),
};

/** A statement's actions in a comparable form (CDK sorts them when it minimizes policies). */
function actionSet(actions: string | string[]): string {
  return [actions].flat().sort().join(',');
}

const ARTIFACTS =
  "CDK's grant on the pipeline's own artifact bucket: CodePipeline and its builds read and write the artifacts they name per execution, in this bucket only.";
const ARTIFACT_KEY = "CDK's grant on the artifact bucket's key: encrypting and decrypting the pipeline's artifacts, this key only.";
const BUILD_LOGS = "The build project's own log group: CodeBuild names a log stream per build.";
const BUILD_REPORTS = "The build project's own report groups: CodeBuild names them after the project.";
const BOOTSTRAP_ROLES =
  "Self-mutation deploys the pipeline stack with the CDK CLI: it may assume only the CDK bootstrap roles of the pipeline's own account (condition iam:ResourceTag/aws-cdk:bootstrap-role is deploy, file-publishing or image-publishing).";
const CLI_LOOKUPS = 'cloudformation:DescribeStacks and s3:ListBucket, read-only calls the CDK CLI makes before it assumes the deploy role; neither supports narrower resources there.';

/** Narrows the asset role, acknowledges what remains, and readies the template for cfn-lint (call after `buildPipeline()`). */
export function secureDeploymentPipeline(pipeline: CodePipeline, artifactBucket: s3.IBucket): void {
  scopeAssetRole(pipeline);
  acknowledgeWildcards(pipeline, artifactBucket);
  const cfn = pipeline.pipeline.node.defaultChild as cp.CfnPipeline;
  subInActionConfigurations(cfn);
  suppressCfnLint(cfn, 'W3005', 'CodePipeline depends on its role explicitly, which its RoleArn GetAtt already implies (CDK adds it so the role policy exists first).');
}

/**
 * cfn-lint's pipeline-action rule (E3703) wants Fn::Sub, not an empty-delimiter Fn::Join, in an action's configuration,
 * where CDK Pipelines joins the partition into each CloudFormation execution role ARN. The same string as a Sub keeps
 * the rule on for everything else in the actions.
 */
function subInActionConfigurations(cfn: cp.CfnPipeline): void {
  const stack = Stack.of(cfn);
  const stages = cfn.stages;
  cfn.stages = Lazy.any({
    produce: () =>
      (stack.resolve(stages) as { actions: { configuration?: Record<string, unknown> }[] }[]).map((stage) => ({
        ...stage,
        actions: stage.actions.map((action) =>
          action.configuration ? { ...action, configuration: Object.fromEntries(Object.entries(action.configuration).map(([k, v]) => [k, asSub(v)])) } : action,
        ),
      })),
  });
}

/** `{"Fn::Join": ["", [...]]}` of strings and Refs as the equivalent `Fn::Sub`; any other value as it is. */
function asSub(value: unknown): unknown {
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })?.['Fn::Join'];
  if (!join || join[0] !== '') return value;
  const parts = join[1].map((part) =>
    typeof part === 'string' ? part.replace(/\$\{/g, '${!') : typeof (part as { Ref?: unknown }).Ref === 'string' ? `\${${(part as { Ref: string }).Ref}}` : undefined,
  );
  return parts.every((p) => p !== undefined) ? { 'Fn::Sub': parts.join('') } : value;
}

/** The CodeBuild projects the pipeline created (synth, self-mutation, asset publishing). */
function buildProjects(scope: IConstruct): codebuild.Project[] {
  return scope.node.findAll().filter((c): c is codebuild.Project => c instanceof codebuild.Project);
}

function projectLogs(project: codebuild.Project, suffix: string): string {
  return Stack.of(project).formatArn({ service: 'logs', resource: 'log-group', arnFormat: ArnFormat.COLON_RESOURCE_NAME, resourceName: `/aws/codebuild/${project.projectName}${suffix}` });
}

function projectReports(project: codebuild.Project): string {
  return Stack.of(project).formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${project.projectName}-*` });
}

/**
 * CDK Pipelines' asset-publishing role may start, stop and read builds of any CodeBuild project of the account and
 * write any project's logs and reports (it is made before the projects it serves). Starting another project would run
 * that project's role: scope the three statements to the pipeline's own asset projects.
 */
function scopeAssetRole(pipeline: CodePipeline): void {
  const assets = pipeline.node.tryFindChild('Assets');
  if (!assets) return;
  const projects = buildProjects(assets);
  const stack = Stack.of(pipeline);
  for (const role of assets.node.children.filter((c): c is iam.Role => c instanceof iam.Role)) {
    const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
    const cfn = policy?.node.defaultChild as iam.CfnPolicy | undefined;
    if (!policy || !cfn) continue;
    cfn.policyDocument = Lazy.any({
      produce: () => {
        const document = stack.resolve(policy.document) as { Statement: Statement[] };
        const scoped = (statement: Statement): Statement => {
          const actions = actionSet(statement.Action);
          if (actions === ACCOUNT_WIDE.logs) return { ...statement, Resource: stack.resolve(projects.flatMap((p) => [projectLogs(p, ''), projectLogs(p, ':*')])) };
          if (actions === ACCOUNT_WIDE.reports) return { ...statement, Resource: stack.resolve(projects.map(projectReports)) };
          if (actions === ACCOUNT_WIDE.builds) return { ...statement, Resource: stack.resolve(projects.map((p) => p.projectArn)) };
          return statement;
        };
        return { ...document, Statement: document.Statement.map(scoped) };
      },
    });
  }
}

/** The wildcard findings cdk-nag's IAM5 reports for a policy document (its own analysis: actions and flattened resources with "*"). */
function wildcards(document: { Statement?: Statement[] }): string[] {
  const found = new Set<string>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of [statement.Action].flat()) if (action.includes('*')) found.add(`Action::${action}`);
    for (const resource of [statement.Resource].flat().map(flattenCfnReference)) if (resource.includes('*')) found.add(`Resource::${resource}`);
  }
  return [...found];
}

function acknowledgeWildcards(pipeline: CodePipeline, artifactBucket: s3.IBucket): void {
  const stack = Stack.of(pipeline);
  const flat = (value: unknown) => flattenCfnReference(stack.resolve(value));
  const everywhere = new Map<string, string>([
    ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((a): [string, string] => [`Action::${a}`, ARTIFACTS]),
    [`Resource::${flat(artifactBucket.arnForObjects('*'))}`, ARTIFACTS],
    ...['kms:GenerateDataKey*', 'kms:ReEncrypt*'].map((a): [string, string] => [`Action::${a}`, ARTIFACT_KEY]),
    ...buildProjects(pipeline).flatMap((p): [string, string][] => [
      [`Resource::${flat(projectLogs(p, ':*'))}`, BUILD_LOGS],
      [`Resource::${flat(projectReports(p))}`, BUILD_REPORTS],
    ]),
  ]);
  const selfMutation = pipeline.selfMutationEnabled ? pipeline.selfMutationProject.role?.node.tryFindChild('DefaultPolicy') : undefined;
  const selfMutationOnly = new Map<string, string>([
    [`Resource::arn:*:iam::${stack.account}:role/*`, BOOTSTRAP_ROLES],
    ['Resource::*', CLI_LOOKUPS],
  ]);

  for (const policy of pipeline.node.findAll().filter((c): c is iam.Policy => c instanceof iam.Policy)) {
    const cfn = policy.node.defaultChild as iam.CfnPolicy;
    for (const finding of wildcards(stack.resolve(cfn.policyDocument))) {
      const reason = everywhere.get(finding) ?? (policy === selfMutation ? selfMutationOnly.get(finding) : undefined);
      if (reason) Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }
}
