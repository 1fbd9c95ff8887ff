/**
 * The search list of a synced remote, `var/lib/kiln/indexes/NAME/index.names.json`:
 * for each package name the remote offers, its newest version, variant and
 * summary — all `kiln search` needs — written at sync time from the index just
 * verified. Searching then reads a few hundred KiB instead of parsing and
 * checking the whole index. The list names the sha256 of the index it was
 * made from; a list that does not match the synced index (or is missing) is
 * not used, and the search reads the index instead. The rows are one text of
 * tab-separated lines, not JSON arrays: a search of one remote looks for the
 * term in that text and splits only the lines that hold it.
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

export const SEARCH_LIST_FORMAT = 2;

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
  /** One line per name: name, version, variant, summary, separated by tabs (a tab in a summary is written as a space). */
  text: string;
}

export function searchListPath(indexPath: string): string {
  return indexPath.replace(/\.json$/, '.names.json');
}

/** The newest entry of each name, the first one listed on a tie (as the full index gives). */
export function newestByName<T>(
  items: Iterable<T>,
  nameOf: (item: T) => string,
  versionOf: (item: T) => string,
): Map<string, T> {
  const newest = new Map<string, T>();
  for (const item of items) {
    const have = newest.get(nameOf(item));
    if (have === undefined || compareVersions(versionOf(item), versionOf(have)) > 0) newest.set(nameOf(item), item);
  }
  return newest;
}

export async function writeSearchList(
  indexPath: string,
  indexSha256: string,
  entries: readonly IndexEntry[],
): Promise<void> {
  const lines = [...newestByName(entries, (entry) => entry.name, fullVersion).values()].map(
    (entry) => `${entry.name}\t${fullVersion(entry)}\t${entry.variant}\t${entry.summary.replace(/\t/g, ' ')}`,
  );
  await writeSearchText(indexPath, indexSha256, lines.join('\n'));
}

/** Write a search list of rows already in its text form (a v2 name table's). */
export async function writeSearchText(
  indexPath: string,
  indexSha256: string,
  text: string,
  options: { durable?: boolean } = {},
): Promise<void> {
  const list: SearchList = { format: SEARCH_LIST_FORMAT, index: indexSha256, text };
  await writeFileAtomic(searchListPath(indexPath), `${JSON.stringify(list)}\n`, options);
}

/** The list's text, or undefined when there is no list made from the index with this sha256. */
export function readSearchText(indexPath: string, indexSha256: string): string | undefined {
  let list: Partial<SearchList>;
  try {
    list = JSON.parse(readFileSync(searchListPath(indexPath), 'utf8')) as Partial<SearchList>;
  } catch (error) {
    if (isErrno(error, 'ENOENT') || error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (list.format !== SEARCH_LIST_FORMAT || list.index !== indexSha256 || typeof list.text !== 'string')
    return undefined;
  return list.text;
}

/**
 * The rows of a list's text: all of them, or with `needle` (lower case) only
 * those whose line contains it somewhere (a superset of the rows whose name or
 * summary contains it). A line that is not four fields is skipped.
 */
export function searchRows(text: string, needle?: string): SearchRow[] {
  const rows: SearchRow[] = [];
  const add = (line: string) => {
    const fields = line.split('\t');
    if (fields.length === 4) rows.push(fields as SearchRow);
  };
  const all = () => {
    if (text !== '') for (const line of text.split('\n')) add(line);
    return rows;
  };
  if (needle === undefined || needle === '') return all();
  const lower = text.toLowerCase();
  // Lower-casing a few characters changes the length; then positions would not match: split every line.
  if (lower.length !== text.length) return all();
  let lastLine = -1;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, at + 1)) {
    const start = text.lastIndexOf('\n', at) + 1;
    if (start === lastLine) continue;
    lastLine = start;
    const end = text.indexOf('\n', at);
    add(text.slice(start, end === -1 ? text.length : end));
  }
  return rows;
}

/**
 * The rows of every synced remote's search list that may match `term`, in the
 * order of `remotes`. A remote with no list made from its synced index gets
 * its rows from `fromIndex`; without it, the answer is undefined (then only
 * the index can answer). With one remote the lines without the term are not
 * even split: each name has one row there. With several, every row is read,
 * since the newest version of a name decides whether it matches.
 */
export function readSearchLists(
  paths: PrefixPaths,
  store: PackageStore,
  remotes: readonly string[],
  term: string,
): RemoteRow[] | undefined;
export function readSearchLists(
  paths: PrefixPaths,
  store: PackageStore,
  remotes: readonly string[],
  term: string,
  fromIndex: (remote: string) => SearchRow[],
): RemoteRow[];
export function readSearchLists(
  paths: PrefixPaths,
  store: PackageStore,
  remotes: readonly string[],
  term: string,
  fromIndex?: (remote: string) => SearchRow[],
): RemoteRow[] | undefined {
  const lists: { remote: string; text: string | undefined }[] = [];
  for (const remote of remotes) {
    const state = store.remoteState(remote);
    if (state === undefined) continue;
    const text = readSearchText(syncedIndexPath(paths, remote), state.sha256);
    if (text === undefined && fromIndex === undefined) return undefined;
    lists.push({ remote, text });
  }
  const needle = lists.length === 1 ? term.toLowerCase() : undefined;
  return lists.flatMap(({ remote, text }) =>
    (text === undefined ? fromIndex!(remote) : searchRows(text, needle)).map((row) => ({ row, remote })),
  );
}

/**
 * What `kiln search TERM` shows: the newest version of each name on offer whose
 * name or summary contains the term (case-insensitive), and installed packages
 * that match though no remote offers them; by name.
 */
export function matchSearch(
  term: string,
  offered: readonly RemoteRow[],
  installedPackages: readonly InstalledPackage[],
): AvailablePackage[] {
  const needle = term.toLowerCase();
  const installed = new Map(installedPackages.map((pkg) => [pkg.name, pkg]));
  const rows: AvailablePackage[] = [];
  const seen = new Set<string>();
  for (const {
    row: [name, version, variant, summary],
    remote,
  } of newestByName(
    offered,
    (item) => item.row[0],
    (item) => item.row[1],
  ).values()) {
    if (!name.toLowerCase().includes(needle) && !summary.toLowerCase().includes(needle)) continue;
    seen.add(name);
    const have = installed.get(name);
    rows.push({ name, version, variant, remote, summary, installed: have === undefined ? null : fullVersion(have) });
  }
  for (const pkg of installed.values()) {
    if (
      seen.has(pkg.name) ||
      (!pkg.name.toLowerCase().includes(needle) && !pkg.metadata.summary.toLowerCase().includes(needle))
    )
      continue;
    rows.push({
      name: pkg.name,
      version: fullVersion(pkg),
      variant: pkg.variant,
      remote: pkg.remote ?? '',
      summary: pkg.metadata.summary,
      installed: fullVersion(pkg),
    });
  }
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
