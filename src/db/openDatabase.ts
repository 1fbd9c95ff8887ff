/**
 * The one owner of a prefix's SQLite connection: WAL (readers never wait for
 * the writer), a busy timeout, foreign keys, and migrations applied on open.
 * All SQL lives in `db/`.
 */
import type { SqliteModule } from './sqlite.js';
import { openSqlite } from './sqlite.js';
import { KilnError } from '../errors/index.js';
import { MIGRATIONS } from './schema.js';

export type Connection = SqliteModule.Database;

export interface OpenDatabaseOptions {
  readonly?: boolean;
}

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Connection {
  let db: Connection;
  try {
    db = openSqlite(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    db.pragma('busy_timeout = 10000');
    if (options.readonly !== true) db.pragma('journal_mode = WAL');
    // FULL: a committed transaction survives power loss before its backups are deleted.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    throw new KilnError('E_DATABASE', `cannot open database ${path}: ${(error as Error).message}`, {
      hint: 'check the file and its permissions',
      cause: error,
    });
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    db.close();
    throw new KilnError(
      'E_DATABASE',
      `cannot open database ${path}: its schema version ${version} is newer than this Kiln knows (${MIGRATIONS.length})`,
      {
        hint: 'use the Kiln version that last wrote this prefix, or a newer one',
      },
    );
  }
  if (version < MIGRATIONS.length) {
    if (options.readonly === true) {
      db.close();
      throw new KilnError('E_DATABASE', `cannot open database ${path} read-only: its schema needs migrating`, {
        hint: 'run a kiln command that changes the prefix once',
      });
    }
    db.transaction(() => {
      for (let i = version; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
  }
  return db;
}

/** `PRAGMA integrity_check`: the list of problems, empty when the database is sound. */
export function integrityProblems(db: Connection): string[] {
  const rows = db.pragma('integrity_check') as { integrity_check: string }[];
  const problems = rows.map((row) => row.integrity_check).filter((text) => text !== 'ok');
  const foreign = db.pragma('foreign_key_check') as unknown[];
  if (foreign.length > 0) problems.push(`${foreign.length} rows break foreign keys`);
  return problems;
}
