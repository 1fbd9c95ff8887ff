/**
 * Work trees of interrupted builds. A running build holds a kernel lock on
 * `kiln-build.lock` in its work tree (db/ownerLock.ts); a successful build
 * removes the tree, a failed one removes only the lock file (the tree is
 * kept for people to look into). A tree whose lock file anyone can lock was
 * left by a build that was interrupted (Ctrl-C, a kill, a crash): it and its
 * placeholder prefix are removed by the next build. Builds claim their trees
 * and clean up under the lock `WORKDIR/builds.lock`, so a tree is never seen
 * before its lock is held.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileLock } from '../db/fileLock.js';
import { claimOwner, probeOwner, withRegistry } from '../db/ownerLock.js';
import { isErrno } from '../errors/index.js';

/** The file in a work tree that the build using it holds locked. */
export const BUILD_LOCK_FILE = 'kiln-build.lock';
/** Work trees are named NAME-VERSION-ID, with an 8-hex-digit build id. */
const WORK_TREE = /-([0-9a-f]{8})$/;

function registryOf(workRoot: string): string {
  return join(workRoot, 'builds.lock');
}

/**
 * Remove the work trees (and placeholder prefixes) of interrupted builds under
 * `workRoot`; returns the removed work trees.
 * @example const removed = await cleanInterrupted(defaultWorkDir())
 */
export async function cleanInterrupted(workRoot: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(workRoot);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  return withRegistry(registryOf(workRoot), async () => {
    const removed: string[] = [];
    for (const entry of entries) {
      const id = WORK_TREE.exec(entry)?.[1];
      if (id === undefined) continue;
      const probe = probeOwner(join(workRoot, entry, BUILD_LOCK_FILE));
      if (probe.state !== 'gone') continue;
      await rm(join(workRoot, entry), { recursive: true, force: true });
      for (const other of entries)
        if (other.startsWith(`p-${id}-`)) await rm(join(workRoot, other), { recursive: true, force: true });
      probe.lock.release();
      removed.push(join(workRoot, entry));
    }
    return removed;
  });
}

/** Make the work tree `work` under `workRoot` and hold its lock while the build runs. */
export async function claimWorkTree(workRoot: string, work: string): Promise<FileLock> {
  return claimOwner(registryOf(workRoot), join(work, BUILD_LOCK_FILE), async () => {
    await mkdir(work, { recursive: true });
  });
}

/** A failed build: keep the tree for people to look into, and no longer take it for an interrupted build. */
export async function abandonWorkTree(workRoot: string, work: string, lock: FileLock): Promise<void> {
  await withRegistry(registryOf(workRoot), async () => {
    await rm(join(work, BUILD_LOCK_FILE), { force: true });
    lock.release();
  });
}
