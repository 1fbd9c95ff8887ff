/** Installing into a prefix: plan, fetch, stage, commit, journal, recovery, verification. */
export { Prefix, initPrefix, openPrefix } from './Prefix.js';
export type { InstalledView, Owners } from './installedQuery.js';
export type { AvailablePackage } from './searchList.js';
export type {
  ChangeOptions,
  ChangeResult,
  PrefixInitOptions,
  PlannedAction,
  PlannedChange,
  PrefixOptions,
} from './Prefix.js';
export type { PrefixEvent, Reporter } from './events.js';
export type { SyncFailure, SyncResult } from './syncRemotes.js';
export type { VerifyProblem, ProblemKind } from './verifyInstalled.js';
export { readAccounts, ensureAccounts, accountIds } from './accounts.js';
export type { AccountTable } from './accounts.js';
