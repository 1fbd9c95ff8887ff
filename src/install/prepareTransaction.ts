/**
 * Turn a plan into file operations before anything is written: for every
 * entry of every package being placed, and every file of every package being
 * replaced or removed, decide what happens at its path. All conflicts (with
 * another package, with a file nobody owns, with a symbolic link on the way)
 * are found here and reported together, naming both owners.
 *
 * Paths are compared canonically (directoryAliases.ts): a directory on the way
 * may be a symbolic link that resolves inside the prefix (merged /usr), and
 * then `bin/x` and `usr/bin/x` are one file. The journal's operations name
 * canonical paths; the database keeps each package's own paths.
 */
import { dirname, join, posix } from 'node:path';
import type { InstalledFile, PackageChange, PackageStore } from '../db/index.js';
import { KILN_DIRECTORIES, isKilnPath } from '../config/prefixLayout.js';
import { KilnError } from '../errors/index.js';
import type { ManifestEntry, PackageMetadata } from '../format/metadata.js';
import { fullVersion } from '../format/metadata.js';
import { installablePathProblem, PATH_MAX } from '../format/manifestSafety.js';
import type { PlanAction } from '../solver/types.js';
import type { AccountTable } from './accounts.js';
import { accountIds } from './accounts.js';
import type { JournalOp } from './journal.js';
import { DirectoryAliases, isAliasProblem } from './directoryAliases.js';
import { sha256FileSync } from '../util/hash.js';
import { blockingAncestor, lstatIfExists } from '../util/fs.js';

/** How owners and special bits are applied. */
export interface OwnerPolicy {
  /** Root installing into a system prefix: owners by name, setuid/setgid kept. */
  applyOwners: boolean;
  accounts: AccountTable | undefined;
  /** The invoking user, used when owners are not applied. */
  uid: number;
  gid: number;
  userName: string;
}

/**
 * Where extraction writes one manifest entry: straight into the prefix at its
 * own path when nothing is there (journal op `new`), or into the transaction
 * directory (`stage/K`) when it replaces something, to be renamed into place
 * at commit. Absent for directories and for entries another package places.
 */
export interface EntryTarget {
  inPrefix: boolean;
  /** Relative to the prefix root (in the prefix) or the transaction directory (staged). */
  path: string;
}

/** What extraction does with one manifest entry. */
export interface EntryDisposition {
  write?: EntryTarget;
  /** Mode, owner ids as applied. */
  mode: number;
  uid: number;
  gid: number;
}

export interface PreparedPackage {
  action: Exclude<PlanAction, { kind: 'remove' }>;
  metadata: PackageMetadata;
  /** One per manifest entry, in manifest order. */
  entries: EntryDisposition[];
  /** Database rows; sizes and hashes of relocated files are filled in by staging. */
  change: PackageChange;
}

export interface PreparedTransaction {
  ops: JournalOp[];
  cleanup: string[];
  packages: PreparedPackage[];
  /** Names whose database rows go. */
  removeNames: string[];
  notes: string[];
  prefixNotes: PrefixNote[];
}

const SPECIAL_BITS = 0o6000;

/** True when the installed content of an entry is the packaged content (no relocation row). */
function isUnrelocated(entry: ManifestEntry, meta: PackageMetadata): boolean {
  return !(meta.relocation?.files.some((row) => row.path === entry.path) ?? false);
}
const MAX_LISTED = 20;

function describeOwner(pkg: string, store: PackageStore): string {
  const installed = store.getInstalled(pkg);
  return installed === undefined ? pkg : `${pkg}-${fullVersion(installed)} (installed)`;
}

