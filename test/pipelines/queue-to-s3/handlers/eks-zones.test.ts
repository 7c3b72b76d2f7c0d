import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { AvailabilityZone, createHandler, EKS_UNSUPPORTED_ZONE_IDS, supportedZoneNames } from '../../../../pipelines/queue-to-s3/handlers/eks-zones/zones';
import { fromRoot } from '../../../../platform/paths';

/**
 * DescribeAvailabilityZones as EC2 answers it in us-east-1 for an account where us-east-1a is use1-az3 (names map to
 * ids per account): every enabled zone, opted-in Local Zones included, each with its id, state and type.
 */
const US_EAST_1: AvailabilityZone[] = [
  { ZoneName: 'us-east-1a', ZoneId: 'use1-az3', State: 'available', ZoneType: 'availability-zone' },
  { ZoneName: 'us-east-1b', ZoneId: 'use1-az4', State: 'available', ZoneType: 'availability-zone' },
  { ZoneName: 'us-east-1c', ZoneId: 'use1-az6', State: 'available', ZoneType: 'availability-zone' },
  { ZoneName: 'us-east-1d', ZoneId: 'use1-az1', State: 'available', ZoneType: 'availability-zone' },
  { ZoneName: 'us-east-1-bos-1a', ZoneId: 'use1-bos1-az1', State: 'available', ZoneType: 'local-zone' },
];

const event = (RequestType: 'Create' | 'Update' | 'Delete', Count = '2') =>
  ({
    RequestType,
    PhysicalResourceId: 'us-east-1b,us-east-1c',
    ResourceProperties: { ServiceToken: 'arn', Count, UnsupportedZoneIds: EKS_UNSUPPORTED_ZONE_IDS },
  }) as unknown as CloudFormationCustomResourceEvent;

describe('zones EKS supports', () => {
  test('the zone whose id EKS refuses is skipped though its name comes first; Local Zones are not availability zones', () => {
    expect(supportedZoneNames(US_EAST_1, 2, EKS_UNSUPPORTED_ZONE_IDS)).toEqual(['us-east-1b', 'us-east-1c']);
  });

  test('the ids EKS refuses are the three of its subnet requirements', () => {
    expect(EKS_UNSUPPORTED_ZONE_IDS).toEqual(['use1-az3', 'usw1-az2', 'cac1-az3']);
  });

  test('a zone that is not available is not picked; too few zones fail naming the setting', () => {
    const impaired = US_EAST_1.map((z) => (z.ZoneName === 'us-east-1b' ? { ...z, State: 'impaired' } : z));
    expect(supportedZoneNames(impaired, 2, EKS_UNSUPPORTED_ZONE_IDS)).toEqual(['us-east-1c', 'us-east-1d']);
    // us-west-1 has two zones; in this account one of them is usw1-az2.
    const usWest1 = [
      { ZoneName: 'us-west-1a', ZoneId: 'usw1-az2', State: 'available', ZoneType: 'availability-zone' },
      { ZoneName: 'us-west-1c', ZoneId: 'usw1-az1', State: 'available', ZoneType: 'availability-zone' },
    ];
    expect(() => supportedZoneNames(usWest1, 2, EKS_UNSUPPORTED_ZONE_IDS)).toThrow(/1 available zones EKS supports \(us-west-1c; .*set queueToS3\.availabilityZones/);
  });

  test('the custom resource answers Zone0, Zone1 on Create and Update, and calls nothing on Delete', async () => {
    const describe = jest.fn(async () => US_EAST_1);
    const handler = createHandler(describe);
    const expected = { PhysicalResourceId: 'us-east-1b,us-east-1c', Data: { Zone0: 'us-east-1b', Zone1: 'us-east-1c' } };
    await expect(handler(event('Create'))).resolves.toEqual(expected);
    await expect(handler(event('Update'))).resolves.toEqual(expected);
    expect(describe).toHaveBeenCalledTimes(2);
    await expect(handler(event('Delete'))).resolves.toEqual({ PhysicalResourceId: 'us-east-1b,us-east-1c' });
    expect(describe).toHaveBeenCalledTimes(2);
  });

  test('the deployed bundle calls the Lambda runtime\'s EC2 client (left external) and answers from it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eks-zones-'));
    try {
      // As the function is bundled: the SDK inside but the EC2 client, resolved from the runtime's own node_modules.
      await build({
        entryPoints: [fromRoot('pipelines/queue-to-s3/handlers/eks-zones/index.ts')],
        outfile: path.join(dir, 'index.js'),
        bundle: true,
        platform: 'node',
        target: 'node22',
        format: 'cjs',
        external: ['@aws-sdk/client-ec2'],
        logLevel: 'error',
      });
      const fake = path.join(dir, 'runtime', '@aws-sdk', 'client-ec2');
      fs.mkdirSync(fake, { recursive: true });
      fs.writeFileSync(
        path.join(fake, 'index.js'),
        `exports.EC2 = class { async describeAvailabilityZones(input) { return { AvailabilityZones: ${JSON.stringify(US_EAST_1)} }; } };`,
      );
      const run = `require(${JSON.stringify(path.join(dir, 'index.js'))}).onEvent(${JSON.stringify(event('Create'))}).then((r) => console.log(JSON.stringify(r)))`;
      const out = execFileSync(process.execPath, ['-e', run], { env: { PATH: process.env.PATH, NODE_PATH: path.join(dir, 'runtime') }, encoding: 'utf8' });
      expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ PhysicalResourceId: 'us-east-1b,us-east-1c', Data: { Zone0: 'us-east-1b', Zone1: 'us-east-1c' } });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
