/**
 * The generated package set of the install benchmark: planned from the seed
 * (plan.ts), staged and packed as signed .kpkg files by worker threads, and
 * published in a Kiln repository. Made once into bench-out/install/SET/ and
 * reused; made again when GENERATOR_VERSION or the package format changes.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PACKAGE_FORMAT_VERSION, pack, parsePackInput } from '../../src/format/index.js';
import { addPackages, commitRepository, initRepository, repositoryPaths } from '../../src/repo/index.js';
import { readSecretKeyFile, writeKeyPair } from '../../src/sign/index.js';
import { detectHost } from '../../src/solver/index.js';
import { removeScratch, scratchDir } from '../measure.js';
import { TextGenerator } from './content.js';
import type { Kind, PackageSpec, ShapeName } from './plan.js';
import { SHAPES, packageFiles, planPackages, smallMean } from './plan.js';

/**
 * Bump when the generator changes: an existing set made by another version is
 * made again (and with it the peer formats packed from it).
 */
export const GENERATOR_VERSION = 1;
const MIB = 1024 * 1024;

export interface PackedPackage {
  index: number;
  name: string;
  kind: Kind;
  /** The .kpkg file, relative to the repository root once published. */
  path: string;
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  /** Tar stream bytes, compressed payload bytes, file bytes, and bytes allocated on a 4 KiB-block filesystem. */
  uncompressed: number;
  compressed: number;
  installed: number;
  allocated: number;
  packageBytes: number;
  depends: string[];
}

export interface PackageSet {
  generator: number;
  formatVersion: number;
  seed: number;
  /** Absent in sets made before shapes: mixed. */
  shape?: ShapeName;
  requestedPackages: number;
  requestedMiB: number;
  /** Distinct paths over all packages (shared directories once). */
  uniquePaths: number;
  expires: string;
  packages: PackedPackage[];
  complete: true;
}

interface WorkerInput {
  role: 'kiln-bench-pack';
  seed: number;
  stageRoot: string;
  outDir: string;
  keyPath: string;
  target: { arch: string; cpu: string; libc: string; libcVersion: string };
}

let secretKey: Awaited<ReturnType<typeof readSecretKeyFile>> | undefined;

async function packOne(
  spec: PackageSpec,
  input: WorkerInput,
  text: TextGenerator,
): Promise<PackedPackage & { paths: string[] }> {
  const stage = join(input.stageRoot, spec.name);
  rmSync(stage, { recursive: true, force: true });
  const { files, configFiles, sonames } = packageFiles(spec, text);
  for (const file of files) {
    const target = join(stage, file.path);
    mkdirSync(dirname(target), { recursive: true });
    if (file.symlink !== undefined) symlinkSync(file.symlink, target);
    else {
      writeFileSync(target, file.content!);
      chmodSync(target, file.mode ?? 0o644);
    }
  }
  const packInput = parsePackInput(
    {
      name: spec.name,
      category: spec.category,
      version: spec.version,
      summary:
        spec.kind === 'blob'
          ? `Large binary-ish benchmark package ${spec.name}`
          : `Many-small-files benchmark package ${spec.name}`,
      homepage: `https://example.org/${spec.name}`,
      license: spec.license,
      options: {},
      target: input.target,
      depends: spec.depends,
      provides: { sonames },
      configFiles,
    },
    spec.name,
  );
  secretKey ??= await readSecretKeyFile(input.keyPath);
  const { path, metadata } = await pack({
    stageDir: stage,
    input: packInput,
    outDir: input.outDir,
    secretKey,
    durable: false,
  });
  rmSync(stage, { recursive: true, force: true });
  const count = (type: string) => metadata.files.filter((entry) => entry.type === type).length;
  const allocated = metadata.files.reduce(
    (total, entry) =>
      total + (entry.type === 'file' ? Math.ceil(entry.size / 4096) * 4096 : entry.type === 'dir' ? 4096 : 0),
    0,
  );
  return {
    index: spec.index,
    name: spec.name,
    kind: spec.kind,
    path,
    entries: metadata.files.length,
    files: count('file'),
    dirs: count('dir'),
    symlinks: count('symlink'),
    uncompressed: metadata.payload.uncompressedSize,
    compressed: metadata.payload.size,
    installed: metadata.installedSize,
    allocated,
    packageBytes: statSync(path).size,
    depends: spec.depends,
    paths: metadata.files.map((entry) => entry.path),
  };
}

