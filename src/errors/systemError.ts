/**
 * What the machine did, said as a `KilnError`: a Node.js system error
 * (`EACCES`, `ENOSPC`, ...) or an SQLite error that reaches the command line
 * becomes `E_IO` with the path, what the error means and what to do, instead
 * of an "internal error" with a stack. Anything else stays a bug.
 */
import { KilnError } from './KilnError.js';

/** errno code → what it means, and what the user can do about it. */
const ERRNO: Readonly<Record<string, { state: string; hint: string }>> = {
  EACCES: {
    state: 'permission denied',
    hint: 'run the command as the owner of that path, or choose a prefix you can write (kiln --prefix ~/DIR ...)',
  },
  EPERM: {
    state: 'operation not permitted',
    hint: 'run the command as the owner of that path, or choose a prefix you can write (kiln --prefix ~/DIR ...)',
  },
  EROFS: { state: 'the file system is read-only', hint: 'choose a prefix on a writable file system' },
  ENOSPC: {
    state: 'no space left on the device',
    hint: 'free some space on that file system (or choose a prefix on another one) and run the command again',
  },
  EDQUOT: {
    state: 'the disk quota is exceeded',
    hint: 'free some space within your quota (or choose a prefix on another file system) and run the command again',
  },
  EEXIST: { state: 'something already exists there', hint: 'move it away or choose another path' },
  ENOTDIR: {
    state: 'a part of the path is not a directory',
    hint: 'the path runs through a file; choose another path or move the file away',
  },
  EISDIR: { state: 'it is a directory', hint: 'give the path of a file, not of a directory' },
  ENOENT: { state: 'no such file or directory', hint: 'check the path' },
  ENOTEMPTY: { state: 'the directory is not empty', hint: 'move its contents away or choose another path' },
  ELOOP: { state: 'too many levels of symbolic links', hint: 'a symbolic link on the way loops; fix or remove it' },
  ENAMETOOLONG: { state: 'the file name is too long', hint: 'choose a shorter path' },
  EMFILE: {
    state: 'too many open files',
    hint: 'raise the limit on open files (ulimit -n) and run the command again',
  },
  ENFILE: {
    state: 'the system has too many open files',
    hint: 'close other programs or raise the system limit, and run the command again',
  },
  EIO: {
    state: 'an input/output error (the device failed)',
    hint: 'check the disk (dmesg) before running the command again',
  },
  EBUSY: { state: 'the device or file is busy', hint: 'stop what uses it and run the command again' },
  ETXTBSY: { state: 'the file is a program that is running', hint: 'stop the program and run the command again' },
  EXDEV: {
    state: 'the paths are on different file systems',
    hint: 'keep the cache and the prefix on one file system, or set cache in config.toml',
  },
};

/** What an errno code means and what to do, for the codes a person can act on. */
export function errnoMeaning(code: string | undefined): { state: string; hint: string } | undefined {
  return code === undefined ? undefined : ERRNO[code];
}

/** SQLite result code → errno-like meaning. */
const SQLITE: Readonly<Record<string, { state: string; hint: string }>> = {
  SQLITE_READONLY: {
    state: 'the database is read-only to this user',
    hint: "run the command as the prefix's owner (queries work for anyone who can read the prefix)",
  },
  SQLITE_CANTOPEN: { state: 'the database cannot be opened', hint: "run the command as the prefix's owner" },
  SQLITE_PERM: { state: 'access to the database is denied', hint: "run the command as the prefix's owner" },
  SQLITE_FULL: { state: 'no space left on the device', hint: ERRNO['ENOSPC']!.hint },
  SQLITE_IOERR: { state: 'an input/output error (the device failed)', hint: ERRNO['EIO']!.hint },
};

const VERB: Readonly<Record<string, string>> = {
  open: 'open',
  mkdir: 'create directory',
  rmdir: 'remove directory',
  unlink: 'remove',
  rename: 'rename',
  write: 'write',
  read: 'read',
  scandir: 'list directory',
  copyfile: 'copy',
  symlink: 'make a link at',
  link: 'make a hard link at',
  stat: 'look at',
  lstat: 'look at',
  chmod: 'change the mode of',
  chown: 'change the owner of',
  utime: 'set the times of',
  fsync: 'flush',
  access: 'access',
};

/**
 * A readable E_IO for a system or SQLite error; undefined for anything else (a bug).
 * `context` opens the message (`cannot change prefix X`); `outcome` says what
 * became of the change (by default, what is true of every interrupted change).
 */
export function fromSystemError(error: unknown, context?: { doing: string; outcome: string }): KilnError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return undefined;
  if (error.name === 'SqliteError' || code.startsWith('SQLITE_')) {
    const known = SQLITE[code] ?? SQLITE[code.replace(/_[A-Z]+$/, '')];
    if (known === undefined) return undefined;
    return new KilnError('E_IO', `${opening(context)}cannot use the database: ${known.state} (${error.message})`, {
      hint: `${known.hint}; ${context?.outcome ?? UNCHANGED}`,
      cause: error,
    });
  }
  const known = ERRNO[code];
  if (known === undefined) return undefined;
  const errno = error as NodeJS.ErrnoException & { dest?: string };
  const verb = (errno.syscall !== undefined ? VERB[errno.syscall] : undefined) ?? 'use';
  const object = errno.path ?? '';
  const to = errno.dest !== undefined ? ` to ${errno.dest}` : '';
  return new KilnError(
    'E_IO',
    `${opening(context)}cannot ${verb} ${object || 'a file'}${to}: ${known.state} (${code})`,
    {
      hint: `${known.hint}; ${context?.outcome ?? UNCHANGED}`,
      cause: error,
    },
  );
}

function opening(context: { doing: string } | undefined): string {
  return context === undefined ? '' : `${context.doing}: `;
}

/** What is true of every prefix and repository change when a command stops part-way (docs/transactions.md). */
export const UNCHANGED =
  'nothing is left half-done: the next kiln command rolls back (or, past its commit, completes) any change this one had begun';
