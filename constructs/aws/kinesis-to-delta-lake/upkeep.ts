import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as logs from 'aws-cdk-lib/aws-logs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { GlueJobRole } from './glue-role';
import { acknowledgeGlueLogging, commonArguments, GLUE_VERSION, grantLakePrefixes } from './job';
import { JobCode } from './job-code';
import { LakeLayout } from './layout';
import { TableUpkeepOptions } from './props';

export const UPKEEP_DEFAULTS = {
  schedule: 'cron(15 * * * ? *)',
  optimizeDays: 2,
  vacuumRetention: Duration.hours(168),
  logRetention: Duration.days(7),
  workers: 2,
};

export interface TableUpkeepProps {
  readonly jobName: string;
  readonly source: string;
  readonly layout: LakeLayout;
  readonly code: JobCode;
  readonly options: TableUpkeepOptions;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Keeps the source's two Delta tables fast and small while the stream writes: a Glue batch job (`glueetl`) on a
 * scheduled trigger runs OPTIMIZE on recent partitions (a 5 s trigger writes thousands of small files a day), VACUUM
 * (files compacted away more than the retention ago) and sets the log/deleted-file retention properties. OPTIMIZE
 * commits with dataChange=false and does not conflict with the stream's appends; the stream's writer retries a
 * conflict with a property change. One run at a time; a run is capped at one hour.
 */
export class TableUpkeep extends Construct {
  readonly job: glue.CfnJob;
  readonly trigger: glue.CfnTrigger;
  /** Matches failed and timed-out runs (its TriggeredRules metric is the upkeep-failed alarm). */
  readonly failedRule: events.Rule;
  readonly jobName: string;

  constructor(scope: Construct, id: string, props: TableUpkeepProps) {
    super(scope, id);
    const options = { ...UPKEEP_DEFAULTS, ...props.options };
    const { layout, code } = props;
    this.jobName = props.jobName;
    const access = new GlueJobRole(this, 'Access', {
      jobName: props.jobName,
      description: `Compacts and vacuums the ${props.source} Delta tables`,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const retention = `interval ${options.logRetention.toDays()} days`;
    this.job = new glue.CfnJob(this, 'Resource', {
      name: props.jobName,
      description: `OPTIMIZE and VACUUM of the ${props.source} Delta tables (events and errors)`,
      role: access.role.roleArn,
      command: { name: 'glueetl', scriptLocation: code.maintenanceScript.s3ObjectUrl, pythonVersion: '3' },
      glueVersion: GLUE_VERSION,
      workerType: 'G.1X',
      numberOfWorkers: options.workers,
      executionProperty: { maxConcurrentRuns: 1 },
      maxRetries: 0,
      timeout: 60,
      defaultArguments: {
        ...commonArguments(code, access),
        '--table-paths': [layout.url(layout.eventsPrefix), layout.url(layout.errorsPrefix)].join(','),
        '--optimize-days': String(options.optimizeDays),
        '--vacuum-retention-hours': String(options.vacuumRetention.toHours()),
        '--log-retention': retention,
        '--deleted-file-retention': retention,
        '--vacuum-mode': 'FULL',
      },
    });
    acknowledgeGlueLogging(this.job);
    this.trigger = new glue.CfnTrigger(this, 'Schedule', {
      type: 'SCHEDULED',
      schedule: options.schedule,
      startOnCreation: true,
      description: `Runs ${props.jobName} on its schedule`,
      actions: [{ jobName: this.job.ref }],
    });

    this.failedRule = new events.Rule(this, 'OnFailed', {
      description: `Counts failed runs of ${props.jobName}`,
      eventPattern: { source: ['aws.glue'], detailType: ['Glue Job State Change'], detail: { jobName: [props.jobName], state: ['FAILED', 'TIMEOUT', 'ERROR'] } },
    });

    const objects = grantLakePrefixes(access.role, layout, [layout.eventsPrefix, layout.errorsPrefix]);
    code.grantRead(access.role, [code.maintenanceScript, code.library]);
    access.acknowledge(
      objects.map((arn) => [
        `Resource::${flattenCfnReference(Stack.of(this).resolve(arn))}`,
        `The ${props.source} upkeep rewrites and deletes the table's data files and log under its own prefix; their keys are not known in advance.`,
      ]),
    );
  }
}
