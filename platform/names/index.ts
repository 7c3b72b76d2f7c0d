import { Aws, Fn } from 'aws-cdk-lib';

/**
 * The first 8 hex digits of the stack's id (`arn:…:stack/<name>/<uuid>`): new on every create of the stack. A
 * resource retained by a destroy keeps its name, so a retained resource with a fixed name would make the next deploy
 * fail ("already exists"); a name that ends in this id does not.
 */
export function deploymentId(): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}
