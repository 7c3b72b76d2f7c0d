import { loadConfig } from '../../../../platform/landing-zone/validator/config';

const base = { SOURCE_NAME: 'clickstream', ID_FIELD: 'event_id', PARTITION_KEY_FIELD: 'user_id', ERROR_BUCKET: 'errors' };

describe('loadConfig', () => {
  it('reads a Kinesis configuration with defaults', () => {
    expect(loadConfig({ ...base, TARGET: 'kinesis', KINESIS_STREAM_ARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/s' }, '/opt/fn')).toEqual({
      sourceName: 'clickstream',
      schemaPath: '/opt/fn/schema.json',
      idField: 'event_id',
      partitionKeyField: 'user_id',
      target: { kind: 'kinesis', streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/s' },
      errorBucket: 'errors',
      maxPublishAttempts: 8,
      publishTimeoutMs: 10_000,
      publishConcurrency: 8,
      s3ForcePathStyle: false,
      region: undefined,
    });
  });

  it('reads a Kafka configuration', () => {
    const config = loadConfig(
      { ...base, TARGET: 'kafka', KAFKA_BOOTSTRAP_SERVERS: 'b1:9098, b2:9098', KAFKA_TOPIC: 't', KAFKA_AUTH: 'iam', KAFKA_TLS: 'true', MAX_PUBLISH_ATTEMPTS: '3' },
      '/x',
    );
    expect(config.target).toEqual({ kind: 'kafka', brokers: ['b1:9098', 'b2:9098'], topic: 't', auth: 'iam', tls: true, maxMessageBytes: 1_048_588 });
    expect(config.maxPublishAttempts).toBe(3);
  });

  it('names every problem at once', () => {
    expect(() => loadConfig({ TARGET: 'kafka', KAFKA_AUTH: 'sasl', MAX_PUBLISH_ATTEMPTS: '0' }, '/x')).toThrow(
      'landing-validator configuration is invalid: SOURCE_NAME is required (got unset); ID_FIELD is required (got unset); ' +
        'PARTITION_KEY_FIELD is required (got unset); ERROR_BUCKET is required (got unset); ' +
        'MAX_PUBLISH_ATTEMPTS expected a whole number from 1 to 20 (got "0"); KAFKA_BOOTSTRAP_SERVERS is required (got unset); ' +
        'KAFKA_TOPIC is required (got unset); KAFKA_AUTH expected one of iam, none (got "sasl"); KAFKA_TLS expected true or false (got unset)',
    );
    expect(() => loadConfig({ ...base, TARGET: 'kinesis', KINESIS_STREAM_ARN: 'clicks' }, '/x')).toThrow(
      'KINESIS_STREAM_ARN is not a Kinesis stream ARN: clicks',
    );
    expect(() => loadConfig({ ...base, TARGET: 'sqs' }, '/x')).toThrow('landing-validator configuration is invalid: TARGET expected one of kinesis, kafka (got "sqs")');
  });
});
