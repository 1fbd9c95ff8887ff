/**
 * Questions about what is installed in a prefix that its database alone
 * answers: `kiln list` (installed) and `kiln owns`. This module loads the
 * database and nothing of the install machinery (resolver, journal, worker
 * threads, remotes, signatures), so that those commands start sooner; Prefix
 * answers the same questions with the same functions.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { parsePrefixConfig } from '../config/prefixConfig.js';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { prefixPaths } from '../config/prefixLayout.js';
import type { Connection } from '../db/openDatabase.js';
import { openDatabase } from '../db/openDatabase.js';
import { PackageStore } from '../db/PackageStore.js';
import type { InstalledPackage } from '../db/types.js';
import { KilnError, isErrno } from '../errors/index.js';
import { fullVersion } from '../format/fullVersion.js';
import { DirectoryAliases, isAliasProblem } from './directoryAliases.js';
import { lstatIfExists } from '../util/fs.js';

/** A `--json`-friendly view of an installed package. */
export interface InstalledView {
  name: string;
  category: string;
  version: string;
  variant: string;
  remote: string | null;
  reason: string;
  installedAt: string;
  installedSize: number;
  summary: string;
  license: string;
  homepage: string;
  depends: { name: string; range: string }[];
}

export interface Owners {
  /** The path asked about, relative to the prefix. */
  path: string;
  owners: { package: string; version: string; type: string }[];
}

/** What the queries below need: the prefix's root and its database. */
export interface InstalledSource {
  readonly root: string;
  readonly store: PackageStore;
}

export function installedView(pkg: InstalledPackage): InstalledView {
  return {
    name: pkg.name,
    category: pkg.category,
    version: fullVersion(pkg),
    variant: pkg.variant,
    remote: pkg.remote,
    reason: pkg.reason,
    installedAt: pkg.installedAt,
    installedSize: pkg.installedSize,
    summary: pkg.metadata.summary,
    license: pkg.metadata.license,
    homepage: pkg.metadata.homepage,
    depends: pkg.metadata.depends,
  };
}

/** Every installed package, by name. */
export function installedViews({ store }: InstalledSource): InstalledView[] {
  return store.listInstalled().map(installedView);
}

/** Which packages own a path (absolute inside the prefix, or relative to it). */
export function ownersOf({ root, store }: InstalledSource, path: string): Owners {
  const absolute = isAbsolute(path) ? path : resolve(root, path);
  let relativePath = relative(root, absolute);
  if (relativePath.startsWith('..') || isAbsolute(relativePath)) {
    // Maybe the path goes through a symbolic link to the prefix.
    try {
      relativePath = relative(root, realpathSync(absolute));
    } catch {
      // Leave it: reported below.
    }
  }
  if (relativePath === '' || relativePath.startsWith('..') || isAbsolute(relativePath)) {
    throw new KilnError('E_USAGE', `cannot look up ${path}: it is not inside prefix ${root}`);
  }
  // Through directory links (merged /usr): bin/x of a package answers for usr/bin/x, and the other way round.
  const aliases = new DirectoryAliases(root);
  aliases.learn(store.directoryPaths());
  const found = aliases.entry(relativePath);
  const names = [...new Set([relativePath, ...(isAliasProblem(found) ? [] : aliases.preimages(found))])];
  const owners = names
    .flatMap((name) => store.ownersOf(name))
    .map((row) => ({ package: row.package, version: fullVersion(store.getInstalled(row.package)!), type: row.type }));
  if (owners.length === 0) {
    const exists = lstatIfExists(join(root, relativePath)) !== undefined;
    throw new KilnError(
      'E_NOT_INSTALLED',
      `cannot find an owner of ${relativePath}: ${exists ? 'no installed package owns it' : 'no such file, and no installed package lists it'}`,
    );
  }
  return { path: relativePath, owners };
}

/**
 * A prefix's database, opened read-only when this user may not write it (a
 * prefix someone else owns can still be queried).
 */
export function openPrefixDatabase(database: string): { db: Connection; readonly: boolean } {
  try {
    return { db: openDatabase(database), readonly: false };
  } catch (error) {
    if (!(error instanceof KilnError) || !/readonly|read-only|EACCES|permission|unable to open/i.test(error.message))
      throw error;
    return { db: openDatabaseSnapshot(database), readonly: true };
  }
}

/**
 * The database as another user reads it, as `pacman -Q` works for everyone:
 * SQLite cannot open a WAL database read-only where it may not create the
 * `-shm` file, so the database (and its WAL, when a writer left one) is copied
 * to a private temporary directory, the copy's WAL folded in, and the copy
 * opened. A copy is kept only when the files did not change while it was made.
 */
function openDatabaseSnapshot(database: string): Connection {
  const files = [database, `${database}-wal`];
  const stamp = (): string =>
    files
      .map((file) => {
        const stat = statSync(file, { throwIfNoEntry: false });
        return stat === undefined ? '-' : `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
      })
      .join(' ');
  for (let attempt = 0; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-query-'));
    try {
      const before = stamp();
      const copy = join(dir, 'kiln.db');
      try {
        copyFileSync(database, copy);
        if (existsSync(files[1]!)) copyFileSync(files[1]!, `${copy}-wal`);
      } catch (error) {
        if (isErrno(error, 'EACCES') || isErrno(error, 'EPERM')) {
          throw new KilnError('E_IO', `cannot read the database ${database}: permission denied`, {
            hint: "run the command as the prefix's owner, or ask them to make the prefix readable",
            cause: error,
          });
        }
        throw error;
      }
      if (stamp() !== before && attempt < 4) continue;
      const db = openDatabase(copy);
      // Fold the WAL into the copy, so that nothing needs the files once they are gone.
      db.pragma('journal_mode = DELETE');
      return db;
    } finally {
      // The connection keeps the open file; the names are not needed any more.
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * The prefix at `path` for queries, or undefined when anything is unusual: no
 * such directory, no configuration or database yet, or an interrupted
 * transaction waiting to be finished or rolled back. Then the caller opens the
 * full Prefix, which reports the problem or repairs the prefix first. The
 * configuration is checked as every command checks it.
 */
export function openInstalledQuery(path: string): (InstalledSource & { close(): void }) | undefined {
  let root: string;
  try {
    root = realpathSync(resolve(path));
  } catch {
    return undefined;
  }
  const paths = prefixPaths(root);
  if (!existsSync(paths.config) || !existsSync(paths.database) || lstatIfExists(paths.transaction) !== undefined)
    return undefined;
  // The configuration is read by the same rules as for every other command, though nothing here depends on it.
  parsePrefixConfig(readFileSync(paths.config, 'utf8'), paths.config);
  const { db } = openPrefixDatabase(paths.database);
  return { root, store: new PackageStore(db), close: () => db.close() };
}
