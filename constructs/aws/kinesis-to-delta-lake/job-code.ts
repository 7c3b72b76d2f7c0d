import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

export const JOB_SOURCE_DIR = path.join(__dirname, '..', '..', '..', 'jobs', 'spark-delta', 'src');
export const STREAM_SCRIPT = 'glue_stream_job.py';
export const MAINTENANCE_SCRIPT = 'glue_maintenance_job.py';

/**
 * The PySpark job of jobs/spark-delta as S3 assets: the two entry scripts (`ScriptLocation`), the package
 * `stream_foundry_delta` zipped from jobs/spark-delta/src (`--extra-py-files`, so executors import it too) and the
 * source's JSON Schema (`--schema-path`). Any change of a file changes its asset's key, hence the job definition,
 * hence the runner's properties: the deployment restarts the stream on the new code.
 */
export class JobCode extends Construct {
  readonly streamScript: s3assets.Asset;
  readonly maintenanceScript: s3assets.Asset;
  readonly library: s3assets.Asset;
  readonly schema: s3assets.Asset;

  constructor(scope: Construct, id: string, schemaFile: string) {
    super(scope, id);
    this.streamScript = new s3assets.Asset(this, 'StreamScript', { path: path.join(JOB_SOURCE_DIR, STREAM_SCRIPT) });
    this.maintenanceScript = new s3assets.Asset(this, 'MaintenanceScript', { path: path.join(JOB_SOURCE_DIR, MAINTENANCE_SCRIPT) });
    this.library = new s3assets.Asset(this, 'Library', {
      path: JOB_SOURCE_DIR,
      exclude: ['**/__pycache__', '**/*.pyc', STREAM_SCRIPT, MAINTENANCE_SCRIPT],
    });
    this.schema = new s3assets.Asset(this, 'Schema', { path: schemaFile });
  }

  /** Read access to exactly these objects (not the whole asset bucket, which holds every stack's assets). */
  grantRead(role: iam.IRole, assets: s3assets.Asset[]): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: assets.map((asset) => `arn:${Stack.of(this).partition}:s3:::${asset.s3BucketName}/${asset.s3ObjectKey}`),
      }),
    );
  }
}
