import { App } from 'cdktf';
import { parseConfigOrExit, readCdkJsonContext } from '../platform/config';
import { PubSubToBigQueryStack } from '../pipelines/pubsub-to-bigquery/stack';

// The CDKTF app (cdktf.json "app"): the same configuration as the AWS app, read from cdk.json's context.
const config = parseConfigOrExit(readCdkJsonContext());
const app = new App();
new PubSubToBigQueryStack(app, `${config.project}-${config.environment}-pubsub-to-bigquery`, config);
app.synth();
