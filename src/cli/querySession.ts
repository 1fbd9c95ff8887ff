/**
 * `kiln list` (installed) and `kiln owns` answer from the database alone: they
 * open it without loading the install machinery, unless the prefix needs the
 * full open (an interrupted transaction to repair, or something missing to
 * report), which prefixSession does, imported only then.
 */
import type { InstalledSource } from '../install/installedQuery.js';
import { openInstalledQuery } from '../install/installedQuery.js';
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
