#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildAwsDeployment, parseConfigOrExit } from 'stream-foundry';

// Configuration: cdk.json "context", overridden by `-c key=value` (see README "Configure"). The library's own entry
// point, as in a user's app (README "Use the constructs in your own CDK app"); tsconfig.json maps it to index.ts here.
const app = new App();
buildAwsDeployment(app, parseConfigOrExit(app.node.getAllContext()));
app.synth();
