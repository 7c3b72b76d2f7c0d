import { ACCOUNT_PRINCIPAL, ROLE_PRINCIPAL } from '../config';

/**
 * The second check of who reads (API Gateway's resource policy is the first): is the IAM caller one of the principals
 * the customer's catalog names? An account id principal admits any caller of that account (the account's IAM decides
 * who inside it may call); a role principal admits sessions of that role only.
 */

/** What API Gateway's IAM authorization tells the function about the caller (`requestContext.identity`). */
export interface CallerIdentity {
  accountId?: string | null;
  userArn?: string | null;
}

/** `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION`: a role session (role paths are not part of it). */
const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/[\w+=,.@-]+$/;
/** Any IAM or STS principal ARN: its partition and account. */
const PRINCIPAL_ARN = /^arn:(aws[a-z-]*):(?:iam|sts)::(\d{12}):.+$/;

/** The principal of `principals` the caller matches, or undefined when it matches none. */
export function matchingPrincipal(caller: CallerIdentity, principals: readonly string[]): string | undefined {
  const arn = caller.userArn ?? '';
  const identity = PRINCIPAL_ARN.exec(arn);
  // The caller's account must be known and agree with its ARN; anything else is not a caller we can place.
  if (!identity || !caller.accountId || identity[2] !== caller.accountId) return undefined;
  const [, partition, account] = identity;
  const session = ASSUMED_ROLE.exec(arn);
  return principals.find((principal) => {
    if (ACCOUNT_PRINCIPAL.test(principal)) return principal === account;
    if (!ROLE_PRINCIPAL.test(principal) || !session) return false;
    // arn:PARTITION:iam::ACCOUNT:role/[path/]NAME
    const [, rolePartition, , , roleAccount, resource] = principal.split(':');
    const roleName = resource.slice(resource.lastIndexOf('/') + 1);
    return rolePartition === partition && roleAccount === account && roleName === session[3];
  });
}
