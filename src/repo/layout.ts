/**
 * Where things live in a repository (docs/repository.md). The maintainer's
 * directory DIR, which every `kiln repo` command takes, holds two trees:
 *
 *   DIR/public/                      the published tree: the only thing to serve
 *     index.json, index.json.minisig   the current index and its signature
 *     indexes/N.json(.minisig)         every published index by serial, immutable
 *     keys/KEYID.pub                   the repository's public keys
 *     packages/CATEGORY/NAME/*.kpkg    the packages, many variants side by side
 *   DIR/.kiln/                       the maintainer's private state
 *
 * The two are siblings, not nested, so that a server pointed at the published
 * tree cannot reach the configuration (which names the signing key), the
 * stage or the log, however it is configured.
 */
import { join } from 'node:path';

export const INDEX_FILE = 'index.json';
export const SIGNATURE_SUFFIX = '.minisig';
export const SNAPSHOT_DIR = 'indexes';
export const KEYS_DIR = 'keys';
export const PACKAGES_DIR = 'packages';
export const STATE_DIR = '.kiln';
export const PUBLIC_DIR = 'public';

export interface RepositoryPaths {
  /** The maintainer's directory, DIR. */
  root: string;
  /** DIR/public, the published tree: what clients' URLs name. */
  public: string;
  index: string;
  indexSignature: string;
  snapshots: string;
  keys: string;
  packages: string;
  /** DIR/.kiln, never inside the published tree. */
  state: string;
  config: string;
  stage: string;
  journal: string;
  log: string;
  lock: string;
  /** DIR/.kiln/advisories/ID.json: the advisories the next commit publishes. */
  advisories: string;
  /** DIR/.kiln/triage.json: the maintainer's triage of them. */
  triage: string;
}

/** @example repositoryPaths('/srv/binhost').index // '/srv/binhost/public/index.json' */
export function repositoryPaths(root: string): RepositoryPaths {
  const published = join(root, PUBLIC_DIR);
  const state = join(root, STATE_DIR);
  return {
    root,
    public: published,
    index: join(published, INDEX_FILE),
    indexSignature: join(published, INDEX_FILE + SIGNATURE_SUFFIX),
    snapshots: join(published, SNAPSHOT_DIR),
    keys: join(published, KEYS_DIR),
    packages: join(published, PACKAGES_DIR),
    state,
    config: join(state, 'config.toml'),
    stage: join(state, 'stage.jsonl'),
    journal: join(state, 'commit.json'),
    log: join(state, 'log.jsonl'),
    lock: join(state, 'maintainer.lock'),
    advisories: join(state, 'advisories'),
    triage: join(state, 'triage.json'),
  };
}

/** Relative URL path of the snapshot of index `serial`, under the published tree. */
export function snapshotPath(serial: number): string {
  return `${SNAPSHOT_DIR}/${serial}.json`;
}

/** Relative URL path of a package, under the published tree. */
export function packagePath(category: string, name: string, fileName: string): string {
  return `${PACKAGES_DIR}/${category}/${name}/${fileName}`;
}
