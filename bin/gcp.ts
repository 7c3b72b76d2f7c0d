import { App } from 'cdktf';
import { buildGcpApp, parseConfigOrExit, readCdkJsonContext } from 'stream-foundry/gcp';

// The CDKTF app (cdktf.json "app"): the same configuration as the AWS app, read from cdk.json's context, through the
// library's Google Cloud entry point as in a user's app (tsconfig.json maps it to gcp.ts here).
const config = parseConfigOrExit(readCdkJsonContext());
const app = new App();
if (buildGcpApp(app, config).length === 0) {
  console.warn('No Google Cloud pipeline configured (no source lists "gcp" in its pipelines): nothing to synthesize.');
}
app.synth();
