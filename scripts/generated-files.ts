/**
 * Files generated from the code and committed (docs/diagrams, docs/grafana): `npm run <command>` writes them, and
 * `--check` writes nothing and exits 1 naming each one missing, different or (with `orphans`) left from a removed stack,
 * which is what the staleness tests check.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface GeneratedFiles {
  /** The npm script that writes them (for messages). */
  readonly command: string;
  readonly dir: string;
  /** File name -> content. */
  readonly files: Record<string, string>;
  /** Files in `dir` matching this and not generated any more are removed (or reported with --check). */
  readonly orphans?: RegExp;
}

/** The command's arguments: nothing, or `--check`; undefined (after an error message) otherwise. */
export function parseCheckFlag(command: string, args: string[]): boolean | undefined {
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length === 0) return args.includes('--check');
  console.error(`${command}: unknown argument ${unknown.join(' ')} (expected nothing, or --check)`);
  return undefined;
}

/** Writes (or with `check`, compares) the files; the exit code: 0 up to date or written, 1 stale. */
export function syncGeneratedFiles({ command, dir, files, orphans }: GeneratedFiles, check: boolean): number {
  const relative = (file: string) => path.relative(process.cwd(), file);
  const stale: string[] = [];
  if (!check) fs.mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) continue;
    if (check) stale.push(relative(file));
    else {
      fs.writeFileSync(file, content);
      console.log(`wrote ${relative(file)}`);
    }
  }
  for (const name of orphans && fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!orphans!.test(name) || name in files) continue;
    const file = path.join(dir, name);
    if (check) stale.push(`${relative(file)} (no such stack)`);
    else {
      fs.rmSync(file);
      console.log(`removed ${relative(file)} (no such stack)`);
    }
  }
  if (stale.length > 0) {
    console.error(`${command}: out of date: ${stale.join(', ')} (run npm run ${command})`);
    return 1;
  }
  return 0;
}
