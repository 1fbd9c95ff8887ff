/**
 * Opens the build farm's catalog named by a location: a `postgres://` or
 * `postgresql://` URL is a PostgreSQL database (several machines share it);
 * anything else is the path of an SQLite file (one machine). Migrated to this
 * Kiln's schema before it is returned.
 */
import { KilnError } from '../errors/index.js';
import { redactUrl } from '../remote/remoteUrl.js';
import { migrate } from './migrations.js';
import type { SqlDb } from './sqlDb.js';
import { openPostgres, openSqliteDb } from './sqlDb.js';

export async function openCatalog(location: string): Promise<SqlDb> {
  const postgres = /^postgres(ql)?:\/\//.test(location);
  const db = postgres ? openPostgres(location) : openSqliteDb(location);
  try {
    await migrate(db);
  } catch (error) {
    await db.close().catch(() => undefined);
    if (error instanceof KilnError) throw error;
    const where = postgres ? redactUrl(location) : location;
    throw new KilnError('E_IO', `cannot open the farm catalog ${where}: ${(error as Error).message}`, {
      hint: postgres
        ? 'is the PostgreSQL server running, and may this user connect to that database?'
        : 'is the path a writable file (or where one can be made)?',
      cause: error,
    });
  }
  return db;
}
