import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { KinesisToDeltaLake, LandingTarget, LandingZone, PipelineMonitoring } from 'stream-foundry';

/** Payment files land in S3, are validated against the app's schema, and stream through Spark into Delta Lake. */
export class PaymentsLakeStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const source = { name: 'payments', schemaFile: 'schemas/payments.schema.json', idField: 'payment_id', partitionKeyField: 'account_id', eventTimeField: 'paid_at' };
    const monitoring = new PipelineMonitoring(this, 'Monitoring', { alarmEmails: ['data-oncall@acme.example'] });
    const lake = new KinesisToDeltaLake(this, 'Payments', { source, monitoring });
    new LandingZone(this, 'Landing', { sources: [{ ...source, target: LandingTarget.kinesis(lake.stream) }], monitoring });
  }
}
