import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PipelineMonitoring } from '../pipeline-monitoring';

export { DEFAULT_DOCS_URL, headingAnchor, runbookUrl } from './runbook';
export { DEFAULT_NO_DATA_MINUTES, noDataMinutesSetting } from './alarm-settings';

/** What every AWS pipeline construct accepts the same way (its props carry these three). */
export interface PipelineBaseProps {
  /** Whether destroying the stack deletes the data, keys and logs the construct created. @default false (retained) */
  readonly allowDestroy?: boolean;
  /** How long the construct's logs are kept. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Alarms and widgets go here. @default a PipelineMonitoring of its own, named `<stack>-<id>` */
  readonly monitoring?: PipelineMonitoring;
}

/** The same, resolved once for the construct and handed to its parts. */
export interface PipelineBase {
  readonly allowDestroy: boolean;
  /** RETAIN unless `allowDestroy`: for every stateful resource (streams, buckets, keys, queues, log groups). */
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  /** `<stack>-<id>`: unique per account and region, as stack names are; names jobs, workgroups, registries. */
  readonly name: string;
  readonly monitoring: PipelineMonitoring;
  /** Links to sections of the construct's runbook, docs/runbooks/<runbook>.md, at the configured docs location. */
  readonly runbook: (section: string) => string;
}

/**
 * Resolves what every pipeline construct resolves the same way. Call it first in the constructor; a monitoring of the
 * construct's own (no `monitoring` given) is created here, as child `Monitoring`.
 */
export function pipelineBase(scope: Construct, props: PipelineBaseProps, runbook: string): PipelineBase {
  const allowDestroy = props.allowDestroy ?? false;
  const name = `${Stack.of(scope).stackName}-${scope.node.id}`;
  const monitoring = props.monitoring ?? new PipelineMonitoring(scope, 'Monitoring', { pipelineName: name });
  return {
    allowDestroy,
    removalPolicy: allowDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    name,
    monitoring,
    runbook: monitoring.runbook(runbook),
  };
}

/** "Give either X or Y, not both": for each pair, fails synth naming both props when both are set. */
export function requireEither<P extends object>(scope: Construct, props: P, ...pairs: [keyof P & string, keyof P & string][]): void {
  for (const [a, b] of pairs) {
    if (props[a] !== undefined && props[b] !== undefined) throw new Error(`${scope.node.path}: give either "${a}" or "${b}", not both`);
  }
}

/** A source name: it becomes part of prefixes, topic, stream, job and table names. */
const SOURCE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Fails synth unless `name` is a source name (lower-case letters, digits and "-", starting with a letter, up to 63). */
export function checkSourceName(scope: Construct, name: string, setting = 'source.name'): void {
  if (!SOURCE_NAME.test(name)) {
    throw new Error(`${scope.node.path}: ${setting} must be lower-case letters, digits and "-", starting with a letter, at most 63 characters (got "${name}")`);
  }
}
