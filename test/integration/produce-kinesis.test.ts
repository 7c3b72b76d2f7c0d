import { CreateStreamCommand, KinesisClient, PutRecordsCommand, PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { compileSchema } from '../../platform/handlers/schema-validator';
import { parseConfig, readCdkJsonContext, SCHEMAS_DIR } from '../../platform/config';
import { produce } from '../../scripts/produce-kinesis';
import { Emulator, readKinesisStream, startKinesalite } from './emulators';
import * as fs from 'fs';
import * as path from 'path';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const config = parseConfig(readCdkJsonContext());
const validate = compileSchema(JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, 'clickstream.schema.json'), 'utf8')));

describe('npm run produce (scripts/produce-kinesis.ts)', () => {
  let kinesalite: Emulator;
  let client: KinesisClient;
  beforeAll(async () => {
    kinesalite = await startKinesalite();
    client = new KinesisClient({ endpoint: kinesalite.endpoint, region: 'us-east-1', credentials, requestHandler: new NodeHttpHandler() });
  });
  afterAll(async () => {
    client.destroy();
    await kinesalite.stop();
  });

  test('writes N valid events with new ids and the current event time to a stream given by its name', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'clicks', ShardCount: 2 }));
    const now = new Date('2026-11-22T13:00:00.000Z');
    const result = await produce({ stream: 'clicks', source: 'clickstream', count: 1234, client, config, now: () => now });
    expect(result).toMatchObject({ streamArn: expect.stringMatching(/:stream\/clicks$/), published: 1234, retried: 0 });
    const records = (await readKinesisStream(client, 'clicks')).map((text) => JSON.parse(text));
    expect(records).toHaveLength(1234);
    expect(new Set(records.map((r) => r.event_id)).size).toBe(1234);
    expect(records.map((r) => r.event_id).sort()).toEqual([...result.ids].sort());
    for (const record of records) {
      expect(validate(record)).toBeUndefined();
      expect(record.occurred_at).toBe(now.toISOString());
    }
  });

  test('batches by the service limits and retries only the failed entries', async () => {
    const calls: number[] = [];
    let failedOnce = false;
    const flaky = {
      send: jest.fn(async (command: PutRecordsCommand) => {
        const input = command.input as PutRecordsCommandInput;
        calls.push(input.Records!.length);
        if (!failedOnce) {
          failedOnce = true;
          // Every other entry of the first call is throttled.
          return {
            FailedRecordCount: Math.floor(input.Records!.length / 2),
            Records: input.Records!.map((_, i) => (i % 2 ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' } : { SequenceNumber: '1', ShardId: 's' })),
          };
        }
        return { FailedRecordCount: 0, Records: input.Records!.map(() => ({ SequenceNumber: '1', ShardId: 's' })) };
      }),
    };
    const result = await produce({ stream: 'arn:aws:kinesis:us-east-1:000000000000:stream/x', source: 'clickstream', count: 1200, client: flaky as never, config });
    expect(result.published).toBe(1200);
    expect(Math.max(...calls)).toBeLessThanOrEqual(500);
    const firstCall = calls[0];
    expect(result.retried).toBe(Math.floor(firstCall / 2));
    expect(calls.reduce((a, b) => a + b, 0)).toBe(1200 + Math.floor(firstCall / 2));
  });

  test('refuses an unknown source', async () => {
    await expect(produce({ stream: 'arn:aws:kinesis:us-east-1:000000000000:stream/x', source: 'nope', count: 1, client: { send: jest.fn() } as never, config })).rejects.toThrow('unknown source "nope"');
  });
});
