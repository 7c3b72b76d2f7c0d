import { App } from 'cdktf';
import { parseConfigOrExit, readCdkJsonContext } from '../platform/config';
import { buildGcpApp } from '../platform/gcp-app';

// The CDKTF app (cdktf.json "app"): the same configuration as the AWS app, read from cdk.json's context.
const config = parseConfigOrExit(readCdkJsonContext());
const app = new App();
if (buildGcpApp(app, config).length === 0) {
  console.warn('No Google Cloud pipeline configured (no source lists "gcp" in its pipelines): nothing to synthesize.');
}
app.synth();
