import { App } from 'cdktf';
import { parseConfig, PubSubToBigQueryStack } from 'stream-foundry/gcp';

// Pipeline 4 in a CDK for Terraform app of the user's own: the configuration inline, the schema the app's own file.
const app = new App();
const config = parseConfig({
  project: 'acme',
  environment: 'test',
  schemasDir: 'schemas',
  sources: { payments: { schema: 'payments.schema.json', idField: 'payment_id', partitionKeyField: 'account_id', pipelines: ['gcp'] } },
  gcp: { projectId: 'acme-analytics', region: 'europe-west1', eventTimeField: 'paid_at', clusteringFields: ['account_id'], datasetLocation: 'EU' },
});
new PubSubToBigQueryStack(app, 'acme-test-payments-analytics', config);
app.synth();
