/**
 * The search list of a synced remote, `var/lib/kiln/indexes/NAME.names.json`:
 * for each package name the remote offers, its newest version, variant and
 * summary — all `kiln search` needs — written at sync time from the index just
 * verified. Searching then reads a few hundred KiB instead of parsing and
 * checking the whole index. The list names the sha256 of the index it was
 * made from; a list that does not match the synced index (or is missing) is
 * not used, and the search reads the index instead.
 */
import { readFileSync } from 'node:fs';
import type { PrefixPaths } from '../config/prefixLayout.js';
import { syncedIndexPath } from '../config/prefixLayout.js';
import type { InstalledPackage } from '../db/types.js';
import type { PackageStore } from '../db/PackageStore.js';
import { isErrno } from '../errors/index.js';
import { fullVersion } from '../format/fullVersion.js';
import type { IndexEntry } from '../repo/indexFormat.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { compareVersions } from '../version/compareVersions.js';

export const SEARCH_LIST_FORMAT = 1;

/** One name: [name, full version, variant, summary]. */
export type SearchRow = [string, string, string, string];

/** A search list's row and the remote that offers it. */
export interface RemoteRow {
  row: SearchRow;
  remote: string;
}

/** A package as `kiln search` and `kiln list --available` show it. */
export interface AvailablePackage {
  name: string;
  version: string;
  variant: string;
  remote: string;
  summary: string;
  installed: string | null;
}

export interface SearchList {
  format: typeof SEARCH_LIST_FORMAT;
  /** The sha256 of the index it was made from. */
  index: string;
  rows: SearchRow[];
}

export function searchListPath(indexPath: string): string {
  return indexPath.replace(/\.json$/, '.names.json');
}

/** The newest entry of each name, the first one listed on a tie (as the full index gives). */
export function newestByName<T>(items: Iterable<T>, nameOf: (item: T) => string, versionOf: (item: T) => string): Map<string, T> {
  const newest = new Map<string, T>();
  for (const item of items) {
    const have = newest.get(nameOf(item));
    if (have === undefined || compareVersions(versionOf(item), versionOf(have)) > 0) newest.set(nameOf(item), item);
  }
  return newest;
}

export async function writeSearchList(indexPath: string, indexSha256: string, entries: readonly IndexEntry[]): Promise<void> {
  const rows = [...newestByName(entries, (entry) => entry.name, fullVersion).values()].map((entry): SearchRow => [entry.name, fullVersion(entry), entry.variant, entry.summary]);
  const list: SearchList = { format: SEARCH_LIST_FORMAT, index: indexSha256, rows };
  await writeFileAtomic(searchListPath(indexPath), `${JSON.stringify(list)}\n`);
}

/** The rows, or undefined when there is no list made from the index with this sha256. */
export function readSearchList(indexPath: string, indexSha256: string): SearchRow[] | undefined {
  let list: Partial<SearchList>;
  try {
    list = JSON.parse(readFileSync(searchListPath(indexPath), 'utf8')) as Partial<SearchList>;
  } catch (error) {
    if (isErrno(error, 'ENOENT') || error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (list.format !== SEARCH_LIST_FORMAT || list.index !== indexSha256 || !Array.isArray(list.rows)) return undefined;
  return list.rows;
}

/**
 * The rows of every synced remote's search list, in the order of `remotes`, or
 * undefined when one of them has no list made from its synced index (then
 * only the index can answer).
 */
export function readSearchLists(paths: PrefixPaths, store: PackageStore, remotes: readonly string[]): RemoteRow[] | undefined {
  const rows: RemoteRow[] = [];
  for (const remote of remotes) {
    const state = store.remoteState(remote);
    if (state === undefined) continue;
    const list = readSearchList(syncedIndexPath(paths, remote), state.sha256);
    if (list === undefined) return undefined;
    for (const row of list) rows.push({ row, remote });
  }
  return rows;
}

/**
 * What `kiln search TERM` shows: the newest version of each name on offer whose
 * name or summary contains the term (case-insensitive), and installed packages
 * that match though no remote offers them; by name.
 */
export function matchSearch(term: string, offered: readonly RemoteRow[], installedPackages: readonly InstalledPackage[]): AvailablePackage[] {
  const needle = term.toLowerCase();
  const installed = new Map(installedPackages.map((pkg) => [pkg.name, pkg]));
  const rows: AvailablePackage[] = [];
  const seen = new Set<string>();
  for (const { row: [name, version, variant, summary], remote } of newestByName(offered, (item) => item.row[0], (item) => item.row[1]).values()) {
    if (!name.toLowerCase().includes(needle) && !summary.toLowerCase().includes(needle)) continue;
    seen.add(name);
    const have = installed.get(name);
    rows.push({ name, version, variant, remote, summary, installed: have === undefined ? null : fullVersion(have) });
  }
  for (const pkg of installed.values()) {
    if (seen.has(pkg.name) || (!pkg.name.toLowerCase().includes(needle) && !pkg.metadata.summary.toLowerCase().includes(needle))) continue;
    rows.push({ name: pkg.name, version: fullVersion(pkg), variant: pkg.variant, remote: pkg.remote ?? '', summary: pkg.metadata.summary, installed: fullVersion(pkg) });
  }
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
