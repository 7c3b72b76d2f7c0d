import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { ACCOUNT_ID, flag, list, NAME, oneOf, REGION, tagValue, text } from './settings';
import { gcpSchema } from '../../pipelines/pubsub-to-bigquery/config';
import { kinesisToDeltaLakeSchema } from '../../pipelines/kinesis-to-delta-lake/config';
import { landingZoneSchema, validatorSchema } from '../landing-zone/config';
import { mskToIcebergSchema } from '../../pipelines/msk-to-iceberg/config';
import { queueToS3Schema } from '../../pipelines/queue-to-s3/config';
import { rawZoneSchema } from '../raw-zone/config';
import { budgetsSchema } from '../budgets/config';
import { freshnessSchema } from '../freshness/config';
import { grafanaSchema, prometheusSchema } from '../observability/config';
import { customerProblems, customersSchema } from '../customer-delivery/config';
import { rdsCdcToS3Schema } from '../../pipelines/rds-cdc-to-s3/config';
import { cicdSchema, environmentProblems } from '../cicd/config';
import { fromRoot } from '../paths';
import { loadRules, RulesError } from '../processing-rules';
import { checkSchemaHistory, REGISTRY_COMPATIBILITIES, schemaHistory, SchemaHistoryError } from '../schema-registry/versions';
import { DEFAULT_DOCS_URL } from '../pipeline/runbook';
import { PIPELINES, SOURCE_PIPELINE_KEYS, SourcePipelineKey } from '../../pipelines';

/**
 * The one configuration of Stream Foundry, for the AWS (CDK) and Google Cloud (CDKTF) apps alike.
 *
 * Values come from the "context" block of cdk.json; `cdk synth|deploy -c key=value` overrides one, and a dotted key
 * (`-c validator.noDataMinutes=30`) overrides one setting inside a section. Anything invalid fails synth
 * with a ConfigError naming the setting, the value received and what is expected.
 *
 * One section per pipeline (`landingZone`, `gcp`, ...) holds that pipeline's own settings, broker included; each
 * source lists the pipelines it feeds (keys of the registry, pipelines/index.ts). To add a pipeline:
 * docs/adding-a-pipeline.md.
 */

/** The repository's own schemas (its apps' `schemasDir`), for its tests and scripts; not part of the library's API. */
export const SCHEMAS_DIR = fromRoot('schemas');

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

const sourceSchema = z.strictObject({
  /** JSON Schema file in schemas/ that every event of this source must satisfy. */
  schema: text(/^[\w.-]+\.schema\.json$/, 'a file name in schemas/ ending in .schema.json'),
  /** Field holding the event id: duplicates downstream are identified by it. */
  idField: text(FIELD, 'a top-level field name'),
  /** Field whose value is the Kinesis partition key / Kafka message key. */
  partitionKeyField: text(FIELD, 'a top-level field name'),
  /** The pipelines this source feeds (AWS pipelines through a landing zone). */
  pipelines: list(oneOf(SOURCE_PIPELINE_KEYS)).default([]),
  /** Processing rules (filter, transform, aggregate) in schemas/: docs/processing-rules.md. */
  rules: text(/^[\w.-]+\.rules\.json$/, 'a file name in schemas/ ending in .rules.json').optional(),
  /**
   * How the schema may change from one released version to the next (schemas/releases/<source>/): the Glue Schema
   * Registry's modes, checked at synth and by the registry. BACKWARD: the pipelines read the events of the previous
   * version (add optional fields, drop fields).
   */
  compatibility: oneOf(REGISTRY_COMPATIBILITIES).default('BACKWARD'),
});

/** What the compatibility gate tells a user whose change breaks the source's mode. */
const breakingChange = (source: string) =>
  `Make it compatible (add fields as optional; keep the types and the names), or ship it as a new major version: a new source such as "${source}-v2" with this schema, its own tables and topics, beside "${source}" until its publishers have moved (README "Changing a schema")`;

/** The pipelines whose jobs evaluate processing rules; a source with rules may feed no other (it would store raw PII). */
export const RULE_PIPELINES: readonly SourcePipelineKey[] = ['kinesisToDeltaLake', 'mskToIceberg', 'landingZone'];

