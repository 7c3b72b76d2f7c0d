import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ProcessingDocument } from '.';

const ID = 'ProcessingRulesHashKey';

/** Whether a source's rules pseudonymise a field (`mask … with: hash`), so its job needs the stack's hash key. */
export function needsHashKey(doc: ProcessingDocument | undefined): boolean {
  return (doc?.rules.transform ?? []).some((rule) => 'mask' in rule && rule.with === 'hash');
}

/**
 * The stack's key for `mask … with: hash` (HMAC-SHA256), created once per stack on first use: every source of the
 * stack pseudonymises with the same key, so a user id hashed in two tables still joins. Retained on destroy unless
 * data destruction is allowed: without the key, new pseudonyms no longer match the stored ones.
 */
export function hashKeySecret(scope: Construct, allowDestroy: boolean): secretsmanager.ISecret {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(ID) as secretsmanager.Secret | undefined;
  if (existing) return existing;
  const secret = new secretsmanager.Secret(stack, ID, {
    description: `Key of the processing rules' keyed hashes (mask with: hash) in ${stack.stackName}; replacing it changes every pseudonym`,
    generateSecretString: { passwordLength: 64, excludePunctuation: true },
    removalPolicy: allowDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason: 'Not rotated automatically on purpose: a new key changes every pseudonym, so hashed ids before and after no longer join. Replace it deliberately (docs/processing-rules.md).',
  });
  return secret;
}
