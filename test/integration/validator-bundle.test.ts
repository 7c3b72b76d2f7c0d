/**
 * The artifact users deploy: the validator bundle as `cdk synth` writes it into the cloud assembly, copied to a
 * directory with no node_modules anywhere above it (as in /var/task), run by plain `node` with the environment the
 * synthesized template gives the function, against the local emulators. A module left to the Lambda runtime (the AWS
 * SDK, say) fails here as `Runtime.ImportModuleError` would fail every invocation in AWS.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { buildAwsApp } from '../../platform/aws-app';
import { parseConfig } from '../../platform/config';
import { testApp } from '../support/aws';
import { clickEvent, s3Notification, snsEvent } from '../platform/landing-zone/validator/fixtures';
import { Emulator, readKinesisStream, startKinesalite, startS3rver } from './emulators';

const REGION = 'us-east-1';
const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/landing';
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface DeployedFunction {
  /** The asset directory, copied out of the assembly. */
  directory: string;
  /** The function's environment as synthesized; references to stack resources replaced by local names. */
  environment: Record<string, string>;
  handler: string;
}

/** Synthesizes the app as `cdk synth` does (bundling the LandingZone stack) and copies out the clickstream validator. */
function deployedValidator(): DeployedFunction {
  // Only the LandingZone stack is built and bundled (the other stacks' bundles are the same validator code).
  const app = testApp({ 'aws:cdk:bundling-stacks': ['LandingZone'] });
  buildAwsApp(app, parseConfig(app.node.getAllContext()), ['landingZone']);
  const assembly = app.synth();
  const template = JSON.parse(fs.readFileSync(path.join(assembly.directory, assembly.getStackByName('stream-foundry-dev-landing-zone').templateFile), 'utf8'));
  const fn = Object.values<{ Type: string; Properties: any }>(template.Resources).find( // eslint-disable-line @typescript-eslint/no-explicit-any
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.SOURCE_NAME === 'clickstream',
  )!;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-var-task-'));
  // The code's S3 key is the asset hash; the assembly holds the bundle as asset.<hash>/.
  const assetHash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
  fs.cpSync(path.join(assembly.directory, `asset.${assetHash}`), directory, { recursive: true });
  const local: Record<string, string> = { ERROR_BUCKET: 'errors', KINESIS_STREAM_ARN: STREAM_ARN };
  const environment = Object.fromEntries(
    Object.entries<unknown>(fn.Properties.Environment.Variables).map(([name, value]) => [name, typeof value === 'string' ? value : local[name]]),
  );
  return { directory, environment, handler: fn.Properties.Handler };
}

let s3rver: Emulator;
let kinesalite: Emulator;
let deployed: DeployedFunction;

beforeAll(async () => {
  deployed = deployedValidator();
  s3rver = await startS3rver(['landing', 'errors']);
  kinesalite = await startKinesalite();
}, 300_000); // synthesizes the LandingZone stack, bundled
afterAll(async () => {
  await kinesalite?.stop();
  await s3rver?.stop();
  if (deployed) fs.rmSync(deployed.directory, { recursive: true, force: true });
});

test('the bundle carries everything it imports: no node_modules above it, and the synthesized environment is complete', () => {
  for (let dir = deployed.directory; ; dir = path.dirname(dir)) {
    expect(fs.existsSync(path.join(dir, 'node_modules'))).toBe(false);
    if (dir === path.dirname(dir)) break;
  }
  expect(fs.readdirSync(deployed.directory).sort()).toEqual(['index.js', 'index.js.map', 'schema.json']);
  expect(deployed.handler).toBe('index.handler');
  expect(Object.values(deployed.environment).every((v) => typeof v === 'string' && v.length > 0)).toBe(true);
});

test('the deployed bundle validates a landed file end to end: valid events to Kinesis, the invalid one to the error bucket', async () => {
  const s3 = new S3Client({ region: REGION, endpoint: s3rver.endpoint, forcePathStyle: true, credentials });
  const kinesis = new KinesisClient({ region: REGION, endpoint: kinesalite.endpoint, credentials, requestHandler: new NodeHttpHandler() });
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: 'landing', ShardCount: 2 }));
    const events = Array.from({ length: 50 }, (_, i) => JSON.stringify(clickEvent({ session_id: `bundle-${i}` })));
    const body = [...events, '{"event_id": "bundle-bad"}'].join('\n');
    const key = 'clickstream/2026/11/22/bundle.ndjson';
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'landing', Key: key, Body: body }));
    const event = snsEvent(s3Notification([{ bucket: 'landing', encodedKey: key, etag: ETag!.replace(/"/g, '') }]));

    const [file, exportName] = deployed.handler.split('.');
    // Asynchronously: the emulators run in this process and must keep answering.
    const run = await promisify(execFile)(
      process.execPath,
      ['-e', `require('./${file}.js').${exportName}(JSON.parse(process.argv[1])).then((r) => { console.log('RESULT ' + JSON.stringify(r)); process.exit(0); }, (e) => { console.error(e); process.exit(1); })`, JSON.stringify(event)],
      {
        cwd: deployed.directory,
        timeout: 60_000,
        // The handler's clients keep sockets alive (Lambda freezes the process instead of exiting), hence the exit above.
        // Only what Lambda would set, plus the emulator endpoints: no NODE_PATH, no project on the module path.
        env: {
          PATH: process.env.PATH,
          ...deployed.environment,
          AWS_REGION: REGION,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_ENDPOINT_URL_S3: s3rver.endpoint,
          AWS_ENDPOINT_URL_KINESIS: kinesalite.endpoint,
          S3_FORCE_PATH_STYLE: 'true',
        },
      },
    );
    expect(run.stderr).not.toMatch(/Cannot find module|ImportModuleError/); // a failing exit code rejects above
    const result = JSON.parse(/^RESULT (.*)$/m.exec(run.stdout)![1]);
    expect(result.objects).toEqual([expect.objectContaining({ key, status: 'processed', read: 51, valid: 50, invalid: 1, published: 50 })]);

    const published = (await readKinesisStream(kinesis, 'landing')).map((r) => JSON.parse(r).event_id).sort();
    expect(published).toEqual(events.map((e) => JSON.parse(e).event_id).sort());
  } finally {
    s3.destroy();
    kinesis.destroy();
  }
});
