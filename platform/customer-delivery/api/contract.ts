/**
 * The contract between the customer-delivery construct and the API function it deploys: the environment variables the
 * construct sets and the handler reads, and where the construct puts the delivered events' schemas in the bundle.
 * Both sides import these names from here. (No CDK imports: this module is bundled into the Lambda.)
 */

/** Environment variables of the delivery API function. */
export const ENV = {
  /** Parameter Store prefix of the customers' catalogs (`catalogParameterName(prefix, customer)`). */
  catalogPrefix: 'CATALOG_PREFIX',
  /** Optional: seconds a catalog stays cached in a container (default 60, 0 to 300). */
  catalogTtlSeconds: 'CATALOG_TTL_SECONDS',
  /** Optional: where the `<source>.schema.json` files are (default: `schemas/` beside the handler). */
  schemasDir: 'SCHEMAS_DIR',
  /** Optional, local tests only: Kinesis and SSM endpoints (kinesalite, a mock). */
  kinesisEndpoint: 'KINESIS_ENDPOINT',
  ssmEndpoint: 'SSM_ENDPOINT',
} as const;

/** Powertools service name of the function's logs. */
export const API_SERVICE = 'customer-delivery-api';

/** The folder, beside the bundled handler, that holds one `<source>.schema.json` per delivered source. */
export const SCHEMAS_FOLDER = 'schemas';
export const schemaFileName = (source: string) => `${source}.schema.json`;

/** The Lambda function's export (the construct's `handler: 'index.onRequest'`). */
export const HANDLER_EXPORT = 'onRequest';
