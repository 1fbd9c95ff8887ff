/**
 * `kiln repo init DIR --key SECRETKEY`: create an empty repository signed by
 * that key — DIR/.kiln for the maintainer, DIR/public to serve — and publish
 * its first (empty) index, serial 1, so that it can be synced and verified at once.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import { formatPublicKey, publicKeyOf, readSecretKeyFile } from '../sign/index.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import type { RepositoryIndex } from './indexFormat.js';
import { REPOSITORY_NAME_PATTERN } from './indexFormat.js';
import { repositoryPaths } from './layout.js';
import type { RepositoryOptions } from './openRepository.js';
import { openRepository } from './openRepository.js';
import { isoTime } from '../util/isoTime.js';
import { publishIndex } from './publishIndex.js';
import { DEFAULT_EXPIRE_DAYS, writeRepositoryConfig } from './repositoryConfig.js';
import { appendLog } from './repositoryLog.js';

export interface InitOptions extends RepositoryOptions {
  /** The secret key that will sign the repository. */
  keyPath: string;
  /** Repository name (default: the directory's name). */
  name?: string | undefined;
  expireDays?: number | undefined;
}

export async function initRepository(root: string, options: InitOptions): Promise<RepositoryIndex> {
  const paths = repositoryPaths(root);
  const name = options.name ?? resolve(root).split('/').pop() ?? 'repo';
  if (!REPOSITORY_NAME_PATTERN.test(name)) {
    throw new KilnError('E_USAGE', `cannot create repository ${root}: "${name}" is not a valid repository name`, {
      hint: 'pass --name NAME (letters, digits, "_", "-")',
    });
  }
  try {
    const existing = await readdir(root);
    if (existing.length > 0) {
      const what = existing.includes('.kiln') ? 'it is already a Kiln repository' : 'the directory is not empty';
      throw new KilnError('E_REPO_EXISTS', `cannot create repository ${root}: ${what}`, {
        hint: 'choose a new or empty directory',
      });
    }
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  const keyPath = resolve(options.keyPath);
  const key = await readSecretKeyFile(keyPath, { password: options.password });
  for (const dir of [paths.root, paths.state, paths.public, paths.keys, paths.packages, paths.snapshots])
    await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(paths.keys, `${key.keyId}.pub`), formatPublicKey(publicKeyOf(key)));
  const expireDays = options.expireDays ?? DEFAULT_EXPIRE_DAYS;
  await writeRepositoryConfig(paths, { format: 1, name, signingKey: keyPath, expireDays, publishV1: true });
  const repo = await openRepository(root);
  const now = (options.now ?? (() => new Date()))();
  const index = await publishIndex(repo, { serial: 1, packages: [], now, expireDays, key });
  await appendLog(paths, {
    serial: 1,
    time: isoTime(now),
    message: 'initialize repository',
    added: [],
    retired: [],
    packages: 0,
  });
  return index;
}
