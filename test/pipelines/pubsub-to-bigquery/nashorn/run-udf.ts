/**
 * Runs a JavaScript UDF in the engine the Pub/Sub to BigQuery template runs it in: standalone Nashorn 15.4 in ES6 mode
 * (the template's JavascriptTextTransformer), not Node's V8. Maven fetches Nashorn from Maven Central (pom.xml beside
 * this file); RunUdf.java loads the file and calls the function as the template does, with Java strings.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const HARNESS = __dirname;

/** Nashorn's classpath, resolved (and on first use downloaded) by Maven. */
function nashornClasspath(dir: string): string {
  const file = path.join(dir, 'classpath.txt');
  const run = spawnSync('mvn', ['-q', '-f', path.join(HARNESS, 'pom.xml'), 'dependency:build-classpath', `-Dmdep.outputFile=${file}`], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`mvn could not resolve Nashorn (exit ${run.status}): ${run.stdout}${run.stderr}`);
  return fs.readFileSync(file, 'utf8').trim();
}

/** Runs `payloads` through `functionName` of the UDF in Nashorn: null when filtered, the returned string otherwise. */
export function runInNashorn(udfSource: string, functionName: string, payloads: string[]): (string | null)[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udf-nashorn-'));
  try {
    fs.writeFileSync(path.join(dir, 'udf.js'), udfSource);
    fs.writeFileSync(path.join(dir, 'payloads.txt'), payloads.map((p) => Buffer.from(p).toString('base64')).join('\n'));
    const run = spawnSync(
      'java',
      ['-cp', nashornClasspath(dir), path.join(HARNESS, 'RunUdf.java'), path.join(dir, 'udf.js'), functionName, path.join(dir, 'payloads.txt')],
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
