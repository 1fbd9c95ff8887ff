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
  /** Where `kiln repo push` copies the published tree, in the order the file names them. */
  mirrors?: MirrorConfig[];
}

/**
 * `[mirrors.NAME]`: where the published tree is pushed — a directory
 * (`path`) or an rsync destination over ssh (`rsync`, with the remote shell
 * command in `ssh`) — and where clients read it.
 */
export type MirrorConfig = {
  name: string;
  /** Where clients read the mirror (http, https or file), for `kiln repo mirrors`; the directory when absent. */
  url?: string | undefined;
} & (
  | {
      /** An absolute directory (a local disk, or a mounted file system that a web server serves). */
      path: string;
      rsync?: undefined;
      ssh?: undefined;
    }
  | {
      path?: undefined;
      /** `[USER@]HOST:/ABSOLUTE/DIR`, reached with rsync over ssh. */
      rsync: string;
      /** The remote shell command, as rsync's `-e` takes it (`ssh -p 2222 -i /etc/kiln/push_key`); plain `ssh` when absent. */
      ssh?: string | undefined;
    }
);

/** `[USER@]HOST:/DIR`: a user and host that cannot be taken for an option, and an absolute directory. */
export const RSYNC_DESTINATION_PATTERN =
  /^(?:[A-Za-z0-9._][A-Za-z0-9._-]*@)?(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):\/[^\0\n]*$/;

const MIRROR_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

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
  const table = expectObject(data, '(top level)', fail, [
    'format',
    'name',
    'signingKey',
    'expireDays',
    'publishV1',
    'mirrors',
  ]);
  if (table['format'] !== 1) fail('format', 'must be 1');
  const config: RepositoryConfig = {
    format: 1,
    name: expectString(table['name'], 'name', fail, REPOSITORY_NAME_PATTERN, 'a repository name'),
    signingKey: expectString(table['signingKey'], 'signingKey', fail),
    expireDays: expectInteger(table['expireDays'] ?? DEFAULT_EXPIRE_DAYS, 'expireDays', fail, 1, 3650),
    publishV1: expectBoolean(table['publishV1'] ?? true, 'publishV1', fail),
  };
  if (table['mirrors'] !== undefined) {
    const mirrors = expectObject(table['mirrors'], 'mirrors', fail);
    config.mirrors = Object.entries(mirrors).map(([name, value]) => {
      const where = `mirrors.${name}`;
      if (!MIRROR_NAME_PATTERN.test(name)) fail(where, 'must be named with a-z, 0-9, - and _');
      const mirror = expectObject(value, where, fail, ['path', 'rsync', 'ssh', 'url']);
      const url = mirror['url'] === undefined ? undefined : expectString(mirror['url'], `${where}.url`, fail);
      if ((mirror['path'] === undefined) === (mirror['rsync'] === undefined))
        fail(where, 'must have either path (a directory) or rsync ([USER@]HOST:/DIR), not both');
      if (mirror['rsync'] !== undefined) {
        const rsync = expectString(mirror['rsync'], `${where}.rsync`, fail);
        if (!RSYNC_DESTINATION_PATTERN.test(rsync)) fail(`${where}.rsync`, 'must be [USER@]HOST:/ABSOLUTE/DIR');
        const ssh = mirror['ssh'] === undefined ? undefined : expectString(mirror['ssh'], `${where}.ssh`, fail);
        return { name, rsync, ssh, url };
      }
      if (mirror['ssh'] !== undefined) fail(`${where}.ssh`, 'is for rsync mirrors only');
      const path = expectString(mirror['path'], `${where}.path`, fail);
      if (!isAbsolute(path)) fail(`${where}.path`, 'must be an absolute directory');
      return { name, path: resolve(path), url };
    });
  }
  return config;
}

export async function writeRepositoryConfig(paths: RepositoryPaths, config: RepositoryConfig): Promise<void> {
  const { mirrors, ...rest } = config;
  // Mirrors as [mirrors.NAME] tables, as a maintainer writes them.
  const document =
    mirrors === undefined || mirrors.length === 0
      ? rest
      : {
          ...rest,
          mirrors: Object.fromEntries(
            mirrors.map(({ name, ...where }) => [
              name,
              Object.fromEntries(Object.entries(where).filter(([, value]) => value !== undefined)),
            ]),
          ),
        };
  const text = `# Kiln repository configuration (docs/repository.md). Private: serve only ../public, never .kiln/.\n${stringifyToml(document)}\n`;
  await writeFileAtomic(paths.config, text, { mode: 0o600 });
}

/** The signing key path as an absolute path. */
export function signingKeyPath(paths: RepositoryPaths, config: RepositoryConfig): string {
  return isAbsolute(config.signingKey) ? config.signingKey : resolve(paths.root, config.signingKey);
}
