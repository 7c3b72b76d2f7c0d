import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { RegistryCompatibility } from './versions';
import { HandlerProvider } from '../functions';
import { fromRoot } from '../paths';

/** Props of `SchemaVersionChecker`: the registry it may read, and its function's logs. */
export interface SchemaVersionCheckerProps {
  /** The registry whose schema versions it checks (and may read, nothing else). */
  readonly registry: glue.CfnRegistry;
  /** How long the check function's logs are kept. */
  readonly logRetention: logs.RetentionDays;
  /** What happens to the function's log group when the stack is destroyed. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The provider of `Custom::SchemaVersionCheck` (handlers/version-check) for one registry: it may read the versions
 * of that registry's schemas and nothing else.
 */
export class SchemaVersionChecker extends Construct {
  /** The custom resource provider (function, role, log group) behind `Custom::SchemaVersionCheck`. */
  readonly provider: HandlerProvider;

  constructor(scope: Construct, id: string, props: SchemaVersionCheckerProps) {
    super(scope, id);
    this.provider = new HandlerProvider(this, 'Handler', {
      entry: fromRoot('platform', 'schema-registry', 'handlers', 'version-check', 'index.ts'),
      purpose: 'Fails the deployment unless each registered schema version is AVAILABLE in the Glue Schema Registry',
      timeout: Duration.minutes(5),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const stack = Stack.of(this);
    const registryName = props.registry.name;
    const schemas = stack.formatArn({ service: 'glue', resource: 'schema', resourceName: `${registryName}/*` });
    this.provider.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['glue:ListSchemaVersions', 'glue:GetSchemaVersion', 'glue:GetSchemaVersionsDiff'],
        resources: [props.registry.attrArn, schemas],
      }),
    );
    // As cdk-nag renders the ARN: pseudo parameters, or the account and region of an environment-specific stack.
    Validations.of(this.provider.role.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(schemas))}]`,
      reason: "Reads the versions of this registry's schemas (one per source, added with the sources): read-only, this registry only.",
    });
  }
}

/** Props of `RegisteredSchema`: the registry, the checker, the schema's name, versions and compatibility mode. */
export interface RegisteredSchemaProps {
  /** The Glue Schema Registry the schema is registered in. */
  readonly registry: glue.CfnRegistry;
  /** The registry's checker, which fails the deploy unless each version is AVAILABLE. */
  readonly checker: SchemaVersionChecker;
  /** The schema's name in the registry: the source's name. */
  readonly name: string;
  /** Every version's definition, oldest first: the released versions, then the current schema if it is new. */
  readonly versions: readonly string[];
  /** The registry's compatibility mode for the schema (the source's `compatibility`). */
  readonly compatibility: RegistryCompatibility;
  /** The schema's description in the registry. */
  readonly description: string;
}

/**
 * A source's schema in the Glue Schema Registry, one registry version per version in the repository:
 * `AWS::Glue::Schema` holds the first (its definition never changes: editing it in place fails the update, "already
 * exists", aws-cdk issue 25129), each later one is an `AWS::Glue::SchemaVersion` created after the one before it (the
 * registry numbers versions in registration order), and a `Custom::SchemaVersionCheck` per version fails the deploy
 * unless the registry made it AVAILABLE. `ready` is complete once every version is.
 *
 * The resources sit directly in `scope` (`<name>Schema`, `<name>SchemaV<N>`, `<name>SchemaV<N>Check`): the schema's
 * logical id is the one the landing zone released.
 */
export class RegisteredSchema {
  /** The schema, holding the first version's definition. */
  readonly schema: glue.CfnSchema;
  /** The later versions, in registration order. */
  readonly versions: glue.CfnSchemaVersion[] = [];
  /** One AVAILABLE check per version. */
  readonly checks: CustomResource[] = [];
  /** Complete once every version is AVAILABLE: depend on it to run after the registration. */
  readonly ready = new DependencyGroup();

  constructor(scope: Construct, props: RegisteredSchemaProps) {
    const [first, ...later] = props.versions;
    if (first === undefined) throw new Error(`${scope.node.path}: schema "${props.name}" has no version to register`);
    this.schema = new glue.CfnSchema(scope, `${props.name}Schema`, {
      registry: { arn: props.registry.attrArn },
      name: props.name,
      dataFormat: 'JSON',
      compatibility: props.compatibility,
      schemaDefinition: first,
      description: props.description,
    });
    // Each check references its version (GetAtt): CloudFormation runs it once the version exists.
    const check = (number: number, versionId: string) => {
      const resource = new CustomResource(scope, `${props.name}SchemaV${number}Check`, {
        serviceToken: props.checker.provider.serviceToken,
        resourceType: 'Custom::SchemaVersionCheck',
        properties: { SchemaArn: this.schema.attrArn, SchemaVersionId: versionId, Release: number, Compatibility: props.compatibility },
      });
      this.checks.push(resource);
      this.ready.add(resource);
    };
    check(1, this.schema.attrInitialSchemaVersionId);
    let previous: IDependable = this.checks[0];
    later.forEach((definition, i) => {
      const number = i + 2;
      const version = new glue.CfnSchemaVersion(scope, `${props.name}SchemaV${number}`, {
        schema: { schemaArn: this.schema.attrArn },
        schemaDefinition: definition,
      });
      version.node.addDependency(previous);
      this.versions.push(version);
      check(number, version.attrVersionId);
      // The next version registers only once this one is AVAILABLE: the registry checks it against this one.
      previous = this.checks[this.checks.length - 1];
    });
  }
}