/**
 * The configuration's zod schema: `parseConfig` validates cdk.json's context with it (README "Configure" lists the
 * settings).
 */
export const configSchema = z
  .object({
    /** Deployment environment; part of every stack name. */
    environment: text(NAME, 'a lower-case name such as "dev" or "prod" (2-24 letters, digits or "-")').default('dev'),
    /** Target account and region. Optional: without them synth is environment-agnostic and needs no credentials. */
    account: text(ACCOUNT_ID, 'a 12-digit AWS account id').optional(),
    region: text(REGION, 'an AWS region such as "eu-west-1"').optional(),
    /** Cost tags: every AWS resource gets Project, Team, CostCenter, Environment; Google resources the same labels. */
    project: tagValue.default('stream-foundry'),
    team: tagValue.default('data-platform'),
    costCenter: tagValue.default('unassigned'),
    /** E-mail addresses subscribed to every pipeline's alarm topic. */
    alarmEmails: list(z.email({ error: 'expected an e-mail address' })).default([]),
    /** Send every AWS alarm to this existing SNS topic instead of a topic per pipeline (then no alarmEmails). */
    alarmTopicArn: text(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, 'an SNS topic ARN "arn:aws:sns:REGION:ACCOUNT:NAME"').optional(),
    /** Whether destroying a stack may delete its data (buckets, streams). Off: data is retained. */
    allowDataDestruction: flag().default(false),
    /**
     * Where docs/ is published: every alarm links its runbook section there (`<docsUrl>/runbooks/<pipeline>.md#<section>`),
     * a URL an operator can open from an alarm e-mail. Point it at your fork or internal copy.
     */
    docsUrl: text(
      /^https:\/\/[^\s?#]+[^\s?#/]$/,
      'an https URL of the docs folder without a trailing "/", such as "https://github.com/OWNER/REPO/blob/main/docs"',
    ).default(DEFAULT_DOCS_URL),
    /**
     * The directory of the sources' schemas, rules, samples and releases (releases/<source>/v<N>.schema.json),
     * relative to the working directory (the project root, where `cdk` runs the app) or absolute.
     */
    schemasDir: text(/^\S(.*\S)?$/, 'a directory path').default('schemas'),
    /** Data sources by name. */
    sources: z.record(text(NAME, 'a source name'), sourceSchema).default({}),
    /**
     * Customers reading processed events of sources that feed kinesisToDeltaLake or mskToIceberg, each with its own
     * principals (platform/customer-delivery, docs/customer-onboarding.md).
     */
    customers: customersSchema,
    /** The landing-zone validator, wherever a pipeline takes files through a landing zone. */
    validator: validatorSchema.default(() => validatorSchema.parse({})),
    /** The LandingZone stack: landing zone -> Kinesis stream. */
    landingZone: landingZoneSchema.default(() => landingZoneSchema.parse({})),
    /** The raw zone of every stack whose sources reach a broker: Firehose buffering, archive and expiry, alarms. */
    rawZone: rawZoneSchema.default(() => rawZoneSchema.parse({})),
    /** A cost budget and a cost anomaly monitor per AWS pipeline stack, notifying its alarm topic (platform/budgets). */
    budgets: budgetsSchema.default(() => budgetsSchema.parse({})),
    /** The freshness canary of every pipeline: a marked event per source and interval, a Freshness metric, an SLO alarm (platform/freshness). */
    freshness: freshnessSchema.default(() => freshnessSchema.parse({})),
    /** Amazon Managed Service for Prometheus and its managed scraper on pipeline 1's cluster (platform/observability). */
    prometheus: prometheusSchema.default(() => prometheusSchema.parse({})),
    /** An Amazon Managed Grafana workspace with the dashboards provisioned (off: it needs IAM Identity Center or SAML). */
    grafana: grafanaSchema.default(() => grafanaSchema.parse({})),
    /** Pipeline 2: Kinesis -> Spark Structured Streaming (Glue) -> Delta Lake on S3. */
    kinesisToDeltaLake: kinesisToDeltaLakeSchema.default(() => kinesisToDeltaLakeSchema.parse({})),
    /** Pipeline 1: SNS -> SQS -> consumer service on EKS -> S3. */
    queueToS3: queueToS3Schema.default(() => queueToS3Schema.parse({})),
    /** Pipeline 5: MSK (Kafka) -> Managed Service for Apache Flink -> Iceberg on S3. */
    mskToIceberg: mskToIcebergSchema.default(() => mskToIcebergSchema.parse({})),
    /** Pipeline 4 on Google Cloud (bin/gcp.ts); optional so the AWS app needs none of it. */
    gcp: gcpSchema.optional(),
    /** Pipeline 3, RDS -> DMS -> S3: built when this section is present (its source is the database, not a data source). */
    rdsCdcToS3: rdsCdcToS3Schema.optional(),
    /**
     * CI/CD: a CDK Pipelines deployment pipeline deploying the AWS stacks to each environment in turn, built in place
     * of the stacks when this section is present (platform/cicd).
     */
    cicd: cicdSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const schemas = schemasDirOf(config);
    for (const [name, source] of Object.entries(config.sources)) {
      if (!fs.existsSync(path.join(schemas, source.schema))) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', name, 'schema'],
          input: source.schema,
          message: `expected a file in ${path.relative(process.cwd(), schemas) || '.'}/ (none found)`,
        });
      }
    }
    for (const [name, source] of Object.entries(config.sources)) {
      const file = path.join(schemas, source.schema);
      if (!fs.existsSync(file)) continue;
      const issue = (message: string) => ctx.addIssue({ code: 'custom', path: ['sources', name, 'schema'], input: source.schema, message });
      try {
        const problems = checkSchemaHistory(name, schemaHistory(schemas, name, file), source.compatibility);
        if (problems.length > 0) issue(`${problems.join('; ')}. ${breakingChange(name)}`);
      } catch (error) {
        if (!(error instanceof SchemaHistoryError)) throw error;
        issue(error.message);
      }
    }
    for (const [name, source] of Object.entries(config.sources)) {
      if (!source.rules) continue;
      const setting = `sources.${name}.rules`;
      const file = path.join(schemas, source.rules);
      if (!fs.existsSync(file)) {
        ctx.addIssue({ code: 'custom', path: ['sources', name, 'rules'], input: source.rules, message: `expected a file in ${path.relative(process.cwd(), schemas) || '.'}/ (none found)` });
        continue;
      }
      try {
        loadRules(file, setting);
      } catch (error) {
        if (!(error instanceof RulesError)) throw error;
        ctx.addIssue({ code: 'custom', path: ['sources', name, 'rules'], input: source.rules, message: error.problems.join('; ') });
      }
      const unsupported = source.pipelines.filter((p) => !RULE_PIPELINES.includes(p));
      if (unsupported.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', name, 'rules'],
          input: source.rules,
          message: `expected no processing rules on a source that feeds ${unsupported.join(', ')}: only the kinesisToDeltaLake and mskToIceberg jobs apply them, ${unsupported.length > 1 ? 'those pipelines' : 'that pipeline'} would store the events unfiltered and unmasked (remove ${unsupported.join(', ')} from sources.${name}.pipelines, or the rules)`,
        });
      }
    }
    for (const [path, input, message] of customerProblems(config.customers, config.sources, config.mskToIceberg.cluster.type)) {
      ctx.addIssue({ code: 'custom', path, input, message });
    }
    if (config.alarmTopicArn && config.alarmEmails.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['alarmEmails'],
        input: config.alarmEmails,
        message: 'expected no e-mail addresses when alarmTopicArn is set: subscribe them to that topic instead',
      });
    }
    // Each deployment environment's configuration (these settings with the environment's over them) must hold too
    // (once the section itself holds: its own problems are reported at their settings).
    if (config.cicd && cicdSchema.safeParse(config.cicd).success) {
      const parse = (settings: Record<string, unknown>) => configSchema.safeParse(settings, { reportInput: true });
      for (const issue of environmentProblems(config.cicd, config, SETTINGS, parse)) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    }
    // The Pub/Sub -> BigQuery pipeline carries exactly one source; a source cannot feed a pipeline with no section.
    const gcpSources = Object.keys(config.sources).filter((name) => config.sources[name].pipelines.includes('gcp'));
    if (config.gcp && gcpSources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['sources'],
        input: gcpSources,
        message: 'expected exactly one source with "gcp" in its pipelines (the Pub/Sub to BigQuery pipeline carries one source)',
      });
    }
    if (!config.gcp && gcpSources.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['sources', gcpSources[0], 'pipelines'],
        input: config.sources[gcpSources[0]].pipelines,
        message: 'expected a "gcp" section for the pipeline this source feeds',
      });
    }
  });

