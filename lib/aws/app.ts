import { App } from 'aws-cdk-lib';
import { enableComplianceChecks } from '../../constructs/aws/compliance';
import { applyCostTags } from '../../constructs/aws/cost-tags';
import { StreamFoundryConfig } from '../config';
import { LandingZoneStack } from './landing-zone-stack';

/** Adds every AWS architecture to `app`, tagged for cost allocation and behind the compliance gate. */
export function buildAwsApp(app: App, config: StreamFoundryConfig): void {
  const env = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const stackName = (name: string) => `${config.project}-${config.environment}-${name}`;

  if (config.landingZone.sources.length > 0) {
    new LandingZoneStack(app, 'LandingZone', {
      stackName: stackName('landing-zone'),
      description: 'Stream Foundry: validated S3 landing zone (S3 -> SNS -> validator Lambda -> Kinesis, errors to S3)',
      env,
      config,
    });
  }

  applyCostTags(app, config);
  enableComplianceChecks(app);
}
