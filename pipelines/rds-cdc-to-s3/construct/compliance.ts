import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { IConstruct } from 'constructs';
import { skipCheckov, suppressCfnLint } from '../../../platform/compliance';

/** The database's deliberate cdk-nag and checkov findings, on the instance alone, with the reason (some depend on configuration). */
export function acknowledgeDatabaseFindings(instance: rds.DatabaseInstance): void {
  const cfn = instance.node.defaultChild as rds.CfnDBInstance;
  Validations.of(instance).acknowledge(
    { id: 'AwsSolutions-RDS11', reason: 'The default port: the security group admits only the DMS replication instance and the rotation function.' },
    ...(cfn.multiAz === true
      ? []
      : [{ id: 'AwsSolutions-RDS3', reason: 'Single-AZ by default to keep the reference pipeline cheap; databaseProps.multiAz for production (README).' }]),
    ...(cfn.deletionProtection === true
      ? []
      : [{ id: 'AwsSolutions-RDS10', reason: 'Deletion protection is configuration (deletionProtection, on for production); off lets a dev stack be destroyed.' }]),
  );
  if (cfn.multiAz !== true) {
    skipCheckov(instance, 'CKV_AWS_157', 'Single-AZ by default to keep the reference pipeline cheap; databaseProps.multiAz for production (README).');
  }
  if (cfn.monitoringInterval === undefined) {
    skipCheckov(instance, 'CKV_AWS_118', 'No enhanced (OS-level) monitoring: a CDC source is watched through its CloudWatch metrics and the DMS task; Performance Insights is off for the same cost reason.');
  }
}

/** CDK's log-retention singleton (sets the retention of the log groups RDS creates for exported logs). */
export function acknowledgeLogRetention(scope: IConstruct): void {
  const singleton = Stack.of(scope).node.tryFindChild('LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a');
  if (!singleton) return;
  Validations.of(singleton).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's log-retention singleton; its role is CDK-managed.",
    },
    { id: 'AwsSolutions-IAM5[Resource::*]', reason: "CDK's log-retention singleton: RDS names its log groups at deploy time." },
  );
  suppressCfnLint(singleton.node.tryFindChild('Resource') ?? singleton, 'W3005', "CDK's log-retention singleton depends on its role and the role's policy; only the policy dependency matters.");
}

/**
 * `Resource::<LogicalId.Arn>/<folder>/*` as cdk-nag names a finding on objects under a bucket's folder, or
 * `Resource::arn:<AWS::Partition>:s3:::<name>/<folder>/*` for a bucket imported by name (whose ARN is a token that
 * must be flattened as cdk-nag does, or the acknowledgement's key cannot be synthesized).
 */
export function objectsFinding(bucketArn: string, folder: string, scope: IConstruct): string {
  return `Resource::${flattenCfnReference(Stack.of(scope).resolve(bucketArn))}/${folder}/*`;
}

export type { CfnResource };
