import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
  Role,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import { customResource } from '../../../../platform/handlers/custom-resource';
import { AccountRole, DMS_TRUST_POLICY, PROPAGATION_SECONDS } from './contract';

/**
 * Makes sure the account-level DMS roles exist, without owning them:
 * - Create/Update: each role is created if missing (a concurrent deployment creating it first is fine) and gets its
 *   managed policy attached if it lacks it; an existing role is otherwise left as it is.
 * - isComplete: each role exists with its policy and has existed for PROPAGATION_SECONDS, so DMS can see it.
 * - Delete: nothing. Other stacks and DMS resources of the account use the roles; they outlive every stack.
 */

export const PHYSICAL_ID = 'dms-account-roles';

export interface AccountRolesDeps {
  readonly iam: IAMClient;
  readonly now?: () => Date;
  readonly log?: (message: string, details?: Record<string, unknown>) => void;
}

const schema = z.object({
  Roles: z.array(z.object({ RoleName: z.string().min(1), PolicyArn: z.string().min(1) }), { error: 'expected Roles [{ RoleName, PolicyArn }]' }).min(1),
});

export function createAccountRoles(deps: AccountRolesDeps) {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? (() => undefined);

  async function getRole(name: string): Promise<Role | undefined> {
    try {
      return (await deps.iam.send(new GetRoleCommand({ RoleName: name }))).Role;
    } catch (error) {
      if (error instanceof NoSuchEntityException) return undefined;
      throw error;
    }
  }

  async function hasPolicy(name: string, policyArn: string): Promise<boolean> {
    let Marker: string | undefined;
    do {
      const page = await deps.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, Marker }));
      if (page.AttachedPolicies?.some((p) => p.PolicyArn === policyArn)) return true;
      Marker = page.IsTruncated ? page.Marker : undefined;
    } while (Marker);
    return false;
  }

  async function ensure({ RoleName, PolicyArn }: AccountRole): Promise<void> {
    if (!(await getRole(RoleName))) {
      try {
        await deps.iam.send(
          new CreateRoleCommand({
            RoleName,
            AssumeRolePolicyDocument: DMS_TRUST_POLICY,
            Description: 'Account-level role AWS DMS requires; created by a Stream Foundry stack and kept when stacks are deleted',
          }),
        );
        log('created role', { RoleName });
      } catch (error) {
        if (!(error instanceof EntityAlreadyExistsException)) throw error;
        log('role created concurrently by someone else', { RoleName });
      }
    }
    if (!(await hasPolicy(RoleName, PolicyArn))) {
      await deps.iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn }));
      log('attached policy', { RoleName, PolicyArn });
    }
  }

  async function ready({ RoleName, PolicyArn }: AccountRole): Promise<boolean> {
    const role = await getRole(RoleName);
    if (!role) return false;
    const ageSeconds = (now().getTime() - (role.CreateDate?.getTime() ?? 0)) / 1000;
    return ageSeconds >= PROPAGATION_SECONDS && (await hasPolicy(RoleName, PolicyArn));
  }

  return customResource({
    schema,
    async onCreate({ Roles }) {
      for (const role of Roles) await ensure(role);
      return { PhysicalResourceId: PHYSICAL_ID };
    },
    // Delete: nothing (the default).

    async isComplete({ Roles }, event) {
      if (event.RequestType === 'Delete') return true;
      for (const role of Roles) {
        if (!(await ready(role))) return false;
      }
      return true;
    },
  });
}
