/**
 * Drives the landing validator's handler (the code the Lambda runs) with the environment the synthesized function
 * gets, against aws-sdk-client-mock, and returns the AWS requests it made. The scenario touches every S3 path of the
 * handler: a valid and an invalid event (publish, error file), an unreadable object (quarantine copy), an object
 * outside the source's prefix (quarantine reason), a versioned object, a deleted one (the 404 probe) and an error file
 * large enough for a multipart upload.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler } from '../../platform/landing-zone/validator/handler';
import { Publisher } from '../../platform/handlers/publisher';
import { KinesisWriter } from '../../platform/handlers/kinesis-writer';
import { loadSchemaFile } from '../../platform/handlers/schema-validator';
import { SCHEMAS_DIR } from '../../platform/config';
import { s3Notification, snsEvent } from '../platform/landing-zone/validator/fixtures';
import { recorded } from '../support/aws-requests';
import { AwsRequest, REGION } from '../support/iam-proof';

export interface ValidatorEnvironment {
  SOURCE_NAME: string;
  ERROR_BUCKET: string;
  ID_FIELD: string;
  PARTITION_KEY_FIELD: string;
  KINESIS_STREAM_ARN?: string;
}

/** Runs the scenario as the function deployed with `env` reading `landingBucket`; returns the recorded requests. */
export async function validatorRequests(env: ValidatorEnvironment, landingBucket: string): Promise<AwsRequest[]> {
  const s3 = mockClient(S3Client);
  const kinesis = mockClient(KinesisClient);
  try {
    const source = env.SOURCE_NAME;
    // The source's own schema and sample events, as the bundle carries them.
    const schema = path.join(SCHEMAS_DIR, `${source}.schema.json`);
    const sample = fs.readFileSync(path.join(SCHEMAS_DIR, `${source}.samples.ndjson`), 'utf8').split('\n')[0];
    const line = (e: Record<string, unknown>) => `${JSON.stringify(e)}\n`;
    const valid = () => JSON.parse(sample);
    const body = (text: string | Buffer) => () => ({ Body: Readable.from([Buffer.from(text)]), ETag: '"etag-1"' });
    s3.on(GetObjectCommand, { Key: `${source}/good.json` }).callsFake(body(line(valid()) + line({ nope: true })));
    s3.on(GetObjectCommand, { Key: `${source}/versioned.json` }).callsFake(body(line(valid())));
    s3.on(GetObjectCommand, { Key: `${source}/broken.json.gz` }).callsFake(body(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01])));
    s3.on(GetObjectCommand, { Key: `${source}/deleted.json` }).rejects(new NoSuchKey({ message: 'gone', $metadata: { httpStatusCode: 404 } }));
    // Enough invalid events that the error file goes up as a multipart upload (lib-storage's 5 MiB parts).
    const manyInvalid = line({ nope: 'x'.repeat(1000) }).repeat(6000);
    s3.on(GetObjectCommand, { Key: `${source}/many-invalid.json` }).callsFake(body(manyInvalid));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(UploadPartCommand).resolves({ ETag: '"part"' });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    s3.on(CopyObjectCommand).resolves({});
    kinesis.on(PutRecordsCommand).callsFake((input) => ({ FailedRecordCount: 0, Records: input.Records.map(() => ({ SequenceNumber: '1', ShardId: 's' })) }));

    const createPublisher = env.KINESIS_STREAM_ARN
      ? async () => new KinesisWriter({ client: new KinesisClient({ region: REGION }), streamArn: env.KINESIS_STREAM_ARN!, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, concurrency: 1 })
      : async () => acceptAll(); // Kafka: the producer's requests are listed by hand (kafkajs is not an SDK client)
    const handler = createHandler({
      s3: new S3Client({ region: REGION }),
      source,
      errorBucket: env.ERROR_BUCKET,
      validate: loadSchemaFile(schema).validate,
      idField: env.ID_FIELD,
      partitionKeyField: env.PARTITION_KEY_FIELD,
      createPublisher,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Proof', serviceName: 'proof' }), // disabled by POWERTOOLS_METRICS_DISABLED
    });
    const objects = [
      { bucket: landingBucket, encodedKey: `${source}/good.json` },
      { bucket: landingBucket, encodedKey: `${source}/versioned.json`, versionId: 'v1' },
      { bucket: landingBucket, encodedKey: `${source}/broken.json.gz` },
      { bucket: landingBucket, encodedKey: `${source}/deleted.json` },
      { bucket: landingBucket, encodedKey: `not-${source}/misrouted.json` },
      { bucket: landingBucket, encodedKey: `${source}/many-invalid.json` },
    ];
    const result = await handler(snsEvent(s3Notification(objects)));
    const statuses = result.objects.map((o) => o.status);
    if (result.objects[0].valid !== 1 || result.objects[0].invalid !== 1) throw new Error(`scenario drifted: ${JSON.stringify(result.objects[0])}`);
    // The deleted object is logged and left out of the result.
    if (statuses.join() !== 'processed,processed,quarantined,quarantined,processed') throw new Error(`scenario drifted: ${statuses.join()}`);
    // The validator handles NoSuchKey on its GETs: each is a probe that needs S3's 404.
    return recorded({ s3, kinesis }, { missingKeysExpected: true });
  } finally {
    s3.restore();
    kinesis.restore();
  }
}

/** A publisher that accepts every event (the Kafka variant's S3 requests do not depend on the broker). */
function acceptAll(): Publisher {
  return { published: 0, retried: 0, checkPartitionKey: () => undefined, checkSize: () => undefined, add: () => undefined, flush: async () => undefined };
}

/**
 * The Kafka producer's requests (kafkajs with MSK IAM, platform/handlers/kafka-writer.ts), listed by hand: MSK
 * authorizes the connection, the metadata request for the topic and the produce (MSK IAM access control, "actions").
 * Not idempotent (kafkajs' default), so no kafka-cluster:WriteDataIdempotently.
 */
export function kafkaProducerRequests(clusterArn: string, topic: string): AwsRequest[] {
  const topicArn = clusterArn.replace(':cluster/', ':topic/') + `/${topic}`;
  const where = 'platform/handlers/kafka-writer.ts';
  return [
    { action: 'kafka-cluster:Connect', resource: clusterArn, why: `SASL/OAUTHBEARER connect (${where})` },
    { action: 'kafka-cluster:DescribeTopic', resource: topicArn, why: `metadata for the topic before producing (${where})` },
    { action: 'kafka-cluster:WriteData', resource: topicArn, why: `produce with acks=all (${where})` },
  ];
}
