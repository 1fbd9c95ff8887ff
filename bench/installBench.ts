/**
 * `npm run bench:install`: installing one generated workload with Kiln and with
 * the package managers people use, side by side, against floors of plain
 * `zstd -dc | tar -x` and `bsdtar -x` (the fastest of them is the reference).
 *
 * The workload (bench-out/install/SET/, made once from a seed and reused;
 * workload/*.ts): N packages on a dependency DAG, about half the bytes in
 * packages of many small text-like files (executables under bin/, a shared
 * library and its soname symlinks, config files under etc/, headers, other
 * symlinks), half in a few large binary-ish files; signed .kpkg files in a Kiln
 * repository. The same payloads are packed once as .deb, .pkg.tar.zst, .rpm and
 * plain tar.zst (peers/*.ts, cached in SET/peers/), all zstd at Kiln's level.
 *
 * Every run gets a fresh filesystem (a loop-mounted ext4 image, journal on, as
 * root; measure.ts) with the tool's package files copied onto it beforehand;
 * then a `sync`, a 2-second pause, and the one command timed as wall + a final
 * `sync`, with its peak memory (GNU time %M). Variants take turns within each
 * round (variants.ts). After each package manager's install, on that root:
 * list installed and owner of one file (wall, 5 times each) and removing
 * everything (wall + sync). Before the rounds, each variant runs once on a
 * small set under `strace -f -c` to count its sync-family calls.
 *
 * Options: --shape mixed|medium|huge (workload/plan.ts SHAPES: many small
 * files; fewer, larger files; a few very large files), --packages N, --mib M
 * (defaults by shape: 300/300, 300/400, 20/400), --seed S, --runs R,
 * --only KEY,KEY…, --trace-packages N (0: no strace runs), --trace-mib M,
 * --regenerate, --json. Environment: BENCH_SHAPE, BENCH_PACKAGES, BENCH_MIB,
 * BENCH_SEED, BENCH_RUNS (3), BENCH_ONLY, BENCH_TRACE_PACKAGES (20),
 * BENCH_TRACE_MIB (20).
 * Figures are printed and written to bench-out/install.json (install-SHAPE.json
 * for the other shapes).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import {
  MIB,
  SYNC_CALLS,
  chosenFsKind,
  cleanupAll,
  countLeft,
  countPaths,
  freshFs,
  have,
  haveGnuTime,
  median,
  pause,
  run,
  timed,
  traced,
  wall,
} from './measure.js';
import type { SyncCounts, Timing } from './measure.js';
import type { FormatKey } from './peers/common.js';
import { dpkgVersion } from './peers/deb.js';
import { kilnVersion } from './peers/kiln.js';
import { pacmanVersion } from './peers/pacman.js';
import type { PeerCache } from './peers/prepare.js';
import { preparePeers } from './peers/prepare.js';
import { rpmVersion } from './peers/rpm.js';
import type { Spread } from './installReport.js';
import { countsText, countsTotal, int, mib, range, seconds, spread, table, timingSummary } from './installReport.js';
import type { Context, Prepared, ToolName, VariantDef, VariantKey } from './installVariants.js';
import { VARIANTS, VARIANT_KEYS } from './installVariants.js';
import type { ShapeName } from './workload/plan.js';
import { SHAPES, SHAPE_NAMES } from './workload/plan.js';
import type { PackageSet } from './workload/set.js';
import { loadSet } from './workload/set.js';

const KILN = fileURLToPath(new URL('../src/cli/kiln.cjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAUSE_MS = 2000;
const QUERY_REPEATS = 5;
/** Which variant's root the queries and the removal of each tool run on, first choice first. */
const QUERY_HOSTS: Record<Exclude<ToolName, 'floor'>, VariantKey[]> = {
  dpkg: ['dpkgSafe', 'dpkgUnsafe'],
  pacman: ['pacman'],
  rpm: ['rpm'],
  kiln: ['kilnWarm', 'kilnCold', 'kilnNoFsync', 'kilnFirstShared', 'kilnSecond'],
};

const log = (line: string) => console.error(`bench: ${line}`);

interface Workload {
  set: PackageSet;
  setDir: string;
  peers: PeerCache;
  ctx: Context;
  fsBytes: number;
  fsInodes: number;
}

