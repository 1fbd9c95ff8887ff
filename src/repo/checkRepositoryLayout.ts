/**
 * Before a maintainer command trusts a directory: is it a repository of the
 * current layout (DIR/.kiln beside DIR/public), and if not, what did the
 * person most likely give? Repositories of the earlier layout, whose published
 * files lie beside `.kiln/` in DIR, are refused rather than moved: moving them
 * changes the URL every client uses and what the web server must serve, which
 * only the maintainer can change together (docs/repository.md, "Earlier layout").
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import type { RepositoryPaths } from './layout.js';
import {
  INDEX_FILE,
  KEYS_DIR,
  PACKAGES_DIR,
  PUBLIC_DIR,
  SIGNATURE_SUFFIX,
  SNAPSHOT_DIR,
  STATE_DIR,
  repositoryPaths,
} from './layout.js';

/** What the earlier layout kept in DIR and the current one keeps in DIR/public. */
const PUBLISHED_ENTRIES = [INDEX_FILE, INDEX_FILE + SIGNATURE_SUFFIX, SNAPSHOT_DIR, KEYS_DIR, PACKAGES_DIR];

/**
 * Throws E_REPO_LAYOUT for a repository of the earlier layout (also one whose
 * move into public/ was left half done), and E_REPO_NOT_FOUND naming the
 * maintainer's directory for its public/ tree; returns quietly otherwise (a
 * missing configuration is reported by whoever reads it).
 */
export async function checkRepositoryLayout(paths: RepositoryPaths): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(paths.root);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return;
    throw error;
  }
  // The index in DIR beside .kiln/ is the earlier layout's mark, whether or not public/ was made already.
  if (
    entries.includes(STATE_DIR) &&
    (entries.includes(INDEX_FILE + SIGNATURE_SUFFIX) || entries.includes(INDEX_FILE))
  ) {
    const moves = PUBLISHED_ENTRIES.filter((entry) => entries.includes(entry))
      .map((entry) => join(paths.root, entry))
      .join(' ');
    throw new KilnError(
      'E_REPO_LAYOUT',
      `cannot open repository ${paths.root}: its published files lie beside its private ${STATE_DIR}/ (the earlier layout), so serving ${paths.root} serves ${STATE_DIR}/ too`,
      {
        hint:
          `move them into ${paths.public} ("mkdir -p ${paths.public} && mv ${moves} ${paths.public}/"), serve ${paths.public} instead, ` +
          'and give clients its URL (docs/repository.md, "Earlier layout")',
      },
    );
  }
  if (await isDirectory(paths.public)) return;
  const root = resolve(paths.root);
  const owner = dirname(root);
  if (basename(root) === PUBLIC_DIR && existsSync(repositoryPaths(owner).config)) {
    throw new KilnError(
      'E_REPO_NOT_FOUND',
      `cannot open repository ${paths.root}: it is the published tree of the repository ${owner}`,
      {
        hint: `"kiln repo" commands take the maintainer's directory: use ${owner}`,
      },
    );
  }
  if (existsSync(paths.config)) {
    throw new KilnError(
      'E_REPO_NOT_FOUND',
      `cannot open repository ${paths.root}: it has ${paths.config} but no published tree ${paths.public}`,
      {
        hint: 'the repository is damaged; restore public/ from a copy, or run "kiln repo init" again in a new directory',
      },
    );
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
    throw error;
  }
}
