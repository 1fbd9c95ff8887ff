/**
 * Locks that the kernel holds for a process and releases when the process
 * ends, however it ends (exit, crash, `kill -9`): nobody ever has to judge
 * whether another process is still alive, so a dead holder's lock can never
 * be "taken over" by two waiters at once, and a reused pid means nothing.
 *
 * The lock is SQLite's own file locking, through better-sqlite3 (already the
 * state database's driver; so this module lives in db/, with all SQL): a
 * lock file is a tiny SQLite database that is never written, and holding the
 * lock is an open `BEGIN IMMEDIATE` transaction on it, which is a POSIX
 * record lock (fcntl F_SETLK) on one byte of the file. The kernel drops
 * it when the holder's file descriptor goes away; a second connection in the
 * same process is refused too (SQLite tracks its own connections). Two rules
 * keep that true:
 *
 * - never open a lock file with anything but this module: closing any other
 *   descriptor of the file would drop the process's POSIX locks on it;
 * - keep the returned object reachable while the lock is wanted.
 *
 * Who holds a lock is written beside it, in `NAME.holder` ("PID HOST"), only
 * so that messages can name the holder; nothing decides anything from it.
 */
import { closeSync, constants, lstatSync, openSync, rmSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqliteModule } from './sqlite.js';
import { SqliteError, openSqlite } from './sqlite.js';
import { KilnError, isErrno } from '../errors/index.js';

export interface FileLock {
  readonly path: string;
  /** Give the lock up; a second call does nothing. */
  release(): void;
}

type Connection = SqliteModule.Database;

function sqliteCode(error: unknown): string | undefined {
  return error instanceof SqliteError ? error.code : undefined;
}

/**
 * Take the lock on `path` if nobody holds it: the lock, or `undefined` when
 * another connection (of any process, this one included) holds it. The file is
 * created when missing unless `create` is false, and then `null` says it is
 * missing.
 * @example const lock = tryLockFile('/srv/state/writer.lock'); if (lock) { ...; lock.release(); }
 */
export function tryLockFile(path: string, options: { create: false }): FileLock | undefined | null;
export function tryLockFile(path: string, options?: { create?: true }): FileLock | undefined;
export function tryLockFile(path: string, options: { create?: boolean } = {}): FileLock | undefined | null {
  const found = lstatSync(path, { throwIfNoEntry: false });
  if (options.create === false && found === undefined) return null;
  // A lock file is Kiln's own: never follow a link planted in its place (root may lock a prefix another user owns).
  if (found !== undefined && !found.isFile()) {
    throw new KilnError(
      'E_IO',
      `cannot lock ${path}: it is ${found.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`,
      { hint: 'Kiln makes its lock files itself: remove it while no Kiln command runs' },
    );
  }
  let db: Connection;
  try {
    db = openSqlite(path, { timeout: 0, fileMustExist: options.create === false });
  } catch (error) {
    if (options.create === false && sqliteCode(error) === 'SQLITE_CANTOPEN') return null;
    throw lockError(path, error);
  }
  try {
    // An empty database would make BEGIN IMMEDIATE create a journal file; a schema keeps the file the only one.
    if ((db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n === 0) {
      db.exec('CREATE TABLE IF NOT EXISTS lock (about TEXT)');
    }
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    db.close();
    // Another connection holds the lock, or is making the schema this moment.
    if (sqliteCode(error) === 'SQLITE_BUSY' || sqliteCode(error) === 'SQLITE_LOCKED') return undefined;
    throw lockError(path, error);
  }
  let held = true;
  return {
    path,
    release: () => {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}

function lockError(path: string, error: unknown): KilnError {
  const code = sqliteCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || isErrno(error, 'EACCES')) {
    return new KilnError('E_IO', `cannot lock ${path}: it cannot be opened for writing by this user (${message})`, {
      hint: 'run as the user who owns it',
      cause: error,
    });
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new KilnError('E_IO', `cannot lock ${path}: it is not a lock file Kiln made (${message})`, {
      hint: 'something else wrote to it: remove it while no Kiln command runs',
      cause: error,
    });
  }
  return new KilnError('E_IO', `cannot lock ${path}: ${message}`, {
    hint: 'the file system must support POSIX record locks (fcntl); on NFS, the lock service must run',
    cause: error,
  });
}

/** Where the holder of the lock `path` is named: `X.lock` -> `X.holder`. */
export function holderPathOf(path: string): string {
  return `${path.replace(/\.lock$/, '')}.holder`;
}

export interface Holder {
  pid: number;
  host: string;
}

/** Who last said it holds the lock at `path`; undefined when nobody did (or the note is being written). */
export async function readHolder(path: string): Promise<Holder | undefined> {
  let text: string;
  try {
    text = await readFile(holderPathOf(path), 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  const match = /^(\d+) (\S+)\n$/.exec(text);
  return match === null ? undefined : { pid: Number(match[1]), host: match[2]! };
}

export interface AcquireOptions {
  /** Wait for the holder (default), or fail at once with E_LOCKED. */
  wait?: boolean;
  /** Called once, when the lock is found held and the caller waits. */
  onWait?: (holder: Holder | undefined, path: string) => void;
  /** The hint of the E_LOCKED error. */
  hint?: string;
  /** Give up with E_LOCKED after this long (default: wait as long as needed). */
  timeoutMs?: number;
  /** Name this process in `NAME.holder` while it holds the lock (default true). */
  note?: boolean;
}

const POLL_MS = 40;

/**
 * Take the lock on `path` for `what` ("prefix /opt/stack"), waiting for its
 * holder unless told not to, and name this process in `NAME.holder`.
 * Releasing removes the note, then the lock.
 */
export async function acquireLock(path: string, what: string, options: AcquireOptions = {}): Promise<FileLock> {
  const started = performance.now();
  let told = false;
  for (;;) {
    const lock = tryLockFile(path);
    if (lock !== undefined) return options.note === false ? lock : withHolderNote(lock);
    const holder = await readHolder(path);
    const timedOut = options.timeoutMs !== undefined && performance.now() - started > options.timeoutMs;
    if (options.wait === false || timedOut) {
      throw new KilnError(
        'E_LOCKED',
        `cannot lock ${what}: ${holder === undefined ? 'another process' : `process ${holder.pid} on ${holder.host}`} holds ${path}`,
        {
          hint: options.hint ?? 'wait for it to finish, then try again',
        },
      );
    }
    if (!told) {
      options.onWait?.(holder, path);
      told = true;
    }
    // A little jitter, so that waiters that woke together do not keep colliding.
    await sleep(POLL_MS + Math.floor(Math.random() * POLL_MS));
  }
}

function withHolderNote(lock: FileLock): FileLock {
  const note = holderPathOf(lock.path);
  try {
    // O_NOFOLLOW: a link planted in the note's place is refused (ELOOP), never written through.
    const fd = openSync(note, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    try {
      writeSync(fd, `${process.pid} ${hostname()}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    lock.release();
    if (isErrno(error, 'ELOOP'))
      throw new KilnError('E_IO', `cannot lock ${lock.path}: ${note} is a symbolic link`, {
        hint: 'Kiln writes that file itself: remove the link while no Kiln command runs',
        cause: error,
      });
    throw error;
  }
  return {
    path: lock.path,
    release: () => {
      try {
        rmSync(note, { force: true });
      } finally {
        lock.release();
      }
    },
  };
}
