/**
 * Work that belongs to one live process — a half-made entry of a shared
 * store, a build's work tree — and is found again after its owner died. The
 * owner holds a kernel lock on an owner file (fileLock.ts) for as long as the
 * work is its own; whoever can take that lock knows the owner is gone and may
 * remove the work. No pid is ever judged.
 *
 * Claiming and cleaning both run under the registry lock of the place (a lock
 * file beside it), so a cleaner never meets an owner file that has been made
 * but not yet locked, nor work whose owner file does not exist yet: the owner
 * makes its work (`setUp`) and locks its file in one step, as seen by others.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FileLock } from './fileLock.js';
import { acquireLock, tryLockFile } from './fileLock.js';

/** Run `fn` under the registry lock `registry` (made if missing); claims and cleanups of the same place wait. */
export async function withRegistry<T>(registry: string, fn: () => Promise<T> | T): Promise<T> {
  mkdirSync(dirname(registry), { recursive: true });
  const lock = await acquireLock(registry, registry, { note: false });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/**
 * Become the owner behind `ownerFile`: under the registry lock, run `setUp`
 * (make the work, clean up after dead owners), then lock the owner file. The
 * lock is this process's until released (or until it ends).
 * @example const owner = await claimOwner(join(root, 'builds.lock'), join(tree, 'kiln-build.lock'), () => mkdir(tree))
 */
export async function claimOwner(
  registry: string,
  ownerFile: string,
  setUp: () => Promise<void> | void = () => undefined,
): Promise<FileLock> {
  return withRegistry(registry, async () => {
    await setUp();
    mkdirSync(dirname(ownerFile), { recursive: true });
    const lock = tryLockFile(ownerFile);
    // Owner files have unique names: nobody else can hold a new one.
    if (lock === undefined) throw new Error(`Assertion failed: ${ownerFile} is held by another process`);
    return lock;
  });
}

export type OwnerState =
  /** Its owner is alive. */
  | { state: 'live' }
  | { state: 'missing' }
  /** Its owner is gone; the caller now holds the lock: remove the work (and the file), then release it. */
  | { state: 'gone'; lock: FileLock };

/** Whether the owner of `ownerFile` is alive. Call it under the registry lock. */
export function probeOwner(ownerFile: string): OwnerState {
  const lock = tryLockFile(ownerFile, { create: false });
  if (lock === null) return { state: 'missing' };
  if (lock === undefined) return { state: 'live' };
  return { state: 'gone', lock };
}
