import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * The compliance gate: cdk-nag's AwsSolutions rules run at every synth of `scope` (an App or Stage) through CDK's
 * policy-validation plugins. Any unacknowledged finding fails synthesis (and so `cdk deploy` and the tests).
 *
 * Acknowledge a finding on the one construct it concerns, with the reason:
 * ```ts
 *   Validations.of(resource).acknowledge({ id: 'AwsSolutions-S1', reason: 'why this is acceptable here' });
 * ```
 */
export function enableComplianceChecks(scope: IConstruct): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope, { verbose: true }));
}

/** Metadata key holding the reason for each cfn-lint rule a resource suppresses (cfn-lint reads only `cfn-lint`). */
export const CFN_LINT_REASONS = 'StreamFoundry::CfnLintReasons';

/**
 * Suppresses one cfn-lint rule on one resource (cfn-lint's own resource Metadata), recording why beside it. The
 * tests run cfn-lint over every synthesized template and fail on any finding, and on a suppression without a reason.
 */
export function suppressCfnLint(construct: IConstruct, rule: string, reason: string): void {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) throw new Error(`${construct.node.path}: no CloudFormation resource to suppress ${rule} on`);
  const config = (resource.getMetadata('cfn-lint') ?? { config: { ignore_checks: [] } }) as { config: { ignore_checks: string[] } };
  config.config.ignore_checks = [...new Set([...config.config.ignore_checks, rule])];
  resource.addMetadata('cfn-lint', config);
  resource.addMetadata(CFN_LINT_REASONS, { ...((resource.getMetadata(CFN_LINT_REASONS) as object) ?? {}), [rule]: reason });
}

/**
 * cfn-lint W3005 on the handler of CDK's singleton that empties a new VPC's default security group (feature flag
 * restrictDefaultSecurityGroup): it depends on its role explicitly, which its GetAtt already implies. Harmless.
 */
export function suppressRestrictDefaultSgLint(scope: IConstruct): void {
  const provider = Stack.of(scope).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  const handler = provider?.node.tryFindChild('Handler');
  if (handler) suppressCfnLint(handler, 'W3005', "CDK's default-security-group custom resource handler depends on its role explicitly; the GetAtt already does.");
}

export { acknowledgeCheckovFindings, skipCheckov } from './checkov';

/**
 * CDK configures S3 bucket notifications at deploy time with a singleton Lambda whose role it manages: acknowledged
 * once it exists (call after the stack's last `addEventNotification`).
 */
export function acknowledgeBucketNotificationsHandler(scope: IConstruct): void {
  const handler = Stack.of(scope).node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
  if (!handler) return;
  Validations.of(handler).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: "CDK's bucket-notifications handler (runs once per deployment); its role is CDK-managed.",
  });
  suppressCfnLint(handler.node.tryFindChild('Resource') ?? handler, 'W3005', "CDK's bucket-notifications handler depends on its role and the role's policy; only the policy dependency matters.");
}
