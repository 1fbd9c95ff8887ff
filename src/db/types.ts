/**
 * What the installed-package database holds, as plain values shared by the
 * installer, the solver and the queries.
 */
import type { EntryType, PackageMetadata } from '../format/metadata.js';

export type InstallReason = 'requested' | 'dependency';

/** A package's metadata as recorded at install time; its manifest is in the files table. */
export type RecordedMetadata = Omit<PackageMetadata, 'files'>;

export interface InstalledPackage {
  name: string;
  category: string;
  version: string;
  revision: number;
  variant: string;
  /** Remote it was installed from; null for a package installed from a file. */
  remote: string | null;
  reason: InstallReason;
  installedAt: string;
  installedSize: number;
  metadata: RecordedMetadata;
}

export interface InstalledFile {
  package: string;
  path: string;
  type: EntryType;
  /** Mode as applied on disk. */
  mode: number;
  uid: number;
  gid: number;
  /** Owner and group names from the package. */
  owner: string;
  group: string;
  size: number;
  /** sha256 of the content as installed (after relocation); regular files only. */
  sha256: string | null;
  target: string | null;
  config: boolean;
  /** A directory the package declares (created at install, removed only when empty). */
  declared: boolean;
}

export interface RemoteState {
  name: string;
  /** The last serial accepted: an older one is a rollback. */
  serial: number;
  created: string;
  expires: string;
  syncedAt: string;
  /** sha256 of the accepted index bytes. */
  sha256: string;
}

export interface TransactionRecord {
  id: string;
  startedAt: string;
  finishedAt: string;
  command: string;
  summary: string;
}
