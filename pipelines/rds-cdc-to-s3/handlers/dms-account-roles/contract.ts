/**
 * The account-level roles DMS looks up by name (DMS User Guide, "Creating the IAM roles to use with AWS DMS"): one per
 * account, shared by every DMS resource in it, so no stack may own them. The construct passes this list as the custom
 * resource's `Roles` property and scopes the handler's IAM permissions to exactly these names and policies.
 */
export interface AccountRole {
  readonly RoleName: string;
  readonly PolicyArn: string;
}

/** `partition` is `aws`, `aws-cn`, `aws-us-gov`. */
export function dmsAccountRoles(partition: string): AccountRole[] {
  return [
    { RoleName: 'dms-vpc-role', PolicyArn: `arn:${partition}:iam::aws:policy/service-role/AmazonDMSVPCManagementRole` },
    { RoleName: 'dms-cloudwatch-logs-role', PolicyArn: `arn:${partition}:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole` },
  ];
}

/** The trust policy DMS needs on both roles. */
export const DMS_TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'dms.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/**
 * Seconds a role must exist before DMS is trusted to see it: IAM is eventually consistent, and DMS rejects a
 * replication subnet group with "dms-vpc-role is not configured properly" while a new role has not propagated
 * (aws/aws-cdk#7632, hashicorp/terraform-provider-aws#11025: a 30 s sleep was not always enough).
 */
export const PROPAGATION_SECONDS = 60;
