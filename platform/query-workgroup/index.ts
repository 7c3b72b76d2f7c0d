import { Duration } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SecureBucket } from '../secure-bucket';

export interface QueryWorkgroupProps {
  /** Workgroup name (cut to Athena's 128 characters). */
  readonly name: string;
  readonly description: string;
  /** Whether destroying the stack deletes the results bucket. @default false */
  readonly allowDestroy?: boolean;
  /** Where results go in the results bucket. @default 'results/' */
  readonly resultsPrefix?: string;
  /** Per-query scan limit in bytes. @default no limit */
  readonly bytesScannedCutoffPerQuery?: number;
  /** Whether deleting the workgroup deletes its saved queries (it holds no data: results live in the bucket). @default true */
  readonly recursiveDelete?: boolean;
}

export interface QueryWorkgroup {
  readonly workgroup: athena.CfnWorkGroup;
  readonly resultsBucket: s3.IBucket;
}

/**
 * The Athena workgroup every pipeline's lake shares the shape of: engine v3, settings enforced, CloudWatch metrics,
 * results in a SecureBucket of its own (`QueryResults`, KMS, kept 30 days). Created in `scope` under `id`, so the
 * resources keep the logical ids of the construct that calls it.
 */
export function addQueryWorkgroup(scope: Construct, id: string, props: QueryWorkgroupProps): QueryWorkgroup {
  const results = new SecureBucket(scope, 'QueryResults', {
    allowDestroy: props.allowDestroy,
    lifecycleRules: [{ id: 'expire-query-results', expiration: Duration.days(30) }],
  });
  const workgroup = new athena.CfnWorkGroup(scope, id, {
    name: props.name.slice(0, 128),
    description: props.description,
    state: 'ENABLED',
    recursiveDeleteOption: props.recursiveDelete ?? true,
    workGroupConfiguration: {
      enforceWorkGroupConfiguration: true,
      engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
      publishCloudWatchMetricsEnabled: true,
      bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
      resultConfiguration: {
        outputLocation: results.bucket.s3UrlForObject(props.resultsPrefix ?? 'results/'),
        encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: results.encryptionKey!.keyArn },
      },
    },
  });
  return { workgroup, resultsBucket: results.bucket };
}
