/**
 * Typed reads and writes of the installed-package database, over prepared
 * statements. A transaction's database change is one SQLite transaction that
 * also inserts its `transactions` row: the commit point recovery looks for.
 */
import type { Connection } from './openDatabase.js';
import type {
  InstalledFile,
  InstalledPackage,
  InstallReason,
  RecordedMetadata,
  RemoteState,
  TransactionRecord,
} from './types.js';

interface PackageRow {
  name: string;
  category: string;
  version: string;
  revision: number;
  variant: string;
  remote: string | null;
  reason: InstallReason;
  installed_at: string;
  installed_size: number;
  metadata: string;
}

interface FileRow {
  package: string;
  path: string;
  type: InstalledFile['type'];
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  grp: string;
  size: number;
  sha256: string | null;
  target: string | null;
  config: number;
  declared: number;
}

export interface PackageChange {
  package: Omit<InstalledPackage, 'metadata'> & { metadata: RecordedMetadata };
  files: InstalledFile[];
}

export interface CommitChanges {
  transaction: TransactionRecord;
  /** Names whose rows go (removed, or replaced by an upgrade). */
  remove: readonly string[];
  add: readonly PackageChange[];
  /** Reasons changed without reinstalling (`requested` for a dependency asked for by name). */
  reasons?: readonly { name: string; reason: InstallReason }[];
  accounts?: readonly { kind: 'user' | 'group'; name: string; id: number; package: string }[];
}

function toPackage(row: PackageRow): InstalledPackage {
  return {
    name: row.name,
    category: row.category,
    version: row.version,
    revision: row.revision,
    variant: row.variant,
    remote: row.remote,
    reason: row.reason,
    installedAt: row.installed_at,
    installedSize: row.installed_size,
    metadata: JSON.parse(row.metadata) as RecordedMetadata,
  };
}

function toFile(row: FileRow): InstalledFile {
  return {
    package: row.package,
    path: row.path,
    type: row.type,
    mode: row.mode,
    uid: row.uid,
    gid: row.gid,
    owner: row.owner,
    group: row.grp,
    size: row.size,
    sha256: row.sha256,
    target: row.target,
    config: row.config === 1,
    declared: row.declared === 1,
  };
}

export class PackageStore {
  private readonly statements;

