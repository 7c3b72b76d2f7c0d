import { Aws, Fn } from 'aws-cdk-lib';

/**
 * The first 8 hex digits of the stack's id (`arn:…:stack/<name>/<uuid>`): new on every create of the stack. A
 * resource retained by a destroy keeps its name, so a retained resource with a fixed name would make the next deploy
 * fail ("already exists"); a name that ends in this id does not.
 */
export function deploymentId(): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}

/**
 * A name Glue and Athena accept for a database or a table: lower case, every character other than a letter, a digit
 * or "_" replaced by "_", at most 255 characters. Every pipeline's Glue database and table names go through here: a
 * changed result renames a deployed database, which CloudFormation does by replacing it, so the rule stays as is.
 */
export function catalogName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 255);
}

/** A name as part of a CloudFormation output key or a policy statement id: letters and digits only ("click-stream" -> "clickstream"). */
export function alphanumeric(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, '');
}
