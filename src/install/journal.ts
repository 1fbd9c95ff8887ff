/**
 * The transaction journal, `var/lib/kiln/transaction/journal.json`: the file
 * operations a transaction makes in the prefix, written (and flushed) before
 * the first of them. Each operation is a rename, so at any moment every path
 * is in a state recovery can tell apart by looking at the disk:
 *
 * - `mkdir P`: P was absent when the journal was written; it is created
 *   (all of them first, in order, before anything is written into them).
 * - `new P`: P was absent; extraction writes it in place (a file, symbolic
 *   or hard link), from a payload whose signed hash was checked first.
 * - `place P from stage/K [backup/K]`: P existed (or is set aside); the new
 *   content is staged as stage/K, and at commit the old P (if any) moves to
 *   backup/K, then stage/K moves to P. If stage/K still exists, P is not
 *   placed yet.
 * - `delete P`: P, a file of a removed or replaced package that no new package
 *   claims, is deleted after the commit point, when the journal is finished
 *   (a format-1 journal has `remove P to backup/K` instead: P moved to
 *   backup/K before the commit point).
 *
 * The journal is written (and flushed) before the first of them, and the
 * mark `placing` (flushed too) once extraction is over and before the first
 * `place`: without it, no `place` has happened (a missing stage/K then only
 * means it was not extracted yet). The commit
 * point is the database transaction that records the result and the
 * journal's id (`transactions` table). Recovery rolls back when the database
 * has no such row — in reverse order, P goes back to stage/K, backup/K back
 * to P, a `new` P is deleted, then created directories are removed — and
 * otherwise finishes (deletes the `delete` paths and the backups, removes
 * directories left empty). Both
 * are idempotent, so a crash during recovery is recovered by the next run.
 */
