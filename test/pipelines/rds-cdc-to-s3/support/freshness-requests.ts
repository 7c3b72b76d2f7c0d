/**
 * The AWS requests of pipeline 3's freshness canary, for the permission proof (test/permissions/README.md):
 * - the receipt writer (handlers/heartbeat-receipts), driven with aws-sdk-client-mock for one heartbeat change-log file
 *   with the environment the stack deploys: ranged GETs of the file, one PUT per receipt;
 * - the heartbeat writer (handlers/heartbeat-writer), listed by hand: it calls one AWS API, GetSecretValue on the
 *   database secret (the rest of its work is SQL to the database).
 * Without `bytes`/`read`, the file is not parsed (no hyparquet, an ES module jest cannot load without
 * support/hyparquet.ts): `read` touches the file's footer by range, as hyparquet does first, and returns one canary row.
 */
import { GetObjectCommand, GetObjectCommandInput, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { AsyncBuffer } from 'hyparquet';
import { s3AsyncBuffer } from '../../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-receipts/s3-range';
import { createReceiptWriter } from '../../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-receipts/receipts';
import { RECEIPTS_ENV, WRITER_ENV } from '../../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-writer/contract';
import { canaryId } from '../../../../platform/freshness/contract';
import { recorded } from '../../../support/aws-requests';
import type { AwsRequest } from '../../../support/iam-proof';

type Read = (file: AsyncBuffer, columns: string[]) => Promise<Record<string, unknown>[]>;

const PUBLISHED = Date.UTC(2026, 11, 4, 18, 0, 0);

/** Footer read by range, one inserted canary: what the real reader does first, and what it finds. */
const footerOnly: Read = async (file) => {
  await file.slice(Math.max(0, file.byteLength - 8), file.byteLength);
  return [{ Op: 'I', canary_id: canaryId(PUBLISHED) }];
};

/** The receipt writer's requests for one change-log file in `bucket`, with its deployed environment. */
export async function heartbeatReceiptsRequests(
  env: Record<string, string>,
  bucket: string,
  options: { bytes?: Buffer; read?: Read } = {},
): Promise<AwsRequest[]> {
  const bytes = options.bytes ?? Buffer.alloc(64);
  const s3 = mockClient(S3Client);
  try {
    s3.onAnyCommand().rejects(new Error('unexpected S3 command'));
    s3.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
      const [start, end] = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '')!.slice(1).map(Number);
      const slice = Uint8Array.from(bytes.subarray(start, end + 1));
      return { Body: { transformToByteArray: async () => slice } as never };
    });
    s3.on(PutObjectCommand).resolves({});
    const client = new S3Client({ region: 'eu-west-1' });
    const writer = createReceiptWriter({
      s3: client,
      changeFolder: env[RECEIPTS_ENV.changeFolder],
      kmsKeyArn: env[RECEIPTS_ENV.kmsKeyArn],
      open: (b, k, size) => s3AsyncBuffer(client, b, k, size),
      readColumns: options.read ?? footerOnly,
    });
    const key = `${env[RECEIPTS_ENV.changeFolder]}2026/12/04/20261204-180006000.parquet`;
    const event = { Records: [{ eventName: 'ObjectCreated:Put', eventTime: '2026-12-04T18:00:06.500Z', s3: { bucket: { name: bucket }, object: { key, size: bytes.length } } }] };
    const written = await writer(event as unknown as S3Event);
    if (written.length === 0) throw new Error('the receipt writer wrote no receipt: the scenario did not run');
    return recorded({ s3 });
  } finally {
    s3.restore();
  }
}

/** The heartbeat writer's one AWS request, with its deployed environment. */
export function heartbeatWriterRequests(env: Record<string, string>): AwsRequest[] {
  return [
    {
      action: 'secretsmanager:GetSecretValue',
      resource: env[WRITER_ENV.secretArn],
      why: 'handlers/heartbeat-writer/index.ts reads the database secret on every run (it rotates)',
    },
  ];
}
