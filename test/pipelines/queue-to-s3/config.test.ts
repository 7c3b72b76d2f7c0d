import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import { configProblems } from '../../support/config';

const base = readCdkJsonContext();

describe('queueToS3.availabilityZones', () => {
  test('unset by default: the stack picks zones EKS supports at deploy time', () => {
    expect(parseConfig(base).queueToS3.availabilityZones).toBeUndefined();
  });

  test('-c takes a comma-separated list of zone names', () => {
    expect(parseConfig({ ...base, 'queueToS3.availabilityZones': 'us-east-1b, us-east-1c' }).queueToS3.availabilityZones).toEqual(['us-east-1b', 'us-east-1c']);
  });

  test('a zone id instead of a name, one zone, a repeated zone, or zones with an existing cluster are refused, naming the setting', () => {
    expect(configProblems({ ...base, 'queueToS3.availabilityZones': 'use1-az4,use1-az6' })[0]).toMatch(
      /^queueToS3\.availabilityZones\.0: received "use1-az4"; expected an availability zone name such as us-east-1b/,
    );
    expect(configProblems({ ...base, 'queueToS3.availabilityZones': 'us-east-1b' })).toEqual([
      'queueToS3.availabilityZones: received ["us-east-1b"]; expected at least two different zone names (EKS needs subnets in two zones)',
    ]);
    expect(configProblems({ ...base, 'queueToS3.availabilityZones': 'us-east-1b,us-east-1b' })[0]).toMatch(/expected at least two different zone names/);
    const existing = {
      'queueToS3.cluster.existingClusterName': 'platform',
      'queueToS3.cluster.kubectlProviderArn': 'arn:aws:lambda:us-east-1:123456789012:function:kubectl',
      'queueToS3.cluster.kubectlRoleArn': 'arn:aws:iam::123456789012:role/kubectl',
    };
    expect(configProblems({ ...base, ...existing, 'queueToS3.availabilityZones': 'us-east-1b,us-east-1c' })[0]).toMatch(/^queueToS3\.availabilityZones: .*cluster\.existingClusterName/);
  });
});
