/**
 * Custom-resource handler (CDK Provider framework, `onEvent` only): creates the pipeline's Kafka topics on MSK with IAM
 * authentication. Runs in the cluster's VPC. Clients are created once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsHandler } from './topics';

const logger = new Logger({ serviceName: 'msk-topics' });
const msk = new KafkaClient();

export const onEvent = createTopicsHandler({
  bootstrapBrokers: async (clusterArn) => {
    const response = await msk.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
    const brokers = response.BootstrapBrokerStringSaslIam;
    if (!brokers) throw new Error(`cluster ${clusterArn} has no IAM bootstrap brokers: is IAM authentication enabled?`);
    return brokers.split(',');
  },
  admin: (brokers) =>
    new Kafka({
      clientId: 'stream-foundry-msk-topics',
      brokers,
      ssl: true,
      logLevel: logLevel.WARN,
      connectionTimeout: 10_000,
      requestTimeout: 30_000,
      sasl: {
        mechanism: 'oauthbearer',
        // MSK IAM: a token signed with the function's role, refreshed on every (re)connection.
        oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region: await msk.config.region() })).token }),
      },
    }).admin(),
  log: (message, details) => logger.info(message, details ?? {}),
});
