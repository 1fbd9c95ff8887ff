export * from './types.js';
export { openDatabase, integrityProblems } from './openDatabase.js';
export type { Connection, OpenDatabaseOptions } from './openDatabase.js';
export { PackageStore } from './PackageStore.js';
export type { CommitChanges, PackageChange, PendingCommit } from './PackageStore.js';
