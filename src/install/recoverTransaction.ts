/**
 * Bring a prefix back to a consistent state after a crash: finish a
 * transaction the database recorded, roll back one it did not, and discard
 * one that stopped before its journal was written. Called with the writer
 * lock held.
 *
 * Before rolling back, the rollback is recorded in the database, and that
 * write is what makes "the database has no row, so it did not commit" true
 * for good. SQLite in WAL mode appends a commit to the log first and then
 * updates the shared log index; a writer killed between the two leaves a
 * commit that the connections still open do not see, and that the next
 * connection to open the database after all have closed finds again when it
 * rebuilds the index from the log (found by test/writer-lock.test.ts's long
 * run: files rolled back under a transaction that reappeared as committed).
 * Any write from this connection goes into the log where that invisible
 * commit lies, so it can never come back; then the files are rolled back.
 */
import type { PackageStore } from '../db/index.js';
import type { Checkpoint } from './journal.js';
import { finishJournal, readJournal, removeTransactionDirectory, rollBackJournal } from './journal.js';
import { lstatIfExists } from '../util/fs.js';

export type RecoveryOutcome = { id: string; outcome: 'rolled back' | 'completed' | 'discarded' } | undefined;

export function recoverTransaction(
  root: string,
  transactionDir: string,
  store: PackageStore,
  checkpoint: Checkpoint,
  now: () => Date = () => new Date(),
): RecoveryOutcome {
  if (lstatIfExists(transactionDir) === undefined) return undefined;
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
  store.recordRollback(journal.id, journal.command, now().toISOString());
  checkpoint('rollback recorded');
  rollBackJournal(root, transactionDir, journal, checkpoint);
  removeTransactionDirectory(transactionDir);
  return { id: journal.id, outcome: 'rolled back' };
}
