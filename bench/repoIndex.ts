/**
 * `npm run bench:repo`: a repository of N generated packages (default 20,000).
 * Prints and writes (bench-out/repo-index.json):
 *   - `kiln repo commit` wall time (the real CLI, node start-up included), for
 *     the commit that publishes all N staged packages and for a re-commit of
 *     the full index;
 *   - reading + verifying the published index (signature, parse, validation of
 *     every entry), in-process, and `kiln repo status` end to end.
 * Medians of several runs, with a pause before each (see shared BENCHMARKING.md).
 *
 * Options: --packages N, --runs R, --dir DIR (default: a new directory under the
 * system temp dir; point it at a fresh filesystem for disk-bound figures).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pack, parsePackInput } from '../src/format/index.js';
import {
  addPackages,
  initRepository,
  localFetcher,
  readPublishedIndex,
  readRepositoryKeys,
  repositoryPaths,
} from '../src/repo/index.js';
import { readSecretKeyFile, writeKeyPair } from '../src/sign/index.js';
import { mapConcurrent } from '../src/util/mapConcurrent.js';
import { seededRandom } from '../src/util/seededRandom.js';

const { values } = parseArgs({
  options: {
    packages: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '5' },
    dir: { type: 'string' },
  },
});
const COUNT = Number(values.packages);
const RUNS = Number(values.runs);
const KILN = fileURLToPath(new URL('../src/cli/kiln.cjs', import.meta.url));
const CATEGORIES = ['dev-libs', 'sys-libs', 'app-misc', 'net-misc', 'www-servers', 'dev-lang'];
const LICENSES = ['MIT', 'BSD-2-Clause', 'GPL-2.0-or-later', 'Apache-2.0 OR MIT', 'LGPL-2.1-only', 'Zlib'];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

function timeCli(args: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [KILN, ...args], { cwd, encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`kiln ${args.join(' ')} failed:\n${result.stderr}`);
  return elapsed;
}

async function main(): Promise<void> {
  const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'kiln-bench-repo-')));
  await mkdir(dir, { recursive: true });
  console.error(`bench: ${COUNT} packages in ${dir}`);
  const keys = await writeKeyPair(join(dir, 'keys'));
  const key = await readSecretKeyFile(keys.secretKeyPath);
  const stage = join(dir, 'stage');
  await mkdir(join(stage, 'share', 'doc'), { recursive: true });
  await writeFile(join(stage, 'share', 'doc', 'README'), 'generated package\n');

  const rand = seededRandom(42);
  const generateStart = performance.now();
  const inputs = [];
  for (let i = 0; i < COUNT; i++) {
    const name = `pkg${String(i).padStart(5, '0')}`;
    const depends = Array.from({ length: Math.floor(rand() * 4) }, () => {
      const target = Math.floor(rand() * COUNT);
      return `pkg${String(target).padStart(5, '0')} >=1.${Math.floor(rand() * 5)}`;
    }).filter(
      (dep, index, all) =>
        !dep.startsWith(`${name} `) && all.findIndex((other) => other.split(' ')[0] === dep.split(' ')[0]) === index,
    );
    const input = parsePackInput(
      {
        name,
        category: CATEGORIES[i % CATEGORIES.length],
        version: `${1 + (i % 3)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 10)}`,
        summary: `Generated package number ${i} for the repository benchmark`,
        homepage: `https://example.org/${name}`,
        license: LICENSES[i % LICENSES.length],
        options: { ssl: rand() < 0.5, static: rand() < 0.3 },
        target: { arch: 'x86_64', cpu: rand() < 0.8 ? 'x86-64' : 'x86-64-v3', libc: 'glibc', libcVersion: '2.17' },
        depends,
        provides: { sonames: [`lib${name}.so.1`] },
      },
      name,
    );
    inputs.push(input);
  }
  let packed = 0;
  const files = await mapConcurrent(inputs, 8, async (input) => {
    const { path } = await pack({
      stageDir: stage,
      input,
      outDir: join(dir, 'out'),
      secretKey: key,
      durable: false,
      level: 3,
    });
    if (++packed % 5000 === 0) console.error(`bench: packed ${packed}`);
    return path;
  });
  const generateMs = performance.now() - generateStart;

  const repo = join(dir, 'repo');
  await initRepository(repo, { keyPath: keys.secretKeyPath, name: 'bench' });
  const addStart = performance.now();
  await addPackages(repo, files);
  const addMs = performance.now() - addStart;

  await pause(2000);
  const firstCommitMs = timeCli(['repo', 'commit', 'repo', '-m', 'all generated packages'], dir);
  const recommitMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await pause(2000);
    recommitMs.push(timeCli(['repo', 'commit', 'repo', '--allow-empty'], dir));
  }
  const repoPaths = repositoryPaths(repo);
  const indexBytes = (await stat(repoPaths.index)).size;

  const trusted = await readRepositoryKeys(repoPaths);
  const readMs: number[] = [];
  let packagesRead = 0;
  for (let run = 0; run < RUNS; run++) {
    await pause(2000);
    const start = performance.now();
    const { index } = await readPublishedIndex(localFetcher(repoPaths.public), trusted, repoPaths.public);
    readMs.push(performance.now() - start);
    packagesRead = index.packages.length;
  }
  const statusMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await pause(2000);
    statusMs.push(timeCli(['repo', 'status', 'repo'], dir));
  }
  const startupMs: number[] = [];
  for (let run = 0; run < RUNS; run++) startupMs.push(timeCli(['--version'], dir));
  if (packagesRead !== COUNT) throw new Error(`read ${packagesRead} packages, expected ${COUNT}`);

  const results = {
    machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
    packages: COUNT,
    indexBytes,
    runs: RUNS,
    generateSeconds: generateMs / 1000,
    repoAddSeconds: addMs / 1000,
    firstCommitSeconds: firstCommitMs / 1000,
    recommitMedianSeconds: median(recommitMs) / 1000,
    recommitSeconds: recommitMs.map((ms) => ms / 1000),
    readVerifyMedianSeconds: median(readMs) / 1000,
    readVerifySeconds: readMs.map((ms) => ms / 1000),
    statusCliMedianSeconds: median(statusMs) / 1000,
    startupMedianSeconds: median(startupMs) / 1000,
  };
  const rows: [string, string][] = [
    [`pack ${COUNT} packages (library, level 3, not timed as a goal)`, seconds(generateMs)],
    [`repo add ${COUNT} packages (library; every package fully verified)`, seconds(addMs)],
    [`kiln repo commit, publishing ${COUNT} staged packages (CLI)`, seconds(firstCommitMs)],
    [`kiln repo commit --allow-empty, ${COUNT}-entry index (CLI, median of ${RUNS})`, seconds(median(recommitMs))],
    [`read + verify the index (in-process, median of ${RUNS})`, seconds(median(readMs))],
    [`kiln repo status: read + verify the index (CLI, median of ${RUNS})`, seconds(median(statusMs))],
    [`kiln --version (start-up, median of ${RUNS})`, seconds(median(startupMs))],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`\nRepository benchmark: ${COUNT} packages, index ${(indexBytes / 1048576).toFixed(1)} MiB`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
  await mkdir('bench-out', { recursive: true });
  await writeFile(join('bench-out', 'repo-index.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwritten: bench-out/repo-index.json');
  if (values.dir === undefined) await rm(dir, { recursive: true, force: true });
}

await main();
