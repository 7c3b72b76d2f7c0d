import * as path from 'path';
import { BundlingOutput, DockerImage } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { fromRoot } from '../../../platform/paths';
import { bundleConsumer } from '../consumer/build';

const SERVICE_DIR = fromRoot('pipelines', 'queue-to-s3', 'consumer');

/**
 * The consumer service as one esbuild bundle (CommonJS, every dependency inside) in an S3 asset, built at synth by
 * the service's own build (pipelines/queue-to-s3/consumer/build.ts) with the installed esbuild, in-process: no Docker.
 * The stock Node.js image runs it as it is; the asset's key changes with its content, so a new bundle rolls the pods.
 */
export function consumerBundle(scope: Construct, id: string): s3assets.Asset {
  return new s3assets.Asset(scope, id, {
    path: SERVICE_DIR,
    // eks-zones/ is the zone picker's Lambda, not part of the service: excluded so it does not change the bundle's hash.
    exclude: ['*.md', 'Dockerfile', '.dockerignore', 'eks-zones'],
    bundling: {
      // Only local bundling is supported; the image is never pulled (CDK requires one to be named).
      image: DockerImage.fromRegistry('no-docker-build-with-local-esbuild'),
      outputType: BundlingOutput.SINGLE_FILE,
      local: {
        tryBundle(outputDir: string): boolean {
          bundleConsumer(path.join(outputDir, 'index.js'));
          return true;
        },
      },
    },
  });
}
