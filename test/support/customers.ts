/**
 * Customers for tests that synthesize the delivery layer (cdk.json configures none: a deployed resource policy must
 * name principals that exist). Two customers share `clickstream` (Kinesis, pipeline 2), one also reads `orders`
 * (Kafka, pipeline 5, MSK Serverless by default: it assumes a reader role with its external id); one is a whole
 * account, one a role.
 */
export const CUSTOMER_A = { name: 'acme', principals: ['111122223333'], externalId: 'acme-7f3c', sources: ['clickstream', 'orders'] };
export const CUSTOMER_B = { name: 'globex', principals: ['arn:aws:iam::444455556666:role/globex-reader'], sources: ['clickstream'] };
export const EXAMPLE_CUSTOMERS = [CUSTOMER_A, CUSTOMER_B];
