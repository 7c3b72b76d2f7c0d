/**
 * Lambda entry of the `Custom::EksSupportedZones` resource (pipelines/queue-to-s3/construct/zones.ts).
 *
 * The EC2 client comes from the AWS SDK v3 that the Lambda Node.js 22 runtime includes (esbuild leaves `@aws-sdk/*`
 * external): DescribeAvailabilityZones is a long-stable call, and the project does not depend on @aws-sdk/client-ec2.
 */
import { AvailabilityZone, createHandler } from './zones';

interface Ec2Client {
  describeAvailabilityZones(input: object): Promise<{ AvailabilityZones?: AvailabilityZone[] }>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { EC2 } = require('@aws-sdk/client-ec2') as { EC2: new (config: object) => Ec2Client };
const ec2 = new EC2({});

export const onEvent = createHandler(async () => (await ec2.describeAvailabilityZones({})).AvailabilityZones ?? []);
