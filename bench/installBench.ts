/**
 * `npm run bench:install`: how fast `kiln install` puts a few hundred packages
 * on disk, against a reference in the same run: the same payloads extracted
 * with `zstd -dc payload.tar.zst | tar -x`, one package after the other.
 *
 * The package set (bench-out/install/SET/, made once and reused; `--regenerate`
 * makes it again) is generated from a fixed seed, with both workloads that
 * shared/BENCHMARKING.md asks for:
 *   - "many small files" packages: tens to a thousand-odd files of 200 B–8 KiB
 *     of text-like content (compresses about 3×), config files under etc/,
 *     a shared library with its soname symlinks, and a few other symlinks;
 *   - "large binary-ish" packages: one to four files of 1–8 MiB that compress
 *     about 1.5×, soname symlinks, a config file and a README;
 * about half the bytes each. Packages depend on earlier ones (zero to three
 * each), so an install has an order to respect. They are packed with a
 * generated key and published in a repository with the library API.
 *
 * Every measured run gets a fresh filesystem: a loop-mounted ext4 image made
 * with mkfs.ext4 (journal on) when running as root with mkfs.ext4 and mount,
 * else tmpfs (root), else a plain directory (with a warning). Each timed run is
 * preceded by a `sync` and a 2-second pause and is timed as wall + a final
 * `sync`. Per round, in this order:
 *   - kiln, cold cache: `kiln --prefix MNT/prefix install ALL -y` from a file://
 *     remote (init, remote add and sync are not timed): copying every package
 *     into the download cache, verifying, unpacking and committing;
 *   - kiln, warm cache: the same with the cache of an earlier cold run copied in
 *     beforehand (not timed), so nothing is downloaded;
 *   - reference: `zstd -dc P.tar.zst | tar -x -C MNT/root` for every package in
 *     turn, the payloads having been copied out of the .kpkg files onto the fresh
 *     filesystem beforehand (not timed).
 *
 * Options: --regenerate, --json (print the figures as JSON only), --runs R,
 * --packages N, --mib M, --seed S. Environment: BENCH_RUNS (default 3),
 * BENCH_PACKAGES (default 300), BENCH_MIB (default 300, uncompressed).
 * Figures are printed and written to bench-out/install.json.
 */
import { spawnSync } from 'node:child_process';
import type { SpawnSyncOptions } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, statfsSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, release, tmpdir, totalmem, type as osType } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PACKAGE_FORMAT_VERSION, pack, parsePackInput } from '../src/format/index.js';
import { addPackages, commitRepository, initRepository } from '../src/repo/index.js';
import { readSecretKeyFile, writeKeyPair } from '../src/sign/index.js';
import { detectHost } from '../src/solver/index.js';
import { seededRandom } from '../src/util/seededRandom.js';

/** Bump when the generator changes: an existing set made by another version is made again. */
const GENERATOR_VERSION = 1;
const KIB = 1024;
const MIB = 1024 * 1024;
const KILN = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CATEGORIES = ['dev-libs', 'sys-libs', 'app-misc', 'net-misc', 'www-servers', 'dev-lang', 'media-libs', 'x11-libs'];
const LICENSES = ['MIT', 'BSD-2-Clause', 'GPL-2.0-or-later', 'Apache-2.0 OR MIT', 'LGPL-2.1-only', 'Zlib'];
const EXTENSIONS = ['txt', 'py', 'h', 'html', 'json', 'c', 'md', 'xml', 'pl', 'js'];
/** Small files: log-uniform sizes between these (bytes). */
const SMALL_MIN = 200;
const SMALL_MAX = 8 * KIB;
const SMALL_MEAN = (SMALL_MAX - SMALL_MIN) / Math.log(SMALL_MAX / SMALL_MIN);
/** Large files: log-uniform sizes between these (bytes), then scaled to the budget. */
const LARGE_MIN = 1 * MIB;
const LARGE_MAX = 8 * MIB;
/** Share of the uncompressed bytes in large binary-ish packages, and their typical size. */
const LARGE_SHARE = 0.5;
const LARGE_PACKAGE_BYTES = 10 * MIB;

type Kind = 'files' | 'blob';

interface PackageSpec {
  index: number;
  name: string;
  kind: Kind;
  version: string;
  category: string;
  license: string;
  depends: string[];
  /** Seed of this package's content. */
  seed: number;
  /** files: how many small files; blob: the sizes of the large files. */
  fileCount: number;
  largeSizes: number[];
}

interface PackedPackage {
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

interface PackageSet {
  generator: number;
  formatVersion: number;
  seed: number;
  requestedPackages: number;
  requestedMiB: number;
  /** Distinct paths over all packages (shared directories once). */
  uniquePaths: number;
  expires: string;
  packages: PackedPackage[];
  complete: true;
}

interface WorkerInput {
  seed: number;
  stageRoot: string;
  outDir: string;
  keyPath: string;
  target: { arch: string; cpu: string; libc: string; libcVersion: string };
}

// ---------------------------------------------------------------- content

/** Text made of a Zipf-distributed vocabulary with some random tokens: compresses about 3× with zstd. */
class TextGenerator {
  private readonly words: Buffer[];
  private readonly table = new Uint16Array(65536);
  private static readonly ALNUM = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_');
  private static readonly PUNCT = [', ', '. ', ' = ', '(', ') ', '; ', ': ', ' -> '].map((text) => Buffer.from(text));

