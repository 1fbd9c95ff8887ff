/**
 * A fresh filesystem for each measured run (see shared/BENCHMARKING.md: a
 * directory made right after deleting a large tree lies): a loop-mounted ext4
 * image made with mkfs.ext4 (journal on, inode tables initialized up front)
 * when running as root, else tmpfs (root), else a plain new directory, with a
 * warning. `cleanupAll()` unmounts whatever is still mounted (errors, Ctrl-C).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type FsKind = 'ext4' | 'tmpfs' | 'directory';

export interface FreshFs {
  kind: FsKind;
  mnt: string;
  cleanup: () => void;
}

const active = new Set<FreshFs>();
let chosen: FsKind | undefined;

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr.trim()}`);
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function makeFs(kind: FsKind, bytes: number): FreshFs {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-index-'));
  // World-traversable: apt downloads as the unprivileged user _apt.
  chmodSync(dir, 0o755);
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  let mounted = false;
  const fs: FreshFs = {
    kind,
    mnt,
    cleanup: () => {
      if (mounted) {
        // A command killed a moment ago may still hold it: then detach lazily.
        if (spawnSync('umount', [mnt], { stdio: 'ignore' }).status !== 0) spawnSync('umount', ['-l', mnt], { stdio: 'ignore' });
        mounted = false;
      }
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch (error) {
        console.error(`bench: could not remove ${dir}: ${(error as Error).message}`);
      }
      active.delete(fs);
    },
  };
  active.add(fs);
  try {
    if (kind === 'ext4') {
      const image = join(dir, 'fs.img');
      closeSync(openSync(image, 'w'));
      truncateSync(image, bytes);
      run('mkfs.ext4', ['-q', '-F', '-j', '-E', 'lazy_itable_init=0,lazy_journal_init=0', image]);
      run('mount', ['-o', 'loop', image, mnt]);
      mounted = true;
    } else if (kind === 'tmpfs') {
      run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', mnt]);
      mounted = true;
    }
    chmodSync(mnt, 0o755);
  } catch (error) {
    fs.cleanup();
    throw error;
  }
  return fs;
}

/** A new empty filesystem of `bytes` (the first call decides which kind works here). */
export function freshFs(bytes: number, log: (line: string) => void): FreshFs {
  if (chosen !== undefined) return makeFs(chosen, bytes);
  const root = process.getuid?.() === 0;
  const kinds: FsKind[] = root ? [...(have('mkfs.ext4') && have('mount') ? ['ext4' as const] : []), 'tmpfs', 'directory'] : ['directory'];
  for (const kind of kinds) {
    try {
      const fs = makeFs(kind, bytes);
      chosen = kind;
      if (kind === 'tmpfs') log('warning: cannot make a loop-mounted ext4 here; using tmpfs (CPU cost only, no disk)');
      if (kind === 'directory') log(`warning: not root or cannot mount: client state goes to plain new directories under ${tmpdir()}; figures are less reliable (see shared/BENCHMARKING.md)`);
      return fs;
    } catch (error) {
      log(`note: cannot make a fresh ${kind} filesystem: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error('bench: no fresh filesystem could be made');
}

export function chosenFsKind(): FsKind | undefined {
  return chosen;
}

export function cleanupAll(): void {
  for (const fs of [...active]) fs.cleanup();
}
