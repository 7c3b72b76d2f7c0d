import * as fs from 'fs';
import * as path from 'path';

/**
 * Checks synthesized Terraform JSON for what `terraform plan` itself resolves, without the terraform binary or the
 * registry (neither is reachable here): which provider each resource and data source belongs to, whether that
 * provider has the type, and whether every `var.x`, `data.t.n` and `t.n` reference names something declared.
 *
 * Terraform's rules (https://developer.hashicorp.com/terraform/language/meta-arguments/resource-provider): a resource
 * without a `provider` argument uses the provider whose local name is its type's first word (`google_x` → `google`);
 * `provider = "google-beta"` or `"google-beta.alias"` names another one. A local name is mapped to a source by
 * `terraform.required_providers` (a bare source `google` means `hashicorp/google`).
 */

/** Resource and data source types a prebuilt CDKTF provider package offers, read from its installed lib/. */
export interface ProviderTypes {
  readonly resources: ReadonlySet<string>;
  readonly dataSources: ReadonlySet<string>;
}

/** Terraform sources (namespace/name) of the prebuilt provider packages installed here. */
export const PROVIDER_PACKAGES: Record<string, string> = {
  'hashicorp/google': '@cdktf/provider-google',
  'hashicorp/google-beta': '@cdktf/provider-google-beta',
};

/**
 * Providers used without a prebuilt package (declared by hand in the stack): their types, from the provider's
 * documentation (hashicorp/time 0.13: resources time_offset, time_rotating, time_sleep, time_static; no data sources).
 */
export const HAND_DECLARED_PROVIDERS: Record<string, ProviderTypes> = {
  'hashicorp/time': {
    resources: new Set(['time_offset', 'time_rotating', 'time_sleep', 'time_static']),
    dataSources: new Set(),
  },
};

const typesCache = new Map<string, ProviderTypes>();

/**
 * Every `static readonly tfResourceType` of the package's resource and data source classes, from the `.d.ts` files
 * under lib/ (the generated bindings of the provider schema the package was built from).
 */
