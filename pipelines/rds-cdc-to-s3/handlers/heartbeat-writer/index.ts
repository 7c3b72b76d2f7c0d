/**
 * The freshness canary's heartbeat writer (EventBridge schedule): inserts one canary row into the source database per
 * run. Clients are created once per container; the secret is read on every run (it rotates), the connection is opened
 * and closed per run (once a minute: no pool to keep alive across freezes).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client } from 'pg';
import { z } from 'zod';
import { readEnv, required } from '../../../../platform/handlers/env';
import { WRITER_ENV } from './contract';
import { connectionFromSecret, createHeartbeatWriter } from './heartbeat';

const logger = new Logger({ serviceName: 'cdc-heartbeat-writer' });
const env = readEnv('cdc-heartbeat-writer', process.env, z.object({ [WRITER_ENV.secretArn]: required(), [WRITER_ENV.databaseName]: required() }));
const secrets = new SecretsManagerClient({});

export const onSchedule = createHeartbeatWriter({
  async connect() {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: env[WRITER_ENV.secretArn] }));
    const settings = connectionFromSecret(SecretString, env[WRITER_ENV.databaseName]);
    const client = new Client({
      ...settings,
      // The database accepts TLS only (rds.force_ssl); the server certificate is checked against the Amazon RDS CAs,
      // which the Lambda Node.js runtime loads from NODE_EXTRA_CA_CERTS (set by the construct).
      ssl: { rejectUnauthorized: true },
      connectionTimeoutMillis: 10_000,
      statement_timeout: 10_000,
      query_timeout: 15_000,
      application_name: 'stream-foundry-heartbeat',
    });
    await client.connect();
    return client;
  },
  log: (message, details) => logger.info(message, details ?? {}),
});