async function loadWorkload(
  count: number,
  mibs: number,
  seed: number,
  shape: ShapeName,
  regenerate: boolean,
  formats: FormatKey[],
): Promise<Workload> {
  const { set, setDir, published } = await loadSet(ROOT, count, mibs, seed, shape, regenerate, log);
  const peers = await preparePeers(setDir, set, formats, log);
  const sum = (pick: (pkg: PackageSet['packages'][number]) => number) =>
    set.packages.reduce((total, pkg) => total + pick(pkg), 0);
  const biggestFormat = Math.max(
    sum((pkg) => pkg.packageBytes),
    ...Object.values(peers.formats).map((format) => format.bytes),
  );
  const entries = sum((pkg) => pkg.entries);
  return {
    set,
    setDir,
    peers,
    ctx: {
      set,
      repo: published,
      peers,
      names: set.packages.map((pkg) => pkg.name),
      kilnBin: KILN,
      publicKey: join(setDir, 'keys', 'kiln.pub'),
      threads: availableParallelism(),
    },
    // Room for three installed trees (kilnSecond: the shared cache's unpacked store and two prefixes, should
    // they not be hard links), three copies of the packages (repository + caches) and margin.
    fsBytes: Math.ceil((sum((pkg) => pkg.allocated) * 1.3 * 3 + biggestFormat * 3 + 512 * MIB) / MIB) * MIB,
    fsInodes: Math.ceil(entries * 3.5) + 20_000,
  };
}

/** Check an install: every distinct path of the set is under the root, nothing more. */
function checkInstalled(variant: VariantDef, prepared: Prepared, work: Workload): void {
  const found = countPaths(prepared.root, prepared.own);
  if (found !== work.set.uniquePaths)
    throw new Error(
      `${variant.key}: ${found} paths under the root after the install, expected ${work.set.uniquePaths}`,
    );
}

interface Traced {
  counts: SyncCounts;
  total: number;
  promiseHolds: boolean;
}

interface QueryFigures {
  tool: string;
  variant: VariantKey;
  list: number[];
  owns: number[];
  remove: Timing[];
  leftAfterRemoval: { files: number; dirs: number }[];
}

class UsageError extends Error {}

/** Where a run's figures go: bench-out/install.json, or install-SHAPE.json for a shape other than mixed. */
const resultsPath = (shape: ShapeName) =>
  join(ROOT, 'bench-out', shape === 'mixed' ? 'install.json' : `install-${shape}.json`);

const OPTIONS = {
  regenerate: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  runs: { type: 'string' },
  packages: { type: 'string' },
  mib: { type: 'string' },
  seed: { type: 'string' },
  shape: { type: 'string' },
  only: { type: 'string' },
  'trace-packages': { type: 'string' },
  'trace-mib': { type: 'string' },
} as const;

