/**
 * One small interface over the two databases the build farm's catalog runs
 * on: PostgreSQL (node-postgres, a pool; several coordinators and servers share
 * it) and SQLite (better-sqlite3; one process, the default when no PostgreSQL
 * is configured). The catalog's statements are written once:
 *
 * - placeholders are PostgreSQL's `$1`, `$2`…; on SQLite they become `?1`,
 *   `?2`…, which SQLite reads the same way;
 * - a comment `/*PG: TEXT*\/` is TEXT on PostgreSQL and nothing on SQLite:
 *   `FOR UPDATE OF s SKIP LOCKED` after a claim's LIMIT (concurrent claims pass
 *   over each other's rows), where SQLite's one writer at a time is the whole
 *   story;
 * - times are milliseconds since the epoch passed as parameters, never the
 *   database's clock, so that a simulation can run the real scheduler on a
 *   clock of its own (docs/farm.md).
 *
 * A transaction runs its function with a handle whose queries go to that
 * transaction. SQLite's queries are synchronous, but a transaction's function
 * awaits: its queries and every other caller's are run one at a time, in order.
 */
import type { Pool, PoolClient } from 'pg';
import pg from 'pg';
import { KilnError } from '../errors/index.js';
import type { SqliteModule } from '../db/sqlite.js';
import { openSqlite } from '../db/sqlite.js';

export type Dialect = 'postgres' | 'sqlite';

/** A row as the driver gives it: column name to value. */
export type Row = Record<string, unknown>;

export interface SqlDb {
  readonly dialect: Dialect;
  /** Runs one statement; the rows it returns (none for most writes without RETURNING). */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL only: calls `onNotify` for each NOTIFY on `channel`, on a
   * connection of its own that is made again when it breaks (the server
   * restarted). Returns what stops listening.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const POSTGRES_ONLY = /\/\*PG:(.*?)\*\//gs;

/** The statement as `dialect` reads it. */
export function inDialect(sql: string, dialect: Dialect): string {
  if (dialect === 'postgres') return sql.replace(POSTGRES_ONLY, '$1');
  return sql.replace(POSTGRES_ONLY, '').replace(/\$(\d+)/g, '?$1');
}

/** Numbers come back as numbers: the catalog's BIGINT columns (times in ms, ids) stay far below 2^53. */
const types = {
  getTypeParser: (oid: number, format?: string) =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text'),
};

/** A pool of connections to the PostgreSQL at `connection` (a URL, or node-postgres's settings). */
export function openPostgres(connection: string | pg.PoolConfig, max = 10): SqlDb {
  const config = typeof connection === 'string' ? { connectionString: connection } : connection;
  const pool = new pg.Pool({ ...config, max, types });
  // An idle client's error (the server restarted) must not end the process; the next query reconnects.
  pool.on('error', () => undefined);
  return postgresDb(pool, undefined);
}

function postgresDb(pool: Pool, client: PoolClient | undefined): SqlDb {
  const db: SqlDb = {
    dialect: 'postgres',
    async query<T extends Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      const result = await (client ?? pool).query(inDialect(sql, 'postgres'), params as unknown[]);
      return result.rows as T[];
    },
    async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
      if (client !== undefined) return fn(db);
      const connection = await pool.connect();
      // A checked-out connection has no listener of the pool's: a server that goes away while the transaction
      // works between queries (publishing under the advisory lock) would be an uncaught 'error' event ending the
      // process. It fails the transaction instead (its next query is refused), and the connection is discarded.
      let broken: Error | undefined;
      const onError = (error: Error): void => {
        broken = error;
      };
      connection.on('error', onError);
      try {
        await connection.query('BEGIN');
        const result = await fn(postgresDb(pool, connection));
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        connection.off('error', onError);
        connection.release(broken);
      }
    },
    async close(): Promise<void> {
      if (client === undefined) await pool.end();
    },
  };
  if (client === undefined) db.listen = (channel, onNotify) => listenOn(pool, channel, onNotify);
  return db;
}

async function listenOn(pool: Pool, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let dropConnection = (): void => undefined;
  const connect = async (): Promise<void> => {
    try {
      const next = await pool.connect();
      let released = false;
      const drop = (): void => {
        if (!released) next.release(true);
        released = true;
      };
      next.on('notification', (message) => {
        if (message.channel === channel) onNotify();
      });
      // A server that restarted ends the connection, with an error or without one.
      const lost = (): void => {
        if (released) return;
        drop();
        if (!stopped) retry = setTimeout(() => void connect(), 1000);
      };
      next.on('error', lost);
      next.on('end', lost);
      try {
        await next.query(`LISTEN ${channel}`);
      } catch (error) {
        drop();
        throw error;
      }
      dropConnection = drop;
      if (stopped) drop();
      // Whatever was notified while no one listened is looked for again.
      onNotify();
    } catch {
      if (!stopped) retry = setTimeout(() => void connect(), 1000);
    }
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    dropConnection();
  };
}

/** The SQLite database at `path` (created when missing), in WAL mode. */
export function openSqliteDb(path: string): SqlDb {
  let database: SqliteModule.Database;
  try {
    database = openSqlite(path);
  } catch (error) {
    throw new KilnError('E_IO', `cannot open the farm catalog ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.defaultSafeIntegers(false);
  const statements = new Map<string, SqliteModule.Statement>();
  const run = (sql: string, params: readonly unknown[]): Row[] => {
    const text = inDialect(sql, 'sqlite');
    let statement = statements.get(text);
    if (statement === undefined) {
      statement = database.prepare(text);
      statements.set(text, statement);
    }
    // Numbered parameters (?1, ?2…) are bound from an object keyed by number.
    const bound = Object.fromEntries(params.map((value, at) => [at + 1, sqliteValue(value)]));
    if (statement.reader) return statement.all(bound) as Row[];
    statement.run(bound);
    return [];
  };
  // Everything runs one at a time: a transaction holds the queue from BEGIN to COMMIT.
  let tail: Promise<unknown> = Promise.resolve();
  const serially = <T>(task: () => Promise<T>): Promise<T> => {
    const next = tail.then(task, task);
    tail = next.catch(() => undefined);
    return next;
  };
  const inside: SqlDb = {
    dialect: 'sqlite',
    query: async <T extends Row>(sql: string, params: readonly unknown[] = []) => run(sql, params) as T[],
    transaction: (fn) => fn(inside),
    close: async () => undefined,
  };
  return {
    dialect: 'sqlite',
    query: <T extends Row>(sql: string, params: readonly unknown[] = []) =>
      serially(async () => run(sql, params) as T[]),
    transaction: <T>(fn: (tx: SqlDb) => Promise<T>) =>
      serially(async () => {
        database.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(inside);
          database.exec('COMMIT');
          return result;
        } catch (error) {
          if (database.inTransaction) database.exec('ROLLBACK');
          throw error;
        }
      }),
    close: () =>
      serially(async () => {
        database.close();
      }),
  };
}

/** SQLite has no boolean: true and false are stored as 1 and 0, as PostgreSQL's are read back by the catalog. */
function sqliteValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}
