#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildAwsApp, parseConfig } from 'stream-foundry';
import { PaymentsLakeStack } from '../lib/payments-lake-stack';

const app = new App();
// One stack per architecture, configured by cdk.json's context (the app's own schema in schemas/, its own settings).
buildAwsApp(app, parseConfig(app.node.getAllContext()));
// The constructs composed in a stack of the app's own, behind the same compliance checks (cdk-nag) buildAwsApp enabled.
new PaymentsLakeStack(app, 'PaymentsLake', { stackName: 'acme-test-payments-lake' });
app.synth();