  constructor(seed: number, vocabulary = 4096, exponent = 1.05) {
    const random = seededRandom(seed);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    this.words = Array.from({ length: vocabulary }, () => {
      let word = '';
      const length = 2 + Math.floor(random() * 9);
      for (let i = 0; i < length; i++) word += letters[Math.floor(random() * 26)];
      return Buffer.from(word);
    });
    const weights = this.words.map((_, rank) => 1 / Math.pow(rank + 1, exponent));
    const total = weights.reduce((a, b) => a + b, 0);
    let cumulative = 0;
    let slot = 0;
    for (let rank = 0; rank < vocabulary; rank++) {
      cumulative += weights[rank]! / total;
      const end = Math.min(65536, Math.round(cumulative * 65536));
      while (slot < end) this.table[slot++] = rank;
    }
    while (slot < 65536) this.table[slot++] = vocabulary - 1;
  }

  word(random: () => number): string {
    return this.words[this.table[Math.floor(random() * 65536)]!]!.toString();
  }

  /** Exactly `size` bytes of text. */
  text(size: number, random: () => number, randomShare = 0.06): Buffer {
    const out = Buffer.allocUnsafe(size + 256);
    let pos = 0;
    const { ALNUM, PUNCT } = TextGenerator;
    while (pos < size) {
      const indent = Math.floor(random() * 4) * 2;
      out.fill(32, pos, pos + indent);
      pos += indent;
      const count = 3 + Math.floor(random() * 10);
      for (let w = 0; w < count && pos < size; w++) {
        if (random() < randomShare) {
          const length = 3 + Math.floor(random() * 8);
          for (let i = 0; i < length; i++) out[pos++] = ALNUM[Math.floor(random() * 63)]!;
        } else {
          pos += this.words[this.table[Math.floor(random() * 65536)]!]!.copy(out, pos);
        }
        if (random() < 0.7) out[pos++] = 32;
        else pos += PUNCT[Math.floor(random() * PUNCT.length)]!.copy(out, pos);
      }
      out[pos++] = 10;
    }
    out[size - 1] = 10;
    return out.subarray(0, size);
  }

  /** A config file: `key = value` lines and comments. */
  config(size: number, random: () => number): Buffer {
    const lines: string[] = [];
    let length = 0;
    while (length < size) {
      const line = random() < 0.2 ? `# ${this.text(40 + Math.floor(random() * 60), random).toString().replace(/\n/g, ' ').trim()}` : `${this.word(random)}_${this.word(random)} = ${random() < 0.5 ? Math.floor(random() * 10000) : this.word(random)}`;
      lines.push(line);
      length += line.length + 1;
    }
    return Buffer.from(`${lines.join('\n')}\n`).subarray(0, Math.max(size, 1));
  }
}

/** Binary-ish content: random blocks, machine-code-like low-entropy blocks, tables and zero pages; compresses about 1.5×. */
class BinaryGenerator {
  private readonly cipher;
  private static readonly ZEROS = Buffer.alloc(MIB);
  private static readonly CODE_MAP = (() => {
    const symbols = [0x48, 0x89, 0x8b, 0x00, 0xe8, 0xff, 0x0f, 0x85, 0x84, 0xc3, 0x24, 0x44, 0x45, 0x4c, 0x8d, 0x83, 0xc0, 0x74, 0x75, 0x01, 0x31, 0xd2, 0x5d, 0x41];
    const weights = symbols.map((_, rank) => 1 / (rank + 2));
    const total = weights.reduce((a, b) => a + b, 0);
    const map = new Uint8Array(256);
    let cumulative = 0;
    let slot = 0;
    for (let rank = 0; rank < symbols.length; rank++) {
      cumulative += weights[rank]! / total;
      const end = Math.min(256, Math.round(cumulative * 256));
      while (slot < end) map[slot++] = symbols[rank]!;
    }
    while (slot < 256) map[slot++] = symbols[symbols.length - 1]!;
    return map;
  })();