export function providerTypes(packageName: string): ProviderTypes {
  const cached = typesCache.get(packageName);
  if (cached) return cached;
  const lib = path.join(path.dirname(require.resolve(`${packageName}/package.json`)), 'lib');
  const resources = new Set<string>();
  const dataSources = new Set<string>();
  const declaration =
    /export declare class \w+ extends cdktf\.(TerraformResource|TerraformDataSource) \{\s*static readonly tfResourceType = "([a-z0-9_]+)";/g;
  for (const entry of fs.readdirSync(lib, { withFileTypes: true })) {
    const file = path.join(lib, entry.name, 'index.d.ts');
    if (!entry.isDirectory() || !fs.existsSync(file)) continue;
    for (const [, kind, type] of fs.readFileSync(file, 'utf8').matchAll(declaration)) {
      (kind === 'TerraformResource' ? resources : dataSources).add(type);
    }
  }
  const types = { resources, dataSources };
  typesCache.set(packageName, types);
  return types;
}

type Block = Record<string, Record<string, Record<string, unknown>>>;

export interface TerraformJson {
  terraform?: { required_providers?: Record<string, { source?: string; version?: string }> };
  provider?: Record<string, { alias?: string }[]>;
  variable?: Record<string, unknown>;
  resource?: Block;
  data?: Block;
  output?: Record<string, unknown>;
  locals?: Record<string, unknown>;
}

/** "google" → "hashicorp/google", "registry.terraform.io/hashicorp/google" → "hashicorp/google". */
export function normalizeSource(source: string): string {
  const parts = source.toLowerCase().split('/');
  return parts.length === 1 ? `hashicorp/${parts[0]}` : parts.slice(-2).join('/');
}

/** Which provider configuration a resource or data source resolves to: local name and alias. */
export function resolvedProvider(type: string, body: Record<string, unknown>): { name: string; alias?: string } {
  const explicit = body.provider;
  if (typeof explicit === 'string') {
    const [name, alias] = explicit.replace(/^\$\{(.*)\}$/, '$1').split('.');
    return { name, alias };
  }
  return { name: type.split('_')[0] };
}

/** Every problem Terraform would report while resolving providers and references; empty when it would resolve. */
export function terraformResolutionProblems(tf: TerraformJson): string[] {
  const problems: string[] = [];
  const required = tf.terraform?.required_providers ?? {};
  const configs = tf.provider ?? {};

  const check = (kind: 'resource' | 'data', type: string, name: string, body: Record<string, unknown>) => {
    const where = `${kind === 'data' ? 'data.' : ''}${type}.${name}`;
    const { name: local, alias } = resolvedProvider(type, body);
    const requirement = required[local];
    if (!requirement?.source) {
      problems.push(`${where}: provider "${local}" is not in terraform.required_providers`);
      return;
    }
    const blocks = configs[local] ?? [];
    if (!blocks.some((block) => block.alias === alias)) {
      problems.push(
        `${where}: no provider "${local}" block${alias ? ` with alias "${alias}"` : ' without alias'} is declared`,
      );
    }
    const source = normalizeSource(requirement.source);
    const pkg = PROVIDER_PACKAGES[source];
    const types = pkg ? providerTypes(pkg) : HAND_DECLARED_PROVIDERS[source];
    if (!types) {
      problems.push(`${where}: provider "${local}" has source ${source}, which no installed package describes`);
      return;
    }
    if (!(kind === 'data' ? types.dataSources : types.resources).has(type)) {
      problems.push(`${where}: ${source} has no ${kind === 'data' ? 'data source' : 'resource type'} "${type}"`);
    }
  };
  for (const [kind, block] of [
    ['resource', tf.resource ?? {}],
    ['data', tf.data ?? {}],
  ] as const) {
    for (const [type, instances] of Object.entries(block)) {
      for (const [name, body] of Object.entries(instances)) check(kind, type, name, body);
    }
  }

  // References inside ${...} expressions and depends_on entries.
  const declaredVariables = new Set(Object.keys(tf.variable ?? {}));
  const declared = (block: Block | undefined, type: string, name: string) => block?.[type]?.[name] !== undefined;
  const referenceProblems = new Set<string>();
  const visit = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      for (const [, expression] of value.matchAll(/\$\{([^}]*)\}/g)) {
        for (const [, name] of expression.matchAll(/\bvar\.([A-Za-z0-9_-]+)/g)) {
          if (!declaredVariables.has(name)) referenceProblems.add(`${where}: var.${name} is not declared`);
        }
        for (const [, type, name] of expression.matchAll(/\bdata\.([a-z0-9_]+)\.([A-Za-z0-9_-]+)/g)) {
          if (!declared(tf.data, type, name)) referenceProblems.add(`${where}: data.${type}.${name} is not declared`);
        }
        for (const [, type, name] of expression.matchAll(/(?<![.\w])((?:google|time)_[a-z0-9_]*)\.([A-Za-z0-9_-]+)/g)) {
          if (!declared(tf.resource, type, name)) referenceProblems.add(`${where}: ${type}.${name} is not declared`);
        }
      }
    } else if (Array.isArray(value)) {
      value.forEach((item) => visit(item, where));
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'depends_on' && Array.isArray(item)) {
          for (const dependency of item as string[]) {
            const [first, second, third] = dependency.split('.');
            const ok = first === 'data' ? declared(tf.data, second, third) : declared(tf.resource, first, second);
            if (!ok) referenceProblems.add(`${where}: depends_on ${dependency} is not declared`);
          }
        } else {
          visit(item, where);
        }
      }
    }
  };
  for (const section of ['resource', 'data', 'output', 'provider', 'locals'] as const) {
    for (const [key, value] of Object.entries(tf[section] ?? {})) visit(value, `${section}.${key}`);
  }
  return [...problems, ...referenceProblems];
}

/** Google resource types (or data source types) of the JSON that the GA google provider does not have. */
export function typesMissingFromGa(tf: TerraformJson): string[] {
  const ga = providerTypes(PROVIDER_PACKAGES['hashicorp/google']);
  const google = (type: string) => type.startsWith('google_');
  return [
    ...Object.keys(tf.resource ?? {}).filter((type) => google(type) && !ga.resources.has(type)),
    ...Object.keys(tf.data ?? {}).filter((type) => google(type) && !ga.dataSources.has(type)),
  ];
}
