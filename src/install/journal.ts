/**
 * The transaction journal, `var/lib/kiln/transaction/journal.json`: the file
 * operations a transaction makes in the prefix, written (and flushed) before
 * the first of them. Each operation is a rename, so at any moment every path
 * is in a state recovery can tell apart by looking at the disk:
 *
 * - `mkdir P`: P was absent when the journal was written; it is created.
 * - `place P from stage/K [backup/K]`: the old P (if any) moves to backup/K,
 *   then stage/K moves to P. If stage/K still exists, P is not placed yet.
 * - `remove P to backup/K`: P moves to backup/K.
 *
 * The commit point is the database transaction that records the result and
 * the journal's id (`transactions` table). Recovery rolls back (reverse order:
 * P goes back to stage/K, backup/K back to P, created directories removed)
 * when the database has no such row, and otherwise finishes (deletes backups,
 * removes directories left empty). Both are idempotent, so a crash during
 * recovery is recovered by the next run.
 */
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import { writeFileAtomic } from '../util/atomicWrite.js';

export const JOURNAL_FORMAT = 1;

export type JournalOp =
  | { op: 'mkdir'; path: string; mode: number; uid?: number; gid?: number }
  | { op: 'place'; path: string; stage: string; backup?: string }
  | { op: 'remove'; path: string; backup: string };

export interface Journal {
  format: typeof JOURNAL_FORMAT;
  id: string;
  command: string;
  startedAt: string;
  ops: JournalOp[];
  /** Directories to remove once committed, when empty (deepest first). */
  cleanup: string[];
}

export const JOURNAL_FILE = 'journal.json';

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
    throw new KilnError('E_DATABASE', `cannot read transaction journal ${join(transactionDir, JOURNAL_FILE)}: ${(error as Error).message}`, {
      hint: 'the journal is written atomically, so this file was changed by something else than Kiln',
      cause: error,
    });
  }
  if (journal.format !== JOURNAL_FORMAT || !Array.isArray(journal.ops)) {
    throw new KilnError('E_DATABASE', `cannot read transaction journal ${join(transactionDir, JOURNAL_FILE)}: unknown format`, { hint: 'it was written by another Kiln version' });
  }
  return journal;
}

function exists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** Carry out the journal's operations in order. */
export function executeJournal(root: string, transactionDir: string, journal: Journal, checkpoint: Checkpoint): void {
  for (const op of journal.ops) {
    const target = join(root, op.path);
    if (op.op === 'mkdir') {
      mkdirSync(target);
      if (op.uid !== undefined && op.gid !== undefined) chownSync(target, op.uid, op.gid);
      chmodSync(target, op.mode);
    } else if (op.op === 'place') {
      if (op.backup !== undefined) renameSync(target, join(transactionDir, op.backup));
      renameSync(join(transactionDir, op.stage), target);
    } else {
      renameSync(target, join(transactionDir, op.backup));
    }
    checkpoint(`${op.op} ${op.path}`);
  }
}

/** Undo whatever part of the journal was carried out. */
export function rollBackJournal(root: string, transactionDir: string, journal: Journal, checkpoint: Checkpoint): void {
  for (let i = journal.ops.length - 1; i >= 0; i--) {
    const op = journal.ops[i]!;
    const target = join(root, op.path);
    if (op.op === 'mkdir') {
      try {
        rmdirSync(target);
      } catch (error) {
        // Not created yet, or something not ours inside: leave it.
        if (!isErrno(error, 'ENOENT') && !isErrno(error, 'ENOTEMPTY') && !isErrno(error, 'EEXIST')) throw error;
      }
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
}

/** After the commit point: remove directories left empty, then the transaction directory. */
export function finishJournal(root: string, transactionDir: string, journal: Journal, checkpoint: Checkpoint): void {
  rmSync(join(transactionDir, 'backup'), { recursive: true, force: true });
  checkpoint('delete backups');
  for (const path of journal.cleanup) {
    try {
      rmdirSync(join(root, path));
    } catch (error) {
      if (!isErrno(error, 'ENOENT') && !isErrno(error, 'ENOTEMPTY') && !isErrno(error, 'EEXIST') && !isErrno(error, 'ENOTDIR')) throw error;
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
