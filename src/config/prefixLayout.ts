/**
 * Where a prefix keeps Kiln's own files. The same relative layout serves a
 * whole system (prefix `/`: /etc/kiln, /var/lib/kiln, /var/cache/kiln, like
 * pacman's) and a directory in a user's home. docs/config.md describes it.
 */
import { join } from 'node:path';

export interface PrefixPaths {
  /** The prefix itself: an absolute, symlink-free path. */
  root: string;
  /** `etc/kiln/config.toml` */
  config: string;
  /** `var/lib/kiln`: database, synced indexes, lock, transaction. */
  state: string;
  database: string;
  /** Verified copies of each remote's index, a directory per remote: `var/lib/kiln/indexes/NAME/index.json` (+ `.minisig`, and the search list `index.names.json`). */
  indexes: string;
  /** The writer lock (`var/lib/kiln/writer.lock`, a kernel lock; its holder is named in `writer.holder`). */
  lock: string;
  /** The transaction in progress: journal, staged files, backups. */
  transaction: string;
  /** Downloaded packages: `var/cache/kiln/packages`. */
  cache: string;
}

/** Relative directories that hold Kiln's own state, never package files. */
export const KILN_DIRECTORIES = ['etc/kiln', 'var/lib/kiln', 'var/cache/kiln'] as const;

export function prefixPaths(root: string): PrefixPaths {
  const state = join(root, 'var/lib/kiln');
  return {
    root,
    config: join(root, 'etc/kiln/config.toml'),
    state,
    database: join(state, 'kiln.db'),
    indexes: join(state, 'indexes'),
    lock: join(state, 'writer.lock'),
    transaction: join(state, 'transaction'),
    cache: join(root, 'var/cache/kiln/packages'),
  };
}

/** True for a prefix-relative path inside Kiln's own directories. */
export function isKilnPath(relativePath: string): boolean {
  return KILN_DIRECTORIES.some((dir) => relativePath === dir || relativePath.startsWith(`${dir}/`));
}

/**
 * The prefix used when neither --prefix nor KILN_PREFIX names one: the whole
 * system for root, `~/.local/kiln` for everybody else.
 */
export function defaultPrefix(uid: number, home: string): string {
  return uid === 0 ? '/' : join(home, '.local/kiln');
}

/**
 * The directory of one remote's synced files, `var/lib/kiln/indexes/NAME/`:
 * every file in it has a fixed name, so no two remotes can share a file
 * whatever their names (`main` and `main.names` once did: the search list of
 * one was the index of the other).
 */
export function remoteDirectory(paths: PrefixPaths, remote: string): string {
  return join(paths.indexes, remote);
}

/** Where a synced remote's verified index is kept: `var/lib/kiln/indexes/NAME/index.json`. */
export function syncedIndexPath(paths: PrefixPaths, remote: string): string {
  return join(remoteDirectory(paths, remote), 'index.json');
}

/** Where Kiln before its per-remote directories kept a remote's index: `var/lib/kiln/indexes/NAME.json` (search list `NAME.names.json`). */
export function legacyIndexPath(paths: PrefixPaths, remote: string): string {
  return join(paths.indexes, `${remote}.json`);
}
