import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { enableComplianceChecks } from 'stream-foundry';

// The compliance gate covers the app's own resources too: a bucket without access logs fails synth (AwsSolutions-S1).
const app = new App();
new s3.Bucket(new Stack(app, 'Unchecked'), 'Bucket', { enforceSSL: true });
enableComplianceChecks(app);
app.synth();
