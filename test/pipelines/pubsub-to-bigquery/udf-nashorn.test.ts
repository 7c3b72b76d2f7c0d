/**
 * The canary filter UDF in the engine the template runs it in: standalone Nashorn 15.4 in ES6 mode (the template's
 * JavascriptTextTransformer), not Node's V8: nashorn/run-udf.ts (Maven fetches Nashorn; nashorn/RunUdf.java calls the
 * function as the template does, with Java strings).
 */
import { Testing } from 'cdktf';
import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import { dataSources } from '../../../platform/data-source';
import { canaryId, CANARY_ID_PREFIX } from '../../../platform/freshness/contract';
import { loadSamples } from '../../../platform/samples';
import { CANARY_FILTER_FUNCTION, STATIC_CANARY_ID } from '../../../pipelines/pubsub-to-bigquery/construct';
import { PubSubToBigQueryStack } from '../../../pipelines/pubsub-to-bigquery/stack';
import { runInNashorn as runUdf } from './nashorn/run-udf';

jest.setTimeout(180_000);

/** Runs `payloads` through the canary filter in Nashorn: null when filtered, the returned string otherwise. */
const runInNashorn = (udfSource: string, payloads: string[]) => runUdf(udfSource, CANARY_FILTER_FUNCTION, payloads);

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
