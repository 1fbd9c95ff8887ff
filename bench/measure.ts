/**
 * Measuring for the install and index benchmarks: fresh filesystems (see
 * shared/BENCHMARKING.md: a directory made right after deleting a large tree
 * lies) — a loop-mounted ext4 image per run as root (journal on, inode tables
 * initialized up front), else tmpfs, else a plain directory, with a warning;
 * `cleanupAll()` unmounts whatever is still mounted (errors, Ctrl-C). Also
 * running commands, timing one as wall + a final `sync` with its peak memory,
 * and counting the sync-family system calls of one under strace.
 */
import { spawnSync } from 'node:child_process';
import type { SpawnSyncOptions } from 'node:child_process';
import type { Dirent } from 'node:fs';
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export const MIB = 1024 * 1024;

export function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...options });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.slice(0, 6).join(' ')}${args.length > 6 ? ' …' : ''} failed (${result.status ?? result.signal}):\n${String(result.stderr ?? '').slice(-4000)}`,
    );
  return String(result.stdout ?? '');
}

/** Whether a command is on PATH (or an executable path). */
export function have(tool: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'have', tool], { stdio: 'ignore' }).status === 0;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The lower median. */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

// ---------------------------------------------------------------- fresh filesystems

export type FsKind = 'ext4' | 'tmpfs' | 'directory';

export interface FreshFs {
  kind: FsKind;
  mnt: string;
  cleanup: () => void;
}

/** What a fresh filesystem must hold. */
export interface FsSize {
  bytes: number;
  /** Inodes to make room for (mkfs.ext4 -N, tmpfs nr_inodes); the filesystem's default when absent. */
  inodes?: number;
  /** Its directory and mount point world-traversable (0755), for tools that drop privileges (apt downloads as _apt). */
  traversable?: boolean;
}

const active = new Set<FreshFs>();
const scratch = new Set<string>();

/** A temporary directory removed by cleanupAll (on errors and signals too). */
export function scratchDir(prefix: string, parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, prefix));
  scratch.add(dir);
  return dir;
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  scratch.delete(dir);
}

/** Which kinds of fresh filesystem to try, best first. */
function fsPreference(): FsKind[] {
  if (!isRoot()) return ['directory'];
  return [...(have('mkfs.ext4') && have('mount') && have('umount') ? ['ext4' as const] : []), 'tmpfs', 'directory'];
}

function makeFs(kind: FsKind, size: FsSize): FreshFs {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-fs-'));
  if (size.traversable === true) chmodSync(dir, 0o755);
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  let mounted = false;
  const cleanup = () => {
    if (mounted) {
      let result = spawnSync('umount', [mnt], { stdio: 'ignore' });
      // A process killed by a signal may still hold it for a moment.
      if (result.status !== 0) result = spawnSync('umount', ['-l', mnt], { stdio: 'ignore' });
      mounted = result.status !== 0;
    }
    if (!mounted) rmSync(dir, { recursive: true, force: true });
    active.delete(fs);
  };
  const fs: FreshFs = { kind, mnt, cleanup };
  active.add(fs);
  try {
    if (kind === 'ext4') {
      const image = join(dir, 'fs.img');
      closeSync(openSync(image, 'w'));
      truncateSync(image, size.bytes);
      // Inode tables and journal initialized now, so no lazy-init thread writes during a timed run.
      const inodes = size.inodes === undefined ? [] : ['-N', String(size.inodes)];
      run('mkfs.ext4', ['-q', '-F', '-j', ...inodes, '-E', 'lazy_itable_init=0,lazy_journal_init=0', image]);
      run('mount', ['-o', 'loop', image, mnt]);
      mounted = true;
    } else if (kind === 'tmpfs') {
      const inodes = size.inodes === undefined ? '' : `,nr_inodes=${size.inodes}`;
      run('mount', ['-t', 'tmpfs', '-o', `size=${size.bytes}${inodes}`, 'tmpfs', mnt]);
      mounted = true;
    }
    if (size.traversable === true) chmodSync(mnt, 0o755);
  } catch (error) {
    cleanup();
    throw error;
  }
  return fs;
}

let chosenKind: FsKind | undefined;

export const chosenFsKind = () => chosenKind;

/** A new empty filesystem (the first call decides which kind works here). */
export function freshFs(size: FsSize, log: (line: string) => void): FreshFs {
  if (chosenKind !== undefined) return makeFs(chosenKind, size);
  for (const kind of fsPreference()) {
    try {
      const fs = makeFs(kind, size);
      chosenKind = kind;
      if (kind === 'tmpfs') log('warning: no loop-mounted ext4 here; using tmpfs (CPU cost only, no disk)');
      if (kind === 'directory')
        log(
          `warning: not root or cannot mount: using plain new directories under ${tmpdir()} instead of fresh filesystems; figures are less reliable (see shared/BENCHMARKING.md)`,
        );
      return fs;
    } catch (error) {
      log(
        `note: cannot make a fresh ${kind} filesystem: ${(error as Error).message.split('\n').slice(0, 2).join(' ')}`,
      );
    }
  }
  throw new Error('no fresh filesystem could be made');
}

/** Unmounts and deletes every fresh filesystem and scratch directory still there. */
export function cleanupAll(): void {
  for (const fs of [...active]) fs.cleanup();
  for (const dir of [...scratch]) removeScratch(dir);
}

// ---------------------------------------------------------------- timing

let clockTicks = 100;
{
  const clk = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  if (clk.status === 0 && Number(clk.stdout) > 0) clockTicks = Number(clk.stdout);
}

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

export interface Timing {
  seconds: number;
  /** CPU time the rest of the machine used meanwhile (kernel writeback threads included): a noise indicator. */
  otherCpuSeconds: number;
  toolSeconds: number;
  syncSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  /** Largest resident set of the command or any process of its tree it waited for (GNU time %M), bytes; NaN without /usr/bin/time. */
  peakRssBytes: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const GNU_TIME = '/usr/bin/time';
let gnuTime: boolean | undefined;

/** Whether /usr/bin/time is GNU time (it has -f and -o). */
export function haveGnuTime(): boolean {
  gnuTime ??= spawnSync(GNU_TIME, ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0;
  return gnuTime;
}

function failure(
  command: string,
  args: string[],
  status: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  stdout: string,
): Error {
  const tail = (stderr.trim() === '' ? stdout : stderr).slice(-4000);
  return new Error(
    `${basename(command)} ${args.slice(0, 8).join(' ')}${args.length > 8 ? ' …' : ''} failed (${status ?? signal}):\n${tail}`,
  );
}

/**
 * Run a command to completion, then `sync`: wall time of both, the CPU the
 * command used, and its peak memory through `/usr/bin/time -f %M` (the
 * largest maximum resident set of the command and the descendants it waited
 * for — not a sum over processes running at once).
 */
export function timed(
  command: string,
  args: string[],
  options: RunOptions = {},
): { timing: Timing; stdout: string; stderr: string } {
  let argv = [command, ...args];
  let peakFile: string | undefined;
  if (haveGnuTime()) {
    peakFile = join(scratchDir('kiln-bench-time-'), 'peak');
    argv = [GNU_TIME, '-f', '%M', '-o', peakFile, ...argv];
  }
  try {
    const busyBefore = machineBusy();
    const cpuBefore = childCpu();
    const start = performance.now();
    const result = spawnSync(argv[0]!, argv.slice(1), {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    const ran = performance.now();
    const cpuAfter = childCpu();
    spawnSync('sync');
    const end = performance.now();
    const busy = machineBusy() - busyBefore;
    if (result.error !== undefined) throw result.error;
    if (result.status !== 0) throw failure(command, args, result.status, result.signal, result.stderr, result.stdout);
    let peakRssBytes = Number.NaN;
    if (peakFile !== undefined) {
      const lines = readFileSync(peakFile, 'utf8').trim().split('\n');
      peakRssBytes = Number(lines[lines.length - 1]) * 1024;
    }
    const user = cpuAfter.user - cpuBefore.user;
    const system = cpuAfter.system - cpuBefore.system;
    return {
      timing: {
        seconds: (end - start) / 1000,
        otherCpuSeconds: Math.max(0, busy - user - system),
        toolSeconds: (ran - start) / 1000,
        syncSeconds: (end - ran) / 1000,
        userSeconds: user,
        systemSeconds: system,
        peakRssBytes,
      },
      stdout: result.stdout,
      stderr: result.stderr,
    };
  } finally {
    if (peakFile !== undefined) removeScratch(join(peakFile, '..'));
  }
}

/** Wall seconds of one run of a command (no sync): for read-only queries. */
export function wall(command: string, args: string[], options: RunOptions = {}): { seconds: number; stdout: string } {
  const start = performance.now();
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  const seconds = (performance.now() - start) / 1000;
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw failure(command, args, result.status, result.signal, result.stderr, result.stdout);
  return { seconds, stdout: result.stdout };
}

// ---------------------------------------------------------------- durability

/** The system calls that make data durable, as strace names them on Linux. */
export const SYNC_CALLS = ['fsync', 'fdatasync', 'syncfs', 'sync', 'sync_file_range', 'msync'] as const;
export type SyncCall = (typeof SYNC_CALLS)[number];
export type SyncCounts = Record<SyncCall, number>;

/** Run a command under `strace -f -c`, counting the sync-family calls of it and every process and thread it starts. */
export function traced(
  command: string,
  args: string[],
  options: RunOptions = {},
): { counts: SyncCounts; ioUringSetups: number; stdout: string } {
  const dir = scratchDir('kiln-bench-strace-');
  try {
    const out = join(dir, 'summary');
    const result = spawnSync(
      'strace',
      ['-f', '-c', '-o', out, '-e', `trace=${SYNC_CALLS.join(',')},io_uring_setup`, command, ...args],
      { encoding: 'utf8', maxBuffer: 1 << 30, env: options.env ?? process.env, cwd: options.cwd },
    );
    if (result.error !== undefined) throw result.error;
    if (result.status !== 0)
      throw failure(`strace ${command}`, args, result.status, result.signal, result.stderr, result.stdout);
    const counts = Object.fromEntries(SYNC_CALLS.map((call) => [call, 0])) as SyncCounts;
    // Operations submitted through io_uring are not system calls strace sees: count the rings set up, to warn.
    let ioUringSetups = 0;
    // "% time  seconds  usecs/call  calls  [errors]  syscall": the calls are the fourth column.
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      const fields = line.trim().split(/\s+/);
      const name = fields[fields.length - 1] as SyncCall;
      if (fields.length >= 5 && (SYNC_CALLS as readonly string[]).includes(name)) counts[name] += Number(fields[3]);
      if (fields.length >= 5 && fields[fields.length - 1] === 'io_uring_setup') ioUringSetups += Number(fields[3]);
    }
    return { counts, ioUringSetups, stdout: result.stdout };
  } finally {
    removeScratch(dir);
  }
}

// ---------------------------------------------------------------- checking

/** Visit every entry under `root` (not `root` itself) with its relative path, skipping `skip(relativePath)` subtrees. */
function walkTree(
  root: string,
  skip: (path: string) => boolean,
  visit: (entry: Dirent, path: string, full: string) => void,
): void {
  const walk = (dir: string, relative: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (skip(path)) continue;
      const full = join(dir, entry.name);
      visit(entry, path, full);
      if (entry.isDirectory()) walk(full, path);
    }
  };
  walk(root, '');
}

/** Every path under `root` (not `root` itself), relative, skipping `skip(relativePath)` subtrees. */
export function countPaths(root: string, skip: (path: string) => boolean = () => false): number {
  let count = 0;
  walkTree(root, skip, () => count++);
  return count;
}

/**
 * What is left under `root` (skipping `skip` subtrees): files and symlinks, and
 * directories. A directory holding a skipped path (`etc` around Kiln's
 * `etc/kiln`) is the tool's own and not counted; what else it holds is.
 */
export function countLeft(
  root: string,
  skip: (path: string) => boolean = () => false,
): { files: number; dirs: number } {
  const left = { files: 0, dirs: 0 };
  const walk = (dir: string, relative: string): boolean => {
    let holdsOwn = false;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (skip(path)) {
        holdsOwn = true;
        continue;
      }
      if (!entry.isDirectory()) left.files++;
      else if (!walk(join(dir, entry.name), path)) left.dirs++;
      else holdsOwn = true;
    }
    return holdsOwn;
  };
  walk(root, '');
  return left;
}

/** Regular files under `root` (skipping `skip` subtrees), and how many of them have other hard links (nlink > 1). */
export function countLinked(
  root: string,
  skip: (path: string) => boolean = () => false,
): { files: number; linked: number } {
  const found = { files: 0, linked: 0 };
  walkTree(root, skip, (entry, _path, full) => {
    if (!entry.isFile()) return;
    found.files++;
    if (lstatSync(full).nlink > 1) found.linked++;
  });
  return found;
}
