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
import { isErrno } from '../errors/index.js';
import { fullVersion } from '../format/metadata.js';
import type { IndexEntry } from '../repo/indexFormat.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { compareVersions } from '../version/index.js';

export const SEARCH_LIST_FORMAT = 1;

/** One name: [name, full version, variant, summary]. */
export type SearchRow = [string, string, string, string];

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