  constructor(seed: number) {
    const key = createHash('sha256').update(`kiln-bench-binary-${seed}`).digest();
    this.cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  private keystream(size: number): Buffer {
    const parts: Buffer[] = [];
    for (let left = size; left > 0; left -= MIB) parts.push(this.cipher.update(BinaryGenerator.ZEROS.subarray(0, Math.min(MIB, left))));
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  content(size: number, random: () => number): Buffer {
    const out = this.keystream(size);
    const map = BinaryGenerator.CODE_MAP;
    for (let block = 0; block < size; block += 4096) {
      const end = Math.min(size, block + 4096);
      const kind = random();
      if (kind < 0.5) continue;
      if (kind < 0.85) {
        for (let i = block; i < end; i++) out[i] = map[out[i]!]!;
      } else if (kind < 0.95) {
        for (let i = block + 16; i < end; i++) out[i] = out[i - 16]!;
      } else {
        out.fill(0, block, end);
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------- the package set

/** Which packages there are, what they hold and depend on: all decided from the seed. */
function planPackages(count: number, totalBytes: number, seed: number): PackageSpec[] {
  const random = seededRandom(seed);
  const logUniform = (min: number, max: number) => Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min)));
  const largeBudget = totalBytes * LARGE_SHARE;
  const largeCount = Math.max(1, Math.min(count - 1, Math.round(largeBudget / LARGE_PACKAGE_BYTES)));
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const isLarge = new Set(order.slice(0, largeCount));

  // Small-file counts: heavy-tailed weights, scaled so the bytes fit the budget.
  const smallFiles = (totalBytes - largeBudget) / SMALL_MEAN;
  const weights = new Map<number, number>();
  for (let i = 0; i < count; i++) if (!isLarge.has(i)) weights.set(i, logUniform(1, 60));
  const weightSum = [...weights.values()].reduce((a, b) => a + b, 0);

  // Large files: one to four per package, log-uniform 1–8 MiB, scaled to the budget.
  const rawLarge = new Map<number, number[]>();
  for (const i of isLarge) rawLarge.set(i, Array.from({ length: 1 + Math.floor(random() * 4) }, () => logUniform(LARGE_MIN, LARGE_MAX)));
  const rawSum = [...rawLarge.values()].flat().reduce((a, b) => a + b, 0);
  const scale = largeBudget / rawSum;

  const specs: PackageSpec[] = [];
  let files = 0;
  let blobs = 0;
  for (let i = 0; i < count; i++) {
    const kind: Kind = isLarge.has(i) ? 'blob' : 'files';
    const name = kind === 'blob' ? `blob${String(++blobs).padStart(4, '0')}` : `files${String(++files).padStart(4, '0')}`;
    specs.push({
      index: i,
      name,
      kind,
      version: `1.${Math.floor(random() * 20)}.${Math.floor(random() * 10)}`,
      category: CATEGORIES[Math.floor(random() * CATEGORIES.length)]!,
      license: LICENSES[Math.floor(random() * LICENSES.length)]!,
      depends: [],
      seed: Math.floor(random() * 2 ** 31),
      fileCount: kind === 'files' ? Math.max(40, Math.round((smallFiles * weights.get(i)!) / weightSum)) : 0,
      largeSizes: kind === 'blob' ? rawLarge.get(i)!.map((size) => Math.round(Math.min(LARGE_MAX, Math.max(LARGE_MIN, size * scale)))) : [],
    });
  }
  // Dependencies point at earlier packages only (no cycles); a third of them at large "library" packages.
  const largeNames = specs.filter((spec) => spec.kind === 'blob');
  for (const spec of specs) {
    if (spec.index === 0) continue;
    const wanted = Math.floor(random() * 4);
    const chosen = new Set<string>();
    for (let k = 0; k < wanted; k++) {
      const earlierLarge = largeNames.filter((other) => other.index < spec.index);
      const target = random() < 0.33 && earlierLarge.length > 0 ? earlierLarge[Math.floor(random() * earlierLarge.length)]! : specs[Math.floor(random() * spec.index)]!;
      chosen.add(target.name);
    }
    spec.depends = [...chosen].sort().map((name) => `${name} >=1.0`);
  }
  return specs;
}

interface StagedFile {
  path: string;
  content?: Buffer;
  mode?: number;
  symlink?: string;
}

/** The files of one package, relative to its stage directory. */
function packageFiles(spec: PackageSpec, text: TextGenerator): { files: StagedFile[]; configFiles: string[]; sonames: string[] } {
  const random = seededRandom(spec.seed);
  const { name } = spec;
  const files: StagedFile[] = [];
  const configFiles: string[] = [];
  const small = () => Math.round(Math.exp(Math.log(SMALL_MIN) + random() * Math.log(SMALL_MAX / SMALL_MIN)));
  const addConfig = (path: string) => {
    files.push({ path, content: text.config(small(), random), mode: 0o644 });
    configFiles.push(path);
  };
  if (spec.kind === 'blob') {
    const binary = new BinaryGenerator(spec.seed);
    const major = 1 + Math.floor(random() * 5);
    const places = [`lib/lib${name}.so.${major}.${Math.floor(random() * 10)}.0`, `bin/${name}`, `lib/${name}/plugins/${text.word(random)}.so`, `share/${name}/${name}.dat`];
    spec.largeSizes.forEach((size, i) => files.push({ path: places[i]!, content: binary.content(size, random), mode: i === 3 ? 0o644 : 0o755 }));
    files.push({ path: `lib/lib${name}.so.${major}`, symlink: basename(places[0]!) });
    files.push({ path: `lib/lib${name}.so`, symlink: `lib${name}.so.${major}` });
    addConfig(`etc/${name}.conf`);
    files.push({ path: `share/doc/${name}/README`, content: text.text(small(), random) });
    return { files, configFiles, sonames: [`lib${name}.so.${major}`] };
  }
  files.push({ path: `bin/${name}`, content: Buffer.concat([Buffer.from('#!/bin/sh\n'), text.text(small(), random)]), mode: 0o755 });
  files.push({ path: `lib/lib${name}.so.1.0.0`, content: text.text(small(), random), mode: 0o755 });
  files.push({ path: `lib/lib${name}.so.1`, symlink: `lib${name}.so.1.0.0` });
  files.push({ path: `lib/lib${name}.so`, symlink: `lib${name}.so.1` });
  addConfig(`etc/${name}/${name}.conf`);
  const extraConfigs = 1 + Math.floor(random() * 4);
  for (let i = 0; i < extraConfigs; i++) addConfig(`etc/${name}/conf.d/${String(10 * (i + 1)).padStart(2, '0')}-${text.word(random)}.conf`);
  files.push({ path: `share/doc/${name}/README`, content: text.text(small(), random) });
  files.push({ path: `share/doc/${name}/COPYING`, content: text.text(small(), random) });
  const rest = Math.max(0, spec.fileCount - files.length);
  const headers = Math.floor(rest * 0.1);
  for (let i = 0; i < headers; i++) files.push({ path: `include/${name}/${text.word(random)}_${i}.h`, content: text.text(small(), random) });
  // The rest in directories of about 32 files, two levels deep.
  const top = Array.from({ length: Math.ceil((rest - headers) / 256) }, (_, k) => `${text.word(random)}${k}`);
  const sub = Array.from({ length: 8 }, (_, k) => `${text.word(random)}${k}`);
  for (let i = 0; i < rest - headers; i++) {
    const dir = Math.floor(i / 32);
    const path = `share/${name}/${top[Math.floor(dir / 8)]}/${sub[dir % 8]}`;
    const file = `${text.word(random)}-${i}.${EXTENSIONS[Math.floor(random() * EXTENSIONS.length)]}`;
    files.push({ path: `${path}/${file}`, content: text.text(small(), random) });
    if (i % 50 === 49) files.push({ path: `${path}/latest-${i}`, symlink: file });
  }
  return { files, configFiles, sonames: [`lib${name}.so.1`] };
}

let secretKey: Awaited<ReturnType<typeof readSecretKeyFile>> | undefined;

async function packOne(spec: PackageSpec, input: WorkerInput, text: TextGenerator): Promise<PackedPackage & { paths: string[] }> {
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
  const packInput = parsePackInput({
    name: spec.name,
    category: spec.category,
    version: spec.version,
    summary: spec.kind === 'blob' ? `Large binary-ish benchmark package ${spec.name}` : `Many-small-files benchmark package ${spec.name}`,
    homepage: `https://example.org/${spec.name}`,
    license: spec.license,
    options: {},
    target: input.target,
    depends: spec.depends,
    provides: { sonames },
    configFiles,
  }, spec.name);
  secretKey ??= await readSecretKeyFile(input.keyPath);
  const { path, metadata } = await pack({ stageDir: stage, input: packInput, outDir: input.outDir, secretKey, durable: false });
  rmSync(stage, { recursive: true, force: true });
  const count = (type: string) => metadata.files.filter((entry) => entry.type === type).length;
  const allocated = metadata.files.reduce((total, entry) => total + (entry.type === 'file' ? Math.ceil(entry.size / 4096) * 4096 : entry.type === 'dir' ? 4096 : 0), 0);
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
    packOne(spec, input, text).then((result) => parentPort!.postMessage({ result }), (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.stack ?? error.message : String(error) }));
  });
}

function stageRootDirectory(): string {
  // Staging on tmpfs keeps the work disk out of generation; fall back to the temp dir.
  try {
    const stats = statfsSync('/dev/shm');
    if (stats.bavail * stats.bsize > 2 * 1024 * MIB) return mkdtempSync('/dev/shm/kiln-bench-stage-');
  } catch {
    // No /dev/shm.
  }
  return mkdtempSync(join(tmpdir(), 'kiln-bench-stage-'));
}

async function generateSet(setDir: string, count: number, mib: number, seed: number, log: (line: string) => void): Promise<PackageSet> {
  rmSync(setDir, { recursive: true, force: true });
  mkdirSync(setDir, { recursive: true });
  const keys = await writeKeyPair(join(setDir, 'keys'));
  const specs = planPackages(count, mib * MIB, seed);
  const host = detectHost();
  const input: WorkerInput = {
    seed,
    stageRoot: stageRootDirectory(),
    outDir: join(setDir, 'out'),
    keyPath: keys.secretKeyPath,
    target: { arch: host.arch, cpu: host.cpuLevels[0] ?? host.arch, libc: host.libc, libcVersion: host.libc === 'glibc' ? '2.17' : host.libcVersion },
  };
  const started = performance.now();
  const results: (PackedPackage & { paths: string[] })[] = [];
  const threads = Math.max(1, Math.min(availableParallelism(), 8));
  log(`generating ${count} packages (~${mib} MiB uncompressed, seed ${seed}) with ${threads} worker thread(s) into ${setDir}`);
  try {
    // Biggest first, so that no thread is left with a large package at the end.
    const queue = [...specs].sort((a, b) => (b.fileCount * SMALL_MEAN + b.largeSizes.reduce((x, y) => x + y, 0)) - (a.fileCount * SMALL_MEAN + a.largeSizes.reduce((x, y) => x + y, 0)));
    await Promise.all(Array.from({ length: threads }, () => new Promise<void>((resolve, reject) => {
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
    })));
  } finally {
    rmSync(input.stageRoot, { recursive: true, force: true });
  }
  if (results.length !== count) throw new Error(`packed ${results.length} packages, expected ${count}`);
  results.sort((a, b) => a.index - b.index);
  log(`packed in ${((performance.now() - started) / 1000).toFixed(1)} s; publishing`);

  const repo = join(setDir, 'repo');
  await initRepository(repo, { keyPath: keys.secretKeyPath, name: 'bench', expireDays: 3650 });
  const added = await addPackages(repo, results.map((result) => result.path));
  const committed = await commitRepository(repo, { message: `${count} generated benchmark packages` });
  const byName = new Map([...added.staged, ...added.unchanged].map((entry) => [entry.name, entry.path]));
  rmSync(join(setDir, 'out'), { recursive: true, force: true });
  const unique = new Set<string>();
  for (const result of results) for (const path of result.paths) unique.add(path);
  const set: PackageSet = {
    generator: GENERATOR_VERSION,
    formatVersion: PACKAGE_FORMAT_VERSION,
    seed,
    requestedPackages: count,
    requestedMiB: mib,
    uniquePaths: unique.size,
    expires: committed.index.expires,
    packages: results.map(({ paths: _paths, ...result }) => ({ ...result, path: byName.get(result.name) ?? fail(`${result.name} is not in the repository`) })),
    complete: true,
  };
  writeFileSync(join(setDir, 'set.json'), `${JSON.stringify(set, null, 1)}\n`);
  log(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return set;
}

function fail(message: string): never {
  throw new Error(message);
}

function readSet(setDir: string, seed: number): PackageSet | undefined {
  try {
    const set = JSON.parse(readFileSync(join(setDir, 'set.json'), 'utf8')) as PackageSet;
    if (set.complete !== true || set.generator !== GENERATOR_VERSION || set.formatVersion !== PACKAGE_FORMAT_VERSION || set.seed !== seed) return undefined;
    if (!set.packages.every((pkg) => existsSync(join(setDir, 'repo', pkg.path)))) return undefined;
    return set;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- fresh filesystems

type FsKind = 'ext4' | 'tmpfs' | 'directory';

interface FreshFs {
  kind: FsKind;
  mnt: string;
  cleanup: () => void;
}

const active = new Set<FreshFs>();

function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...options });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.slice(0, 6).join(' ')}${args.length > 6 ? ' …' : ''} failed (${result.status ?? result.signal}):\n${String(result.stderr ?? '').slice(-4000)}`);
  return String(result.stdout ?? '');
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** Which kinds of fresh filesystem to try, best first. */
function fsPreference(): FsKind[] {
  const root = process.getuid?.() === 0;
  if (!root) return ['directory'];
  return [...(have('mkfs.ext4') && have('mount') && have('umount') ? ['ext4' as const] : []), 'tmpfs', 'directory'];
}

function makeFs(kind: FsKind, bytes: number, inodes: number): FreshFs {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-fs-'));
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  let mounted = false;
  const cleanup = () => {
    if (mounted) {
      spawnSync('umount', [mnt], { stdio: 'ignore' });
      mounted = false;
    }
    rmSync(dir, { recursive: true, force: true });
    active.delete(fs);
  };
  const fs: FreshFs = { kind, mnt, cleanup };
  active.add(fs);
  try {
    if (kind === 'ext4') {
      const image = join(dir, 'fs.img');
      closeSync(openSync(image, 'w'));
      truncateSync(image, bytes);
      // Inode tables and journal initialized now, so no lazy-init thread writes during a timed run.
      run('mkfs.ext4', ['-q', '-F', '-j', '-N', String(inodes), '-E', 'lazy_itable_init=0,lazy_journal_init=0', image]);
      run('mount', ['-o', 'loop', image, mnt]);
      mounted = true;
    } else if (kind === 'tmpfs') {
      run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},nr_inodes=${inodes}`, 'tmpfs', mnt]);
      mounted = true;
    }
  } catch (error) {
    cleanup();
    throw error;
  }
  return fs;
}

