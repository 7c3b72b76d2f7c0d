import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { deploymentId } from '../../../platform/names';
import { JOB_CONTRACT } from './job-code';

/**
 * A Glue job's role and log groups. Glue 5.x writes driver and executor logs in real time to `<prefix>/error` and
 * `<prefix>/output` (`--custom-logGroup-prefix`): the stack creates both with retention, and the role may write to
 * them and nowhere else. Metrics: `cloudwatch:PutMetricData` in Glue's namespace and the job's own (JOB_CONTRACT) only.
 *
 * The log groups are retained with the data (the logs of a failed first deploy are what explains it), so their names
 * end in this deployment's id: a stack destroyed and deployed again creates new groups instead of failing on the
 * retained ones ("already exists"; test/platform/redeploy.test.ts).
 */
export class GlueJobRole extends Construct {
  readonly role: iam.Role;
  readonly logGroupPrefix: string;
  readonly logGroups: logs.LogGroup[];

  constructor(scope: Construct, id: string, props: { jobName: string; description: string; logRetention: logs.RetentionDays; removalPolicy: RemovalPolicy }) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: props.description,
      maxSessionDuration: Duration.hours(12),
    });
    this.logGroupPrefix = `/aws-glue/jobs/${props.jobName}/${deploymentId()}`;
    this.logGroups = ['error', 'output'].map(
      (kind) =>
        new logs.LogGroup(this, `${kind.charAt(0).toUpperCase()}${kind.slice(1)}Logs`, {
          logGroupName: `${this.logGroupPrefix}/${kind}`,
          retention: props.logRetention,
          removalPolicy: props.removalPolicy,
        }),
    );
    for (const group of this.logGroups) group.grantWrite(this.role);
    // Glue creates its log groups when they are missing; here they exist, and the call must not be denied.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogGroup'], resources: this.logGroups.map((g) => g.logGroupArn) }));
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': ['Glue', JOB_CONTRACT.metrics.namespace] } },
      }),
    );
  }

  /** cdk-nag names each wildcard as it appears in the template; acknowledge exactly those, with the reason. */
  acknowledge(findings: [string, string][]): void {
    const policy = this.role.node.tryFindChild('DefaultPolicy')!;
    for (const [id, reason] of [
      ['Resource::*', 'cloudwatch:PutMetricData supports no resource scoping; the statement is limited to the Glue namespace and the job\'s own.'],
      ...findings,
    ]) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason });
    }
  }
}
