/**
 * Whatever a server pointed at the published tree would serve that it must
 * not: maintainer state (a `.kiln` directory, or a link into DIR/.kiln or to a
 * directory holding it) and secret keys (a minisign secret key file, or a link
 * to one). Servers follow links, so links count as what they point at; a
 * linked directory is judged by where it points and not walked (it may loop).
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { isErrno } from '../errors/index.js';
import { isSecretKeyText } from '../sign/index.js';
import type { RepositoryPaths } from './layout.js';
import { PUBLIC_DIR, STATE_DIR } from './layout.js';

/** A secret key file is two short lines: a larger file is not one, and is not read. */
const MAX_SECRET_KEY_FILE_BYTES = 4096;

/**
 * One line per private thing found in `paths.public`, naming it by its path
 * under DIR; empty when there is none.
 * @example await findPrivateFiles(repositoryPaths('/srv/binhost')) // ['public/kiln.key: a secret key is published']
 */
export async function findPrivateFiles(paths: RepositoryPaths): Promise<string[]> {
  const problems: string[] = [];
  const state = await realpathIfExists(paths.state);
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(join(paths.public, relative), { withFileTypes: true })) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const shown = `${PUBLIC_DIR}/${child}`;
      const path = join(paths.public, child);
      if (entry.name === STATE_DIR) {
        problems.push(`${shown}: maintainer state is published; keep it only in ${paths.state}`);
        continue;
      }
      if (entry.isDirectory()) {
        await walk(child);
        continue;
      }
      const target = entry.isSymbolicLink() ? await realpathIfExists(path) : path;
      if (target === undefined) continue;
      if (state !== undefined && entry.isSymbolicLink() && (within(target, state) || within(state, target))) {
        problems.push(`${shown}: a link to ${target}, which exposes the maintainer state ${paths.state}`);
        continue;
      }
      if (await isSecretKeyFile(target))
        problems.push(`${shown}: a secret key is published; move it out of ${paths.public} and sign with a new key`);
    }
  };
  await walk('');
  return problems;
}

async function isSecretKeyFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size > MAX_SECRET_KEY_FILE_BYTES) return false;
    return isSecretKeyText(await readFile(path, 'utf8'));
  } catch (error) {
    // Removed meanwhile (a prune), or a link that leads nowhere: nothing is served there.
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

async function realpathIfExists(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** Whether `path` is `directory` or lies under it (both real paths). */
function within(path: string, directory: string): boolean {
  return path === directory || path.startsWith(directory.endsWith(sep) ? directory : directory + sep);
}
