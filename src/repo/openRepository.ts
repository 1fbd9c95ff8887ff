/**
 * What every maintainer command starts with: the paths, the configuration,
 * the repository's public keys, the published index, and recovery of a commit
 * that a crash interrupted.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError, isErrno, isKilnError } from '../errors/index.js';
import { removeStaleTemporaries, writeFileAtomic } from '../util/atomicWrite.js';
import { readFileIfExists } from '../util/fs.js';
import type { PublicKey, SecretKey } from '../sign/index.js';
import { parsePublicKey, readSecretKeyFile } from '../sign/index.js';
import type { FileLock, Holder } from '../db/fileLock.js';
import { acquireLock } from '../db/fileLock.js';
import { checkRepositoryLayout } from './checkRepositoryLayout.js';
import type { RepositoryConfig } from './repositoryConfig.js';
import { readRepositoryConfig, signingKeyPath } from './repositoryConfig.js';
import type { RepositoryPaths } from './layout.js';
import { SIGNATURE_SUFFIX, repositoryPaths, snapshotPath } from './layout.js';
import type { PublishedIndex } from './readPublishedIndex.js';
import { localFetcher, readPublishedIndex } from './readPublishedIndex.js';
import type { LogRecord } from './repositoryLog.js';
import { appendLog } from './repositoryLog.js';
import { clearStage } from './stage.js';

export interface Repository {
  paths: RepositoryPaths;
  config: RepositoryConfig;
  /** The public keys in keys/: the keys this repository trusts for its packages and index. */
  keys: PublicKey[];
}

/** Settings shared by maintainer operations. */
export interface RepositoryOptions {
  /** Password of an encrypted signing key. */
  password?: string | undefined;
  /** The clock (tests pin it). */
  now?: () => Date;
  /** Wait for another maintainer command that holds the repository's lock (default), or fail at once with E_LOCKED. */
  wait?: boolean | undefined;
  /** Called once when the lock is held by another process and this one waits. */
  onWait?: ((holder: Holder | undefined, lockPath: string) => void) | undefined;
}

export async function openRepository(root: string): Promise<Repository> {
  const paths = repositoryPaths(root);
  await checkRepositoryLayout(paths);
  const config = await readRepositoryConfig(paths);
  const keys = await readRepositoryKeys(paths);
  if (keys.length === 0)
    throw new KilnError('E_REPO_NOT_FOUND', `cannot open repository ${root}: ${paths.keys} holds no public key`, {
      hint: 'the repository is damaged; run "kiln repo init" again in a new directory',
    });
  return { paths, config, keys };
}

export async function readRepositoryKeys(paths: Pick<RepositoryPaths, 'keys'>): Promise<PublicKey[]> {
  let names: string[];
  try {
    names = await readdir(paths.keys);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  const keys: PublicKey[] = [];
  for (const name of names.filter((file) => file.endsWith('.pub')).sort()) {
    const path = join(paths.keys, name);
    keys.push(parsePublicKey(await readFile(path, 'utf8'), path));
  }
  return keys;
}

export async function loadSigningKey(repo: Repository, options: RepositoryOptions): Promise<SecretKey> {
  const path = signingKeyPath(repo.paths, repo.config);
  const key = await readSecretKeyFile(path, { password: options.password });
  if (!repo.keys.some((pub) => pub.keyId === key.keyId)) {
    throw new KilnError(
      'E_SIGNATURE_UNTRUSTED',
      `cannot sign for repository ${repo.paths.root}: key ${key.keyId} (${path}) is not one of its keys in ${repo.paths.keys}`,
      {
        hint: "point signingKey in .kiln/config.toml at the repository's secret key",
      },
    );
  }
  return key;
}

/** The current published index, verified against the repository's keys. */
export async function readCurrentIndex(repo: Repository): Promise<PublishedIndex> {
  return readPublishedIndex(localFetcher(repo.paths.public), repo.keys, repo.paths.public);
}

/**
 * Take the repository's maintainer lock (a kernel lock: a dead holder's is
 * released with it) and finish or undo a commit that was interrupted: if the
 * journal's serial was published, the commit happened (log it, clear the
 * stage); otherwise it did not (drop the journal, keep the stage). Every
 * process that writes in the repository's directories holds this lock, so a
 * temporary file found now was left by one that died.
 */
export async function lockRepository(
  repo: Repository,
  options: Pick<RepositoryOptions, 'wait' | 'onWait'> = {},
): Promise<FileLock> {
  const lock = await acquireLock(repo.paths.lock, `repository ${repo.paths.root}`, {
    wait: options.wait !== false,
    ...(options.onWait === undefined ? {} : { onWait: options.onWait }),
    hint: 'another maintainer command is changing this repository; run again without --no-wait to wait for it',
  });
  try {
    for (const directory of [repo.paths.public, repo.paths.snapshots, repo.paths.state])
      await removeStaleTemporaries(directory);
    await recoverCommit(repo);
  } catch (error) {
    lock.release();
    throw error;
  }
  return lock;
}

/** Run `fn` holding the repository's lock. */
export async function withRepositoryLock<T>(
  repo: Repository,
  options: Pick<RepositoryOptions, 'wait' | 'onWait'>,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await lockRepository(repo, options);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** The journal of a commit in progress holds the log record the commit will append. */
export type CommitJournal = LogRecord;

async function recoverCommit(repo: Repository): Promise<void> {
  let journal: CommitJournal | undefined;
  try {
    journal = JSON.parse(await readFile(repo.paths.journal, 'utf8')) as CommitJournal;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    // A journal cut short by a crash: the commit had not started publishing.
    if (!(error instanceof SyntaxError)) throw error;
  }
  // The signature is the commit point: whatever serial it names is published.
  const published = await readCurrentIndex(repo);
  if (journal !== undefined && journal.serial > published.index.serial) {
    // Never published: drop the snapshot it may have written; the stage stays.
    const snapshot = join(repo.paths.public, snapshotPath(journal.serial));
    await rm(snapshot + SIGNATURE_SUFFIX, { force: true });
    await rm(snapshot, { force: true });
  }
  // index.json may still be the previous copy if the crash came between the two renames.
  const copy = await readFileIfExists(repo.paths.index);
  if (copy === undefined || !copy.equals(published.bytes)) await writeFileAtomic(repo.paths.index, published.bytes);
  if (journal !== undefined && journal.serial === published.index.serial) await finishCommit(repo, journal);
  else await rm(repo.paths.journal, { force: true });
}

/**
 * Finish or undo an interrupted commit if there is one and no other process is
 * committing right now. Read-only commands call this so that they report the
 * repository as the next maintainer command would leave it.
 */
export async function recoverIfInterrupted(repo: Repository): Promise<void> {
  if ((await readFileIfExists(repo.paths.journal)) === undefined) return;
  let lock: FileLock;
  try {
    lock = await lockRepository(repo, { wait: false });
  } catch (error) {
    // A live commit owns the journal; it will finish by itself.
    if (isKilnError(error, 'E_LOCKED')) return;
    throw error;
  }
  lock.release();
}

/** The last steps of a commit, also replayed by recovery: log it, clear the stage, drop the journal. */
export async function finishCommit(repo: Repository, journal: CommitJournal): Promise<void> {
  await appendLog(repo.paths, journal);
  await clearStage(repo.paths);
  await rm(repo.paths.journal, { force: true });
}
