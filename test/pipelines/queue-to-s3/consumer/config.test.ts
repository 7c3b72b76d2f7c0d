import { ConfigError, loadConfig } from '../../../../pipelines/queue-to-s3/consumer/config';
import { ENV } from '../../../../pipelines/queue-to-s3/consumer/contract';
import { QUEUE_URL } from './fixtures';

const REQUIRED = { [ENV.queueUrl]: QUEUE_URL, [ENV.outputBucket]: 'lake' };
const problemsOf = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

test('defaults: only the queue URL and the bucket are required', () => {
  expect(loadConfig(REQUIRED)).toEqual({
    queueUrl: QUEUE_URL,
    queueRegion: 'eu-west-1',
    outputBucket: 'lake',
    outputPrefix: 'data/',
    errorBucket: 'lake',
    errorPrefix: 'errors/',
    flushMaxMessages: 10_000,
    flushMaxBytes: 64 * 1024 * 1024,
    flushMaxAgeMs: 5_000,
    visibilityTimeoutSeconds: 60,
    receiveWaitSeconds: 10,
    pollers: 4,
    maxBufferedMessages: 20_000,
    flushConcurrency: 2,
    httpPort: 8080,
    shutdownTimeoutSeconds: 25,
    s3ForcePathStyle: false,
  });
});

test('every setting can be overridden; prefixes are normalized to one trailing slash', () => {
  const config = loadConfig({
    ...REQUIRED,
    [ENV.queueUrl]: 'http://sqs.us-east-1.localhost:4566/000000000000/q',
    [ENV.outputPrefix]: '/clicks//',
    [ENV.errorBucket]: 'lake-errors',
    [ENV.errorPrefix]: 'bad',
    [ENV.flushMaxMessages]: '500',
    [ENV.flushMaxBytes]: '1048576',
    [ENV.flushMaxAgeMs]: ' 250 ',
    [ENV.visibilityTimeoutSeconds]: '5',
    [ENV.receiveWaitSeconds]: '0',
    [ENV.pollers]: '8',
    [ENV.maxBufferedMessages]: '600',
    [ENV.flushConcurrency]: '1',
    [ENV.httpPort]: '0',
    [ENV.shutdownTimeoutSeconds]: '60',
    [ENV.s3ForcePathStyle]: 'true',
  });
  expect(config).toEqual({
    queueUrl: 'http://sqs.us-east-1.localhost:4566/000000000000/q',
    queueRegion: undefined, // not an AWS host: the SDK's region (AWS_REGION) applies
    outputBucket: 'lake',
    outputPrefix: 'clicks/',
    errorBucket: 'lake-errors',
    errorPrefix: 'bad/',
    flushMaxMessages: 500,
    flushMaxBytes: 1_048_576,
    flushMaxAgeMs: 250,
    visibilityTimeoutSeconds: 5,
    receiveWaitSeconds: 0,
    pollers: 8,
    maxBufferedMessages: 600,
    flushConcurrency: 1,
    httpPort: 0,
    shutdownTimeoutSeconds: 60,
    s3ForcePathStyle: true,
  });
  expect(loadConfig({ ...REQUIRED, [ENV.outputPrefix]: '', [ENV.errorBucket]: 'other' }).outputPrefix).toBe('');
});

test('one error names every bad variable, the value received and what is expected', () => {
  const message = problemsOf({
    [ENV.outputBucket]: 'Not_A_Bucket',
    [ENV.flushMaxMessages]: 'lots',
    [ENV.receiveWaitSeconds]: '30',
    [ENV.pollers]: '0',
    [ENV.s3ForcePathStyle]: 'yes',
  });
  expect(message).toMatch(/^queue-consumer configuration is invalid: /);
  expect(message).toContain('QUEUE_URL is required (got unset)');
  expect(message).toContain('OUTPUT_BUCKET expected an S3 bucket name (3-63 lower-case letters, digits, "." or "-") (got "Not_A_Bucket")');
  expect(message).toContain('FLUSH_MAX_MESSAGES expected a whole number from 1 to 1000000 (got "lots")');
  expect(message).toContain('RECEIVE_WAIT_SECONDS expected a whole number from 0 to 20 (got "30")');
  expect(message).toContain('POLLERS expected a whole number from 1 to 64 (got "0")');
  expect(message).toContain('S3_FORCE_PATH_STYLE expected true or false (got "yes")');
});

