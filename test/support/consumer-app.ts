/**
 * A user's app in a fresh directory, with the library installed from its `npm pack` tarball: what the consumer tests
 * (test/library) build and synthesize, outside the repository's layout.
 *
 * Offline: `npm ci --offline` installs from the tarball and the local npm cache (which `npm ci` of this repository
 * filled). npm needs registry metadata to resolve a fresh dependency tree, and the cache holds only some of it, so
 * the app gets a lock file: the tarball, and for every other package the version this repository's lock file pins
 * (the versions its tests ran with), found by Node's resolution from where each package sits.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromRoot } from '../../platform/paths';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

const REPO_LOCK: Record<string, LockEntry> = JSON.parse(fs.readFileSync(fromRoot('package-lock.json'), 'utf8')).packages;
const REPO_MANIFEST: Manifest = JSON.parse(fs.readFileSync(fromRoot('package.json'), 'utf8'));

/** Packs the library (`npm pack`, which builds it first: `prepack`) into `dir`; returns the tarball's path. */
export function packLibrary(dir: string): string {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: fromRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [{ filename }] = JSON.parse(out) as { filename: string }[];
  return path.join(dir, filename);
}

/** The version of `name` this repository pins (package.json), for the app's own dependencies. */
export function pinned(name: string): string {
  const version = REPO_MANIFEST.devDependencies?.[name] ?? REPO_MANIFEST.dependencies?.[name];
  if (!version) throw new Error(`${name}: not in this repository's package.json`);
  return version;
}

/** Where Node would find `name` required from the package at `from` (a lock-file location such as `node_modules/a`). */
function resolveFrom(from: string, name: string): string | undefined {
  for (let base = from; ; ) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (REPO_LOCK[candidate]) return candidate;
    if (!base) return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent < 0 ? '' : base.slice(0, parent);
  }
}

/**
 * Writes `package.json` and a `package-lock.json` for an app in `dir` that depends on the library's tarball and on
 * `dependencies` / `devDependencies` (name -> exact version), then installs it offline. Optional peers (the Google
 * provider) are installed only when the app lists them, as npm does.
 */
export function installApp(dir: string, tarball: string, dependencies: Record<string, string>, devDependencies: Record<string, string>): void {
  const library = readTarballManifest(tarball, dir);
  const relativeTarball = `file:${path.relative(dir, tarball)}`;
  const manifest = { name: 'consumer-app', version: '1.0.0', private: true, dependencies: { [library.name]: relativeTarball, ...dependencies }, devDependencies };
  const packages: Record<string, LockEntry> = {
    '': { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies, devDependencies },
    [`node_modules/${library.name}`]: {
      version: library.version,
      resolved: relativeTarball,
      integrity: `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`,
      license: library.license,
      dependencies: library.dependencies,
      peerDependencies: library.peerDependencies,
      peerDependenciesMeta: library.peerDependenciesMeta,
      engines: library.engines,
    },
  };
  // Everything the app's dependencies and the library's need, from the repository's lock file.
  const wanted: [string, string][] = [...Object.keys(dependencies), ...Object.keys(devDependencies), ...Object.keys(library.dependencies ?? {})].map((name) => ['', name]);
  for (const name of Object.keys(library.peerDependencies ?? {})) {
    if (!library.peerDependenciesMeta?.[name]?.optional) wanted.push(['', name]);
  }
  const queue = [...wanted];
  while (queue.length > 0) {
    const [from, name] = queue.shift()!;
    const location = resolveFrom(from, name);
    if (!location) throw new Error(`${name} (needed by ${from || 'the app'}): not in this repository's package-lock.json`);
    if (packages[location]) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = REPO_LOCK[location];
    packages[location] = entry;
    const optionalPeers = Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([n]) => n);
    const needs = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.includes(n)),
    ];
    for (const dep of needs) {
      // An optional dependency for another platform (esbuild's binaries) may be absent from the lock: npm skips it too.
      if (entry.optionalDependencies?.[dep] && !resolveFrom(location, dep)) continue;
      queue.push([location, dep]);
    }
  }
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'package-lock.json'), `${JSON.stringify({ name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
  execFileSync('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The library's package.json as packed. */
function readTarballManifest(tarball: string, scratch: string): Manifest {
  const out = path.join(scratch, '.library-manifest');
  fs.mkdirSync(out, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', out, 'package/package.json']);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'package', 'package.json'), 'utf8'));
  fs.rmSync(out, { recursive: true, force: true });
  return manifest;
}
