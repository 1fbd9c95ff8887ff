/**
 * `kiln list` (installed), `kiln owns` and `kiln files` (of an installed
 * package) answer from the database alone, and
 * `kiln search` from it and the search lists written at sync time: they open
 * the database without loading the install machinery, unless the prefix needs
 * the full open (an interrupted transaction to repair, something missing to
 * report, a search list to fall back from), which prefixSession does,
 * imported only then.
 */
import { readPrefixConfig } from '../config/prefixConfig.js';
import { prefixPaths } from '../config/prefixLayout.js';
import type { InstalledSource } from '../install/installedQuery.js';
import { openInstalledQuery } from '../install/installedQuery.js';
import type { AvailablePackage } from '../install/searchList.js';
import { matchSearch, readSearchLists } from '../install/searchList.js';
import type { Invocation } from './command.js';

export async function withInstalled<T>(invocation: Invocation, fn: (source: InstalledSource) => T): Promise<T> {
  const query = openInstalledQuery(invocation.settings.prefix);
  if (query === undefined) {
    const { withPrefix } = await import('./prefixSession.js');
    return withPrefix(invocation, async (prefix) => fn(prefix));
  }
  try {
    return fn(query);
  } finally {
    query.close();
  }
}

/** `kiln search TERM`: from the search lists when every synced remote has a current one. */
export async function searchPackages(invocation: Invocation, term: string): Promise<AvailablePackage[]> {
  const query = openInstalledQuery(invocation.settings.prefix);
  if (query !== undefined) {
    try {
      const paths = prefixPaths(query.root);
      const config = await readPrefixConfig(paths);
      const offered = readSearchLists(
        paths,
        query.store,
        config.remotes.map((remote) => remote.name),
        term,
      );
      if (offered !== undefined) return matchSearch(term, offered, query.store.listInstalled());
    } finally {
      query.close();
    }
  }
  const { withPrefix } = await import('./prefixSession.js');
  return withPrefix(invocation, async (prefix) => prefix.search(term));
}
