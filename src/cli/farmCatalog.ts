/** The build farm commands' catalog: --catalog, else KILN_FARM_CATALOG (docs/farm.md). */
import { KilnError } from '../errors/index.js';
import { openCatalog } from '../farm/openCatalog.js';
import type { SqlDb } from '../farm/sqlDb.js';
import { stringOption } from './args.js';
import type { Invocation } from './command.js';

export async function withCatalog<T>(invocation: Invocation, use: (db: SqlDb) => Promise<T>): Promise<T> {
  const location = stringOption(invocation, 'catalog') ?? invocation.settings.farmCatalog;
  if (location === undefined)
    throw new KilnError('E_USAGE', 'no farm catalog given', {
      hint: 'give --catalog postgresql://HOST/DB or --catalog FILE.sqlite (or set KILN_FARM_CATALOG)',
    });
  const db = await openCatalog(location);
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}
