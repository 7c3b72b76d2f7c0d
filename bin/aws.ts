#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildAwsDeployment } from '../platform/aws-app';
import { parseConfigOrExit } from '../platform/config';

// Configuration: cdk.json "context", overridden by `-c key=value` (see README "Configure").
const app = new App();
buildAwsDeployment(app, parseConfigOrExit(app.node.getAllContext()));
app.synth();
