/** File-system helpers for the cases Kiln meets everywhere. */
import type { Stats } from 'node:fs';
import { lstatSync, readFileSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isErrno } from '../errors/index.js';

/** The file's content, or `undefined` when it does not exist. */
export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** `readFileIfExists`, synchronously; a path through a non-directory counts as absent too. */
export function readFileIfExistsSync(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
    throw error;
  }
}

/**
 * `lstat`, or `undefined` when nothing is there: when the path does not exist
 * (ENOENT) and when a component on the way to it is not a directory
 * (ENOTDIR: `bin/base/evil` while `bin/base` is a file), since nothing can be
 * there either. Callers that must tell the two apart ask `blockingAncestor`.
 */
export function lstatIfExists(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if (isErrno(error, 'ENOTDIR')) return undefined;
    throw error;
  }
}

/**
 * The nearest ancestor of `relativePath` (inside `root`) that exists and is
 * not a directory — a file, or a symbolic link, which Kiln never writes
 * through — or `undefined` when every existing ancestor is a directory.
 */
export function blockingAncestor(root: string, relativePath: string): { path: string; stat: Stats } | undefined {
  const chain: string[] = [];
  for (let path = dirname(relativePath); path !== '.' && path !== '' && path !== '/'; path = dirname(path))
    chain.unshift(path);
  for (const path of chain) {
    const stat = lstatIfExists(join(root, path));
    if (stat === undefined) return undefined;
    if (!stat.isDirectory()) return { path, stat };
  }
  return undefined;
}

/**
 * Fill `buffer` from `fd` at `position`, as many reads as it takes; the bytes read (fewer only at the end of
 * the file).
 */
export function readFullySync(fd: number, buffer: Uint8Array, position: number): number {
  let done = 0;
  while (done < buffer.length) {
    const read = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  return done;
}
