import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../../../platform/paths';

const ROOT = PROJECT_ROOT; // the script's require is relative to it

/** Loads the real entry point in a fresh Node process and lists the loaded modules that are Kafka's. */
function kafkaModulesLoadedFor(env: Record<string, string>): string[] {
  const script = `
    require('./platform/landing-zone/validator/index');
    const loaded = Object.keys(require.cache).filter((m) => /kafkajs|aws-msk-iam-sasl-signer-js|kafka-writer/.test(m));
    process.stdout.write(JSON.stringify(loaded.map((m) => m.replace(process.cwd(), ''))));
  `;
  const result = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      SOURCE_NAME: 'clickstream',
      SCHEMA_PATH: path.join(ROOT, 'schemas/clickstream.schema.json'),
      ID_FIELD: 'event_id',
      PARTITION_KEY_FIELD: 'user_id',
      ERROR_BUCKET: 'errors',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      ...env,
    },
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`loading the handler failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe('index.ts loads the Kafka modules only for a Kafka target', () => {
  it('a Kinesis validator never loads kafkajs, the MSK signer or the Kafka writer', () => {
    expect(kafkaModulesLoadedFor({ TARGET: 'kinesis', KINESIS_STREAM_ARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/s' })).toEqual([]);
  });

  it('a Kafka validator does load them', () => {
    const loaded = kafkaModulesLoadedFor({ TARGET: 'kafka', KAFKA_BOOTSTRAP_SERVERS: 'b1:9098', KAFKA_TOPIC: 't', KAFKA_AUTH: 'iam', KAFKA_TLS: 'true' });
    expect(loaded.some((m) => m.includes('kafkajs'))).toBe(true);
    expect(loaded.some((m) => m.includes('aws-msk-iam-sasl-signer-js'))).toBe(true);
    expect(loaded.some((m) => m.includes('platform/handlers/kafka-writer'))).toBe(true);
  });
});
