import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * The compliance gate: cdk-nag's AwsSolutions rules run at every synth of `scope` (an App or Stage) through CDK's
 * policy-validation plugins. Any unacknowledged finding fails synthesis (and so `cdk deploy` and the tests).
 *
 * Acknowledge a finding on the one construct it concerns, with the reason:
 *   Validations.of(resource).acknowledge({ id: 'AwsSolutions-S1', reason: 'why this is acceptable here' });
 */
export function enableComplianceChecks(scope: IConstruct): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope, { verbose: true }));
}