/** The validated configuration: every setting of README "Configure", defaults filled in. */
export type StreamFoundryConfig = z.output<typeof configSchema>;
/** One data source of `sources`: its schema file, id and partition key fields, the pipelines it feeds. */
export type SourceConfig = z.output<typeof sourceSchema>;

/**
 * The schemas directory of a configuration: `schemasDir`, relative to the working directory (where `cdk` and `cdktf`
 * run the app: the project's root) unless absolute.
 */
export function schemasDirOf(config: Pick<StreamFoundryConfig, 'schemasDir'>): string {
  return path.resolve(config.schemasDir);
}

/** The names of the sources that feed `pipeline`, in configuration order. */
export function sourcesFeeding(config: StreamFoundryConfig, pipeline: SourcePipelineKey): string[] {
  return Object.entries(config.sources)
    .filter(([, source]) => source.pipelines.includes(pipeline))
    .map(([name]) => name);
}

/** Whether the configuration asks for this pipeline (registry: `builtWhen`): both apps build exactly these. */
export function isBuilt(entry: (typeof PIPELINES)[number], config: StreamFoundryConfig): boolean {
  return entry.builtWhen === 'a source feeds it' ? sourcesFeeding(config, entry.key).length > 0 : config[entry.key] !== undefined;
}

/** The settings this schema owns: other context keys (CDK feature flags, `aws:cdk:*`) are left alone. */
const SETTINGS = Object.keys(configSchema.shape);