test('a queue URL that is not a URL is rejected', () => {
  expect(problemsOf({ ...REQUIRED, [ENV.queueUrl]: 'clicks-queue' })).toContain(
    'QUEUE_URL expected the queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>) (got "clicks-queue")',
  );
});

test('the visibility timeout must outlast the flush age', () => {
  expect(problemsOf({ ...REQUIRED, [ENV.flushMaxAgeMs]: '30000', [ENV.visibilityTimeoutSeconds]: '30' })).toContain(
    'VISIBILITY_TIMEOUT_SECONDS expected at least 31 s (FLUSH_MAX_AGE_MS, 30 s, + 1 s: a message must outlive one batch), got 30',
  );
  expect(loadConfig({ ...REQUIRED, [ENV.flushMaxAgeMs]: '30000', [ENV.visibilityTimeoutSeconds]: '31' }).visibilityTimeoutSeconds).toBe(31);
});

test('MAX_BUFFERED_MESSAGES must hold at least one full batch', () => {
  expect(problemsOf({ ...REQUIRED, [ENV.flushMaxMessages]: '1000', [ENV.maxBufferedMessages]: '999' })).toContain(
    'MAX_BUFFERED_MESSAGES must be at least FLUSH_MAX_MESSAGES (1000), got 999',
  );
});

test('data and error prefixes may not overlap in one bucket', () => {
  expect(problemsOf({ ...REQUIRED, [ENV.outputPrefix]: '' })).toContain(
    'ERROR_PREFIX ("errors/") and OUTPUT_PREFIX ("") overlap in bucket lake: give each its own prefix, or set ERROR_BUCKET',
  );
  expect(problemsOf({ ...REQUIRED, [ENV.outputPrefix]: 'x/', [ENV.errorPrefix]: 'x/errors' })).toContain('overlap in bucket lake');
});

test('SOURCE_NAME and ID_FIELD together turn on the freshness canary; alone, either is an error naming the other', () => {
  expect(loadConfig(REQUIRED).canary).toBeUndefined();
  expect(loadConfig({ ...REQUIRED, [ENV.sourceName]: 'clicks', [ENV.idField]: ' event_id ' }).canary).toEqual({ source: 'clicks', idField: 'event_id' });
  expect(problemsOf({ ...REQUIRED, [ENV.sourceName]: 'clicks' })).toContain('ID_FIELD is required when SOURCE_NAME is set (the freshness canary needs both)');
  expect(problemsOf({ ...REQUIRED, [ENV.idField]: 'event_id' })).toContain('SOURCE_NAME is required when ID_FIELD is set (the freshness canary needs both)');
  expect(problemsOf({ ...REQUIRED, [ENV.sourceName]: 'Clicks/x', [ENV.idField]: 'event_id' })).toContain(
    'SOURCE_NAME expected a source name (2-24 lower-case letters, digits, "-") (got "Clicks/x")',
  );
});

test('data and error prefixes stay out of the freshness receipts\' prefix in the output bucket', () => {
  expect(problemsOf({ ...REQUIRED, [ENV.outputPrefix]: '_freshness/clicks' })).toContain(
    'OUTPUT_PREFIX ("_freshness/clicks/") overlaps the freshness receipts\' prefix "_freshness/" in bucket lake: choose another prefix',
  );
  expect(problemsOf({ ...REQUIRED, [ENV.errorPrefix]: '_freshness' })).toContain('ERROR_PREFIX ("_freshness/") overlaps');
  expect(loadConfig({ ...REQUIRED, [ENV.errorPrefix]: '_fresh' }).errorPrefix).toBe('_fresh/');
  expect(loadConfig({ ...REQUIRED, [ENV.errorBucket]: 'other', [ENV.errorPrefix]: '_freshness/' }).errorPrefix).toBe('_freshness/');
});
