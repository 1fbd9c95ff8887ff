/**
 * A real Debian root file system to install into as root, the way a user
 * runs Kiln on a distribution: the cached tarball scripts/rootfs.sh makes
 * with Debian's mmdebstrap, unpacked into a temporary directory, and Kiln run
 * inside it with chroot — its own `/`, merged /usr and all — in a private
 * mount namespace (/proc, /dev, this machine's node binary, this checkout and
 * the test's directory bound in; the mounts vanish with the command).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { KILN_BIN } from './kiln.js';
import type { RunResult } from './kiln.js';

/** The project checkout (dist/ and node_modules/ are used inside the root). */
export const PROJECT = resolve(KILN_BIN, '../../../..');

/** The cached root file system tarball, or why there is none. */
export function rootfsTarball(): { path: string } | { missing: string } {
  if (process.getuid?.() !== 0) return { missing: 'installing into a real root needs root (CI runs as root)' };
  const made = spawnSync('bash', [join(PROJECT, 'scripts/rootfs.sh')], { encoding: 'utf8' });
  const path = made.stdout.trim();
  if (made.status !== 0 || path === '' || !existsSync(path))
    throw new Error(`scripts/rootfs.sh made no root file system:\n${made.stderr}`);
  return { path };
}

export interface RealRoot {
  /** The unpacked root on this machine. */
  dir: string;
  /** Where the test's own directory is inside the root. */
  shared: string;
  /** Run kiln inside the root, as root, with `/` its prefix. */
  kiln(args: readonly string[]): Promise<RunResult>;
  /** Run a program of the root inside it. */
  run(program: string, args: readonly string[]): Promise<RunResult>;
}

/** Unpack the root into `parent/root` and bind `sharedDir` (the test's directory) at /srv/kiln-test in it. */
export function unpackRoot(t: TestContext, tarball: string, parent: string, sharedDir: string): RealRoot {
  const dir = join(parent, 'root');
  mkdirSync(dir);
  const untar = spawnSync('tar', ['-xpf', tarball, '-C', dir, '--numeric-owner'], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`cannot unpack ${tarball}: ${untar.stderr}`);
  // Mount points, made before anything is compared, so they are part of "before".
  writeFileSync(join(dir, 'usr/local/bin/node'), '');
  mkdirSync(join(dir, 'opt/kiln'), { recursive: true });
  mkdirSync(join(dir, 'srv/kiln-test'), { recursive: true });
  t.after(() => spawnSync('rm', ['-rf', '--one-file-system', dir]));
  const inRoot = (argv: readonly string[]): Promise<RunResult> =>
    new Promise((resolvePromise, reject) => {
      const script = [
        'set -e',
        'r=$1; shift',
        'mount -t proc proc "$r/proc"',
        'mount --rbind /dev "$r/dev"',
        `mount --bind ${JSON.stringify(process.execPath)} "$r/usr/local/bin/node"`,
        `mount --bind ${JSON.stringify(PROJECT)} "$r/opt/kiln"`,
        `mount --bind ${JSON.stringify(sharedDir)} "$r/srv/kiln-test"`,
        'exec chroot "$r" "$@"',
      ].join('\n');
      const child = spawn(
        'unshare',
        ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', dir, ...argv],
        {
          env: {
            PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            HOME: '/root',
            NO_COLOR: '1',
            LC_ALL: 'C',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        resolvePromise({
          code,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        }),
      );
    });
  return {
    dir,
    shared: '/srv/kiln-test',
    kiln: (args) => inRoot(['/usr/local/bin/node', '/opt/kiln/dist/src/cli/kiln.cjs', ...args]),
    run: (program, args) => inRoot([program, ...args]),
  };
}

/** relative path -> "type mode content-or-target" for everything under `root/relative` (links not followed). */
export function digestTree(root: string, relative: string): Map<string, string> {
  const digest = new Map<string, string>();
  const walk = (path: string): void => {
    const full = join(root, path);
    const info = lstatSync(full);
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isSymbolicLink()) digest.set(path, `link ${readlinkSync(full)}`);
    else if (info.isDirectory()) {
      digest.set(path, `dir ${mode} ${info.uid}:${info.gid}`);
      for (const name of readdirSync(full).sort()) walk(`${path}/${name}`);
    } else if (info.isFile())
      digest.set(
        path,
        `file ${mode} ${info.uid}:${info.gid} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`,
      );
    else digest.set(path, `other ${mode}`);
  };
  walk(relative);
  return digest;
}

/** What differs between two digests: paths added, removed and changed. */
export function digestChanges(
  before: Map<string, string>,
  after: Map<string, string>,
): { added: string[]; removed: string[]; changed: string[] } {
  return {
    added: [...after.keys()].filter((path) => !before.has(path)).sort(),
    removed: [...before.keys()].filter((path) => !after.has(path)).sort(),
    changed: [...after.keys()].filter((path) => before.has(path) && before.get(path) !== after.get(path)).sort(),
  };
}