let chosenKind: FsKind | undefined;

function freshFs(bytes: number, inodes: number, log: (line: string) => void): FreshFs {
  if (chosenKind !== undefined) return makeFs(chosenKind, bytes, inodes);
  for (const kind of fsPreference()) {
    try {
      const fs = makeFs(kind, bytes, inodes);
      chosenKind = kind;
      if (kind === 'tmpfs') log('warning: no loop-mounted ext4 here; using tmpfs (CPU cost only, no disk)');
      if (kind === 'directory') log(`warning: not root or cannot mount: installing into plain directories under ${tmpdir()}; figures are less reliable (see shared/BENCHMARKING.md)`);
      return fs;
    } catch (error) {
      log(`note: cannot make a fresh ${kind} filesystem: ${(error as Error).message.split('\n').slice(0, 2).join(' ')}`);
    }
  }
  throw new Error('no fresh filesystem could be made');
}

function cleanupAll(): void {
  for (const fs of [...active]) fs.cleanup();
}

// ---------------------------------------------------------------- measuring

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

let clockTicks = 100;

/** CPU seconds (user, system) of this process's waited-for children. */
function childCpu(): { user: number; system: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[13]) / clockTicks, system: Number(fields[14]) / clockTicks };
}

/** CPU seconds the whole machine has been busy (every state but idle and iowait). */
function machineBusy(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / clockTicks;
}

