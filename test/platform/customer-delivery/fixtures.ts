import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { CustomerCatalog } from '../../../platform/customer-delivery/catalog';

export const PREFIX = '/stream-foundry/test/customers';
export const STREAM_NAME = 'delivery-orders';
export const STREAM_ARN = `arn:aws:kinesis:eu-west-1:999988887777:stream/${STREAM_NAME}`;

/** acme reads orders on Kinesis and clicks on Kafka, as its whole account 111122223333 and as a role of 444455556666. */
export function catalog(overrides: Partial<CustomerCatalog> = {}): CustomerCatalog {
  return {
    customer: 'acme',
    principals: ['111122223333', 'arn:aws:iam::444455556666:role/data/team/reader'],
    region: 'eu-west-1',
    sources: [
      {
        source: 'orders',
        schemaVersion: '000000000000',
        idField: 'order_id',
        kinesis: {
          streamArn: STREAM_ARN,
          streamName: STREAM_NAME,
          consumerName: 'acme',
          consumerArn: `${STREAM_ARN}/consumer/acme:1700000000`,
          keyArn: 'arn:aws:kms:eu-west-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        },
      },
      {
        source: 'clicks',
        schemaVersion: '111111111111',
        idField: 'event_id',
        kafka: {
          topic: 'delivery.clicks',
          clusterArn: 'arn:aws:kafka:eu-west-1:999988887777:cluster/c/abc',
          bootstrapBrokers: 'b-1.c.kafka.eu-west-1.amazonaws.com:9098',
          consumerGroupPrefix: 'acme.',
          monitoredConsumerGroup: 'acme.clicks',
          readerRoleArn: 'arn:aws:iam::999988887777:role/acme-kafka-reader',
        },
      },
    ],
    ...overrides,
  };
}

export const CALLERS = {
  /** Any IAM principal of the account principal's account. */
  accountUser: { accountId: '111122223333', userArn: 'arn:aws:iam::111122223333:user/alice' },
  /** A session of the role principal (its ARN has a path; the session ARN has none). */
  roleSession: { accountId: '444455556666', userArn: 'arn:aws:sts::444455556666:assumed-role/reader/job-42' },
};

/** A request as API Gateway's Lambda proxy integration passes it (the fields the handler reads). */
export function request(
  path: string,
  {
    method = 'GET',
    query,
    caller = CALLERS.accountUser,
  }: { method?: string; query?: Record<string, string>; caller?: { accountId: string | null; userArn: string | null } } = {},
): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path,
    resource: path,
    queryStringParameters: query ?? null,
    requestContext: { identity: caller },
  } as unknown as APIGatewayProxyEvent;
}
