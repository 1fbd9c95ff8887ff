/**
 * The index of bench/indexBench.ts: N packages planned from a seed (names,
 * versions, one-line summaries drawn from bench/index/words.ts with Zipf-like
 * frequencies, dependencies), the three search terms chosen from the data,
 * and the three repositories made from the same plan:
 *   - a real signed Kiln repository (every package packed and signed, then
 *     `repo add` + `repo commit`, as bench/repoIndex.ts does);
 *   - a pacman sync database `pacman/bench.db` (bench/index/pacmanDb.ts);
 *   - an apt flat repository `apt/{Packages,Packages.gz,Packages.xz,Release}`
 *     (bench/index/aptRepo.ts).
 * Everything lands in bench-out/index/p{N}-s{SEED}-g{GENERATOR}/ and is reused
 * while set.json there says it is complete and made by this generator.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_FORMAT_VERSION, pack, parsePackInput } from '../../src/format/index.js';
import {
  addPackages,
  commitRepository,
  initRepository,
  localFetcher,
  readPublishedIndex,
  readRepositoryKeys,
  repositoryPaths,
} from '../../src/repo/index.js';
import type { IndexEntry, PublishedIndex } from '../../src/repo/index.js';
import { readSecretKeyFile, writeKeyPair } from '../../src/sign/index.js';
import { mapConcurrent } from '../../src/util/mapConcurrent.js';
import { seededRandom } from '../../src/util/seededRandom.js';
import { writeAptRepository } from './aptRepo.js';
import { writePacmanDb } from './pacmanDb.js';
import { WORDS } from './words.js';

/** Bump when anything below changes what is generated: a cached set made by another version is made again. */
export const GENERATOR_VERSION = 2;

const CATEGORIES = [
  'dev-libs',
  'sys-libs',
  'app-misc',
  'net-misc',
  'www-servers',
  'dev-lang',
  'media-libs',
  'x11-libs',
  'sci-libs',
  'games-misc',
];
const LICENSES = [
  'MIT',
  'BSD-2-Clause',
  'GPL-2.0-or-later',
  'Apache-2.0 OR MIT',
  'LGPL-2.1-only',
  'Zlib',
  'BSD-3-Clause',
  'MPL-2.0',
];

export interface PlannedPackage {
  name: string;
  category: string;
  /** Upstream version, e.g. 2.13.4 (pacman and apt get `-1` appended as their package revision). */
  version: string;
  summary: string;
  homepage: string;
  license: string;
  /** Each means `name >= min`. */
  depends: { name: string; min: string }[];
  options: { ssl: boolean; static: boolean };
  cpu: string;
}

export interface SearchTerm {
  /** few: a few dozen hits; many: about 5 % of the packages (1,000 of 20,000); none: no hit. */
  key: 'few' | 'many' | 'none';
  term: string;
  /** Packages whose name or summary contains the term, ignoring case: what every tool should find. */
  expectedHits: number;
}

/** What a set directory holds; set.json. */
export interface IndexSet {
  generator: number;
  formatVersion: number;
  seed: number;
  packages: number;
  terms: SearchTerm[];
  /** Architecture written into the apt Packages file (the private apt configuration uses it as native). */
  aptArch: string;
  expires: string;
  /** Bytes each client downloads at sync (the files, not the HTTP overhead). */
  sizes: {
    kilnIndex: number;
    kilnSignature: number;
    pacmanDb: number;
    pacmanDbUncompressed: number;
    aptPackages: number;
    aptPackagesXz: number;
    aptPackagesGz: number;
    aptRelease: number;
  };
  generateSeconds: { plan: number; pack: number; repoAdd: number; commit: number; pacman: number; apt: number };
  complete: true;
}

export interface SetPaths {
  dir: string;
  /** The Kiln repository's maintainer directory; the server serves its public/ tree. */
  repo: string;
  publicKey: string;
  pacman: string;
  apt: string;
}

export function setPaths(root: string, count: number, seed: number): SetPaths {
  const dir = join(root, `p${count}-s${seed}-g${GENERATOR_VERSION}`);
  return {
    dir,
    repo: join(dir, 'repo'),
    publicKey: join(dir, 'keys', 'kiln.pub'),
    pacman: join(dir, 'pacman'),
    apt: join(dir, 'apt'),
  };
}

// ---------------------------------------------------------------- the plan