/**
 * Invalid configuration: `parseConfig` throws it with every problem found, each naming the setting and what is
 * expected.
 */
export class ConfigError extends Error {
  /** @param problems One line per invalid setting: `<setting>: received <value>; <expected>`. */
  constructor(readonly problems: string[]) {
    super(`Invalid Stream Foundry configuration (cdk.json context or -c):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Validates raw context (cdk.json "context" merged with -c overrides) into a typed configuration. */
export function parseConfig(context: Record<string, unknown>): StreamFoundryConfig {
  const result = configSchema.safeParse(settingsFrom(context), { reportInput: true });
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.map(String).join('.') || '(root)';
        const received = 'input' in issue && issue.input !== undefined ? JSON.stringify(issue.input) : 'nothing';
        const expected =
          issue.code === 'unrecognized_keys'
            ? `unknown setting(s) ${issue.keys.join(', ')}`
            : issue.code === 'invalid_key'
              ? (issue.issues[0]?.message ?? issue.message)
              : issue.message;
        return `${key}: received ${received}; ${expected}`;
      }),
    );
  }
  return result.data;
}

/** For the apps in bin/: a configuration error is the user's to fix, so print just its message and exit. */
export function parseConfigOrExit(context: Record<string, unknown>): StreamFoundryConfig {
  try {
    return parseConfig(context);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

/** Reads the context block of cdk.json (in the working directory): the CDKTF app shares the AWS app's configuration this way. */
export function readCdkJsonContext(file = 'cdk.json'): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')).context ?? {};
}

/** Keeps our settings and folds dotted overrides (`validator.noDataMinutes`) into their sections. */
function settingsFrom(context: Record<string, unknown>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  const dotted = Object.entries(context).filter(([key]) => key.includes('.'));
  for (const [key, value] of Object.entries(context)) {
    if (SETTINGS.includes(key)) settings[key] = structuredClone(value);
  }
  for (const [key, value] of dotted) {
    const [root, ...rest] = key.split('.');
    if (!SETTINGS.includes(root)) continue;
    let section = (settings[root] ??= {}) as Record<string, unknown>;
    for (const part of rest.slice(0, -1)) section = (section[part] ??= {}) as Record<string, unknown>;
    section[rest[rest.length - 1]] = value;
  }
  return settings;
}