import {
  chmodSync,
  chownSync,
  closeSync,
  fsyncSync,
  lchownSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  rmdirSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { lstatIfExists } from '../util/fs.js';

/** Format 2 added `new`; a format-1 journal (an older Kiln's) is read the same way. */
export const JOURNAL_FORMAT = 2;

export type JournalOp =
  | { op: 'mkdir'; path: string; mode: number; uid?: number; gid?: number }
  | { op: 'new'; path: string }
  | { op: 'place'; path: string; stage: string; backup?: string }
  | { op: 'remove'; path: string; backup: string }
  | { op: 'delete'; path: string };

export interface Journal {
  format: 1 | typeof JOURNAL_FORMAT;
  id: string;
  command: string;
  startedAt: string;
  ops: JournalOp[];
  /** Directories to remove once committed, when empty (deepest first). */
  cleanup: string[];
}

export const JOURNAL_FILE = 'journal.json';
/** Written after extraction, before the first rename; see above. */
export const PLACING_MARK = 'placing';

/** Called between steps; the crash-injection tests kill the process at one of them. */
export type Checkpoint = (label: string) => void;

export async function writeJournal(transactionDir: string, journal: Journal): Promise<void> {
  await writeFileAtomic(join(transactionDir, JOURNAL_FILE), `${JSON.stringify(journal)}\n`, { mode: 0o600 });
}

/** The journal, or undefined when there is none (a crash before it was written). */
export function readJournal(transactionDir: string): Journal | undefined {
  let text: string;
  try {
    text = readFileSync(join(transactionDir, JOURNAL_FILE), 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  let journal: Journal;
  try {
    journal = JSON.parse(text) as Journal;
  } catch (error) {
    throw new KilnError(
      'E_DATABASE',
      `cannot read transaction journal ${join(transactionDir, JOURNAL_FILE)}: ${(error as Error).message}`,
      {
        hint: 'the journal is written atomically, so this file was changed by something else than Kiln',
        cause: error,
      },
    );
  }
  if ((journal.format !== 1 && journal.format !== JOURNAL_FORMAT) || !Array.isArray(journal.ops)) {
    throw new KilnError(
      'E_DATABASE',
      `cannot read transaction journal ${join(transactionDir, JOURNAL_FILE)}: unknown format`,
      { hint: 'it was written by another Kiln version' },
    );
  }
  return journal;
}

function exists(path: string): boolean {
  return lstatIfExists(path) !== undefined;
}

/**
 * Create the journal's directories, in order: before extraction writes into
 * them. `umask` (when known) spares a chmod where mkdir already set the mode.
 */
export function makeDirectories(root: string, journal: Journal, checkpoint: Checkpoint, umask?: number): void {
  for (const op of journal.ops) {
    if (op.op !== 'mkdir') continue;
    const target = join(root, op.path);
    mkdirSync(target, { mode: op.mode & 0o777 });
    const owned = op.uid !== undefined && op.gid !== undefined;
    if (owned) chownSync(target, op.uid!, op.gid!);
    if (owned || umask === undefined || (op.mode & 0o7000) !== 0 || (op.mode & umask) !== 0) chmodSync(target, op.mode);
    checkpoint(`mkdir ${op.path}`);
  }
}

/** After extraction: move staged replacements into place and removed files aside, in order. */
export function executeJournal(root: string, transactionDir: string, journal: Journal, checkpoint: Checkpoint): void {
  if (journal.ops.some((op) => op.op === 'place' || op.op === 'remove')) {
    const fd = openSync(join(transactionDir, PLACING_MARK), 'w', 0o600);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    checkpoint('placing');
  }
  for (const op of journal.ops) {
    if (op.op === 'mkdir' || op.op === 'new' || op.op === 'delete') continue;
    const target = join(root, op.path);
    if (op.op === 'place') {
      if (op.backup !== undefined) renameSync(target, join(transactionDir, op.backup));
      renameSync(join(transactionDir, op.stage), target);
    } else {
      renameSync(target, join(transactionDir, op.backup));
    }
    checkpoint(`${op.op} ${op.path}`);
  }
}

/** Undo whatever part of the journal was carried out: every path first, then the directories made. */
export function rollBackJournal(root: string, transactionDir: string, journal: Journal, checkpoint: Checkpoint): void {
  // A format-1 journal was written after staging, so its renames may have begun.
  const placing = journal.format === 1 || exists(join(transactionDir, PLACING_MARK));
  for (let i = journal.ops.length - 1; i >= 0; i--) {
    const op = journal.ops[i]!;
    if (op.op === 'mkdir' || op.op === 'delete' || (!placing && (op.op === 'place' || op.op === 'remove'))) continue;
    const target = join(root, op.path);
    if (op.op === 'new') {
      // Absent when the journal was written, under the writer lock: whatever is there now, extraction made.
      const stat = lstatIfExists(target);
      if (stat !== undefined && !stat.isDirectory()) unlinkSync(target);
    } else if (op.op === 'place') {
      const stage = join(transactionDir, op.stage);
      if (!exists(stage) && exists(target)) renameSync(target, stage);
      if (op.backup !== undefined) {
        const backup = join(transactionDir, op.backup);
        if (exists(backup)) renameSync(backup, target);
      }
    } else {
      const backup = join(transactionDir, op.backup);
      if (exists(backup)) renameSync(backup, target);
    }
    checkpoint(`undo ${op.op} ${op.path}`);
  }
  for (let i = journal.ops.length - 1; i >= 0; i--) {
    const op = journal.ops[i]!;
    if (op.op !== 'mkdir') continue;
    try {
      rmdirSync(join(root, op.path));
    } catch (error) {
      // Not created yet, or something not ours inside: leave it.
      if (!isErrno(error, 'ENOENT') && !isErrno(error, 'ENOTEMPTY') && !isErrno(error, 'EEXIST')) throw error;
    }
    checkpoint(`undo mkdir ${op.path}`);
  }
}

/** After the commit point: remove directories left empty, then the transaction directory. */
export function finishJournal(root: string, transactionDir: string, journal: Journal, checkpoint: Checkpoint): void {
  for (const op of journal.ops) {
    if (op.op !== 'delete') continue;
    try {
      unlinkSync(join(root, op.path));
    } catch (error) {
      // Gone already (a finish that was interrupted), or a directory someone put there: leave it.
      if (
        !isErrno(error, 'ENOENT') &&
        !isErrno(error, 'EISDIR') &&
        !isErrno(error, 'EPERM') &&
        !isErrno(error, 'ENOTDIR')
      )
        throw error;
    }
    checkpoint(`delete ${op.path}`);
  }
  rmSync(join(transactionDir, 'backup'), { recursive: true, force: true });
  checkpoint('delete backups');
  for (const path of journal.cleanup) {
    try {
      rmdirSync(join(root, path));
    } catch (error) {
      if (
        !isErrno(error, 'ENOENT') &&
        !isErrno(error, 'ENOTEMPTY') &&
        !isErrno(error, 'EEXIST') &&
        !isErrno(error, 'ENOTDIR')
      )
        throw error;
    }
  }
  checkpoint('remove empty directories');
  removeTransactionDirectory(transactionDir);
}

export function removeTransactionDirectory(transactionDir: string): void {
  rmSync(transactionDir, { recursive: true, force: true });
}

/** lchown that tolerates symlinks, for staging. */
export function setOwner(path: string, uid: number, gid: number, symlink: boolean): void {
  if (symlink) lchownSync(path, uid, gid);
  else chownSync(path, uid, gid);
}