/** Draws word ranks with probability proportional to 1 / (rank + 1)^exponent. */
function zipf(random: () => number, size: number, exponent: number): () => number {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let rank = 0; rank < size; rank++) cumulative[rank] = total += 1 / (rank + 1) ** exponent;
  return () => {
    const target = random() * total;
    let low = 0;
    let high = size - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cumulative[mid]! < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

/** Every package, decided by the seed alone. */
export function planPackages(count: number, seed: number): PlannedPackage[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const summaryWord = zipf(random, WORDS.length, 1.0);
  // Names use a flatter distribution than summaries: many distinct names, some words popular.
  const nameWord = zipf(random, WORDS.length, 0.6);
  const word = (draw: () => number) => WORDS[draw()]!;
  const used = new Set<string>();
  const names: string[] = [];
  while (names.length < count) {
    const a = word(nameWord);
    const b = word(nameWord);
    const shape = random();
    let name =
      shape < 0.1
        ? a
        : shape < 0.25
          ? `lib${a}`
          : shape < 0.33
            ? `python3-${a}`
            : shape < 0.4
              ? `${a}-${pick(['utils', 'tools', 'data', 'common', 'doc'])}`
              : shape < 0.55
                ? `${a}${b}`
                : `${a}-${b}`;
    if (used.has(name) || a === b) name = `${a}-${b}`;
    for (let k = 2; used.has(name); k++) name = `${a}-${b}${k}`;
    used.add(name);
    names.push(name);
  }
  return names.map((name, i) => {
    const length = 3 + Math.floor(random() * 7);
    const words = Array.from({ length }, () => word(summaryWord));
    const first = words[0]!;
    words[0] = first[0]!.toUpperCase() + first.slice(1);
    const depends: { name: string; min: string }[] = [];
    const wanted = Math.floor(random() * 4);
    for (let k = 0; k < wanted; k++) {
      const target = names[Math.floor(random() * count)]!;
      const min = `1.${Math.floor(random() * 5)}`;
      if (target !== name && !depends.some((dep) => dep.name === target)) depends.push({ name: target, min });
    }
    return {
      name,
      category: CATEGORIES[i % CATEGORIES.length]!,
      version: `${1 + (i % 3)}.${Math.floor(random() * 20)}.${Math.floor(random() * 10)}`,
      summary: words.join(' '),
      homepage: `https://example.org/${name}`,
      license: LICENSES[i % LICENSES.length]!,
      depends,
      options: { ssl: random() < 0.5, static: random() < 0.3 },
      cpu: random() < 0.8 ? 'x86-64' : 'x86-64-v3',
    };
  });
}

/** Packages whose name or summary contains `term`, ignoring case. */
export function countHits(packages: readonly PlannedPackage[], term: string): number {
  const needle = term.toLowerCase();
  let hits = 0;
  for (const pkg of packages)
    if (pkg.name.toLowerCase().includes(needle) || pkg.summary.toLowerCase().includes(needle)) hits++;
  return hits;
}

/** The words of the vocabulary (five letters or more) whose hit counts are nearest to a few dozen and to 5 % of the packages, and a term found nowhere. */
export function chooseTerms(packages: readonly PlannedPackage[]): SearchTerm[] {
  const counted = WORDS.filter((word) => word.length >= 5)
    .map((word) => ({ term: word, hits: countHits(packages, word) }))
    .filter((entry) => entry.hits > 0);
  const nearest = (target: number, exclude: string[]) => {
    const ranked = counted
      .filter((entry) => !exclude.includes(entry.term))
      .sort(
        (a, b) =>
          Math.abs(Math.log(a.hits / target)) - Math.abs(Math.log(b.hits / target)) || (a.term < b.term ? -1 : 1),
      );
    const best = ranked[0];
    if (best === undefined) throw new Error('bench: no search term found in the generated summaries');
    return best;
  };
  const many = nearest(Math.max(2, Math.round(packages.length / 20)), []);
  const few = nearest(Math.min(40, Math.max(1, Math.round(packages.length / 50))), [many.term]);
  const none = ['qwertyuiop', 'zyxwvutsrq', 'kilnabsentterm'].find((term) => countHits(packages, term) === 0);
  if (none === undefined) throw new Error('bench: every "no hit" term matches something');
  return [
    { key: 'few', term: few.term, expectedHits: few.hits },
    { key: 'many', term: many.term, expectedHits: many.hits },
    { key: 'none', term: none, expectedHits: 0 },
  ];
}

// ---------------------------------------------------------------- the repositories

export function readSet(paths: SetPaths, count: number, seed: number): IndexSet | undefined {
  try {
    const set = JSON.parse(readFileSync(join(paths.dir, 'set.json'), 'utf8')) as IndexSet;
    if (
      set.complete !== true ||
      set.generator !== GENERATOR_VERSION ||
      set.formatVersion !== PACKAGE_FORMAT_VERSION ||
      set.seed !== seed ||
      set.packages !== count
    )
      return undefined;
    for (const file of [
      repositoryPaths(paths.repo).indexSignature,
      paths.publicKey,
      join(paths.pacman, 'bench.db'),
      join(paths.apt, 'Release'),
      join(paths.apt, 'Packages.xz'),
    ])
      if (!existsSync(file)) return undefined;
    return set;
  } catch {
    return undefined;
  }
}

/** Renews the Kiln index when it expires within a day (a cached set may be old). */
export async function renewIfExpiring(paths: SetPaths, set: IndexSet): Promise<void> {
  if (Date.parse(set.expires) > Date.now() + 86_400_000) return;
  const { index } = await commitRepository(paths.repo, { allowEmpty: true, message: 'renew for the benchmark' });
  set.expires = index.expires;
  const published = await readKilnIndex(paths);
  set.sizes.kilnIndex = published.bytes.length;
  set.sizes.kilnSignature = Buffer.byteLength(published.signatureText);
  writeFileSync(join(paths.dir, 'set.json'), `${JSON.stringify(set, null, 1)}\n`);
}

/** The Kiln index as a client reads it, from the published tree. */
async function readKilnIndex(paths: SetPaths): Promise<PublishedIndex> {
  const repo = repositoryPaths(paths.repo);
  return readPublishedIndex(localFetcher(repo.public), await readRepositoryKeys(repo), repo.public);
}

function nativeDebianArch(): string {
  const result = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim() !== '' ? result.stdout.trim() : 'amd64';
}

export async function generateSet(
  paths: SetPaths,
  count: number,
  seed: number,
  log: (line: string) => void,
): Promise<IndexSet> {
  rmSync(paths.dir, { recursive: true, force: true });
  mkdirSync(paths.dir, { recursive: true });
  const seconds = (since: number) => (performance.now() - since) / 1000;

  let started = performance.now();
  const plan = planPackages(count, seed);
  const terms = chooseTerms(plan);
  const planSeconds = seconds(started);
  log(
    `planned ${count} packages (seed ${seed}); search terms: ${terms.map((t) => `"${t.term}" (${t.expectedHits} hits)`).join(', ')}`,
  );

  const keys = await writeKeyPair(join(paths.dir, 'keys'));
  const secretKey = await readSecretKeyFile(keys.secretKeyPath);
  const stage = join(paths.dir, 'stage');
  mkdirSync(join(stage, 'share', 'doc'), { recursive: true });
  writeFileSync(join(stage, 'share', 'doc', 'README'), 'generated package\n');

  started = performance.now();
  let packed = 0;
  const outDir = join(paths.dir, 'out');
  const files = await mapConcurrent(plan, 8, async (pkg) => {
    const input = parsePackInput(
      {
        name: pkg.name,
        category: pkg.category,
        version: pkg.version,
        summary: pkg.summary,
        homepage: pkg.homepage,
        license: pkg.license,
        options: pkg.options,
        target: { arch: 'x86_64', cpu: pkg.cpu, libc: 'glibc', libcVersion: '2.17' },
        depends: pkg.depends.map((dep) => `${dep.name} >=${dep.min}`),
        provides: { sonames: [`lib${pkg.name}.so.1`] },
      },
      pkg.name,
    );
    const { path } = await pack({ stageDir: stage, input, outDir, secretKey, durable: false, level: 3 });
    if (++packed % 2000 === 0 || packed === count) log(`packed ${packed}/${count}`);
    return path;
  });
  const packSeconds = seconds(started);

  await initRepository(paths.repo, { keyPath: keys.secretKeyPath, name: 'bench', expireDays: 3650 });
  started = performance.now();
  log(`repo add of ${count} packages (each verified)`);
  await addPackages(paths.repo, files);
  const addSeconds = seconds(started);
  started = performance.now();
  await commitRepository(paths.repo, { message: `${count} generated packages for the index benchmark` });
  const commitSeconds = seconds(started);
  rmSync(outDir, { recursive: true, force: true });
  rmSync(stage, { recursive: true, force: true });

  // The client's view of the published index: sizes and hashes for the other two formats.
  const published = await readKilnIndex(paths);
  const entries = new Map<string, IndexEntry>(published.index.packages.map((entry) => [entry.name, entry]));
  if (entries.size !== count)
    throw new Error(`bench: the published index holds ${entries.size} names, expected ${count}`);
  const created = new Date(published.index.created);

  started = performance.now();
  const pacman = writePacmanDb(paths.pacman, plan, entries, created);
  const pacmanSeconds = seconds(started);
  started = performance.now();
  const aptArch = nativeDebianArch();
  const apt = writeAptRepository(paths.apt, plan, entries, created, aptArch);
  const aptSeconds = seconds(started);

  const set: IndexSet = {
    generator: GENERATOR_VERSION,
    formatVersion: PACKAGE_FORMAT_VERSION,
    seed,
    packages: count,
    terms,
    aptArch,
    expires: published.index.expires,
    sizes: {
      kilnIndex: published.bytes.length,
      kilnSignature: Buffer.byteLength(published.signatureText),
      pacmanDb: pacman.compressed,
      pacmanDbUncompressed: pacman.uncompressed,
      aptPackages: apt.packages,
      aptPackagesXz: apt.xz,
      aptPackagesGz: apt.gz,
      aptRelease: apt.release,
    },
    generateSeconds: {
      plan: planSeconds,
      pack: packSeconds,
      repoAdd: addSeconds,
      commit: commitSeconds,
      pacman: pacmanSeconds,
      apt: aptSeconds,
    },
    complete: true,
  };
  writeFileSync(join(paths.dir, 'set.json'), `${JSON.stringify(set, null, 1)}\n`);
  return set;
}
