import addFormats from 'ajv-formats';
import { loadConfig } from '../../../handlers/landing-validator/config';
import { isDateTime } from '../../../handlers/shared/schema-validator';

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
      s3ForcePathStyle: false,
      region: undefined,
    });
  });

  it('reads a Kafka configuration', () => {
    const config = loadConfig(
      { ...base, TARGET: 'kafka', KAFKA_BOOTSTRAP_SERVERS: 'b1:9098, b2:9098', KAFKA_TOPIC: 't', KAFKA_AUTH: 'iam', KAFKA_TLS: 'true', MAX_PUBLISH_ATTEMPTS: '3' },
      '/x',
    );
    expect(config.target).toEqual({ kind: 'kafka', brokers: ['b1:9098', 'b2:9098'], topic: 't', auth: 'iam', tls: true });
    expect(config.maxPublishAttempts).toBe(3);
  });

  it('names every problem at once', () => {
    expect(() => loadConfig({ TARGET: 'kafka', KAFKA_AUTH: 'sasl', MAX_PUBLISH_ATTEMPTS: '0' }, '/x')).toThrow(
      'landing-validator configuration is invalid: SOURCE_NAME is required; ID_FIELD is required; PARTITION_KEY_FIELD is required; ' +
        'ERROR_BUCKET is required; MAX_PUBLISH_ATTEMPTS must be an integer from 1 to 20, got "0"; KAFKA_BOOTSTRAP_SERVERS is required; ' +
        'KAFKA_TOPIC is required; KAFKA_AUTH must be one of iam, none, got "sasl"; KAFKA_TLS is required (one of true, false)',
    );
    expect(() => loadConfig({ ...base, TARGET: 'kinesis', KINESIS_STREAM_ARN: 'clicks' }, '/x')).toThrow(
      'KINESIS_STREAM_ARN: not a Kinesis stream ARN: clicks',
    );
  });
});

describe('isDateTime', () => {
  it('agrees with ajv-formats full mode', () => {
    const stock = addFormats.get('date-time', 'full') as { validate: (s: string) => boolean };
    const samples = [
      '2026-11-20T09:15:02.120Z', '2026-11-20t09:15:02z', '2026-11-20 09:15:02+02:00', '2026-11-20T09:15:02+0200',
      '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-04-31T00:00:00Z', '2026-11-20T24:00:00Z',
      '2026-11-20T09:60:00Z', '2016-12-31T23:59:60Z', '2016-12-31T22:59:60-01:00', '2016-12-31T12:59:60Z', '2026-11-20T09:15:02',
      '2026-11-20T09:15:02+24:00', '2026-11-20', 'nonsense', '2026-11-20T09:15:02.Z', '2026-11-20TT09:15:02Z',
    ];
    for (const s of samples) expect([s, isDateTime(s)]).toEqual([s, stock.validate(s)]);
  });
});
