/**
 * Durable, atomic file replacement: write to a temporary name in the same
 * directory, fsync it, rename it over the target, fsync the directory. A reader
 * (or a crash) sees the old content or the new, never a mix.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isErrno } from '../errors/index.js';

export interface AtomicWriteOptions {
  /** File mode for a newly created file (default 0o644; the umask still applies). */
  mode?: number;
  /** Skip the fsyncs (tests and throw-away output only). */
  durable?: boolean;
}

let written = 0;

/**
 * A temporary path beside `path`, hidden and unique, for write-then-rename:
 * `.NAME.PID.XXXXXXXX.tmp`. Unique by process id and a counter (the low 16
 * bits); the random high bits keep apart two processes with one pid (in two
 * PID namespaces) and two threads of one process (each has its own counter;
 * the install workers do not write through here). Nothing depends on it being
 * secret: every caller creates the file exclusively, so a clash is an error,
 * never a shared file.
 * (Math.random, not node:crypto: loading crypto cost every query command about
 * 3 ms of start-up.)
 */
export function temporaryPathFor(path: string): string {
  const unique = ((Math.floor(Math.random() * 0x10000) << 16) | (written++ & 0xffff)) >>> 0;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${unique.toString(16).padStart(8, '0')}.tmp`);
}

/**
 * Atomically replace `path` with `data`.
 * @example await writeFileAtomic('repo/index.json', bytes)
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temporary = temporaryPathFor(path);
  const durable = options.durable ?? true;
  const handle = await open(temporary, 'wx', options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  if (durable) await syncDirectory(dirname(path));
}

/**
 * Copy `source` to `target` (its directory made if missing) through a hidden temporary beside it, so that
 * `target` is whole or absent. `durable`: the copy is fsynced before the rename (the directory is the
 * caller's to sync).
 */
export async function copyFileAtomic(source: string, target: string, durable: boolean): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temporary = temporaryPathFor(target);
  try {
    await copyFile(source, temporary, constants.COPYFILE_EXCL);
    if (durable) {
      const handle = await open(temporary, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** fsync a directory so that renames and creations in it survive a crash. */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const TEMPORARY_PATTERN = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** True for a name made by `temporaryPathFor`. */
export function isTemporaryPath(path: string): boolean {
  return TEMPORARY_PATTERN.test(basename(path));
}

/**
 * Remove the temporary files in `directory`: ones left by writers that died
 * (kill -9, power loss) before renaming them into place. The caller holds the
 * lock that every writer of the directory holds, so no live writer has one.
 */
export async function removeStaleTemporaries(directory: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!TEMPORARY_PATTERN.test(name)) continue;
    await rm(join(directory, name), { force: true });
    removed.push(name);
  }
  return removed;
}
