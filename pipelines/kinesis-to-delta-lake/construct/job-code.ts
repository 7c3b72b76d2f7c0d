import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { fromRoot } from '../../../platform/paths';
import { ProcessingDocument } from '../../../platform/processing-rules';
import CONTRACT_FILE from '../job/src/stream_foundry_delta/contract.json';

export const JOB_SOURCE_DIR = fromRoot('pipelines', 'kinesis-to-delta-lake', 'job', 'src');
export const STREAM_SCRIPT = 'glue_stream_job.py';
export const JOB_PACKAGE = 'stream_foundry_delta';

/**
 * The contract with the job: the job arguments the construct sets, where the schema ships in the package, the job's
 * metrics. The job reads the same file (stream_foundry_delta/contract.py), so a renamed name changes both sides.
 */
export const JOB_CONTRACT = CONTRACT_FILE;
export type JobContract = typeof JOB_CONTRACT;

/**
 * The PySpark job of pipelines/kinesis-to-delta-lake/job as S3 assets: the entry script (`ScriptLocation`) and the package
 * `stream_foundry_delta` (`--extra-py-files`, so executors import it too) with the source's JSON Schema inside it
 * (`<package>/schemas/<file>`, `--schema-resource`), and its processing document when it has rules (`--processing-resource`). The job reads the schema from its own package: no S3 request,
 * so nothing depends on Glue 5.1's S3A listing a bucket the role may not list. Any change of a file changes its
 * asset's key, hence the job definition, hence the runner's properties: the deployment restarts the stream on the
 * new code.
 */
export class JobCode extends Construct {
  readonly streamScript: s3assets.Asset;
  readonly library: s3assets.Asset;
  /** The schema's file name inside the package's schema directory (the job's `--schema-resource`). */
  readonly schemaResource: string;
  /** The processing document's file name next to the schema (`--processing-resource`), when the source has rules. */
  readonly processingResource?: string;
  /** The staged package's directory (what `library` uploads). */
  readonly packageDir: string;

  constructor(scope: Construct, id: string, schemaFile: string, processing?: ProcessingDocument) {
    super(scope, id);
    this.streamScript = new s3assets.Asset(this, 'StreamScript', { path: path.join(JOB_SOURCE_DIR, STREAM_SCRIPT) });
    this.schemaResource = path.basename(schemaFile);
    // The package and the schema staged together; the asset's hash is its content's, whatever the directory's name.
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-delta-package-'));
    fs.cpSync(path.join(JOB_SOURCE_DIR, JOB_PACKAGE), path.join(staging, JOB_PACKAGE), {
      recursive: true,
      filter: (file) => !/(__pycache__|\.pyc)$/.test(file),
    });
    const schemas = path.join(staging, JOB_PACKAGE, JOB_CONTRACT.schemaDir);
    fs.mkdirSync(schemas, { recursive: true });
    fs.copyFileSync(schemaFile, path.join(schemas, this.schemaResource));
    if (processing) {
      this.processingResource = `${processing.source}.processing.json`;
      fs.writeFileSync(path.join(schemas, this.processingResource), `${JSON.stringify(processing, null, 2)}\n`);
    }
    this.packageDir = staging;
    this.library = new s3assets.Asset(this, 'Library', { path: staging });
  }

  /**
   * Read access to exactly these objects (not the whole asset bucket, which holds every stack's assets, and no
   * ListBucket on it: Glue fetches the script and the package by their keys, which exist when the job runs).
   */
  grantRead(role: iam.IRole, assets: s3assets.Asset[]): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: assets.map((asset) => `arn:${Stack.of(this).partition}:s3:::${asset.s3BucketName}/${asset.s3ObjectKey}`),
      }),
    );
  }
}
