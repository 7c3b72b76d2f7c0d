/**
 * Every relative link in the repository's Markdown files points at a file or folder that exists, and a link to a
 * section of a Markdown file at one of its headings: the README, the pipelines' READMEs, the runbooks and the guides
 * stay true when files move. Links to web pages and in code are left alone. (Alarms' runbook links:
 * runbook-links.test.ts.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { headingAnchor } from '../../platform/pipeline/runbook';
import { PROJECT_ROOT } from '../../platform/paths';
import { PIPELINES } from '../../pipelines';

/** Generated, installed or built (lib/: the compiled library, npm run build): not ours to check. */
const SKIP = new Set(['node_modules', 'cdk.out', 'cdktf.out', 'target', 'coverage', 'lib']);

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.') || SKIP.has(entry.name)) return [];
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? markdownFiles(file) : entry.name.endsWith('.md') ? [file] : [];
  });
}

/** Markdown without its code blocks and code spans. */
const prose = (markdown: string) => markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');

/** The relative links of a Markdown text, `[text](target)` and `[text]: target` outside code: [file, section]. */
export function relativeLinks(markdown: string): [string, string | undefined][] {
  const text = prose(markdown);
  const targets = [...text.matchAll(/\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)/g), ...text.matchAll(/^\s*\[[^\]]+\]:\s+(\S+)/gm)].map((m) => m[1]);
  return targets
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t))
    .map((t) => {
      const [file, section] = t.split('#');
      return [decodeURI(file), section];
    });
}

/**
 * The sections a link can name in a Markdown file: its headings' anchors, a repeated one with -1, -2... as GitHub does,
 * and explicit `<a id="...">` anchors (the API reference's table rows).
 */
function sections(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = [...prose(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)].map((m) => {
    const anchor = headingAnchor(m[1]);
    const count = seen.get(anchor) ?? 0;
    seen.set(anchor, count + 1);
    return count === 0 ? anchor : `${anchor}-${count}`;
  });
  const explicit = [...prose(markdown).matchAll(/<a (?:id|name)="([^"]+)"/g)].map((m) => m[1]);
  return new Set([...anchors, ...explicit]);
}

const files = markdownFiles(PROJECT_ROOT);

describe('relative links in Markdown', () => {
  test('the files are found (README.md, every pipeline README, the runbooks)', () => {
    const relative = files.map((f) => path.relative(PROJECT_ROOT, f));
    expect(relative).toEqual(expect.arrayContaining(['README.md', 'docs/adding-a-pipeline.md', 'pipelines/msk-to-iceberg/README.md', 'docs/runbooks/landing-zone.md']));
  });

  test('the parser finds links and sections, and ignores code and web pages', () => {
    const text = '[a](docs/x.md#s) [b](https://x.org/y.md) `[c](in/code.md)` [d](#local)\n```\n[e](block.md)\n```\n[f]: ../ref.md';
    expect(relativeLinks(text)).toEqual([['docs/x.md', 's'], ['', 'local'], ['../ref.md', undefined]]);
    expect(sections('# Title\n## Who may deploy?\n## Steps\n## Steps\n```\n# not a heading\n```')).toEqual(new Set(['title', 'who-may-deploy', 'steps', 'steps-1']));
  });

  test.each(files.map((f) => [path.relative(PROJECT_ROOT, f), f]))('%s: every relative link resolves to a file (and section)', (_, file) => {
    const broken = relativeLinks(fs.readFileSync(file, 'utf8')).filter(([target, section]) => {
      const resolved = target ? path.resolve(path.dirname(file), target) : file;
      if (!fs.existsSync(resolved)) return true;
      return section !== undefined && resolved.endsWith('.md') && !sections(fs.readFileSync(resolved, 'utf8')).has(section);
    });
    expect(broken.map(([target, section]) => (section ? `${target}#${section}` : target))).toEqual([]);
  });
});

describe("repository paths in the READMEs' and the checklist's code spans", () => {
  /** `platform/config/index.ts`, `npx jest test/pipelines/msk-to-iceberg`: paths from the root, without placeholders. */
  const paths = (markdown: string) =>
    [...markdown.matchAll(/`[^`\n]*`/g)].flatMap((span) => [...span[0].matchAll(/(?<![\w./-])((?:bin|docs|pipelines|platform|schemas|scripts|test)\/[\w./-]*[\w/])/g)].map((m) => m[1]));

  test('the finder sees paths inside commands and skips placeholders', () => {
    expect(paths('`npx jest test/pipelines/x` and `pipelines/<name>/stack.ts`, `test/**`, `docs/runbooks/`')).toEqual(['test/pipelines/x', 'docs/runbooks/']);
  });

  /** The README, the pipelines' READMEs and the checklist: what a newcomer reads first. */
  const readmes = files.filter((f) => /^(README\.md|pipelines\/[\w-]+\/README\.md|docs\/adding-a-pipeline\.md)$/.test(path.relative(PROJECT_ROOT, f)));

  test.each(readmes.map((f) => [path.relative(PROJECT_ROOT, f), f]))('%s: every path it names exists', (_, file) => {
    const text = fs.readFileSync(file, 'utf8').replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
    expect(paths(text).filter((p) => !fs.existsSync(path.join(PROJECT_ROOT, p)))).toEqual([]);
  });
});

describe("README.md's Layout", () => {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const block = /^## Layout\n[\s\S]*?^```\n([\s\S]*?)^```/m.exec(readme)![1];

  /** The files and folders the Layout names in its first column: `dir/` at the left, its children indented below. */
  const named = (() => {
    let parent = '';
    return block.split('\n').flatMap((line) => {
      const [, indent, first] = /^( *)(.*?)(?: {2,}.*)?$/.exec(line)!;
      const names = first.split(/[,\s]+/).filter((w) => /^[\w.-]+(\/|\.\w+)$/.test(w));
      if (indent.length === 0 && names.length > 0) parent = names[0];
      return indent.length === 0 ? names : indent.length === 2 ? names.map((n) => `${parent}${n}`) : [];
    });
  })();

  test('names only what exists', () => {
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((file) => !fs.existsSync(path.join(PROJECT_ROOT, file)))).toEqual([]);
  });

  test('names every top-level folder and every pipeline of the registry', () => {
    const folders = fs.readdirSync(PROJECT_ROOT, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.') && !SKIP.has(d.name) && d.name !== 'cdktf.out');
    expect(named).toEqual(expect.arrayContaining(folders.map((d) => `${d.name}/`)));
    expect(named).toEqual(expect.arrayContaining(PIPELINES.map((p) => `${path.dirname(p.readme)}/`)));
  });
});