  constructor(readonly db: Connection) {
    this.statements = {
      packages: db.prepare('SELECT * FROM packages ORDER BY name'),
      package: db.prepare('SELECT * FROM packages WHERE name = ?'),
      files: db.prepare('SELECT * FROM files WHERE package = ? ORDER BY path'),
      allFiles: db.prepare('SELECT * FROM files ORDER BY path, package'),
      owners: db.prepare('SELECT * FROM files WHERE path = ? ORDER BY package'),
      directoryPaths: db.prepare("SELECT DISTINCT path FROM files WHERE type = 'dir'").pluck(),
      ownersOfList: db.prepare(
        'SELECT f.* FROM json_each(?) AS j JOIN files AS f ON f.path = j.value ORDER BY f.path, f.package',
      ),
      hasFiles: db.prepare('SELECT 1 FROM files LIMIT 1'),
      remote: db.prepare('SELECT * FROM remotes WHERE name = ?'),
      putRemote: db.prepare(
        'INSERT OR REPLACE INTO remotes (name, serial, created, expires, synced_at, sha256) VALUES (@name, @serial, @created, @expires, @syncedAt, @sha256)',
      ),
      dropRemote: db.prepare('DELETE FROM remotes WHERE name = ?'),
      transaction: db.prepare('SELECT id FROM transactions WHERE id = ?'),
      recordRollback: db.prepare('INSERT OR IGNORE INTO rolled_back (id, rolled_back_at, command) VALUES (?, ?, ?)'),
      history: db.prepare(
        'SELECT id, started_at AS startedAt, finished_at AS finishedAt, command, summary FROM transactions ORDER BY rowid DESC LIMIT ?',
      ),
      insertTransaction: db.prepare(
        'INSERT INTO transactions (id, started_at, finished_at, command, summary) VALUES (@id, @startedAt, @finishedAt, @command, @summary)',
      ),
      deletePackage: db.prepare('DELETE FROM packages WHERE name = ?'),
      insertPackage:
        db.prepare(`INSERT INTO packages (name, category, version, revision, variant, remote, reason, installed_at, installed_size, metadata)
        VALUES (@name, @category, @version, @revision, @variant, @remote, @reason, @installedAt, @installedSize, @metadata)`),
      insertFile:
        db.prepare(`INSERT INTO files (package, path, type, mode, uid, gid, owner, grp, size, sha256, target, config, declared)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      setReason: db.prepare('UPDATE packages SET reason = ? WHERE name = ?'),
      insertAccount: db.prepare(
        'INSERT OR IGNORE INTO accounts (kind, name, id, package, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
    };
  }

  listInstalled(): InstalledPackage[] {
    return (this.statements.packages.all() as PackageRow[]).map(toPackage);
  }

  getInstalled(name: string): InstalledPackage | undefined {
    const row = this.statements.package.get(name) as PackageRow | undefined;
    return row === undefined ? undefined : toPackage(row);
  }

  filesOf(name: string): InstalledFile[] {
    return (this.statements.files.all(name) as FileRow[]).map(toFile);
  }

  allFiles(): InstalledFile[] {
    return (this.statements.allFiles.all() as FileRow[]).map(toFile);
  }

  /** Every directory path some installed package records. */
  directoryPaths(): string[] {
    return this.statements.directoryPaths.all() as string[];
  }

  /** Every package entry at a path (several packages may share a directory). */
  ownersOf(path: string): InstalledFile[] {
    return (this.statements.owners.all(path) as FileRow[]).map(toFile);
  }

  /**
   * The entries at many paths in one query (a transaction looks at every path
   * it touches): a map from path to its rows, with no key for unowned paths.
   */
  ownersOfPaths(paths: readonly string[]): Map<string, InstalledFile[]> {
    const owners = new Map<string, InstalledFile[]>();
    if (paths.length === 0 || this.statements.hasFiles.get() === undefined) return owners;
    const unique = [...new Set(paths)];
    const CHUNK = 50_000;
    for (let at = 0; at < unique.length; at += CHUNK) {
      for (const row of this.statements.ownersOfList.all(JSON.stringify(unique.slice(at, at + CHUNK))) as FileRow[]) {
        const file = toFile(row);
        const list = owners.get(file.path);
        if (list === undefined) owners.set(file.path, [file]);
        else list.push(file);
      }
    }
    return owners;
  }

  remoteState(name: string): RemoteState | undefined {
    const row = this.statements.remote.get(name) as
      | { name: string; serial: number; created: string; expires: string; synced_at: string; sha256: string }
      | undefined;
    if (row === undefined) return undefined;
    return {
      name: row.name,
      serial: row.serial,
      created: row.created,
      expires: row.expires,
      syncedAt: row.synced_at,
      sha256: row.sha256,
    };
  }

  setRemoteState(state: RemoteState): void {
    this.statements.putRemote.run(state);
  }

  forgetRemote(name: string): void {
    this.statements.dropRemote.run(name);
  }

  hasTransaction(id: string): boolean {
    return this.statements.transaction.get(id) !== undefined;
  }

  /** Record that recovery rolls transaction `id` back (a committed write: see recoverTransaction.ts for why it must come first). */
  recordRollback(id: string, command: string, at: string): void {
    this.statements.recordRollback.run(id, at, command);
  }

  history(limit: number): TransactionRecord[] {
    return this.statements.history.all(limit) as TransactionRecord[];
  }

  /** Apply a transaction's changes atomically, with its commit marker. */
  commit(changes: CommitChanges): void {
    const pending = this.begin(changes.remove);
    try {
      for (const change of changes.add) pending.add(change);
      pending.commit(changes);
    } catch (error) {
      pending.abort();
      throw error;
    }
  }

  /**
   * Open a write transaction that removes `remove`'s rows, takes packages one
   * at a time (as they are extracted, while the disk is busy), and commits
   * with the commit marker when told; nothing is visible, and nothing
   * survives a crash, before then.
   */
  begin(remove: readonly string[]): PendingCommit {
    const s = this.statements;
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    let open = true;
    const insertFiles = db.transaction((files: PackageChange['files']) => {
      for (const file of files) {
        s.insertFile.run(
          file.package,
          file.path,
          file.type,
          file.mode,
          file.uid,
          file.gid,
          file.owner,
          file.group,
          file.size,
          file.sha256,
          file.target,
          file.config ? 1 : 0,
          file.declared ? 1 : 0,
        );
      }
    });
    try {
      for (const name of remove) s.deletePackage.run(name);
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
    return {
      add({ package: pkg, files }) {
        s.insertPackage.run({ ...pkg, metadata: JSON.stringify(pkg.metadata) });
        // Nested: a savepoint, so a failure leaves the open transaction as it was.
        insertFiles(files);
      },
      commit(changes) {
        for (const { name, reason } of changes.reasons ?? []) s.setReason.run(reason, name);
        for (const account of changes.accounts ?? [])
          s.insertAccount.run(account.kind, account.name, account.id, account.package, changes.transaction.finishedAt);
        s.insertTransaction.run(changes.transaction);
        db.exec('COMMIT');
        open = false;
      },
      abort() {
        if (open && db.inTransaction) db.exec('ROLLBACK');
        open = false;
      },
    };
  }
}

/** A write transaction in progress (see `PackageStore.begin`). */
export interface PendingCommit {
  add(change: PackageChange): void;
  /** Records reasons, accounts and the transaction row, then commits: the commit point. */
  commit(changes: Pick<CommitChanges, 'transaction' | 'reasons' | 'accounts'>): void;
  /** Rolls back; nothing of it was ever visible. */
  abort(): void;
}
