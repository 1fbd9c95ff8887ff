/**
 * One writer at a time per prefix. A second writer waits (saying once which
 * process it waits for) or, with `wait: false`, fails at once. Readers never
 * take the lock: SQLite's WAL lets them read the last committed state.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KilnError } from '../errors/index.js';
import type { Lock } from '../repo/lock.js';
import { acquireLock, readHolder } from '../repo/lock.js';

export interface WriterLockOptions {
  wait: boolean;
  onWait?: (holderPid: number | undefined, lockPath: string) => void;
  /** Give up after this long (default: wait for ever). */
  timeoutMs?: number;
}

export async function acquireWriterLock(lockPath: string, what: string, options: WriterLockOptions): Promise<Lock> {
  const started = Date.now();
  let told = false;
  for (;;) {
    try {
      return await acquireLock(lockPath, what);
    } catch (error) {
      if (!(error instanceof KilnError) || error.code !== 'E_LOCKED') throw error;
      if (!options.wait) {
        throw new KilnError('E_LOCKED', error.message, { hint: 'another kiln command is changing this prefix; run again without --no-wait to wait for it' });
      }
      if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) throw error;
      if (!told) {
        const holder = await readHolder(lockPath);
        options.onWait?.(holder?.pid ?? undefined, lockPath);
        told = true;
      }
      await sleep(100);
    }
  }
}
