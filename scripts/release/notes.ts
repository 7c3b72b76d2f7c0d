/**
 * `npm run release:notes -- <tag>`: the release workflow's first step (.github/workflows/release.yml). Exit 2 unless
 * the tag is `v` + package.json's version (a tag pushed on the wrong commit, or a version bumped without its tag, is
 * stopped before anything is published); exit 1 unless CHANGELOG.md has a section for that version. Prints that
 * section, without its heading, as the GitHub release's text.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../platform/paths';
import { failureExitCode, Io, runMain } from '../cli';
import { UsageError } from '../replay/window';

const USAGE = 'usage: npm run release:notes -- v<version>   (the pushed tag, e.g. v0.2.0; package.json must have that version)';

/**
 * A version's heading as commit-and-tag-version writes it (`## [0.2.0](compare link) (date)`; standard-version and
 * older presets wrote `###` for a patch release) or as written by hand (`## 0.1.0`, `## [0.1.0] - date`).
 */
const VERSION_HEADING = /^#{2,3} \[?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\]?(?:[(\s]|$)/;

/** The body of `version`'s section of a changelog: from under its heading to the next version's heading. */
export function changelogSection(changelog: string, version: string): string {
  const lines = changelog.split('\n');
  const start = lines.findIndex((line) => VERSION_HEADING.exec(line)?.[1] === version);
  if (start < 0) throw new Error(`CHANGELOG.md has no section for ${version}: run \`npm run release\` (docs/releasing.md), which writes it`);
  const next = lines.findIndex((line, i) => i > start && VERSION_HEADING.test(line));
  const body = lines
    .slice(start + 1, next < 0 ? undefined : next)
    .join('\n')
    .trim();
  if (!body) throw new Error(`CHANGELOG.md: the section for ${version} is empty`);
  return body;
}

/** The version a release tag names; a UsageError unless it is `v` + `packageVersion`. */
export function releaseVersion(tag: string, packageVersion: string): string {
  if (tag !== `v${packageVersion}`) {
    throw new UsageError(`tag ${tag} does not name package.json's version ${packageVersion}: the tag must be v${packageVersion}`);
  }
  return packageVersion;
}

export async function main(argv: string[], io: Io, root = PROJECT_ROOT): Promise<number> {
  try {
    if (argv.length !== 1) throw new UsageError(`expected one argument, the tag; got ${argv.length}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    const version = releaseVersion(argv[0], manifest.version);
    io.out(changelogSection(fs.readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'), version));
    return 0;
  } catch (err) {
    return failureExitCode(err, USAGE, io);
  }
}

if (require.main === module) runMain(main);
