/**
 * Bring a prefix back to a consistent state after a crash: finish a
 * transaction the database recorded, roll back one it did not, and discard
 * one that stopped before its journal was written. Called with the writer
 * lock held.
 */
import { lstatSync } from 'node:fs';
import type { PackageStore } from '../db/index.js';
import type { Checkpoint } from './journal.js';
import { finishJournal, readJournal, removeTransactionDirectory, rollBackJournal } from './journal.js';

export type RecoveryOutcome = { id: string; outcome: 'rolled back' | 'completed' | 'discarded' } | undefined;

export function recoverTransaction(root: string, transactionDir: string, store: PackageStore, checkpoint: Checkpoint): RecoveryOutcome {
  if (lstatSync(transactionDir, { throwIfNoEntry: false }) === undefined) return undefined;
  const journal = readJournal(transactionDir);
  if (journal === undefined) {
    // Stopped while downloading or staging: nothing outside the transaction directory changed.
    removeTransactionDirectory(transactionDir);
    return { id: '(unjournaled)', outcome: 'discarded' };
  }
  if (store.hasTransaction(journal.id)) {
    finishJournal(root, transactionDir, journal, checkpoint);
    return { id: journal.id, outcome: 'completed' };
  }
  rollBackJournal(root, transactionDir, journal, checkpoint);
  removeTransactionDirectory(transactionDir);
  return { id: journal.id, outcome: 'rolled back' };
}
