import { App } from 'cdktf';
import { parseConfigOrExit, readCdkJsonContext } from '../platform/config';
import { pipeline, stackName } from '../pipelines';
import { PubSubToBigQueryStack } from '../pipelines/pubsub-to-bigquery/stack';

// The CDKTF app (cdktf.json "app"): the same configuration as the AWS app, read from cdk.json's context. Its one
// pipeline is the registry's Google Cloud entry (pipelines/index.ts); CDK for Terraform addresses a stack by its name.
const config = parseConfigOrExit(readCdkJsonContext());
const app = new App();
new PubSubToBigQueryStack(app, stackName(pipeline('gcp'), config), config);
app.synth();
