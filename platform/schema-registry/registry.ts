import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { RegistryCompatibility } from './versions';
import { HandlerProvider } from '../functions';
import { fromRoot } from '../paths';

export interface SchemaVersionCheckerProps {
  readonly registry: glue.CfnRegistry;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The provider of `Custom::SchemaVersionCheck` (handlers/version-check) for one registry: it may read the versions
 * of that registry's schemas and nothing else.
 */
export class SchemaVersionChecker extends Construct {
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

export interface RegisteredSchemaProps {
  readonly registry: glue.CfnRegistry;
  readonly checker: SchemaVersionChecker;
  /** The schema's name in the registry: the source's name. */
  readonly name: string;
  /** Every version's definition, oldest first: the released versions, then the current schema if it is new. */
  readonly versions: readonly string[];
  readonly compatibility: RegistryCompatibility;
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
  readonly schema: glue.CfnSchema;
  readonly versions: glue.CfnSchemaVersion[] = [];
  readonly checks: CustomResource[] = [];
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