export function prepareTransaction(
  root: string,
  store: PackageStore,
  actions: readonly PlanAction[],
  metadataOf: (name: string) => PackageMetadata,
  policy: OwnerPolicy,
  installedAt: string,
  diskSha256: (path: string) => string = (path) => sha256FileSync(path),
): PreparedTransaction {
  const conflicts: string[] = [];
  const notes = new Set<string>();
  const ops: JournalOp[] = [];
  let counter = 0;
  const placing = actions.filter((action): action is PreparedPackage['action'] => action.kind !== 'remove');
  const replaced = new Set(actions.filter((action) => action.kind !== 'install').map((action) => action.name));

  // Paths the prefix is too long for: refused before anything is written, not met as ENAMETOOLONG halfway.
  const tooLong: string[] = [];
  for (const action of placing) {
    const meta = metadataOf(action.name);
    for (const entry of meta.files) {
      const problem = installablePathProblem(root, entry.path, entry.config === true);
      if (problem !== undefined) tooLong.push(`${problem} (${action.name}-${fullVersion(meta)})`);
    }
  }
  if (tooLong.length > 0) {
    const listed = tooLong
      .slice(0, MAX_LISTED)
      .map((line) => `\n  ${line}`)
      .join('');
    const more = tooLong.length > MAX_LISTED ? `\n  … and ${tooLong.length - MAX_LISTED} more` : '';
    throw new KilnError(
      'E_PATH_TOO_LONG',
      `cannot change prefix ${root}: ${tooLong.length} path${tooLong.length === 1 ? ' is' : 's are'} too long for it, nothing was written:${listed}${more}`,
      {
        hint: `the prefix itself takes ${Buffer.byteLength(root, 'utf8')} bytes of the ${PATH_MAX - 1} a path may have; install into a shorter prefix`,
      },
    );
  }

  // Directory links on the way, found on the packages' paths and among the directories already installed.
  const aliases = new DirectoryAliases(root);
  aliases.learn(store.directoryPaths());
  const reportedLinks = new Set<string>();
  /** The canonical path of a package path; a link on the way that Kiln does not follow is a conflict. */
  const canonical = (path: string, type: ManifestEntry['type'] | 'declared', who: string): string | undefined => {
    const found = type === 'dir' || type === 'declared' ? aliases.directory(path) : aliases.entry(path);
    if (isAliasProblem(found)) {
      // Once per link and package, not once per file behind it.
      const key = `${found.problem}\0${who}`;
      const owners = found.link === undefined ? [] : (store.ownersOfPaths([found.link]).get(found.link) ?? []);
      const owned =
        owners.length === 0
          ? ''
          : ` (a ${owners[0]!.type} of ${owners.map((row) => describeOwner(row.package, store)).join(', ')})`;
      if (!reportedLinks.has(key))
        conflicts.push(`${found.problem}${owned} (on the way to ${path} of ${who}); Kiln never writes through it`);
      reportedLinks.add(key);
      return undefined;
    }
    if (found !== path && isKilnPath(found)) {
      conflicts.push(
        `${path} of ${who} is inside Kiln's own directories (${KILN_DIRECTORIES.join(', ')}) through a symbolic link: it would be ${found}`,
      );
      return undefined;
    }
    return found;
  };
  const canonicalOf = new Map<string, Map<string, string | undefined>>();
  const canonicalFor = (
    pkg: string,
    path: string,
    type: ManifestEntry['type'] | 'declared',
    who: string,
  ): string | undefined => {
    let paths = canonicalOf.get(pkg);
    if (paths === undefined) {
      paths = new Map();
      canonicalOf.set(pkg, paths);
    }
    if (!paths.has(path)) paths.set(path, canonical(path, type, who));
    return paths.get(path);
  };

  // Every canonical path a new package claims, and by whom.
  const claims = new Map<string, { pkg: string; entry: ManifestEntry | 'declared' }>();
  for (const action of placing) {
    const meta = metadataOf(action.name);
    const who = `${action.name}-${fullVersion(meta)}`;
    for (const path of [...meta.files.map((entry) => entry.path), ...meta.directories.map((dir) => dir.path)]) {
      if (isKilnPath(path))
        conflicts.push(`${path} of ${who} is inside Kiln's own directories (${KILN_DIRECTORIES.join(', ')})`);
    }
    for (const entry of meta.files) {
      const at = canonicalFor(action.name, entry.path, entry.type, who);
      if (at === undefined) continue;
      const other = claims.get(at);
      if (other !== undefined && (entry.type !== 'dir' || other.entry === 'declared' || other.entry.type !== 'dir')) {
        const same =
          other.entry !== 'declared' && other.entry.path !== entry.path
            ? ` (${other.entry.path} and ${entry.path} are one path: ${at})`
            : '';
        conflicts.push(`${entry.path} is in both ${other.pkg}-${fullVersion(metadataOf(other.pkg))} and ${who}${same}`);
      } else if (other === undefined) claims.set(at, { pkg: action.name, entry });
      if (
        entry.type === 'symlink' &&
        at !== entry.path &&
        posix.normalize(posix.join(posix.dirname(at), entry.target ?? '')).startsWith('..')
      ) {
        conflicts.push(
          `${entry.path} of ${who} is a symbolic link to ${entry.target ?? ''}, which leads out of the prefix from where it lands (${at})`,
        );
      }
    }
    for (const dir of meta.directories) {
      for (let path = dir.path; path !== '.' && path !== ''; path = dirname(path)) {
        const at = canonicalFor(action.name, path, 'declared', who);
        if (at !== undefined && !claims.has(at)) claims.set(at, { pkg: action.name, entry: 'declared' });
      }
    }
  }

  // The owners of every canonical path a new package claims, in one query over all the paths that name it; others one query each, once.
  const preimages = new Map<string, string[]>([...claims.keys()].map((path) => [path, aliases.preimages(path)]));
  const rowsByPath = store.ownersOfPaths([...preimages.values()].flat());
  const ownerRows = new Map<string, InstalledFile[]>();
  const NONE: InstalledFile[] = [];
  const ownersOf = (path: string): InstalledFile[] => {
    let rows = ownerRows.get(path);
    if (rows === undefined) {
      const names = preimages.get(path) ?? aliases.preimages(path);
      rows = names.flatMap((name) => (preimages.has(path) ? rowsByPath.get(name) : store.ownersOf(name)) ?? NONE);
      ownerRows.set(path, rows);
    }
    return rows;
  };
  const ownedByOthers = (path: string): InstalledFile[] => ownersOf(path).filter((row) => !replaced.has(row.package));
  const ownedByReplaced = (path: string): InstalledFile | undefined =>
    ownersOf(path).find((row) => replaced.has(row.package));
  const scheduledDirs = new Set<string>();
  const checkedDirs = new Set<string>();
  let mappedOwners = false;
  let droppedBits = false;

  const idsFor = (owner: string, group: string, where: string): { uid: number; gid: number } => {
    if (policy.applyOwners) return accountIds(policy.accounts!, owner, group, where);
    if (owner !== policy.userName || group !== policy.userName) mappedOwners = true;
    return { uid: policy.uid, gid: policy.gid };
  };
  const modeFor = (mode: number, type: ManifestEntry['type']): number => {
    if (policy.applyOwners) return mode;
    if ((mode & SPECIAL_BITS) !== 0) droppedBits = true;
    // Without root, the installer must be able to write into the directories it manages.
    return type === 'dir' ? (mode & ~SPECIAL_BITS) | 0o700 : mode & ~SPECIAL_BITS;
  };
  /** Create a directory that is absent, once, however many packages list it. */
  const scheduleMkdir = (path: string, mode: number, ids: { uid: number; gid: number }): boolean => {
    if (scheduledDirs.has(path)) return false;
    scheduledDirs.add(path);
    checkedDirs.add(path);
    ops.push(
      policy.applyOwners ? { op: 'mkdir', path, mode, uid: ids.uid, gid: ids.gid } : { op: 'mkdir', path, mode },
    );
    return true;
  };
  /** A directory at a canonical path (links on the way resolved): absent, or a real directory. */
  const checkDirectory = (path: string, shown: string, who: string): 'exists' | 'absent' | 'bad' => {
    if (checkedDirs.has(path)) return 'exists';
    const stat = lstatIfExists(join(root, path));
    if (stat === undefined) return 'absent';
    if (!stat.isDirectory()) {
      conflicts.push(
        `${shown} (a directory of ${who}) exists on disk as ${stat.isSymbolicLink() ? 'a symbolic link' : 'a non-directory'}; Kiln never writes through it`,
      );
      return 'bad';
    }
    checkedDirs.add(path);
    return 'exists';
  };

  /** What blocks a path: the nearest ancestor on disk that is not a directory (and a directory this transaction makes is one), described with its owner. */
  const clearParents = new Set<string>();
  const blockedBy = (path: string): string | undefined => {
    // The common case costs nothing: the parent is a directory this transaction makes or already found on disk.
    const parent = dirname(path);
    if (parent === '.' || scheduledDirs.has(parent) || checkedDirs.has(parent) || clearParents.has(parent))
      return undefined;
    const found = blockingAncestor(root, path);
    if (found === undefined) clearParents.add(parent);
    if (found === undefined || scheduledDirs.has(found.path) || claims.get(found.path)?.entry === 'declared')
      return undefined;
    const owners = ownersOf(found.path);
    const kind = found.stat.isSymbolicLink() ? 'a symbolic link' : 'a file';
    return `${found.path}, which is ${kind} on disk${owners.length > 0 ? ` of ${owners.map((row) => describeOwner(row.package, store)).join(', ')}` : ' that no package owns'}`;
  };

  const prepared: PreparedPackage[] = [];
  for (const action of placing) {
    const meta = metadataOf(action.name);
    const who = `${action.name}-${fullVersion(meta)}`;
    const entries: EntryDisposition[] = [];
    const files: InstalledFile[] = [];
    for (const entry of meta.files) {
      const ids = idsFor(entry.owner, entry.group, `${entry.path} of ${who}`);
      const mode = modeFor(entry.mode, entry.type);
      const row: InstalledFile = {
        package: action.name,
        path: entry.path,
        type: entry.type,
        mode,
        uid: ids.uid,
        gid: ids.gid,
        owner: entry.owner,
        group: entry.group,
        size: entry.size,
        sha256: entry.sha256 ?? null,
        target: entry.target ?? null,
        config: entry.config === true,
        declared: false,
      };
      files.push(row);
      const at = canonicalFor(action.name, entry.path, entry.type, who);
      if (at === undefined || (claims.get(at)?.pkg !== action.name && entry.type !== 'dir')) {
        entries.push({ mode, ...ids });
        continue;
      }
      const shown = at === entry.path ? entry.path : `${entry.path} (${at})`;
      const others = ownedByOthers(at);
      if (entry.type === 'dir') {
        const clash = others.find((other) => other.type !== 'dir');
        if (clash !== undefined)
          conflicts.push(
            `${shown} is a directory in ${who} but a ${clash.type} in ${describeOwner(clash.package, store)}`,
          );
        const state = checkDirectory(at, shown, who);
        if (state === 'absent') scheduleMkdir(at, mode, ids);
        entries.push({ mode, ...ids });
        continue;
      }
      if (others.length > 0) {
        entries.push({ mode, ...ids });
        conflicts.push(
          `${shown} of ${who} is already owned by ${others.map((other) => `${describeOwner(other.package, store)}${other.path === entry.path ? '' : ` (as ${other.path})`}`).join(', ')}`,
        );
        continue;
      }
      // Nothing can be inside a directory this transaction creates.
      const disk = scheduledDirs.has(dirname(at)) ? undefined : lstatIfExists(join(root, at));
      // Absent may mean that a directory on the way is a file or a symbolic link on disk: nothing can be written there.
      const blocked = disk === undefined ? blockedBy(at) : undefined;
      if (blocked !== undefined) {
        entries.push({ mode, ...ids });
        conflicts.push(`${shown} of ${who} would be inside ${blocked}`);
        continue;
      }
      if (disk === undefined) {
        ops.push({ op: 'new', path: at });
        entries.push({ write: { inPrefix: true, path: at }, mode, ...ids });
        continue;
      }
      const k = counter++;
      const stage = `stage/${k}`;
      entries.push({ write: { inPrefix: false, path: stage }, mode, ...ids });
      if (disk.isDirectory()) {
        conflicts.push(`${shown} of ${who} exists on disk as a directory`);
        continue;
      }
      const previous = ownedByReplaced(at);
      let keepUserFile = false;
      if (entry.config === true) {
        if (previous === undefined) keepUserFile = true;
        else if (
          previous.type === 'file' &&
          disk.isFile() &&
          previous.sha256 !== null &&
          diskSha256(join(root, at)) !== previous.sha256
        )
          keepUserFile = true;
      } else if (previous === undefined) {
        conflicts.push(`${shown} of ${who} exists on disk and no package owns it`);
        continue;
      }
      if (keepUserFile && previous !== undefined && previous.sha256 === entry.sha256 && isUnrelocated(entry, meta)) {
        // The package did not change this file: keep the user's version, nothing to set aside.
        continue;
      }
      if (keepUserFile) {
        const aside = `${at}.kiln-new`;
        notes.add(`${entry.path}: kept your version; the new one from ${who} is ${aside}`);
        const asideStat = lstatIfExists(join(root, aside));
        if (asideStat?.isDirectory() === true) conflicts.push(`${aside} exists on disk as a directory`);
        ops.push(
          asideStat === undefined
            ? { op: 'place', path: aside, stage }
            : { op: 'place', path: aside, stage, backup: `backup/${k}` },
        );
        continue;
      }
      ops.push({ op: 'place', path: at, stage, backup: `backup/${k}` });
    }
    // Declared directories (a spool or queue directory with owner and mode), with any missing parents.
    const recordedPaths = new Set(files.map((row) => row.path));
    for (const dir of meta.directories) {
      const chain: string[] = [];
      for (let path = dir.path; path !== '.' && path !== ''; path = dirname(path)) chain.unshift(path);
      for (const path of chain) {
        const at = canonicalFor(action.name, path, 'declared', who);
        if (at === undefined) break;
        const isDeclared = path === dir.path;
        const owner = isDeclared ? dir.owner : 'root';
        const group = isDeclared ? dir.group : 'root';
        const ids = idsFor(owner, group, `directory ${path} of ${who}`);
        const mode = modeFor(isDeclared ? dir.mode : 0o755, 'dir');
        const others = ownedByOthers(at).filter((other) => other.type !== 'dir');
        if (others.length > 0)
          conflicts.push(`${path} is a directory of ${who} but a file of ${describeOwner(others[0]!.package, store)}`);
        const created = checkDirectory(at, path, who) === 'absent' && scheduleMkdir(at, mode, ids);
        // Recorded when this package creates it, declares it, or its previous version created it.
        const owned = created || isDeclared || ownedByReplaced(at)?.package === action.name;
        if (owned && !recordedPaths.has(path)) {
          recordedPaths.add(path);
          files.push({
            package: action.name,
            path,
            type: 'dir',
            mode,
            uid: ids.uid,
            gid: ids.gid,
            owner,
            group,
            size: 0,
            sha256: null,
            target: null,
            config: false,
            declared: true,
          });
        }
      }
    }
    const { files: _manifest, ...recorded } = meta;
    prepared.push({
      action,
      metadata: meta,
      entries,
      change: {
        package: {
          name: meta.name,
          category: meta.category,
          version: meta.version,
          revision: meta.revision,
          variant: meta.variant,
          // A package file given on the command line has no remote (FILE_REMOTE in Prefix.ts).
          remote: action.candidate.remote === '@file' ? null : action.candidate.remote,
          reason: action.reason,
          installedAt,
          installedSize: meta.installedSize,
          metadata: recorded,
        },
        files,
      },
    });
  }

  // Files of packages that are replaced or removed and that no new package claims.
  const cleanup = new Set<string>();
  const keptByOthers = (path: string): boolean => ownedByOthers(path).length > 0 || claims.has(path);
  // A directory a link resolves to (usr/bin for bin) is the system's, whoever recorded it: never removed.
  const linkTargets = new Set(
    [...aliases.links.values()].flatMap((target) =>
      target.split('/').map((_, at, parts) => parts.slice(0, at + 1).join('/')),
    ),
  );
  for (const action of actions) {
    if (action.kind === 'install') continue;
    for (const row of store.filesOf(action.name)) {
      const found = row.type === 'dir' ? aliases.directory(row.path) : aliases.entry(row.path);
      if (isAliasProblem(found)) {
        // A link on the way now leads somewhere Kiln does not write: leave the file, say so.
        notes.add(`${row.path} of ${action.name} was left in place: ${found.problem}`);
        continue;
      }
      if (claims.has(found)) continue;
      if (row.type === 'dir') {
        if (!keptByOthers(found) && !linkTargets.has(found) && !aliases.links.has(found)) cleanup.add(found);
        continue;
      }
      if (row.config) {
        const disk = lstatIfExists(join(root, found));
        if (disk === undefined) continue;
        if (
          row.type === 'file' &&
          disk.isFile() &&
          row.sha256 !== null &&
          diskSha256(join(root, found)) !== row.sha256
        ) {
          notes.add(`${row.path}: you changed this configuration file of ${action.name}, so it was kept`);
          continue;
        }
      }
      // Deleted after the commit point: nothing to undo before it, and finishing is idempotent.
      ops.push({ op: 'delete', path: found });
    }
  }

  if (conflicts.length > 0) {
    const listed = conflicts
      .slice(0, MAX_LISTED)
      .map((line) => `\n  ${line}`)
      .join('');
    const more = conflicts.length > MAX_LISTED ? `\n  … and ${conflicts.length - MAX_LISTED} more` : '';
    throw new KilnError(
      'E_FILE_CONFLICT',
      `cannot change prefix ${root}: ${conflicts.length} file conflict${conflicts.length === 1 ? '' : 's'}, nothing was written:${listed}${more}`,
      {
        hint: 'remove or move the files in the way, or remove the package that owns them first',
      },
    );
  }
  // Notes about the prefix rather than this change: said once per prefix (Prefix.onceNotes).
  const prefixNotes: PrefixNote[] = [];
  if (mappedOwners)
    prefixNotes.push({
      key: 'owners-mapped',
      message: `installing as ${policy.userName}, not as root into a system prefix: file owners named by the packages are mapped to ${policy.userName}`,
    });
  if (droppedBits)
    prefixNotes.push({
      key: 'setuid-dropped',
      message: 'setuid and setgid bits were dropped (they are applied only when root installs into a system prefix)',
    });
  const removeNames = actions.filter((action) => action.kind !== 'install').map((action) => action.name);
  return {
    ops,
    cleanup: [...cleanup].sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1)),
    packages: prepared,
    removeNames,
    notes: [...notes],
    prefixNotes,
  };
}

/** A note true of every change of a prefix (how it maps owners): shown the first time only. */
export interface PrefixNote {
  key: 'owners-mapped' | 'setuid-dropped';
  message: string;
}
