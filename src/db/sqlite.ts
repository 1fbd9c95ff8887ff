/**
 * better-sqlite3, opened with its native addon named directly.
 *
 * Its JavaScript is imported, so that the `kiln` command's bundle
 * (writeBundle.ts) holds it and the code cache covers it. The addon is passed
 * as `nativeBinding`, which skips the `bindings` package: it searches a dozen
 * paths (and builds a stack trace) on every start-up, and cannot work from
 * inside a bundle. Together about 6 ms of every command's start-up here
 * (docs/performance.md, "Start-up of a query").
 */
import SqliteModule from 'better-sqlite3';
import { createRequire } from 'node:module';

export type { SqliteModule };

let addon: string | undefined;

/** Opens a database: better-sqlite3's constructor, given the addon's path. */
export function openSqlite(path: string, options: SqliteModule.Options = {}): SqliteModule.Database {
  addon ??= createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  return new SqliteModule(path, { ...options, nativeBinding: addon });
}

export const SqliteError = SqliteModule.SqliteError;
