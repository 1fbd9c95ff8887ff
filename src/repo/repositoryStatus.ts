/** `kiln repo status DIR`: what is published, what is staged. */
import type { IndexEntry, RepositoryIndex } from './indexFormat.js';
import { sortEntries } from './indexFormat.js';
import { openRepository, readCurrentIndex, recoverIfInterrupted } from './openRepository.js';
import type { LogRecord } from './repositoryLog.js';
import { readLog } from './repositoryLog.js';
import { readStage } from './stage.js';

export interface RepositoryStatus {
  root: string;
  name: string;
  published: Pick<RepositoryIndex, 'serial' | 'created' | 'expires' | 'keys'> & { packages: number; expired: boolean };
  staged: { adds: IndexEntry[]; retires: IndexEntry[] };
  lastCommit: LogRecord | undefined;
}

export async function repositoryStatus(root: string, now: Date = new Date()): Promise<RepositoryStatus> {
  const repo = await openRepository(root);
  await recoverIfInterrupted(repo);
  const { index } = await readCurrentIndex(repo);
  const stage = await readStage(repo.paths);
  const log = await readLog(repo.paths);
  return {
    root,
    name: index.name,
    published: {
      serial: index.serial,
      created: index.created,
      expires: index.expires,
      keys: index.keys,
      packages: index.packages.length,
      expired: Date.parse(index.expires) <= now.getTime(),
    },
    staged: { adds: sortEntries([...stage.adds.values()]), retires: sortEntries([...stage.retires.values()]) },
    lastCommit: log.at(-1),
  };
}
