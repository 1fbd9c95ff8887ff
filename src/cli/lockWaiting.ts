/**
 * What a command says while it waits for another process's lock (a prefix's
 * writer lock, a repository's maintainer lock), and the lock options of the
 * repository commands: wait unless --no-wait, saying so once.
 */
import type { Holder } from '../db/fileLock.js';
import type { RepositoryOptions } from '../repo/index.js';
import type { Invocation } from './command.js';

export function waitingLine(holderPid: number | undefined, lockPath: string): string {
  return `kiln: waiting for process ${holderPid ?? '?'}, which holds ${lockPath} (pass --no-wait to fail instead)`;
}

export function repositoryLocking(invocation: Invocation): Pick<RepositoryOptions, 'wait' | 'onWait'> {
  return {
    wait: invocation.settings.wait,
    onWait: (holder: Holder | undefined, lockPath: string) => invocation.tell(waitingLine(holder?.pid, lockPath)),
  };
}
