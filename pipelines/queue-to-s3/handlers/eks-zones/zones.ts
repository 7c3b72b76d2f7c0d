import { z } from 'zod';
import { cfn, customResource } from '../../../../platform/handlers/custom-resource';

/**
 * Availability zones whose ids EKS refuses for cluster subnets (UnsupportedAvailabilityZoneException), from the EKS
 * user guide, "Subnet requirements for clusters":
 * https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html#network-requirements-subnets
 * Names map to ids per account (us-east-1a is use1-az3 in some accounts only), so only ids can be excluded.
 */
export const EKS_UNSUPPORTED_ZONE_IDS = ['use1-az3', 'usw1-az2', 'cac1-az3'];

/** The fields of an EC2 DescribeAvailabilityZones entry the picker reads. */
export interface AvailabilityZone {
  ZoneName?: string;
  ZoneId?: string;
  State?: string;
  ZoneType?: string;
}

/** The custom resource's properties. */
const schema = z.object({ Count: cfn.wholeNumber(1), UnsupportedZoneIds: z.array(z.string()) });

/**
 * The first `count` zone names, in name order, of the region's available availability zones (no Local or Wavelength
 * Zones) whose ids EKS supports. Fails, naming the setting to use instead, when the region has too few.
 */
export function supportedZoneNames(zones: AvailabilityZone[], count: number, unsupportedIds: string[]): string[] {
  const names = zones
    .filter((z) => z.ZoneType === 'availability-zone' && z.State === 'available' && z.ZoneName && !unsupportedIds.includes(z.ZoneId ?? ''))
    .map((z) => z.ZoneName!)
    .sort();
  if (names.length < count) {
    throw new Error(
      `EKS needs cluster subnets in ${count} availability zones, and this account has ${names.length} available zones EKS supports ` +
        `(${names.join(', ') || 'none'}; EKS refuses zone ids ${unsupportedIds.join(', ')}): set queueToS3.availabilityZones`,
    );
  }
  return names.slice(0, count);
}

/**
 * The custom resource (CDK Provider framework): on Create and Update, answers `Zone0`..`Zone<count-1>`; on Delete,
 * nothing to undo. The physical id is the zones chosen, so the answer stays the same until the properties change.
 */
export function createHandler(describeZones: () => Promise<AvailabilityZone[]>) {
  return customResource({
    schema,
    async onCreate(props) {
      const names = supportedZoneNames(await describeZones(), props.Count, props.UnsupportedZoneIds);
      console.log(JSON.stringify({ message: 'availability zones for the EKS cluster', zones: names }));
      return { PhysicalResourceId: names.join(','), Data: Object.fromEntries(names.map((name, i) => [`Zone${i}`, name])) };
    },
  }).onEvent;
}
