/**
 * The canary filter UDF in the engine the template runs it in: standalone Nashorn 15.4 in ES6 mode (the template's
 * JavascriptTextTransformer), not Node's V8. Maven fetches Nashorn from Maven Central (nashorn/pom.xml);
 * nashorn/RunUdf.java loads the file and calls the function as the template does, with Java strings.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdktf';
import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import { dataSources } from '../../../platform/data-source';
import { canaryId, CANARY_ID_PREFIX } from '../../../platform/freshness/contract';
import { loadSamples } from '../../../platform/samples';
import { CANARY_FILTER_FUNCTION, STATIC_CANARY_ID } from '../../../pipelines/pubsub-to-bigquery/construct';
import { PubSubToBigQueryStack } from '../../../pipelines/pubsub-to-bigquery/stack';

jest.setTimeout(180_000);

const HARNESS = path.join(__dirname, 'nashorn');

/** Nashorn's classpath, resolved (and on first use downloaded) by Maven. */
function nashornClasspath(dir: string): string {
  const file = path.join(dir, 'classpath.txt');
  const run = spawnSync('mvn', ['-q', '-f', path.join(HARNESS, 'pom.xml'), 'dependency:build-classpath', `-Dmdep.outputFile=${file}`], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`mvn could not resolve Nashorn (exit ${run.status}): ${run.stdout}${run.stderr}`);
  return fs.readFileSync(file, 'utf8').trim();
}

/** Runs `payloads` through the UDF in Nashorn: null when filtered, the returned string otherwise. */
function runInNashorn(udfSource: string, payloads: string[]): (string | null)[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udf-nashorn-'));
  try {
    fs.writeFileSync(path.join(dir, 'udf.js'), udfSource);
    fs.writeFileSync(path.join(dir, 'payloads.txt'), payloads.map((p) => Buffer.from(p).toString('base64')).join('\n'));
    const run = spawnSync(
      'java',
      ['-cp', nashornClasspath(dir), path.join(HARNESS, 'RunUdf.java'), path.join(dir, 'udf.js'), CANARY_FILTER_FUNCTION, path.join(dir, 'payloads.txt')],
      { encoding: 'utf8' },
    );
    if (run.status !== 0) throw new Error(`RunUdf failed (exit ${run.status}): ${run.stderr}`);
    return run.stdout
      .trim()
      .split('\n')
      .map((line) => {
        if (line === 'NULL') return null;
        if (line.startsWith('S:')) return Buffer.from(line.slice(2), 'base64').toString('utf8');
        throw new Error(`the UDF failed in Nashorn: ${line}`);
      });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const config = parseConfig(readCdkJsonContext());
const [source] = dataSources(config, 'gcp');
const samples = loadSamples(config, source.name);

test('in Nashorn, the deployed UDF drops the canary the scheduler sends and passes every other payload unchanged', () => {
  const tf = JSON.parse(Testing.synth(new PubSubToBigQueryStack(Testing.app(), 'stack', config)));
  const udf = (Object.values(tf.resource.google_storage_bucket_object)[0] as { content: string }).content;
  const scheduler = Object.values(tf.resource.google_cloud_scheduler_job)[0] as { http_target: { body: string } };
  const request = JSON.parse(Buffer.from(scheduler.http_target.body, 'base64').toString('utf8'));
  const canaryMessage = Buffer.from(request.messages[0].data, 'base64').toString('utf8');

  const dropped = [canaryMessage, JSON.stringify({ ...samples[0], [source.idField]: canaryId(Date.UTC(2026, 11, 4)) })];
  const kept = [
    ...samples.map((s) => JSON.stringify(s)),
    JSON.stringify({ ...samples[0], user_id: STATIC_CANARY_ID }),
    JSON.stringify({ ...samples[0], [source.idField]: `x${CANARY_ID_PREFIX}000000000000` }),
    JSON.stringify([{ [source.idField]: STATIC_CANARY_ID }]),
    'null',
    `{"${source.idField}": "${STATIC_CANARY_ID}"`,
    'not json at all, with the prefix 00000000-0000-4000-8000- in it',
    '{"event_id":"é ü ✓ 😀"}',
  ];
  expect(runInNashorn(udf, [...dropped, ...kept])).toEqual([null, null, ...kept]);
});
