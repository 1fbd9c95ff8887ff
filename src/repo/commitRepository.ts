/**
 * `kiln repo commit DIR [-m MESSAGE]`: publish what is staged as a new index,
 * serial + 1, signed with the repository's key. The steps are journaled
 * (`.kiln/commit.json`): after a crash the next command sees whether the new
 * index was published and finishes or forgets the commit accordingly.
 */
import { shellQuote } from '../util/shellQuote.js';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { mapConcurrent } from '../util/mapConcurrent.js';
import type { IndexEntry, RepositoryIndex } from './indexFormat.js';
import { entryKey } from './indexFormat.js';
import type { CommitJournal, Repository, RepositoryOptions } from './openRepository.js';
import {
  finishCommit,
  loadSigningKey,
  openRepository,
  readCurrentIndex,
  withRepositoryLock,
} from './openRepository.js';
import { isoTime } from '../util/isoTime.js';
import { publishIndex } from './publishIndex.js';
import type { PublicKey } from '../sign/types.js';
import { newestKeyRoot, rootExpiryNote } from './keyRoot.js';
import { advisoriesChanged, advisoriesToPublish } from './repositoryAdvisories.js';
import { isStageEmpty, readStage } from './stage.js';

export interface CommitOptions extends RepositoryOptions {
  message?: string | undefined;
  /** Publish even when nothing is staged (to renew the expiry time). */
  allowEmpty?: boolean | undefined;
  /** Override the configured validity of the new index. */
  expireDays?: number | undefined;
  /** Keys retired by a key rotation: the current index, signed before it, is still read with them. */
  previousKeys?: readonly PublicKey[] | undefined;
}

export interface CommitResult {
  index: RepositoryIndex;
  added: IndexEntry[];
  retired: IndexEntry[];
  /** What the maintainer should know (a key root near its expiry). */
  notes?: string[];
}

export async function commitRepository(root: string, options: CommitOptions = {}): Promise<CommitResult> {
  const repo = await openRepository(root);
  return withRepositoryLock(repo, options, () => commitStaged(repo, options));
}

/** What `commitRepository` does once it holds the repository's lock (the caller holds it). */
export async function commitStaged(repo: Repository, options: CommitOptions = {}): Promise<CommitResult> {
  const root = repo.paths.root;
  const { index: current } = await readCurrentIndex(
    options.previousKeys === undefined ? repo : { ...repo, keys: [...repo.keys, ...options.previousKeys] },
  );
  const stage = await readStage(repo.paths);
  const advisories = await advisoriesToPublish(repo.paths);
  // Advisories added, triaged or withdrawn since the last commit are a change of their own.
  if (isStageEmpty(stage) && !options.allowEmpty && !advisoriesChanged(current, advisories)) {
    throw new KilnError('E_REPO_NOTHING', `cannot commit repository ${root}: nothing is staged`, {
      hint: 'stage packages with "kiln repo add", or pass --allow-empty to renew the index\'s expiry',
    });
  }
  const packages = new Map(current.packages.map((entry) => [entryKey(entry), entry]));
  const retired: IndexEntry[] = [];
  for (const [key, entry] of stage.retires) {
    if (packages.delete(key)) retired.push(entry);
  }
  await mapConcurrent([...stage.adds.values()], 16, (entry) => assertStagedFile(repo, entry));
  const added: IndexEntry[] = [];
  for (const [key, entry] of stage.adds) {
    if (!packages.has(key)) added.push(entry);
    packages.set(key, entry);
  }
  const { index, notes } = await publishCommit(repo, options, {
    serial: current.serial + 1,
    packages: [...packages.values()],
    added,
    retired,
    message: options.message ?? '',
    advisories,
  });
  return { index, added, retired, ...(notes.length === 0 ? {} : { notes }) };
}

/** One commit's change: the packages of the new serial, and how they differ from the published ones. */
export interface CommitChange {
  serial: number;
  packages: IndexEntry[];
  added: IndexEntry[];
  retired: IndexEntry[];
  message: string;
  /** The advisories document to publish (advisoriesToPublish), or undefined for none. */
  advisories: Buffer | undefined;
}

/**
 * Publish `change` under the commit journal, signed with the repository's key: what a commit and a revert do
 * once they hold the repository's lock.
 */
export async function publishCommit(
  repo: Repository,
  options: CommitOptions,
  change: CommitChange,
): Promise<{ index: RepositoryIndex; notes: string[] }> {
  const key = await loadSigningKey(repo, options);
  const now = (options.now ?? (() => new Date()))();
  // An index under an expired key root would be refused by every client: refused here first; near expiry, said.
  const note = rootExpiryNote(await newestKeyRoot(repo.paths.public), now, repo.paths.root);
  const journal: CommitJournal = {
    serial: change.serial,
    time: isoTime(now),
    message: change.message,
    added: change.added.map(entryKey),
    retired: change.retired.map(entryKey),
    packages: change.packages.length,
  };
  await writeFileAtomic(repo.paths.journal, JSON.stringify(journal));
  const index = await publishIndex(repo, {
    serial: journal.serial,
    packages: change.packages,
    now,
    expireDays: options.expireDays ?? repo.config.expireDays,
    key,
    advisories: change.advisories,
  });
  await finishCommit(repo, journal);
  return { index, notes: note === undefined ? [] : [note] };
}

/** A staged file must still be where `repo add` put it, at the size it had. */
async function assertStagedFile(repo: Repository, entry: IndexEntry): Promise<void> {
  const root = repo.paths.root;
  const path = join(repo.paths.public, entry.path);
  try {
    const info = await stat(path);
    if (info.size === entry.size) return;
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  throw new KilnError(
    'E_INDEX_MISMATCH',
    `cannot commit repository ${root}: staged package file ${path} is missing or changed`,
    {
      hint: `remove it from the stage ("kiln repo remove ${shellQuote(root)} ${shellQuote(`${entry.name}-${entry.version}`)}") and add it again`,
    },
  );
}
