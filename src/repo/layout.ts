/**
 * Where things live in a repository directory (docs/repository.md):
 *
 *   index.json, index.json.minisig   the current index and its signature
 *   indexes/N.json(.minisig)         every published index by serial, immutable
 *   keys/KEYID.pub                   the repository's public keys
 *   packages/CATEGORY/NAME/*.kpkg    the packages, many variants side by side
 *   .kiln/                           the maintainer's private state, never served
 */
import { join } from 'node:path';

export const INDEX_FILE = 'index.json';
export const SIGNATURE_SUFFIX = '.minisig';
export const SNAPSHOT_DIR = 'indexes';
export const KEYS_DIR = 'keys';
export const PACKAGES_DIR = 'packages';
export const STATE_DIR = '.kiln';

export interface RepositoryPaths {
  root: string;
  index: string;
  indexSignature: string;
  snapshots: string;
  keys: string;
  packages: string;
  state: string;
  config: string;
  stage: string;
  journal: string;
  log: string;
  lock: string;
}

export function repositoryPaths(root: string): RepositoryPaths {
  const state = join(root, STATE_DIR);
  return {
    root,
    index: join(root, INDEX_FILE),
    indexSignature: join(root, INDEX_FILE + SIGNATURE_SUFFIX),
    snapshots: join(root, SNAPSHOT_DIR),
    keys: join(root, KEYS_DIR),
    packages: join(root, PACKAGES_DIR),
    state,
    config: join(state, 'config.toml'),
    stage: join(state, 'stage.jsonl'),
    journal: join(state, 'commit.json'),
    log: join(state, 'log.jsonl'),
    lock: join(state, 'maintainer.lock'),
  };
}

/** Relative URL path of the snapshot of index `serial`. */
export function snapshotPath(serial: number): string {
  return `${SNAPSHOT_DIR}/${serial}.json`;
}

/** Relative URL path of a package inside the repository. */
export function packagePath(category: string, name: string, fileName: string): string {
  return `${PACKAGES_DIR}/${category}/${name}/${fileName}`;
}
