/**
 * What the web catalog shows, read from a published tree the way a client
 * reads it: the current index through its signature (checked with the keys in
 * `keys/`), grouped by package name, with the links the index implies —
 * reverse dependencies and which names provide a soname — computed once per
 * serial. The file list and the history are read when first asked for.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdvisoryDocument } from '../../advisory/index.js';
import { parseAdvisories } from '../../advisory/index.js';
import type { Pin } from '../../repo/indexV2.js';
import { openPinned, pinnedPath } from '../../repo/indexV2.js';
import { fullVersion } from '../../format/metadata.js';
import type { IndexEntry, RepositoryIndex } from '../../repo/indexFormat.js';
import { KEYS_DIR } from '../../repo/layout.js';
import type { LogRecord } from '../../repo/repositoryLog.js';
import { readLog } from '../../repo/repositoryLog.js';
import { localFetcher, readPublishedIndex } from '../../repo/readPublishedIndex.js';
import { readRepositoryKeys } from '../../repo/openRepository.js';
import { encodePublicKey } from '../../sign/formatPublicKey.js';
import type { PublicKey } from '../../sign/types.js';

/** One version of a name: its variants side by side. */
export interface CatalogVersion {
  /** Full version, `1.2-r1`. */
  version: string;
  variants: IndexEntry[];
}

export interface CatalogName {
  name: string;
  category: string;
  /** Of the newest version. */
  summary: string;
  homepage: string;
  license: string;
  /** Newest first. */
  versions: CatalogVersion[];
}

export interface CatalogKey {
  keyId: string;
  key: PublicKey;
  /** The public key line of `keys/KEYID.pub` (minisign's format). */
  publicKey: string;
}

export interface Catalog {
  /** The published tree it was read from. */
  tree: string;
  index: RepositoryIndex;
  /** The key that signed the index. */
  signer: string;
  keys: CatalogKey[];
  /** Sorted by name. */
  names: CatalogName[];
  byName: Map<string, CatalogName>;
  /** name → the names whose packages depend on it, sorted. */
  reverse: Map<string, string[]>;
  /** soname → the names whose packages provide it, sorted. */
  providers: Map<string, string[]>;
  /** The repository's commit log (the maintainer's directory only), oldest first. */
  log?: LogRecord[];
  /** The advisories the index pins, when it pins some. */
  advisories?: AdvisoryDocument;
}

export async function loadCatalog(tree: string, logFile?: string): Promise<Catalog> {
  const keys = await readRepositoryKeys({ keys: join(tree, KEYS_DIR) });
  const published = await readPublishedIndex(localFetcher(tree), keys, tree);
  const index = published.index;
  const names: CatalogName[] = [];
  const byName = new Map<string, CatalogName>();
  const reverseSets = new Map<string, Set<string>>();
  const providerSets = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, key: string, value: string) => {
    let set = map.get(key);
    if (set === undefined) {
      set = new Set();
      map.set(key, set);
    }
    set.add(value);
  };
  // The index is sorted by name, version (oldest first), revision and variant.
  for (const entry of index.packages) {
    let item = byName.get(entry.name);
    if (item === undefined) {
      item = { name: entry.name, category: entry.category, summary: '', homepage: '', license: '', versions: [] };
      byName.set(entry.name, item);
      names.push(item);
    }
    const version = fullVersion(entry);
    const newest = item.versions[0];
    if (newest?.version === version) newest.variants.push(entry);
    else item.versions.unshift({ version, variants: [entry] });
    item.summary = entry.summary;
    item.homepage = entry.homepage;
    item.license = entry.license;
    for (const dependency of entry.depends)
      if (dependency.name !== entry.name) add(reverseSets, dependency.name, entry.name);
    for (const soname of entry.provides.sonames) add(providerSets, soname, entry.name);
  }
  const sorted = (map: Map<string, Set<string>>) =>
    new Map([...map].map(([key, set]) => [key, [...set].sort()] as const));
  return {
    tree,
    index,
    signer: published.signer.keyId,
    keys: keys.map((key) => ({ keyId: key.keyId, key, publicKey: encodePublicKey(key) })),
    names,
    byName,
    reverse: sorted(reverseSets),
    providers: sorted(providerSets),
    ...(logFile === undefined ? {} : { log: await readLog({ log: logFile }) }),
    ...(index.advisories === undefined ? {} : { advisories: await readAdvisories(tree, index.advisories) }),
  };
}

/** The advisories document the index pins, checked against the pin. */
async function readAdvisories(tree: string, pin: Pin): Promise<AdvisoryDocument> {
  const path = join(tree, pinnedPath('advisories', pin));
  return parseAdvisories(openPinned(await readFile(path), pin, path), path);
}
