#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildAwsApp } from '../lib/aws/app';
import { parseConfigOrExit } from '../lib/config';

// Configuration: cdk.json "context", overridden by `-c key=value` (see README "Configure").
const app = new App();
buildAwsApp(app, parseConfigOrExit(app.node.getAllContext()));
app.synth();
