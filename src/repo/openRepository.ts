/**
 * What every maintainer command starts with: the paths, the configuration,
 * the repository's public keys, the published index, and recovery of a commit
 * that a crash interrupted.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import type { PublicKey, SecretKey } from '../sign/index.js';
import { parsePublicKey, readSecretKeyFile } from '../sign/index.js';
import type { Lock } from './lock.js';
import { acquireLock } from './lock.js';
import type { RepositoryConfig } from './repositoryConfig.js';
import { readRepositoryConfig, signingKeyPath } from './repositoryConfig.js';
import type { RepositoryPaths } from './layout.js';
import { repositoryPaths } from './layout.js';
import type { PublishedIndex } from './readPublishedIndex.js';
import { localFetcher, readPublishedIndex } from './readPublishedIndex.js';
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
}

export async function openRepository(root: string): Promise<Repository> {
  const paths = repositoryPaths(root);
  const config = await readRepositoryConfig(paths);
  const keys = await readRepositoryKeys(paths);
  if (keys.length === 0) throw new KilnError('E_REPO_NOT_FOUND', `cannot open repository ${root}: ${paths.keys} holds no public key`, { hint: 'the repository is damaged; run "kiln repo init" again in a new directory' });
  return { paths, config, keys };
}

export async function readRepositoryKeys(paths: RepositoryPaths): Promise<PublicKey[]> {
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
    throw new KilnError('E_SIGNATURE_UNTRUSTED', `cannot sign for repository ${repo.paths.root}: key ${key.keyId} (${path}) is not one of its keys in ${repo.paths.keys}`, {
      hint: 'point signingKey in .kiln/config.toml at the repository\'s secret key',
    });
  }
  return key;
}

/** The current published index, verified against the repository's keys. */
export async function readCurrentIndex(repo: Repository): Promise<PublishedIndex> {
  return readPublishedIndex(localFetcher(repo.paths.root), repo.keys, repo.paths.root);
}

/**
 * Take the repository lock and finish or undo a commit that was interrupted:
 * if the journal's serial was published, the commit happened (log it, clear
 * the stage); otherwise it did not (drop the journal, keep the stage).
 */
export async function lockRepository(repo: Repository): Promise<Lock> {
  const lock = await acquireLock(repo.paths.lock, `repository ${repo.paths.root}`);
  try {
    await recoverCommit(repo);
  } catch (error) {
    await lock.release();
    throw error;
  }
  return lock;
}

export interface CommitJournal {
  serial: number;
  time: string;
  message: string;
  added: string[];
  retired: string[];
  packages: number;
}

async function recoverCommit(repo: Repository): Promise<void> {
  let journal: CommitJournal;
  try {
    journal = JSON.parse(await readFile(repo.paths.journal, 'utf8')) as CommitJournal;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    if (error instanceof SyntaxError) {
      // The journal itself was cut short: the commit never started publishing.
      await rm(repo.paths.journal, { force: true });
      return;
    }
    throw error;
  }
  const { index } = await readCurrentIndex(repo);
  if (index.serial === journal.serial) await finishCommit(repo, journal);
  else await rm(repo.paths.journal, { force: true });
}

/** The last steps of a commit, also replayed by recovery: log it, clear the stage, drop the journal. */
export async function finishCommit(repo: Repository, journal: CommitJournal): Promise<void> {
  await appendLog(repo.paths, journal);
  await clearStage(repo.paths);
  await rm(repo.paths.journal, { force: true });
}