interface Timing {
  seconds: number;
  /** CPU time the rest of the machine used meanwhile (kernel writeback threads included): a noise indicator. */
  otherCpuSeconds: number;
  toolSeconds: number;
  syncSeconds: number;
  userSeconds: number;
  systemSeconds: number;
}

/** Run a command to completion, then `sync`; wall time of both and the CPU the command used. */
function timed(command: string, args: string[]): { timing: Timing; stdout: string } {
  const busyBefore = machineBusy();
  const cpuBefore = childCpu();
  const start = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ran = performance.now();
  const cpuAfter = childCpu();
  spawnSync('sync');
  const end = performance.now();
  const busy = machineBusy() - busyBefore;
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${basename(command)} ${args.slice(0, 8).join(' ')} … failed (${result.status ?? result.signal}):\n${result.stderr.slice(-4000)}`);
  return {
    timing: { seconds: (end - start) / 1000, otherCpuSeconds: Math.max(0, busy - (cpuAfter.user - cpuBefore.user) - (cpuAfter.system - cpuBefore.system)), toolSeconds: (ran - start) / 1000, syncSeconds: (end - ran) / 1000, userSeconds: cpuAfter.user - cpuBefore.user, systemSeconds: cpuAfter.system - cpuBefore.system },
    stdout: result.stdout,
  };
}

function kiln(args: string[]): string {
  return run(process.execPath, [KILN, ...args]);
}

/** Every path under `root` (not `root` itself), relative, skipping `skip(relativePath)` subtrees. */
function countPaths(root: string, skip: (path: string) => boolean = () => false): number {
  let count = 0;
  const walk = (dir: string, relative: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (skip(path)) continue;
      count++;
      if (entry.isDirectory()) walk(join(dir, entry.name), path);
    }
  };
  walk(root, '');
  return count;
}

/** Paths Kiln itself makes in a prefix; the generated packages own none of them. */
const kilnOwn = (path: string) => path === 'var' || path === 'etc/kiln';

interface Variant {
  key: 'kilnCold' | 'kilnWarm' | 'reference';
  label: string;
  runs: Timing[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      regenerate: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      runs: { type: 'string' },
      packages: { type: 'string' },
      mib: { type: 'string' },
      seed: { type: 'string', default: '20261121' },
    },
  });
  const number = (option: string | undefined, env: string, fallback: number, min: number) => {
    const text = option ?? process.env[env] ?? String(fallback);
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`${option !== undefined ? 'option' : env}: expected an integer >= ${min}, got ${JSON.stringify(text)}`);
    return value;
  };
  const count = number(values.packages, 'BENCH_PACKAGES', 300, 2);
  const mib = number(values.mib, 'BENCH_MIB', 300, 1);
  const runs = number(values.runs, 'BENCH_RUNS', 3, 1);
  const seed = number(values.seed, 'BENCH_SEED', 20261121, 0);
  const log = (line: string) => console.error(`bench: ${line}`);
  const clk = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  if (clk.status === 0 && Number(clk.stdout) > 0) clockTicks = Number(clk.stdout);

  const setDir = join(ROOT, 'bench-out', 'install', `p${count}-m${mib}-s${seed}`);
  let set = values.regenerate ? undefined : readSet(setDir, seed);
  if (set === undefined) set = await generateSet(setDir, count, mib, seed, log);
  else log(`using the package set in ${setDir} (pass --regenerate to make it again)`);
  const repo = join(setDir, 'repo');
  if (Date.parse(set.expires) < Date.now() + 86_400_000) {
    const { index } = await commitRepository(repo, { allowEmpty: true, message: 'renew for the benchmark' });
    set.expires = index.expires;
    writeFileSync(join(setDir, 'set.json'), `${JSON.stringify(set, null, 1)}\n`);
  }

  const pkgs = set.packages;
  const sum = (field: keyof PackedPackage) => pkgs.reduce((total, pkg) => total + (pkg[field] as number), 0);
  const totals = {
    packages: pkgs.length,
    smallFilePackages: pkgs.filter((pkg) => pkg.kind === 'files').length,
    largePackages: pkgs.filter((pkg) => pkg.kind === 'blob').length,
    entries: sum('entries'),
    files: sum('files'),
    dirs: sum('dirs'),
    symlinks: sum('symlinks'),
    uniquePaths: set.uniquePaths,
    dependencies: pkgs.reduce((total, pkg) => total + pkg.depends.length, 0),
    uncompressedBytes: sum('uncompressed'),
    compressedBytes: sum('compressed'),
    installedBytes: sum('installed'),
    packageFileBytes: sum('packageBytes'),
  };
  const names = pkgs.map((pkg) => pkg.name);
  const publicKey = join(setDir, 'keys', 'kiln.pub');
  const remoteUrl = pathToFileURL(repo).href;
  const warmCache = join(setDir, 'warm-cache');
  rmSync(warmCache, { recursive: true, force: true });
  // Room for the installed tree, the download cache (or the payloads) and the staging, with margin.
  const fsBytes = Math.ceil((sum('allocated') * 1.3 + totals.packageFileBytes * 2 + 256 * MIB) / MIB) * MIB;
  const fsInodes = Math.ceil(totals.entries * 1.5) + 20_000;

  const variants: Variant[] = [
    { key: 'kilnCold', label: 'kiln install, cold cache (file:// remote)', runs: [] },
    { key: 'kilnWarm', label: 'kiln install, warm cache (no download)', runs: [] },
    { key: 'reference', label: 'reference: zstd -dc | tar -x, one by one', runs: [] },
  ];
  const downloads: Record<string, number[]> = { kilnCold: [], kilnWarm: [] };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up and stopping`);
    cleanupAll();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (let round = 1; round <= runs; round++) {
      for (const variant of variants) {
        const fs = freshFs(fsBytes, fsInodes, log);
        try {
          let timing: Timing;
          if (variant.key === 'reference') {
            const payloads = join(fs.mnt, 'payloads');
            const root = join(fs.mnt, 'root');
            mkdirSync(payloads);
            mkdirSync(root);
            for (const [i, pkg] of pkgs.entries()) {
              const fd = openSync(join(payloads, `${String(i).padStart(5, '0')}-${pkg.name}.tar.zst`), 'w');
              try {
                const result = spawnSync('tar', ['-xOf', join(repo, pkg.path), 'payload.tar.zst'], { stdio: ['ignore', fd, 'pipe'] });
                if (result.status !== 0) throw new Error(`tar -xOf ${pkg.path} payload.tar.zst failed: ${String(result.stderr)}`);
              } finally {
                closeSync(fd);
              }
            }
            spawnSync('sync');
            await pause(2000);
            ({ timing } = timed('bash', ['-c', 'set -eo pipefail; for f in "$1"/*.tar.zst; do zstd -qdc -- "$f" | tar -x -C "$2"; done', 'bench-reference', payloads, root]));
            const found = countPaths(root);
            if (found !== set.uniquePaths) throw new Error(`reference: extracted ${found} paths, expected ${set.uniquePaths}`);
          } else {
            const prefix = join(fs.mnt, 'prefix');
            kiln(['--prefix', prefix, 'init']);
            kiln(['--prefix', prefix, 'remote', 'add', 'bench', remoteUrl, '--key', publicKey]);
            kiln(['--prefix', prefix, 'sync']);
            const cache = join(prefix, 'var/cache/kiln/packages');
            if (variant.key === 'kilnWarm') {
              if (!existsSync(warmCache)) throw new Error('no warm cache: the cold run did not leave one');
              mkdirSync(cache, { recursive: true });
              run('cp', ['-a', `${warmCache}/.`, cache]);
            }
            spawnSync('sync');
            await pause(2000);
            const result = timed(process.execPath, [KILN, '--prefix', prefix, 'install', ...names, '-y', '--json']);
            timing = result.timing;
            const output = JSON.parse(result.stdout) as { plan?: { downloadBytes?: number; actions?: unknown[] }; applied?: boolean };
            if (output.applied !== true || output.plan?.actions?.length !== pkgs.length) throw new Error(`kiln install: unexpected result ${result.stdout.slice(0, 500)}`);
            downloads[variant.key]!.push(output.plan.downloadBytes ?? Number.NaN);
            const found = countPaths(prefix, kilnOwn);
            if (found !== set.uniquePaths) throw new Error(`kiln install: ${found} paths in the prefix, expected ${set.uniquePaths}`);
            if (variant.key === 'kilnCold' && !existsSync(warmCache)) {
              mkdirSync(warmCache, { recursive: true });
              run('cp', ['-a', `${cache}/.`, warmCache]);
            }
          }
          variant.runs.push(timing);
          log(`round ${round}/${runs}: ${variant.label}: ${timing.seconds.toFixed(2)} s (tool ${timing.toolSeconds.toFixed(2)} s + sync ${timing.syncSeconds.toFixed(2)} s; cpu user ${timing.userSeconds.toFixed(2)} s, sys ${timing.systemSeconds.toFixed(2)} s; rest of the machine ${timing.otherCpuSeconds.toFixed(2)} s) on ${fs.kind}`);
        } finally {
          fs.cleanup();
        }
      }
    }
  } finally {
    cleanupAll();
    rmSync(warmCache, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const version = (command: string, args: string[]) => (spawnSync(command, args, { encoding: 'utf8' }).stdout ?? '').split('\n')[0]!.trim();
  const fsDescription = chosenKind === 'ext4'
    ? `fresh ext4 per run (mkfs.ext4, journal on, ${Math.round(fsBytes / MIB)} MiB, ${fsInodes} inodes) on a loop image in ${tmpdir()} (${run('findmnt', ['-n', '-o', 'FSTYPE,OPTIONS', '-T', tmpdir()]).trim().replace(/\s+/g, ' ')})`
    : chosenKind === 'tmpfs' ? `fresh tmpfs per run (${Math.round(fsBytes / MIB)} MiB)` : `a new plain directory per run under ${tmpdir()} (less reliable)`;
  const reference = median(variants.find((variant) => variant.key === 'reference')!.runs.map((timing) => timing.seconds));
  const summary = variants.map((variant) => {
    const seconds = variant.runs.map((timing) => timing.seconds);
    const mid = median(seconds);
    return {
      key: variant.key,
      label: variant.label,
      medianSeconds: mid,
      minSeconds: Math.min(...seconds),
      maxSeconds: Math.max(...seconds),
      mibPerSecond: totals.uncompressedBytes / MIB / mid,
      filesPerSecond: totals.entries / mid,
      /** Throughput relative to the reference (reference time / this time). */
      vsReference: reference / mid,
      medianToolSeconds: median(variant.runs.map((timing) => timing.toolSeconds)),
      medianSyncSeconds: median(variant.runs.map((timing) => timing.syncSeconds)),
      medianUserSeconds: median(variant.runs.map((timing) => timing.userSeconds)),
      medianSystemSeconds: median(variant.runs.map((timing) => timing.systemSeconds)),
      medianOtherCpuSeconds: median(variant.runs.map((timing) => timing.otherCpuSeconds)),
      runs: variant.runs,
      ...(variant.key in downloads ? { downloadBytes: downloads[variant.key] } : {}),
    };
  });
  const results = {
    date: new Date().toISOString(),
    machine: {
      nproc: availableParallelism(),
      kernel: `${osType()} ${release()}`,
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
      zstd: `zstd ${/v(\d[\d.]*)/.exec(version('zstd', ['--version']))?.[1] ?? '?'}`,
      tar: version('tar', ['--version']),
      filesystem: chosenKind,
      filesystemDescription: fsDescription,
    },
    set: { dir: setDir, seed, ...totals },
    runs,
    timing: 'wall + final sync, after a sync and a 2 s pause',
    variants: summary,
  };
  await import('node:fs/promises').then(({ writeFile }) => writeFile(join(ROOT, 'bench-out', 'install.json'), `${JSON.stringify(results, null, 2)}\n`));
  if (values.json) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  const mibText = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;
  const int = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`\nInstall benchmark: ${totals.packages} packages (${totals.smallFilePackages} with many small files, ${totals.largePackages} large binary-ish; ${totals.dependencies} dependencies)`);
  console.log(`  entries: ${int(totals.entries)} (${int(totals.files)} files, ${int(totals.dirs)} directories, ${int(totals.symlinks)} symlinks; ${int(totals.uniquePaths)} distinct paths)`);
  console.log(`  payload: ${mibText(totals.uncompressedBytes)} uncompressed (tar), ${mibText(totals.compressedBytes)} compressed (${(totals.uncompressedBytes / totals.compressedBytes).toFixed(2)}×); file contents ${mibText(totals.installedBytes)}; .kpkg files ${mibText(totals.packageFileBytes)}`);
  console.log(`  machine: ${results.machine.nproc} CPUs, ${results.machine.memoryGiB} GiB, ${results.machine.kernel}, Node.js ${process.version}, ${results.machine.zstd}, ${results.machine.tar}`);
  console.log(`  filesystem: ${fsDescription}`);
  console.log(`  each figure: median of ${runs} run(s), wall + final sync, after a 2 s pause; MiB/s = uncompressed payload MiB / s, files/s = entries / s`);
  const rows = [['', 'median', 'min–max', 'MiB/s', 'files/s', 'vs reference', 'tool + sync', 'cpu user + sys', 'other cpu']];
  for (const row of summary) {
    rows.push([
      row.label,
      `${row.medianSeconds.toFixed(2)} s`,
      `${row.minSeconds.toFixed(2)}–${row.maxSeconds.toFixed(2)} s`,
      (row.mibPerSecond).toFixed(1),
      int(row.filesPerSecond),
      `${row.vsReference.toFixed(2)}×`,
      `${row.medianToolSeconds.toFixed(2)} + ${row.medianSyncSeconds.toFixed(2)} s`,
      `${row.medianUserSeconds.toFixed(2)} + ${row.medianSystemSeconds.toFixed(2)} s`,
      `${row.medianOtherCpuSeconds.toFixed(2)} s`,
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  console.log('');
  for (const row of rows) console.log(`  ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')}`);
  console.log('\n  vs reference: throughput relative to the reference (reference time / this time; below 1 is slower)');
  console.log('  tool + sync: the command, then the final sync; cpu: what the command used; other cpu: the rest of the machine meanwhile');
  console.log('  (kernel writeback included; several seconds more than the reference\'s means something else was running)');
  console.log(`\nwritten: bench-out/install.json`);
}

if (isMainThread) await main();
else await workerMain();
