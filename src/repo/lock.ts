/**
 * An exclusive lock on a repository's maintainer state: `.kiln/lock`, created
 * with O_EXCL and holding the owner's pid. A lock left by a process that no
 * longer exists (kill -9, crash) is taken over.
 */
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { KilnError, isErrno } from '../errors/index.js';
import { temporaryPathFor } from '../util/atomicWrite.js';
import { processExists } from '../util/fs.js';

export interface Lock {
  release(): Promise<void>;
}

export async function acquireLock(path: string, what: string): Promise<Lock> {
  const owner = `${process.pid} ${hostname()}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    // Write the owner to a private file, then link it into place: link() fails
    // atomically when the lock exists, and a lock is never seen without its owner.
    const temporary = temporaryPathFor(path);
    await writeFile(temporary, owner, { mode: 0o644 });
    try {
      await link(temporary, path);
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    } finally {
      await rm(temporary, { force: true });
    }
    const holder = await readHolder(path);
    if (holder === null) continue;
    if (holder !== undefined && holder.host === hostname() && !processExists(holder.pid)) {
      await takeStaleLock(path, holder.text);
      continue;
    }
    throw new KilnError('E_LOCKED', `cannot lock ${what}: process ${holder?.pid ?? '?'} on ${holder?.host ?? '?'} holds ${path}`, {
      hint: 'wait for it to finish; if no such process is running, remove the lock file',
    });
  }
  throw new KilnError('E_LOCKED', `cannot lock ${what}: ${path} keeps reappearing`, { hint: 'another process is taking the lock at the same time; try again' });
}

/** The lock's owner; `null` when the lock has gone, `undefined` when its content is unreadable. */
export async function readHolder(path: string): Promise<{ pid: number; host: string; text: string } | null | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
  const match = /^(\d+) (\S+)\n$/.exec(text);
  if (!match) return undefined;
  return { pid: Number(match[1]), host: match[2]!, text };
}

/**
 * Move a dead owner's lock aside. If another process replaced it in between,
 * the lock we moved is a live one: put it back (or leave it to its owner).
 */
async function takeStaleLock(path: string, staleText: string): Promise<void> {
  const aside = `${path}.${process.pid}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  const moved = await readFile(aside, 'utf8');
  if (moved !== staleText) {
    try {
      await link(aside, path);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    }
  }
  await rm(aside, { force: true });
}
