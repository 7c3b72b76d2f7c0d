import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import { configProblems } from '../../support/config';
import { CUSTOMER_A, CUSTOMER_B, EXAMPLE_CUSTOMERS } from '../../support/customers';

const base = readCdkJsonContext();
const problems = (overrides: Record<string, unknown>) => configProblems({ ...base, ...overrides });
const customer = (overrides: Record<string, unknown>) => ({ ...CUSTOMER_B, ...overrides });

describe('the customers section', () => {
  test('cdk.json configures none; the example customers are valid, with the usage plan default', () => {
    expect(parseConfig(base).customers).toEqual([]);
    expect(parseConfig({ ...base, customers: EXAMPLE_CUSTOMERS }).customers).toEqual(EXAMPLE_CUSTOMERS.map((c) => ({ ...c, apiRequestsPerSecond: 5 })));
  });

  test.each([
    [[customer({ name: 'Acme' })], 'customers.0.name: received "Acme"; expected a lower-case name (2-32 letters, digits or "-", starting with a letter)'],
    [[customer({ principals: ['arn:aws:iam::4444:role/x'] })], 'customers.0.principals.0: received "arn:aws:iam::4444:role/x"; expected a 12-digit AWS account id or an IAM role ARN "arn:aws:iam::ACCOUNT:role/NAME"'],
    [[customer({ principals: ['arn:aws:iam::444455556666:user/bob'] })], 'customers.0.principals.0: received "arn:aws:iam::444455556666:user/bob"; expected a 12-digit AWS account id or an IAM role ARN "arn:aws:iam::ACCOUNT:role/NAME"'],
    [[customer({ principals: [] })], 'customers.0.principals: received []; expected at least one principal'],
    [[customer({ sources: [] })], 'customers.0.sources: received []; expected at least one source'],
    [[customer({ apiRequestsPerSecond: 0 })], 'customers.0.apiRequestsPerSecond: received 0; expected a whole number from 1 to 1000'],
    [[customer({ surname: 'x' })], 'customers.0: received {"name":"globex","principals":["arn:aws:iam::444455556666:role/globex-reader"],"sources":["clickstream"],"surname":"x"}; unknown setting(s) surname'],
  ])('a malformed entry names its setting: %j', (customers, message) => {
    expect(problems({ customers })).toEqual([message]);
  });

  test('the same customer twice, and one principal for two customers, are errors', () => {
    expect(problems({ customers: [CUSTOMER_A, { ...CUSTOMER_B, name: 'acme' }] })).toEqual([
      'customers.1.name: received "acme"; expected each customer once: "acme" is also customers[0]',
    ]);
    expect(problems({ customers: [CUSTOMER_A, { ...CUSTOMER_B, principals: ['111122223333'] }] })).toEqual([
      'customers.1.principals.0: received "111122223333"; expected a principal of one customer only: it also reads for "acme", so it could read both customers\' data',
    ]);
  });

  test('an unknown source, and a source without a delivering pipeline, are errors, not silent no-ops', () => {
    expect(problems({ customers: [customer({ sources: ['payments'] })] })).toEqual([
      'customers.0.sources.0: received "payments"; expected one of the configured sources (clickstream, orders)',
    ]);
    // orders feeds landingZone, mskToIceberg and queueToS3: without mskToIceberg nothing would deliver it.
    expect(problems({ customers: [customer({ sources: ['orders'] })], 'sources.orders.pipelines': 'landingZone,queueToS3' })).toEqual([
      'customers.0.sources.0: received "orders"; expected a source that feeds kinesisToDeltaLake or mskToIceberg (their jobs write the delivery streams customers read); "orders" feeds landingZone, queueToS3',
    ]);
  });

  test('a customer of an MSK Serverless source needs an external id (it assumes a reader role); on provisioned it does not', () => {
    const noExternalId = { ...CUSTOMER_A, externalId: undefined };
    expect(problems({ customers: [noExternalId] })).toEqual([
      'customers.0.externalId: received nothing; expected an external id: this customer reads an mskToIceberg source on MSK Serverless, through a reader role it assumes (docs/customer-onboarding.md)',
    ]);
    expect(parseConfig({ ...base, customers: [noExternalId], 'mskToIceberg.cluster.type': 'provisioned' }).customers).toHaveLength(1);
  });

  test('more customers on one Kinesis source than its stream takes consumers is an error naming the source', () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ name: `customer-${i}`, principals: [String(100000000000 + i)], sources: ['clickstream'] }));
    const [problem] = problems({ customers: many });
    expect(problem).toMatch(/^customers: received \["customer-0",.*"customer-20"\]; expected at most 20 customers of source "clickstream": each has an enhanced fan-out consumer/);
    expect(parseConfig({ ...base, customers: many.slice(0, 20) }).customers).toHaveLength(20);
  });
});