function parseOptions() {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  try {
    ({ values } = parseArgs({ options: OPTIONS }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const number = (flag: keyof typeof OPTIONS, env: string, fallback: number, min: number) => {
    const option = values[flag] as string | undefined;
    const text = option ?? process.env[env] ?? String(fallback);
    const value = Number(text);
    if (!Number.isInteger(value) || value < min)
      throw new UsageError(
        `${option !== undefined ? `--${flag}` : env}: expected an integer >= ${min}, got ${JSON.stringify(text)}`,
      );
    return value;
  };
  const onlyText = values.only ?? process.env['BENCH_ONLY'] ?? '';
  const only = onlyText
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
  const unknown = only.filter((key) => !(VARIANT_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0)
    throw new UsageError(`--only: unknown variant ${unknown.join(', ')} (known: ${VARIANT_KEYS.join(', ')})`);
  const shapeText = values.shape ?? process.env['BENCH_SHAPE'] ?? 'mixed';
  if (!(SHAPE_NAMES as string[]).includes(shapeText))
    throw new UsageError(
      `${values.shape !== undefined ? '--shape' : 'BENCH_SHAPE'}: unknown shape ${JSON.stringify(shapeText)} (known: ${SHAPE_NAMES.join(', ')})`,
    );
  const shape = shapeText as ShapeName;
  const tracePackages = number('trace-packages', 'BENCH_TRACE_PACKAGES', 20, 0);
  if (tracePackages === 1) throw new UsageError('--trace-packages: 0 (no strace runs) or at least 2');
  return {
    regenerate: values.regenerate === true,
    json: values.json === true,
    shape,
    count: number('packages', 'BENCH_PACKAGES', SHAPES[shape].packages, 2),
    mib: number('mib', 'BENCH_MIB', SHAPES[shape].mib, 1),
    runs: number('runs', 'BENCH_RUNS', 3, 1),
    seed: number('seed', 'BENCH_SEED', 20261121, 0),
    only: only as VariantKey[],
    tracePackages,
    traceMib: number('trace-mib', 'BENCH_TRACE_MIB', 20, 1),
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const notes: string[] = [];
  const note = (line: string) => {
    notes.push(line);
    log(`note: ${line}`);
  };
  const selected = VARIANTS.filter((variant) => options.only.length === 0 || options.only.includes(variant.key));
  const skipped: { key: VariantKey; reason: string }[] = [];
  let active = selected.filter((variant) => {
    const reason = variant.unavailable();
    if (reason !== undefined) {
      skipped.push({ key: variant.key, reason });
      note(`skipping ${variant.key}: ${reason}`);
    }
    return reason === undefined;
  });
  if (!haveGnuTime()) note('no GNU time at /usr/bin/time (Debian package "time"): peak memory is not measured');
  const formats = [...new Set(active.flatMap((variant) => (variant.format === undefined ? [] : [variant.format])))];

  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up and stopping`);
    cleanupAll();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const figures = new Map<VariantKey, { runs: Timing[]; extra: Record<string, number[]> }>();
  const traces = new Map<VariantKey, Traced>();
  const queries = new Map<string, QueryFigures>();
  const failed: { key: VariantKey; stage: string; error: string }[] = [];
  let work: Workload;
  let traceWork: Workload | undefined;
  try {
    work = await loadWorkload(options.count, options.mib, options.seed, options.shape, options.regenerate, formats);
    const drop = (variant: VariantDef, reason: string) => {
      skipped.push({ key: variant.key, reason });
      note(`skipping ${variant.key}: ${reason}`);
      return false;
    };
    active = active.filter(
      (variant) =>
        variant.format === undefined ||
        work.peers.formats[variant.format] !== undefined ||
        drop(variant, `its ${variant.format} packages could not be packed`),
    );

    // ---------------------------------------------------------------- durability, counted
    if (options.tracePackages > 0 && !have('strace'))
      note('no strace (Debian package "strace"): sync calls are not counted');
    else if (options.tracePackages > 0) {
      const same = options.tracePackages === options.count && options.traceMib === options.mib;
      traceWork = same
        ? work
        : await loadWorkload(
            options.tracePackages,
            options.traceMib,
            options.seed,
            'mixed',
            options.regenerate,
            formats,
          );
      log(`counting sync calls with strace -f on the ${traceWork.set.packages.length}-package set, each variant once`);
      for (const variant of active.filter(
        (v) => v.format === undefined || traceWork!.peers.formats[v.format] !== undefined,
      )) {
        const fs = freshFs({ bytes: traceWork.fsBytes, inodes: traceWork.fsInodes }, log);
        try {
          const prepared = variant.prepare(traceWork.ctx, fs.mnt);
          spawnSync('sync');
          const result = traced(
            prepared.install.command,
            prepared.install.args,
            prepared.install.env === undefined ? {} : { env: prepared.install.env },
          );
          prepared.figures(result.stdout);
          checkInstalled(variant, prepared, traceWork);
          if (result.ioUringSetups > 0)
            note(
              `${variant.key}: set up ${result.ioUringSetups} io_uring ring(s); syncs submitted through io_uring are not counted`,
            );
          const holds = variant.durability.holds(result.counts, traceWork.peers.workload.regularFiles);
          if (!holds)
            note(
              `${variant.key}: the counts (${countsText(result.counts)}) do not bear out its durability text; check variants.ts`,
            );
          traces.set(variant.key, { counts: result.counts, total: countsTotal(result.counts), promiseHolds: holds });
          log(`strace ${variant.key}: ${countsText(result.counts)}`);
        } catch (error) {
          failed.push({ key: variant.key, stage: 'strace', error: (error as Error).message });
          log(`error: ${variant.key} under strace: ${(error as Error).message}`);
        } finally {
          fs.cleanup();
        }
      }
    }

    // ---------------------------------------------------------------- timed rounds
    const hosts = new Map<VariantKey, Exclude<ToolName, 'floor'>>();
    for (const [tool, keys] of Object.entries(QUERY_HOSTS) as [Exclude<ToolName, 'floor'>, VariantKey[]][]) {
      const host = keys.find((key) => active.some((variant) => variant.key === key));
      if (host !== undefined) hosts.set(host, tool);
    }
    for (let round = 1; round <= options.runs; round++) {
      for (const variant of active) {
        if (failed.some((failure) => failure.key === variant.key && failure.stage.startsWith('round'))) continue;
        const fs = freshFs({ bytes: work.fsBytes, inodes: work.fsInodes }, log);
        try {
          const prepared = variant.prepare(work.ctx, fs.mnt);
          spawnSync('sync');
          await pause(PAUSE_MS);
          const env = prepared.install.env === undefined ? {} : { env: prepared.install.env };
          const { timing, stdout, stderr } = timed(prepared.install.command, prepared.install.args, env);
          showStderr(variant.key, 'install', stderr);
          const extra = prepared.figures(stdout);
          checkInstalled(variant, prepared, work);
          const entry = figures.get(variant.key) ?? { runs: [], extra: {} };
          entry.runs.push(timing);
          for (const [name, value] of Object.entries(extra)) {
            entry.extra[name] ??= [];
            entry.extra[name].push(value);
          }
          figures.set(variant.key, entry);
          log(
            `round ${round}/${options.runs}: ${variant.key}: ${timing.seconds.toFixed(2)} s (tool ${timing.toolSeconds.toFixed(2)} s + sync ${timing.syncSeconds.toFixed(2)} s; cpu user ${timing.userSeconds.toFixed(2)} s, sys ${timing.systemSeconds.toFixed(2)} s; rest of the machine ${timing.otherCpuSeconds.toFixed(2)} s; peak ${(timing.peakRssBytes / MIB).toFixed(0)} MiB) on ${fs.kind}`,
          );
          const tool = hosts.get(variant.key);
          if (
            tool !== undefined &&
            prepared.queries !== undefined &&
            !failed.some((failure) => failure.key === variant.key && failure.stage === 'queries')
          ) {
            try {
              await runQueries(tool, variant, prepared, work, queries);
            } catch (error) {
              failed.push({ key: variant.key, stage: 'queries', error: (error as Error).message });
              log(
                `error: ${tool} queries on the ${variant.key} root, round ${round}: ${(error as Error).message}\nbench: no more queries for ${tool}`,
              );
            }
          }
        } catch (error) {
          failed.push({ key: variant.key, stage: `round ${round}`, error: (error as Error).message });
          log(
            `error: ${variant.key}, round ${round}: ${(error as Error).message}\nbench: ${variant.key} is left out of the remaining rounds`,
          );
        } finally {
          fs.cleanup();
        }
      }
    }
  } finally {
    cleanupAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  report(options, work, traceWork, active, figures, traces, queries, skipped, failed, notes);
}

const shown = new Set<string>();

/** What a tool printed on stderr, the first time only: its warnings belong in the log. */
function showStderr(key: VariantKey, what: string, stderr: string): void {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0 || shown.has(`${key} ${what}`)) return;
  shown.add(`${key} ${what}`);
  log(
    `${key} ${what} printed on stderr (first time only): ${lines.slice(0, 6).join(' | ')}${lines.length > 6 ? ` | … (${lines.length} lines)` : ''}`,
  );
}

/** On the root a tool has just installed: list and owns 5 times each (wall), then remove everything (wall + sync). */
async function runQueries(
  tool: string,
  variant: VariantDef,
  prepared: Prepared,
  work: Workload,
  all: Map<string, QueryFigures>,
): Promise<void> {
  const q = prepared.queries!;
  const entry = all.get(tool) ?? { tool, variant: variant.key, list: [], owns: [], remove: [], leftAfterRemoval: [] };
  const opts = (env: NodeJS.ProcessEnv | undefined) => (env === undefined ? {} : { env });
  spawnSync('sync');
  await pause(PAUSE_MS);
  for (let i = 0; i < QUERY_REPEATS; i++) {
    const listed = wall(q.list.command, q.list.args, opts(q.list.env));
    if (q.listed(listed.stdout) !== work.set.packages.length)
      throw new Error(
        `${tool}: the list shows ${q.listed(listed.stdout)} packages, expected ${work.set.packages.length}:\n${listed.stdout.slice(0, 500)}`,
      );
    entry.list.push(listed.seconds);
  }
  for (let i = 0; i < QUERY_REPEATS; i++) {
    const owner = wall(q.owns.command, q.owns.args, opts(q.owns.env));
    if (!owner.stdout.includes(work.peers.ownsPackage))
      throw new Error(
        `${tool}: the owner of ${work.peers.ownsPath} is not ${work.peers.ownsPackage}:\n${owner.stdout.slice(0, 500)}`,
      );
    entry.owns.push(owner.seconds);
  }
  spawnSync('sync');
  await pause(PAUSE_MS);
  const { timing, stderr } = timed(q.remove.command, q.remove.args, opts(q.remove.env));
  showStderr(variant.key, 'remove', stderr);
  entry.remove.push(timing);
  entry.leftAfterRemoval.push(countLeft(prepared.root, prepared.own));
  all.set(tool, entry);
  log(
    `  ${tool} on the ${variant.key} root: list ${median(entry.list.slice(-QUERY_REPEATS)).toFixed(3)} s, owns ${median(entry.owns.slice(-QUERY_REPEATS)).toFixed(3)} s, remove all ${timing.seconds.toFixed(2)} s, left ${JSON.stringify(entry.leftAfterRemoval[entry.leftAfterRemoval.length - 1])}`,
  );
}

function version(command: string, args: string[], pattern: RegExp): string {
  if (!have(command)) return 'absent';
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return pattern.exec(`${result.stdout ?? ''}\n${result.stderr ?? ''}`)?.[1] ?? '?';
}

/** Debian's GNU time calls itself version UNKNOWN; its package knows. */
function gnuTimeVersion(): string {
  const own = version('/usr/bin/time', ['--version'], /GNU Time\) (\S+)/);
  if (own !== 'UNKNOWN' && own !== '?') return own;
  const packaged = have('dpkg-query')
    ? spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'time'], { encoding: 'utf8' }).stdout?.trim()
    : '';
  return packaged !== undefined && packaged !== '' ? `${packaged} (Debian package)` : own;
}

function report(
  options: ReturnType<typeof parseOptions>,
  work: Workload,
  traceWork: Workload | undefined,
  active: VariantDef[],
  figures: Map<VariantKey, { runs: Timing[]; extra: Record<string, number[]> }>,
  traces: Map<VariantKey, Traced>,
  queries: Map<string, QueryFigures>,
  skipped: { key: VariantKey; reason: string }[],
  failed: { key: VariantKey; stage: string; error: string }[],
  notes: string[],
): void {
  const { set, peers } = work;
  const pkgs = set.packages;
  const sum = (pick: (pkg: PackageSet['packages'][number]) => number) =>
    pkgs.reduce((total, pkg) => total + pick(pkg), 0);
  const totals = {
    packages: pkgs.length,
    smallFilePackages: pkgs.filter((pkg) => pkg.kind === 'files').length,
    largePackages: pkgs.filter((pkg) => pkg.kind === 'blob').length,
    entries: sum((pkg) => pkg.entries),
    files: sum((pkg) => pkg.files),
    executables: peers.workload.executables,
    configFiles: peers.workload.configFiles,
    dirs: sum((pkg) => pkg.dirs),
    symlinks: sum((pkg) => pkg.symlinks),
    uniquePaths: set.uniquePaths,
    dependencies: sum((pkg) => pkg.depends.length),
    uncompressedBytes: sum((pkg) => pkg.uncompressed),
    compressedBytes: sum((pkg) => pkg.compressed),
    installedBytes: sum((pkg) => pkg.installed),
    packageFileBytes: sum((pkg) => pkg.packageBytes),
  };
  const packed: Record<string, { bytes: number; mib: number; vsTarZst: number; compression: string }> = {};
  const tarZstBytes = peers.formats.tarzst?.bytes ?? Number.NaN;
  packed['kpkg'] = {
    bytes: totals.packageFileBytes,
    mib: totals.packageFileBytes / MIB,
    vsTarZst: totals.packageFileBytes / tarZstBytes,
    compression: 'zstd (Kiln pack default level), payload + signed metadata',
  };
  for (const [key, format] of Object.entries(peers.formats))
    packed[key] = {
      bytes: format.bytes,
      mib: format.bytes / MIB,
      vsTarZst: format.bytes / tarZstBytes,
      compression: format.compression,
    };
  for (const [key, p] of Object.entries(packed)) {
    if (Math.abs(p.vsTarZst - 1) > 0.15)
      notes.push(`the ${key} packages are ${p.vsTarZst.toFixed(2)}× the size of the plain tar.zst: not comparable`);
  }

  // The reference is the fastest floor measured (GNU tar or bsdtar, serial or parallel).
  const floors = active
    .filter((variant) => variant.tool === 'floor' && figures.has(variant.key))
    .map((variant) => ({
      key: variant.key,
      label: variant.label,
      seconds: median(figures.get(variant.key)!.runs.map((timing) => timing.seconds)),
    }))
    .sort((a, b) => a.seconds - b.seconds);
  const floor = floors[0]?.seconds ?? Number.NaN;
  const variants = active
    .filter((variant) => figures.has(variant.key))
    .map((variant) => {
      const { runs, extra } = figures.get(variant.key)!;
      const time = spread(runs.map((timing) => timing.seconds));
      const trace = traces.get(variant.key);
      return {
        key: variant.key,
        tool: variant.tool,
        label: variant.label,
        durability: variant.durability.short,
        durabilityPromise: variant.durability.promise,
        medianSeconds: time.median,
        minSeconds: time.min,
        maxSeconds: time.max,
        mibPerSecond: totals.uncompressedBytes / MIB / time.median,
        filesPerSecond: totals.entries / time.median,
        /** This variant's median time / the fastest floor's (1 = as fast as the floor; 2 = twice as long). */
        vsFloor: time.median / floor,
        ...timingSummary(runs),
        syncCalls:
          trace === undefined ? null : { ...trace.counts, total: trace.total, promiseHolds: trace.promiseHolds },
        runs,
        ...Object.fromEntries(Object.entries(extra).map(([name, values]) => [name, values])),
      };
    });
  const querySummary = [...queries.values()].map((q) => ({
    tool: q.tool,
    variant: q.variant,
    list: spread(q.list),
    owns: { path: peers.ownsPath, ...spread(q.owns) },
    removeAll: { ...spread(q.remove.map((timing) => timing.seconds)), runs: q.remove },
    leftAfterRemoval: q.leftAfterRemoval,
  }));

  const fsKind = chosenFsKind();
  const fsDescription =
    fsKind === 'ext4'
      ? `fresh ext4 per run (mkfs.ext4, journal on, ${Math.round(work.fsBytes / MIB)} MiB, ${work.fsInodes} inodes) on a loop image in ${tmpdir()} (${run('findmnt', ['-n', '-o', 'FSTYPE,OPTIONS', '-T', tmpdir()]).trim().replace(/\s+/g, ' ')})`
      : fsKind === 'tmpfs'
        ? `fresh tmpfs per run (${Math.round(work.fsBytes / MIB)} MiB)`
        : `a new plain directory per run under ${tmpdir()} (less reliable)`;
  const cpuModel = cpus()[0]?.model ?? '?';
  const results = {
    date: new Date().toISOString(),
    machine: {
      nproc: availableParallelism(),
      cpu: cpuModel,
      kernel: `${osType()} ${release()}`,
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
      filesystem: fsKind ?? null,
      filesystemDescription: fsDescription,
      tools: {
        kiln: kilnVersion(KILN),
        dpkg: have('dpkg') ? dpkgVersion() : 'absent',
        pacman: have('pacman') ? pacmanVersion() : 'absent',
        rpm: have('rpm') ? rpmVersion() : 'absent',
        zstd: version('zstd', ['--version'], /v(\d[\d.]*)/),
        tar: version('tar', ['--version'], /tar\) (\S+)/),
        bsdtar: version('bsdtar', ['--version'], /bsdtar (\S+)/),
        strace: version('strace', ['-V'], /version (\S+)/),
        gnuTime: haveGnuTime() ? gnuTimeVersion() : 'absent',
      },
    },
    set: { dir: work.setDir, seed: options.seed, shape: options.shape, ...totals },
    packedSizes: packed,
    runs: options.runs,
    timing: `wall + final sync, after a sync and a ${PAUSE_MS / 1000} s pause; peak memory: GNU time %M (largest max RSS among the command and the descendants it waited for)`,
    /** The variants' vsFloor divides by this floor's median: the fastest floor measured. */
    floor: floors[0] ?? null,
    variants,
    queries: querySummary,
    durability:
      traceWork === undefined
        ? null
        : {
            method: `strace -f -c -e trace=${SYNC_CALLS.join(',')} of the install command, each variant once on a fresh filesystem`,
            set: {
              dir: traceWork.setDir,
              packages: traceWork.set.packages.length,
              regularFiles: traceWork.peers.workload.regularFiles,
              uniquePaths: traceWork.set.uniquePaths,
            },
            variants: Object.fromEntries(
              [...traces.entries()].map(([key, trace]) => [
                key,
                { ...trace, promise: VARIANTS.find((v) => v.key === key)!.durability.promise },
              ]),
            ),
          },
    skipped,
    failed,
    notes,
  };
  mkdirSync(join(ROOT, 'bench-out'), { recursive: true });
  writeFileSync(resultsPath(options.shape), `${JSON.stringify(results, null, 2)}\n`);
  if (options.json) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }

  const m = results.machine;
  console.log(
    `\nInstall benchmark: ${totals.packages} packages (${totals.smallFilePackages} with many small files, ${totals.largePackages} large binary-ish; ${int(totals.dependencies)} dependencies)`,
  );
  console.log(
    `  entries: ${int(totals.entries)} (${int(totals.files)} files of which ${int(totals.executables)} executable and ${int(totals.configFiles)} config files, ${int(totals.dirs)} directories, ${int(totals.symlinks)} symlinks; ${int(totals.uniquePaths)} distinct paths)`,
  );
  console.log(
    `  payload: ${mib(totals.uncompressedBytes)} uncompressed (tar), ${mib(totals.compressedBytes)} compressed (${(totals.uncompressedBytes / totals.compressedBytes).toFixed(2)}×); file contents ${mib(totals.installedBytes)}`,
  );
  console.log(`  machine: ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB, ${m.kernel}, Node.js ${m.node}`);
  console.log(
    `  tools: ${Object.entries(m.tools)
      .map(([tool, v]) => `${tool} ${v}`)
      .join(', ')}`,
  );
  console.log(`  filesystem: ${fsDescription}`);

  console.log('\nPackages, compressed:');
  console.log(
    table(
      [
        ['format', 'size', 'vs tar.zst', 'compression'],
        ...Object.entries(packed).map(([key, p]) => [key, mib(p.bytes), `${p.vsTarZst.toFixed(2)}×`, p.compression]),
      ],
      1,
    ),
  );

  const traceSet =
    traceWork === undefined
      ? ''
      : ` (strace, ${traceWork.set.packages.length}-package set, ${int(traceWork.peers.workload.regularFiles)} files)`;
  console.log(`\nInstall, median of ${options.runs} run(s), wall + final sync:`);
  const rows = [
    ['variant', 'durability', 'median', 'min–max', 'final sync', '× floor', 'peak MiB', `fsync calls${traceSet}`],
  ];
  for (const v of variants) {
    rows.push([
      v.label,
      v.durability,
      seconds(v.medianSeconds),
      range({ median: v.medianSeconds, min: v.minSeconds, max: v.maxSeconds, samples: [] }),
      seconds(v.medianSyncSeconds),
      Number.isFinite(v.vsFloor) ? `${v.vsFloor.toFixed(2)}×` : '-',
      Number.isFinite(v.medianPeakRssMiB) ? v.medianPeakRssMiB.toFixed(0) : '-',
      v.syncCalls === null ? '-' : int(v.syncCalls.total),
    ]);
  }
  console.log(table(rows, 2));
  console.log(
    '  final sync: median time of the sync after the command, part of the total: what the tool left unwritten when it returned',
  );
  console.log(
    floors[0] === undefined
      ? '  × floor: no floor was measured'
      : `  × floor: median time / the fastest floor's median (${floors[0].key}: ${floors[0].label}); 1.00× = as fast as that floor`,
  );
  console.log(
    '  peak MiB: median of the largest max RSS among the command and the processes it waited for (GNU time %M); not a sum',
  );
  for (const v of variants) {
    const downloads = figures.get(v.key)?.extra['downloadBytes'];
    if (downloads === undefined) continue;
    const used = downloads.every((b) => b === 0);
    const cache =
      v.key === 'kilnSecond'
        ? used
          ? ': the packages the first prefix downloaded into the shared cache were used'
          : ": THE SHARED CACHE'S PACKAGES WERE NOT USED"
        : v.key === 'kilnWarm' || v.key === 'kilnNoFsync'
          ? used
            ? ''
            : ': THE WARM CACHE WAS NOT USED'
          : v.key === 'kilnFirstShared'
            ? used
              ? ': the packages in the shared cache were used'
              : ": THE SHARED CACHE'S PACKAGES WERE NOT USED"
            : '';
    console.log(`  ${v.key}: downloaded ${downloads.map((b) => mib(b)).join(', ')} per run (Kiln's plan)${cache}`);
    const linked = figures.get(v.key)?.extra['linkedFiles'];
    const files = figures.get(v.key)?.extra['regularFiles'];
    if (linked === undefined || files === undefined) continue;
    const none = linked.some((n) => n === 0) ? ': NOTHING WAS HARD-LINKED FROM THE SHARED STORE' : '';
    console.log(
      `  ${v.key}: ${linked.map((n, i) => `${int(n)} of ${int(files[i] ?? Number.NaN)}`).join(', ')} regular files per run are hard links (shared store)${none}`,
    );
  }

  if (querySummary.length > 0) {
    console.log(
      `\nOn the root each tool installed: list installed and owner of ${peers.ownsPath} (wall, ${QUERY_REPEATS} per round), remove all ${totals.packages} (wall + sync):`,
    );
    const qrows = [
      ['tool (root of)', 'list', 'min–max', 'owns', 'min–max', 'remove all', 'min–max', 'left: files, dirs'],
    ];
    for (const q of querySummary)
      qrows.push([
        `${q.tool} (${q.variant})`,
        seconds(q.list.median),
        range(q.list),
        seconds(q.owns.median),
        range(q.owns),
        seconds(q.removeAll.median),
        range(q.removeAll as Spread),
        q.leftAfterRemoval.map((left) => `${left.files}, ${left.dirs}`).join('; '),
      ]);
    console.log(table(qrows, 1));
    console.log(
      `  left: what is under the root after the removal (per round), the tool's own ${['var/', 'etc/kiln/'].join(' and ')} not counted`,
    );
  }

  if (results.durability !== null) {
    console.log(
      `\nDurability: sync-family calls under strace -f, ${results.durability.set.packages} packages (${int(results.durability.set.regularFiles)} regular files), one run each:`,
    );
    for (const v of VARIANTS) {
      const trace = traces.get(v.key);
      if (trace === undefined) continue;
      console.log(
        `  ${v.key}: ${countsText(trace.counts)}${trace.promiseHolds ? '' : '  [does not match the text below]'}`,
      );
      console.log(`    ${v.durability.promise}`);
    }
  }
  for (const line of notes) console.log(`note: ${line}`);
  for (const s of skipped) console.log(`skipped ${s.key}: ${s.reason}`);
  for (const f of failed) console.log(`FAILED ${f.key} (${f.stage}): ${f.error.split('\n').slice(0, 6).join('\n  ')}`);
  console.log(`\nwritten: ${resultsPath(options.shape)}`);
}

if (isMainThread) {
  await main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`bench: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  });
}
