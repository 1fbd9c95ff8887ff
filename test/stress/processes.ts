/**
 * What the stress harnesses share: kiln processes started with their pid
 * known (so that they can be killed), the process that holds a kernel lock
 * (read from /proc/locks, which is what the kernel itself says), and a
 * digest of a directory tree for comparing two prefixes.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KILN_BIN } from '../helpers/kiln.js';

export interface Started {
  pid: number;
  args: readonly string[];
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Start `kiln ARGS` with a pinned environment (as the end-to-end helpers do). */
export function startKiln(args: readonly string[], cwd: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, [KILN_BIN, ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: cwd, NO_COLOR: '1', LC_ALL: 'C', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const done = new Promise<Awaited<Started['done']>>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
  if (child.pid === undefined) throw new Error(`Assertion failed: kiln ${args.join(' ')} did not start`);
  return { pid: child.pid, args, done };
}

/**
 * The pid holding a write lock on `path`, as /proc/locks reports it (SQLite's
 * RESERVED lock is a POSIX write lock on one byte at 1 GiB + 1); undefined
 * when nobody holds one or the file does not exist.
 */
export function kernelLockHolder(path: string): number | undefined {
  let inode: number;
  try {
    inode = statSync(path).ino;
  } catch {
    return undefined;
  }
  for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
    // 1: POSIX  ADVISORY  WRITE 6907 fe:00:2146516 1073741825 1073741825
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== 'POSIX' || fields[3] !== 'WRITE' || fields[6] !== '1073741825') continue;
    const where = fields[5]?.split(':');
    if (where !== undefined && Number(where[2]) === inode) return Number(fields[4]);
  }
  return undefined;
}

/**
 * The holder of a Kiln lock: what the kernel says about `lockPath`, else the
 * pid at the start of `textPath` (where a Kiln older than the kernel locks
 * wrote it: so that the harness can be run against one, to see it fail).
 */
export function lockHolder(lockPath: string, textPath: string): number | undefined {
  const kernel = kernelLockHolder(lockPath);
  if (kernel !== undefined) return kernel;
  try {
    const match = /^(\d+) /.exec(readFileSync(textPath, 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** path -> "type mode content-or-target" for every entry under `root`, skipping the relative paths in `skip`. */
export function treeDigest(root: string, skip: readonly string[] = []): Map<string, string> {
  const digest = new Map<string, string>();
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(root, relative)).sort()) {
      const path = relative === '' ? name : `${relative}/${name}`;
      if (skip.includes(path)) continue;
      const full = join(root, path);
      const info = lstatSync(full);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) digest.set(path, `symlink ${readlinkSync(full)}`);
      else if (info.isDirectory()) {
        digest.set(path, `dir ${mode}`);
        walk(path);
      } else digest.set(path, `file ${mode} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
    }
  };
  walk('');
  return digest;
}

/** The differences between two digests, one line each. */
export function digestDifferences(expected: Map<string, string>, actual: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [path, value] of expected) {
    const other = actual.get(path);
    if (other === undefined) lines.push(`missing ${path} (${value})`);
    else if (other !== value) lines.push(`differs ${path}: ${other}, expected ${value}`);
  }
  for (const [path, value] of actual) if (!expected.has(path)) lines.push(`extra ${path} (${value})`);
  return lines;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The error code a kiln command printed on stderr, as text (`error[CODE]`) or, with --json, as `{"error": {"code": …}}`. */
export function errorCode(stderr: string): string | undefined {
  return /error\[(E_[A-Z_]+)\]/.exec(stderr)?.[1] ?? /"error":\{"code":"(E_[A-Z_]+)"/.exec(stderr)?.[1];
}
