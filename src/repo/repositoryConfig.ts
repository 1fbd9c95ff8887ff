/**
 * The maintainer's configuration of a repository, `.kiln/config.toml`
 * (docs/repository.md, "Maintainer state").
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { stringify as stringifyToml } from 'smol-toml';
import { KilnError, isErrno } from '../errors/index.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import type { Fail } from '../util/shape.js';
import { parseTomlDocument, placeSetting } from '../util/toml.js';
import { expectBoolean, expectInteger, expectObject, expectString } from '../util/shape.js';
import { REPOSITORY_NAME_PATTERN } from './indexFormat.js';
import type { RepositoryPaths } from './layout.js';

export interface RepositoryConfig {
  format: 1;
  /** Repository name, written into every index. */
  name: string;
  /** Path of the secret key that signs commits (absolute, or relative to the repository). */
  signingKey: string;
  /** How long a published index stays valid. */
  expireDays: number;
  /**
   * Whether commits also publish the index in format v1 (`index.json`), for
   * clients older than format v2; true until those are gone.
   */
  publishV1: boolean;
}

export const DEFAULT_EXPIRE_DAYS = 30;

export async function readRepositoryConfig(paths: RepositoryPaths): Promise<RepositoryConfig> {
  let text: string;
  try {
    text = await readFile(paths.config, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) {
      throw new KilnError('E_REPO_NOT_FOUND', `cannot open repository ${paths.root}: it has no ${paths.config}`, {
        hint: 'create one with "kiln repo init DIR --key SECRETKEY"',
        cause: error,
      });
    }
    throw error;
  }
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_REPO_NOT_FOUND', `cannot read ${paths.config}: ${placeSetting(text, where)} ${problem}`, {
      hint: 'fix the file; see docs/repository.md',
    });
  };
  const data = parseTomlDocument(text, fail);
  const table = expectObject(data, '(top level)', fail, ['format', 'name', 'signingKey', 'expireDays', 'publishV1']);
  if (table['format'] !== 1) fail('format', 'must be 1');
  return {
    format: 1,
    name: expectString(table['name'], 'name', fail, REPOSITORY_NAME_PATTERN, 'a repository name'),
    signingKey: expectString(table['signingKey'], 'signingKey', fail),
    expireDays: expectInteger(table['expireDays'] ?? DEFAULT_EXPIRE_DAYS, 'expireDays', fail, 1, 3650),
    publishV1: expectBoolean(table['publishV1'] ?? true, 'publishV1', fail),
  };
}

export async function writeRepositoryConfig(paths: RepositoryPaths, config: RepositoryConfig): Promise<void> {
  const text = `# Kiln repository configuration (docs/repository.md). Private: serve only ../public, never .kiln/.\n${stringifyToml(config)}\n`;
  await writeFileAtomic(paths.config, text, { mode: 0o600 });
}

/** The signing key path as an absolute path. */
export function signingKeyPath(paths: RepositoryPaths, config: RepositoryConfig): string {
  return isAbsolute(config.signingKey) ? config.signingKey : resolve(paths.root, config.signingKey);
}
