import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createAccountRoles, PHYSICAL_ID } from '../../../../../pipelines/rds-cdc-to-s3/handlers/dms-account-roles/account-roles';
import { dmsAccountRoles, PROPAGATION_SECONDS } from '../../../../../pipelines/rds-cdc-to-s3/handlers/dms-account-roles/contract';

const iamMock = mockClient(IAMClient);
const NOW = new Date('2026-11-22T12:00:00Z');
const roles = createAccountRoles({ iam: new IAMClient({ region: 'us-east-1' }), now: () => NOW });
const ROLES = dmsAccountRoles('aws');
const VPC_POLICY = 'arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole';
const LOGS_POLICY = 'arn:aws:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole';

const event = (RequestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent =>
  ({
    RequestType,
    ServiceToken: 't',
    ResponseURL: 'https://example.com',
    StackId: 's',
    RequestId: 'r',
    LogicalResourceId: 'Roles',
    ResourceType: 'Custom::DmsAccountRoles',
    ResourceProperties: { ServiceToken: 't', Roles: ROLES },
    ...(RequestType !== 'Create' && { PhysicalResourceId: PHYSICAL_ID, OldResourceProperties: {} }),
  }) as CloudFormationCustomResourceEvent;
const noSuchEntity = () => new NoSuchEntityException({ message: 'not found', $metadata: {} });
const role = (name: string, ageSeconds: number) => ({
  Role: { RoleName: name, Arn: `arn:aws:iam::123456789012:role/${name}`, Path: '/', RoleId: 'id', CreateDate: new Date(NOW.getTime() - ageSeconds * 1000) },
});

beforeEach(() => iamMock.reset());

test('the two roles DMS looks up by name, with the managed policies the DMS guide names', () => {
  expect(ROLES).toEqual([
    { RoleName: 'dms-vpc-role', PolicyArn: VPC_POLICY },
    { RoleName: 'dms-cloudwatch-logs-role', PolicyArn: LOGS_POLICY },
  ]);
  expect(dmsAccountRoles('aws-cn')[0].PolicyArn).toBe('arn:aws-cn:iam::aws:policy/service-role/AmazonDMSVPCManagementRole');
});

test('an account that never used DMS: both roles are created, trusted by DMS, with their policies', async () => {
  iamMock.on(GetRoleCommand).rejects(noSuchEntity());
  iamMock.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
  await expect(roles.onEvent(event('Create'))).resolves.toEqual({ PhysicalResourceId: PHYSICAL_ID });
  const created = iamMock.commandCalls(CreateRoleCommand).map((c) => c.args[0].input);
  expect(created.map((c) => c.RoleName)).toEqual(['dms-vpc-role', 'dms-cloudwatch-logs-role']);
  expect(JSON.parse(created[0].AssumeRolePolicyDocument!)).toEqual({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'dms.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  expect(iamMock.commandCalls(AttachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
    { RoleName: 'dms-vpc-role', PolicyArn: VPC_POLICY },
    { RoleName: 'dms-cloudwatch-logs-role', PolicyArn: LOGS_POLICY },
  ]);
});

test('an account that has the roles: nothing is created or changed', async () => {
  iamMock.on(GetRoleCommand, { RoleName: 'dms-vpc-role' }).resolves(role('dms-vpc-role', 9999));
  iamMock.on(GetRoleCommand, { RoleName: 'dms-cloudwatch-logs-role' }).resolves(role('dms-cloudwatch-logs-role', 9999));
  iamMock.on(ListAttachedRolePoliciesCommand, { RoleName: 'dms-vpc-role' }).resolves({ AttachedPolicies: [{ PolicyArn: VPC_POLICY }] });
  iamMock.on(ListAttachedRolePoliciesCommand, { RoleName: 'dms-cloudwatch-logs-role' }).resolves({ AttachedPolicies: [{ PolicyArn: LOGS_POLICY }] });
  await roles.onEvent(event('Create'));
  expect(iamMock.commandCalls(CreateRoleCommand)).toHaveLength(0);
  expect(iamMock.commandCalls(AttachRolePolicyCommand)).toHaveLength(0);
  await expect(roles.isComplete(event('Create'))).resolves.toEqual({ IsComplete: true });
});

test('a second stack creating the role at the same moment (EntityAlreadyExists) is not an error', async () => {
  iamMock.on(GetRoleCommand).rejects(noSuchEntity());
  iamMock.on(CreateRoleCommand).rejects(new EntityAlreadyExistsException({ message: 'exists', $metadata: {} }));
  iamMock.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
  await expect(roles.onEvent(event('Create'))).resolves.toEqual({ PhysicalResourceId: PHYSICAL_ID });
  expect(iamMock.commandCalls(AttachRolePolicyCommand)).toHaveLength(2);
});

test('an existing role without its policy gets the policy (found on any page of attachments)', async () => {
  iamMock.on(GetRoleCommand).resolves(role('r', 9999));
  iamMock
    .on(ListAttachedRolePoliciesCommand, { RoleName: 'dms-vpc-role' })
    .resolvesOnce({ AttachedPolicies: [{ PolicyArn: 'arn:other' }], IsTruncated: true, Marker: 'm' })
    .resolvesOnce({ AttachedPolicies: [{ PolicyArn: VPC_POLICY }] });
  iamMock.on(ListAttachedRolePoliciesCommand, { RoleName: 'dms-cloudwatch-logs-role' }).resolves({ AttachedPolicies: [] });
  await roles.onEvent(event('Update'));
  expect(iamMock.commandCalls(AttachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
    { RoleName: 'dms-cloudwatch-logs-role', PolicyArn: LOGS_POLICY },
  ]);
});

test(`isComplete waits until each role has existed ${PROPAGATION_SECONDS} s (IAM propagation) with its policy`, async () => {
  iamMock.on(ListAttachedRolePoliciesCommand, { RoleName: 'dms-vpc-role' }).resolves({ AttachedPolicies: [{ PolicyArn: VPC_POLICY }] });
  iamMock.on(ListAttachedRolePoliciesCommand, { RoleName: 'dms-cloudwatch-logs-role' }).resolves({ AttachedPolicies: [{ PolicyArn: LOGS_POLICY }] });
  iamMock.on(GetRoleCommand, { RoleName: 'dms-vpc-role' }).resolves(role('dms-vpc-role', PROPAGATION_SECONDS - 1));
  iamMock.on(GetRoleCommand, { RoleName: 'dms-cloudwatch-logs-role' }).resolves(role('dms-cloudwatch-logs-role', 5));
  await expect(roles.isComplete(event('Create'))).resolves.toEqual({ IsComplete: false });
  iamMock.on(GetRoleCommand, { RoleName: 'dms-vpc-role' }).resolves(role('dms-vpc-role', PROPAGATION_SECONDS));
  iamMock.on(GetRoleCommand, { RoleName: 'dms-cloudwatch-logs-role' }).resolves(role('dms-cloudwatch-logs-role', PROPAGATION_SECONDS + 1));
  await expect(roles.isComplete(event('Create'))).resolves.toEqual({ IsComplete: true });
  iamMock.on(GetRoleCommand, { RoleName: 'dms-vpc-role' }).rejects(noSuchEntity());
  await expect(roles.isComplete(event('Create'))).resolves.toEqual({ IsComplete: false });
});

test('destroying a stack never deletes the roles: Delete makes no IAM call', async () => {
  await expect(roles.onEvent(event('Delete'))).resolves.toEqual({ PhysicalResourceId: PHYSICAL_ID });
  await expect(roles.isComplete(event('Delete'))).resolves.toEqual({ IsComplete: true });
  expect(iamMock.calls()).toHaveLength(0);
});

test('invalid properties fail with what was received', async () => {
  await expect(roles.onEvent({ ...event('Create'), ResourceProperties: { ServiceToken: 't' } } as CloudFormationCustomResourceEvent)).rejects.toThrow(
    /expected Roles/,
  );
});