/** Worker thread: pack the specs the main thread hands out, one at a time. */
async function workerMain(): Promise<void> {
  const input = workerData as WorkerInput;
  const text = new TextGenerator(input.seed);
  parentPort!.on('message', (spec: PackageSpec | null) => {
    if (spec === null) {
      parentPort!.close();
      return;
    }
    packOne(spec, input, text).then(
      (result) => parentPort!.postMessage({ result }),
      (error: unknown) =>
        parentPort!.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
}

/** A new directory for staging: on tmpfs (/dev/shm) when it has room, else in the temp dir. */
export function stageRootDirectory(prefix = 'kiln-bench-stage-'): string {
  // Staging on tmpfs keeps the work disk out of generation; fall back to the temp dir.
  try {
    const stats = statfsSync('/dev/shm');
    if (stats.bavail * stats.bsize > 2 * 1024 * MIB) return scratchDir(prefix, '/dev/shm');
  } catch {
    // No /dev/shm.
  }
  return scratchDir(prefix);
}

async function generateSet(
  setDir: string,
  count: number,
  mib: number,
  seed: number,
  shape: ShapeName,
  log: (line: string) => void,
): Promise<PackageSet> {
  rmSync(setDir, { recursive: true, force: true });
  mkdirSync(setDir, { recursive: true });
  const keys = await writeKeyPair(join(setDir, 'keys'));
  const specs = planPackages(count, mib * MIB, seed, SHAPES[shape]);
  const mean = smallMean(SHAPES[shape]);
  const host = detectHost();
  const input: WorkerInput = {
    role: 'kiln-bench-pack',
    seed,
    stageRoot: stageRootDirectory(),
    outDir: join(setDir, 'out'),
    keyPath: keys.secretKeyPath,
    target: {
      arch: host.arch,
      cpu: host.cpuLevels[0] ?? host.arch,
      libc: host.libc,
      libcVersion: host.libc === 'glibc' ? '2.17' : host.libcVersion,
    },
  };
  const started = performance.now();
  const results: (PackedPackage & { paths: string[] })[] = [];
  const threads = Math.max(1, Math.min(availableParallelism(), 8));
  log(
    `generating ${count} ${shape} packages (~${mib} MiB uncompressed, seed ${seed}) with ${threads} worker thread(s) into ${setDir}`,
  );
  try {
    // Biggest first, so that no thread is left with a large package at the end.
    const queue = [...specs].sort(
      (a, b) =>
        b.fileCount * mean +
        b.largeSizes.reduce((x, y) => x + y, 0) -
        (a.fileCount * mean + a.largeSizes.reduce((x, y) => x + y, 0)),
    );
    await Promise.all(
      Array.from(
        { length: threads },
        () =>
          new Promise<void>((resolve, reject) => {
            const worker = new Worker(new URL(import.meta.url), { workerData: input });
            const next = () => worker.postMessage(queue.shift() ?? null);
            worker.on('message', (message: { result?: PackedPackage & { paths: string[] }; error?: string }) => {
              if (message.error !== undefined) {
                queue.length = 0;
                reject(new Error(`packing failed: ${message.error}`));
                void worker.terminate();
                return;
              }
              results.push(message.result!);
              if (results.length % 25 === 0 || results.length === count) log(`packed ${results.length}/${count}`);
              next();
            });
            worker.on('error', reject);
            worker.on('exit', () => resolve());
            next();
          }),
      ),
    );
  } finally {
    removeScratch(input.stageRoot);
  }
  if (results.length !== count) throw new Error(`packed ${results.length} packages, expected ${count}`);
  results.sort((a, b) => a.index - b.index);
  log(`packed in ${((performance.now() - started) / 1000).toFixed(1)} s; publishing`);

  const repo = join(setDir, 'repo');
  await initRepository(repo, { keyPath: keys.secretKeyPath, name: 'bench', expireDays: 3650 });
  const added = await addPackages(
    repo,
    results.map((result) => result.path),
  );
  const committed = await commitRepository(repo, { message: `${count} generated benchmark packages` });
  const byName = new Map([...added.staged, ...added.unchanged].map((entry) => [entry.name, entry.path]));
  rmSync(join(setDir, 'out'), { recursive: true, force: true });
  const unique = new Set<string>();
  for (const result of results) for (const path of result.paths) unique.add(path);
  const set: PackageSet = {
    generator: GENERATOR_VERSION,
    formatVersion: PACKAGE_FORMAT_VERSION,
    seed,
    shape,
    requestedPackages: count,
    requestedMiB: mib,
    uniquePaths: unique.size,
    expires: committed.index.expires,
    packages: results.map(({ paths: _paths, ...result }) => ({
      ...result,
      path: byName.get(result.name) ?? fail(`${result.name} is not in the repository`),
    })),
    complete: true,
  };
  writeFileSync(join(setDir, 'set.json'), `${JSON.stringify(set, null, 1)}\n`);
  log(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return set;
}

function fail(message: string): never {
  throw new Error(message);
}

function readSet(setDir: string, seed: number, shape: ShapeName): PackageSet | undefined {
  try {
    const set = JSON.parse(readFileSync(join(setDir, 'set.json'), 'utf8')) as PackageSet;
    if (
      set.complete !== true ||
      set.generator !== GENERATOR_VERSION ||
      set.formatVersion !== PACKAGE_FORMAT_VERSION ||
      set.seed !== seed ||
      (set.shape ?? 'mixed') !== shape
    )
      return undefined;
    const published = repositoryPaths(join(setDir, 'repo')).public;
    if (!set.packages.every((pkg) => existsSync(join(published, pkg.path)))) return undefined;
    return set;
  } catch {
    return undefined;
  }
}

/**
 * The set for these parameters: the one in bench-out/install/ when it is
 * complete and of this generator, else a new one; its repository's index is
 * renewed when it would expire within a day. `repo` is the repository's
 * maintainer directory, `published` its public/ tree, what clients use.
 */
export async function loadSet(
  root: string,
  count: number,
  mib: number,
  seed: number,
  shape: ShapeName,
  regenerate: boolean,
  log: (line: string) => void,
): Promise<{ set: PackageSet; setDir: string; repo: string; published: string }> {
  const name = `p${count}-m${mib}-s${seed}${shape === 'mixed' ? '' : `-${shape}`}`;
  const setDir = join(root, 'bench-out', 'install', name);
  let set = regenerate ? undefined : readSet(setDir, seed, shape);
  if (set === undefined) set = await generateSet(setDir, count, mib, seed, shape, log);
  else log(`using the package set in ${setDir} (pass --regenerate to make it again)`);
  const repo = join(setDir, 'repo');
  if (Date.parse(set.expires) < Date.now() + 86_400_000) {
    const { index } = await commitRepository(repo, { allowEmpty: true, message: 'renew for the benchmark' });
    set.expires = index.expires;
    writeFileSync(join(setDir, 'set.json'), `${JSON.stringify(set, null, 1)}\n`);
  }
  return { set, setDir, repo, published: repositoryPaths(repo).public };
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === 'kiln-bench-pack') await workerMain();
