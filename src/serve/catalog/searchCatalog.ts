/**
 * Search of the catalog's names: every word of the query must appear in a
 * name or its summary (case-insensitive). Results are ranked as people expect
 * from a package search: the exact name first, then names that start with the
 * query, names that contain it, and last the names whose summary matches;
 * ties in name order.
 */
import type { CatalogName } from './loadCatalog.js';

export interface SearchResult {
  total: number;
  results: CatalogName[];
}

export const SEARCH_PAGE = 50;
/** The longest query looked at: more is cut off, not an error. */
export const MAX_QUERY = 200;

export function searchCatalog(
  names: readonly CatalogName[],
  query: string,
  offset = 0,
  limit = SEARCH_PAGE,
): SearchResult {
  const text = query.slice(0, MAX_QUERY).trim().toLowerCase();
  const words = text.split(/\s+/).filter((word) => word !== '');
  if (words.length === 0) return { total: names.length, results: names.slice(offset, offset + limit) };
  const ranked: { rank: number; item: CatalogName }[] = [];
  for (const item of names) {
    const name = item.name.toLowerCase();
    let summary: string | undefined;
    let inName = true;
    let matches = true;
    for (const word of words) {
      if (name.includes(word)) continue;
      inName = false;
      summary ??= item.summary.toLowerCase();
      if (!summary.includes(word)) {
        matches = false;
        break;
      }
    }
    if (!matches) continue;
    const rank = name === text ? 0 : inName && name.startsWith(words[0] as string) ? 1 : inName ? 2 : 3;
    ranked.push({ rank, item });
  }
  // names are sorted already and sort is stable: ties stay in name order.
  ranked.sort((a, b) => a.rank - b.rank);
  return { total: ranked.length, results: ranked.slice(offset, offset + limit).map((row) => row.item) };
}
