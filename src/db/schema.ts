/**
 * The installed-package database's schema, as numbered migrations. The
 * database's `user_version` is the number of migrations applied; a database
 * from a newer Kiln (a higher number) is refused rather than guessed at.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE packages (
    name TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    version TEXT NOT NULL,
    revision INTEGER NOT NULL,
    variant TEXT NOT NULL,
    -- remote it came from; NULL when installed from a file
    remote TEXT,
    reason TEXT NOT NULL CHECK (reason IN ('requested', 'dependency')),
    installed_at TEXT NOT NULL,
    installed_size INTEGER NOT NULL,
    -- the package metadata (canonical JSON) without its manifest, which is the files table
    metadata TEXT NOT NULL
  ) STRICT;
  CREATE TABLE files (
    package TEXT NOT NULL REFERENCES packages(name) ON DELETE CASCADE,
    path TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('file', 'dir', 'symlink', 'hardlink')),
    -- as applied on disk: setuid bits dropped, owners mapped when not root
    mode INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    gid INTEGER NOT NULL,
    owner TEXT NOT NULL,
    grp TEXT NOT NULL,
    size INTEGER NOT NULL,
    -- sha256 of the content as installed (after relocation)
    sha256 TEXT,
    target TEXT,
    config INTEGER NOT NULL DEFAULT 0,
    -- 1 for a directory the package declares (created at install, removed only when empty)
    declared INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (package, path)
  ) STRICT;
  CREATE INDEX files_by_path ON files(path);
  CREATE TABLE remotes (
    name TEXT PRIMARY KEY,
    serial INTEGER NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    sha256 TEXT NOT NULL
  ) STRICT;
  CREATE TABLE accounts (
    kind TEXT NOT NULL CHECK (kind IN ('user', 'group')),
    name TEXT NOT NULL,
    id INTEGER NOT NULL,
    package TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kind, name)
  ) STRICT;
  -- One row per committed transaction; its presence is the commit point that
  -- recovery looks for.
  CREATE TABLE transactions (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    command TEXT NOT NULL,
    summary TEXT NOT NULL
  ) STRICT;
  `,
  // 2: transactions rolled back by recovery. Recording one is a write to the
  // database, which is what makes the rollback safe: see recoverTransaction.ts.
  `
  CREATE TABLE rolled_back (
    id TEXT PRIMARY KEY,
    rolled_back_at TEXT NOT NULL,
    command TEXT NOT NULL
  ) STRICT;
  `,
];
