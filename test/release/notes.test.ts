/**
 * `npm run release:notes` (scripts/release/notes.ts), the release workflow's gate and the GitHub release's text, and
 * the changelog it reads: CHANGELOG.md describes package.json's version, under the header commit-and-tag-version
 * writes (.versionrc.json), so `npm run release` adds its entries without rewriting the introduction.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../platform/paths';
import { changelogSection, main, releaseVersion } from '../../scripts/release/notes';

// As commit-and-tag-version writes them (`##`), with a patch release under `###` as standard-version wrote it.
const CHANGELOG = `# Changelog

Intro.

### [0.2.1](https://github.com/o/r/compare/v0.2.0...v0.2.1) (2027-01-10)


### Bug Fixes

* **landing-zone:** a fix ([abc1234](https://github.com/o/r/commit/abc1234))

## [0.2.0](https://github.com/o/r/compare/v0.1.0...v0.2.0) (2027-01-03)


### ⚠ BREAKING CHANGES

* **raw-zone:** \`expireDays\` is now \`expireAfterDays\`

### Features

* a feature

## [0.2.0-rc.0](https://github.com/o/r/compare/v0.1.0...v0.2.0-rc.0) (2027-01-01)

* an early feature

## 0.1.0 (2026-12-05)

The first release.
`;

function run(argv: string[], root = PROJECT_ROOT) {
  const out: string[] = [];
  const log: string[] = [];
  return main(argv, { out: (line) => out.push(line), log: (line) => log.push(line) }, root).then((code) => ({ code, out: out.join('\n'), log: log.join('\n') }));
}

test("a version's section: its body up to the next version's heading, whatever the heading level", () => {
  expect(changelogSection(CHANGELOG, '0.2.1')).toBe('### Bug Fixes\n\n* **landing-zone:** a fix ([abc1234](https://github.com/o/r/commit/abc1234))');
  const minor = changelogSection(CHANGELOG, '0.2.0');
  expect(minor).toMatch(/^### ⚠ BREAKING CHANGES\n\n\* \*\*raw-zone:\*\* `expireDays` is now `expireAfterDays`\n\n### Features\n\n\* a feature$/);
  expect(changelogSection(CHANGELOG, '0.2.0-rc.0')).toBe('* an early feature');
  expect(changelogSection(CHANGELOG, '0.1.0')).toBe('The first release.');
});

test('a version without a section, or with an empty one, is an error naming what to run', () => {
  expect(() => changelogSection(CHANGELOG, '0.3.0')).toThrow('CHANGELOG.md has no section for 0.3.0: run `npm run release` (docs/releasing.md), which writes it');
  expect(() => changelogSection(CHANGELOG, '0.2')).toThrow('no section for 0.2');
  expect(() => changelogSection('# Changelog\n\n## 1.0.0\n\n## 0.9.0\n\nx\n', '1.0.0')).toThrow('CHANGELOG.md: the section for 1.0.0 is empty');
});

test("the tag must be v + package.json's version", () => {
  expect(releaseVersion('v0.2.0', '0.2.0')).toBe('0.2.0');
  expect(releaseVersion('v1.0.0-rc.1', '1.0.0-rc.1')).toBe('1.0.0-rc.1');
  for (const tag of ['0.2.0', 'v0.2.1', 'v0.2.0.1', 'release-0.2.0']) {
    expect(() => releaseVersion(tag, '0.2.0')).toThrow(`tag ${tag} does not name package.json's version 0.2.0: the tag must be v0.2.0`);
  }
});

test("npm run release:notes: this repository's version has its changelog section", async () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
  const result = await run([`v${version}`]);
  expect(result).toMatchObject({ code: 0, log: '' });
  expect(result.out.length).toBeGreaterThan(200);
  expect(result.out).not.toMatch(/^#{1,2} /m); // the section's body: no version heading, no title
});

test('npm run release:notes: exit 2 for a wrong tag or a missing argument, 1 for a version the changelog lacks', async () => {
  expect(await run(['v99.0.0'])).toMatchObject({ code: 2, out: '', log: expect.stringContaining('does not name package.json') });
  expect(await run([])).toMatchObject({ code: 2, log: expect.stringContaining('usage: npm run release:notes -- v<version>') });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-release-notes-'));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', version: '0.3.0' }));
    fs.writeFileSync(path.join(dir, 'CHANGELOG.md'), CHANGELOG);
    expect(await run(['v0.3.0'], dir)).toMatchObject({ code: 1, out: '', log: 'Error: CHANGELOG.md has no section for 0.3.0: run `npm run release` (docs/releasing.md), which writes it' });
    expect(await run(['v0.2.1'], dir)).toMatchObject({ code: 2 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("CHANGELOG.md starts with .versionrc.json's header, which commit-and-tag-version writes above each new entry", () => {
  const changelog = fs.readFileSync(path.join(PROJECT_ROOT, 'CHANGELOG.md'), 'utf8');
  const { header } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, '.versionrc.json'), 'utf8'));
  expect(changelog.startsWith(header)).toBe(true);
  expect(changelog.slice(header.length)).toMatch(/^\n#{2,3} \[\d+\.\d+\.\d+/); // the newest version's heading, next
});
