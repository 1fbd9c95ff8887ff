/**
 * A prefix, opened: its configuration, database, remotes and the operations
 * that read and change it. The library API programs use; the CLI is a thin
 * shell over it.
 *
 * @example
 * const prefix = await openPrefix('/home/app/stack');
 * await prefix.sync();
 * const result = await prefix.install([{ name: 'nginx', range: '>=1.24' }]);
 * prefix.close();
 */
import { shellQuote } from '../util/shellQuote.js';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tmpdir, userInfo } from 'node:os';
import type { BundleOptions, BundleResult } from '../bundle/createBundle.js';
import type { PrefixConfig, PrefixMode, PrefixPaths, RemoteConfig } from '../config/index.js';
import {
  MAX_REMOTE_NAME,
  REMOTE_NAME_PATTERN,
  transferLimitsOf,
  defaultConfig,
  prefixPaths,
  readPrefixConfig,
  remoteKeys,
  writePrefixConfig,
} from '../config/index.js';
import type {
  Connection,
  InstallReason,
  InstalledFile,
  InstalledPackage,
  RemoteState,
  TransactionRecord,
} from '../db/index.js';
import type { PendingCommit } from '../db/index.js';
import { PackageStore, integrityProblems, openDatabase } from '../db/index.js';
import { KilnError, isErrno, isKilnError } from '../errors/index.js';
import type { PackageFile } from '../format/openPackage.js';
import { fullVersion } from '../format/metadata.js';
import { parseRemoteUrl, redactUrl, resolveRemotePath } from '../remote/remoteUrl.js';
import type { DownloadAllProgress } from '../remote/download.js';
import { downloadAll } from '../remote/download.js';
import type { IndexEntry } from '../repo/indexFormat.js';
import { indexEntryFor, parseIndex } from '../repo/indexFormat.js';
import { openPackage } from '../format/openPackage.js';
import { verifyPackage } from '../format/verifyPackage.js';
import { parseRequest } from '../solver/parseRequest.js';
import { sha256FileSync } from '../util/hash.js';
import type { FileLock } from '../db/fileLock.js';
import { acquireLock } from '../db/fileLock.js';
import { encodePublicKey } from '../sign/formatPublicKey.js';
import { parsePublicKey } from '../sign/parsePublicKey.js';
import { tryParseSignature } from '../sign/parseSignature.js';
import { lstatIfExists } from '../util/fs.js';
import { syncFileSystem } from '../util/syncFileSystem.js';
import type { CachedFile } from './packageCache.js';
import { cacheFilesToRemove, removeCacheFiles, scanPackageCache, treeSize } from './packageCache.js';
import { detectHost } from '../solver/hostTarget.js';
import { withCpuLevel } from '../solver/cpuLevel.js';
import { pubgrubResolver } from '../solver/pubgrubResolver.js';
import type {
  Candidate,
  CandidateAdvisory,
  HostTarget,
  Plan,
  PlanAction,
  PlannedBuild,
  RecipeOffer,
  Request,
  Resolver,
} from '../solver/types.js';
import { isPlacing } from '../solver/types.js';
import type { AdvisoryDocument, Finding } from '../advisory/index.js';
import { advisoryRules, findAdvisories } from '../advisory/index.js';
import { tryReadRemoteAdvisories } from './remoteAdvisories.js';
import type { BuildPolicy } from '../solver/problem.js';
import { didYouMean, suggest } from '../util/suggest.js';
import { compareVersions } from '../version/index.js';
import { ensureAccounts } from './accounts.js';
import { cachedPackageName } from './cachedPackageName.js';
import { hasLegacyRemoteFiles, migrateRemoteLayout } from './migrateRemoteLayout.js';
import type { BuildFallback } from './buildMissing.js';
// Loaded when a build is asked for: the build domain is most of what a query would load otherwise.
const buildMissing = () => import('./buildMissing.js');
import { LOCAL_PRIORITY, LOCAL_REMOTE } from './localRemote.js';
import { HostLibraries } from './hostLibraries.js';
import type { PackageLinks } from './missingLibraries.js';
import { findMissingLibraries, missingLibrariesError } from './missingLibraries.js';
import type { Reporter } from './events.js';
import type { Checkpoint, Journal } from './journal.js';
import { JOURNAL_FORMAT } from './journal.js';
import {
  executeJournal,
  finishJournal,
  makeDirectories,
  removeTransactionDirectory,
  rollBackJournal,
  writeJournal,
} from './journal.js';
import type { OwnerPolicy, PreparedTransaction, PrefixNote } from './prepareTransaction.js';
import { prepareTransaction } from './prepareTransaction.js';
import { recoverTransaction } from './recoverTransaction.js';
import { fromSystemError } from '../errors/systemError.js';
import { ownerName } from '../util/ownerName.js';
import { checkFreeSpace } from './checkFreeSpace.js';
import type { ExtractJob } from './extractPackage.js';
import { currentUmask, relocationPrefix } from './extractPackage.js';
import type { WorkerTask } from './installWorkers.js';
import { InstallWorkers, runTask } from './installWorkers.js';
import { claimStore, isStored, storeEntry, storedPackage } from './unpackedStore.js';
import type { SyncFailure, SyncResult } from './syncRemotes.js';
import { syncEachRemote, syncRemotes } from './syncRemotes.js';
import { remoteDirectory, syncedIndexPath } from '../config/prefixLayout.js';
import { mirroredFetcher } from '../remote/remoteFetcher.js';
import type { RemoteShards } from './remoteShards.js';
import { openRemoteShards, shardDirectory, syncedRootPath } from './remoteShards.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import type { FileList, ListedFile } from '../repo/fileList.js';
import { fileListPath, verifiedFileList } from '../repo/fileList.js';
import type { AvailablePackage, SearchRow } from './searchList.js';
import { matchSearch, newestByName, readSearchLists } from './searchList.js';
import type { VerifyProblem } from './verifyInstalled.js';
import { unownedPaths, verifyFiles } from './verifyInstalled.js';
import { DirectoryAliases, isAliasProblem } from './directoryAliases.js';
import { mark } from '../util/phaseTimer.js';
import type { InstalledView, Owners } from './installedQuery.js';
import { installedView, installedViews, openPrefixDatabase, ownersOf } from './installedQuery.js';

export interface PrefixOptions {
  now?: () => Date;
  /** A package cache shared with other prefixes; overrides the config's `cache` (the CLI passes KILN_CACHE). */
  cache?: string;
  reporter?: Reporter;
  /** Wait for another writer (default), or fail at once. */
  wait?: boolean;
  resolver?: Resolver;
  /** The host to plan for instead of this machine (tests, tools); the config's `cpu-level` still applies to it. */
  host?: HostTarget;
  /**
   * Test hook for the crash-injection tests: kill this process with SIGKILL
   * at the Nth step of a transaction (download, staging, each rename, commit,
   * cleanup). Never set in normal use.
   */
  killAtStep?: number;
}

export interface PrefixInitOptions {
  mode?: PrefixMode;
}

export interface ChangeOptions {
  dryRun?: boolean;
  /** Offer the recipes of a ports tree where no binary will do, and build them (buildMissing.ts). */
  build?: BuildFallback;
  /** Called with the plan before anything is downloaded or written; return false to stop. */
  confirm?: (plan: PlannedChange) => Promise<boolean> | boolean;
  /** The command line, recorded in the transaction history. */
  command?: string;
  /**
   * Stops the change before its commit (kilnd's `activity cancel`): checked after the plan is confirmed,
   * during and after the downloads, and before and after extraction; a change stopped then is rolled back
   * (E_ABORTED). Once files are being moved into place, the change completes.
   */
  signal?: AbortSignal;
  /** Advisory ids whose packages may be installed all the same (`--allow-advisory`), besides the configuration's. */
  allowAdvisories?: readonly string[];
}

export interface PlannedAction {
  kind: PlanAction['kind'];
  name: string;
  from: string | null;
  to: string | null;
  variant: string | null;
  remote: string | null;
  /** Bytes to download (0 when cached). */
  download: number;
  installedSize: number;
  reason: string | null;
  /** The resolver's reason in words, when it gave one. */
  why: string | null;
  /** The options of the variant placed (of the one removed, for a removal). */
  options: Record<string, boolean>;
  /** Upgrades, downgrades and reinstalls: the options of the variant installed now (they differ when the variant changes options). */
  optionsBefore: Record<string, boolean> | null;
}

export interface PlannedChange {
  /** Recipes built before anything is installed; their packages then come from the remote `local`. */
  builds: PlannedBuild[];
  actions: PlannedAction[];
  downloadBytes: number;
  /** Change of installed size in bytes. */
  sizeChange: number;
  reasonChanges: Plan['reasonChanges'];
}

export interface ChangeResult {
  plan: PlannedChange;
  applied: boolean;
  transaction: string | null;
  notes: string[];
}

function availableRow(candidate: Candidate, installed: ReadonlyMap<string, InstalledPackage>): AvailablePackage {
  const { entry } = candidate;
  const have = installed.get(entry.name);
  return {
    name: entry.name,
    version: fullVersion(entry),
    variant: entry.variant,
    remote: candidate.remote,
    summary: entry.summary,
    installed: have === undefined ? null : fullVersion(have),
  };
}

/** Create a prefix: configuration, database, directories. */
export async function initPrefix(path: string, options: PrefixInitOptions = {}): Promise<PrefixPaths> {
  const root = resolve(path);
  await mkdir(root, { recursive: true });
  const paths = prefixPaths(realpathSync(root));
  const refuseExisting = (): void => {
    if (lstatSync(paths.config, { throwIfNoEntry: false }) === undefined) return;
    throw new KilnError('E_PREFIX_EXISTS', `cannot create prefix ${paths.root}: it already has ${paths.config}`, {
      hint: 'use it as it is; "kiln remote add" adds remotes to it',
    });
  };
  refuseExisting();
  await mkdir(paths.state, { recursive: true });
  // Two inits at once: the second waits, then finds the first one's configuration.
  const lock = await acquireLock(paths.lock, `prefix ${paths.root}`);
  try {
    refuseExisting();
    await mkdir(join(paths.root, 'etc/kiln'), { recursive: true });
    await mkdir(paths.indexes, { recursive: true });
    await mkdir(paths.cache, { recursive: true });
    openDatabase(paths.database).close();
    await writePrefixConfig(paths, defaultConfig(options.mode ?? (paths.root === '/' ? 'system' : 'user')));
  } finally {
    lock.release();
  }
  return paths;
}

export async function openPrefix(path: string, options: PrefixOptions = {}): Promise<Prefix> {
  let root: string;
  try {
    root = realpathSync(resolve(path));
  } catch (error) {
    if (isErrno(error, 'ENOENT'))
      throw new KilnError('E_PREFIX_NOT_FOUND', `cannot open prefix ${resolve(path)}: no such directory`, {
        hint: `create it with "kiln --prefix ${shellQuote(path)} init"`,
        cause: error,
      });
    throw error;
  }
  const paths = prefixPaths(root);
  const config = await readPrefixConfig(paths);
  const { db, readonly } = openPrefixDatabase(paths.database);
  const prefix = new Prefix(paths, config, db, readonly, options);
  await prefix.recoverIfNeeded();
  return prefix;
}

/** One package a synced remote offers, as `kiln info` shows it (what `pacman -Si` shows). */
/** An installed package an open advisory affects (`kiln audit`). */
export interface AuditFinding {
  name: string;
  version: string;
  variant: string;
  /** The remote whose advisories say so. */
  remote: string;
  advisory: string;
  aliases: string[];
  summary: string;
  /** The version that fixes it, when the advisory says. */
  fixed: string | null;
  /** The newest version on offer that no advisory affects, when newer than the one installed. */
  upgradeTo: string | null;
}

export interface AvailableInfo {
  version: string;
  variant: string;
  remote: string;
  options: Record<string, boolean>;
  target: IndexEntry['target'];
  /** Download size. */
  size: number;
  installedSize: number;
  category: string;
  summary: string;
  license: string;
  homepage: string;
  depends: IndexEntry['depends'];
  /** Sonames it provides, and those it needs. */
  provides: string[];
  needs: string[];
  /** The signed index that offers it: its serial and dates, and the keys it must be signed with. */
  index: { serial: number; created: string; expires: string; keyIds: string[]; signer: string | null } | null;
  /** Open advisories of its remote that affect this package file. */
  advisories: CandidateAdvisory[];
}

/** `kiln cache info`: the package cache's files, and the shared cache's unpacked store. */
export interface CacheInfo {
  dir: string;
  shared: boolean;
  files: CachedFile[];
  bytes: number;
  unpacked: { dir: string; entries: number; bytes: number } | null;
}

/** The remote of a candidate that is a package file given on the command line (not a valid remote name). */
export const FILE_REMOTE = '@file';

/** A remote's synced index as a prefix reads it: a v1 index whole, a v2 index by its shards. */
interface WholeIndex {
  remote: string;
  /** The repository name the index carries. */
  name: string;
  candidates: Candidate[];
  candidate: (entry: IndexEntry) => Candidate;
}
interface ShardedIndex {
  remote: string;
  shards: RemoteShards;
  candidate: (entry: IndexEntry) => Candidate;
}
type SyncedIndex = WholeIndex | ShardedIndex;

export class Prefix {
  readonly store: PackageStore;
  private readonly now: () => Date;
  private readonly report: Reporter;
  private readonly resolver: Resolver;
  private steps = 0;
  private availableCache: Candidate[] | undefined;
  /** Each synced remote's index as read: v1 whole, v2 as the shards loaded so far. */
  private indexCache: SyncedIndex[] | undefined;
  /** Each synced remote's advisories as read (a damaged copy as its error), at first use: remoteAdvisories.ts. */
  private advisoryCache = new Map<string, AdvisoryDocument | KilnError | undefined>();
  /** During an install with --allow-unsigned: the package files given are not checked for a signature. */
  private allowUnsigned = false;

  constructor(
    readonly paths: PrefixPaths,
    public config: PrefixConfig,
    private readonly db: Connection,
    readonly readonly: boolean,
    private readonly options: PrefixOptions,
  ) {
    this.store = new PackageStore(db);
    this.now = options.now ?? (() => new Date());
    this.report = options.reporter ?? (() => undefined);
    this.resolver = options.resolver ?? pubgrubResolver;
  }

  close(): void {
    this.db.close();
  }

  get root(): string {
    return this.paths.root;
  }

  private readonly checkpoint: Checkpoint = () => {
    this.steps++;
    if (this.options.killAtStep !== undefined && this.steps === this.options.killAtStep)
      process.kill(process.pid, 'SIGKILL');
  };

  /**
   * The writer lock, held until the command ends (docs/transactions.md#locking).
   * Whoever holds it, and only they, repair what a dead writer left: no other
   * writer can be running, since the kernel released the dead one's lock.
   */
  private async lock(): Promise<FileLock> {
    if (this.readonly) {
      const owner = ownerName(this.paths.database);
      throw new KilnError('E_IO', `cannot change prefix ${this.root}: its database is read-only for this user`, {
        hint: `run the command as the prefix's owner${owner === undefined ? '' : `, ${owner}`}; queries (list, info, files, owns, history) work for anyone who can read it`,
      });
    }
    await mkdir(this.paths.state, { recursive: true });
    const lock = await acquireLock(this.paths.lock, `prefix ${this.root}`, {
      wait: this.options.wait !== false,
      onWait: (holder, lockPath) => this.report({ kind: 'waiting', holderPid: holder?.pid, lockPath }),
      hint: 'another kiln command is changing this prefix; run again without --no-wait to wait for it',
    });
    try {
      this.recover();
      // Another writer may have changed the configuration since this prefix was opened.
      this.config = await readPrefixConfig(this.paths);
      migrateRemoteLayout(
        this.paths,
        this.store,
        this.config.remotes.map((remote) => remote.name),
      );
      this.forgetIndexes();
    } catch (error) {
      lock.release();
      throw error;
    }
    return lock;
  }

  private recover(): void {
    const outcome = recoverTransaction(this.root, this.paths.transaction, this.store, this.checkpoint, this.now);
    if (outcome !== undefined) this.report({ kind: 'recovered', ...outcome });
  }

  /** Repair after a crash, unless another process holds the lock (then its transaction is live). */
  async recoverIfNeeded(): Promise<void> {
    if (
      this.readonly ||
      (lstatSync(this.paths.transaction, { throwIfNoEntry: false }) === undefined && !hasLegacyRemoteFiles(this.paths))
    )
      return;
    let lock: FileLock;
    try {
      lock = await acquireLock(this.paths.lock, `prefix ${this.root}`, { wait: false });
    } catch (error) {
      if (error instanceof KilnError && error.code === 'E_LOCKED') return;
      throw error;
    }
    try {
      this.recover();
      migrateRemoteLayout(
        this.paths,
        this.store,
        this.config.remotes.map((remote) => remote.name),
      );
    } finally {
      lock.release();
    }
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = await this.lock();
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }

  // ---- remotes ----

  listRemotes(): (RemoteConfig & { state: RemoteState | null; keyIds: string[] })[] {
    return this.config.remotes.map((remote) => ({
      ...remote,
      url: redactUrl(remote.url),
      mirrors: (remote.mirrors ?? []).map((mirror) => redactUrl(mirror)),
      state: this.store.remoteState(remote.name) ?? null,
      keyIds: remoteKeys(remote, this.paths.config).map((key) => key.keyId),
    }));
  }

  /** Add a remote. `keys` are public key texts (a minisign .pub file's content or its base64 line). */
  async addRemote(
    name: string,
    url: string,
    keys: readonly string[],
    priority = 0,
    mirrors: readonly string[] = [],
  ): Promise<RemoteConfig> {
    if (!REMOTE_NAME_PATTERN.test(name) || name.length > MAX_REMOTE_NAME)
      throw new KilnError(
        'E_USAGE',
        `cannot add remote "${name}": not a valid name (up to ${MAX_REMOTE_NAME} letters, digits, "_", "-", ".")`,
      );
    const parsedUrl = parseRemoteUrl(url);
    // A local path is kept as a file: URL, as the main URL is.
    const mirrorUrls = mirrors.map((mirror) => {
      const parsed = parseRemoteUrl(mirror);
      return parsed.protocol === 'file:' && !mirror.startsWith('file:') ? parsed.href : mirror;
    });
    if (keys.length === 0)
      throw new KilnError('E_USAGE', `cannot add remote ${name}: no trusted key given`, {
        hint: "pass --key with the repository's public key file (kiln repo init prints it)",
      });
    const encoded = keys.map((key, i) => encodePublicKey(parsePublicKey(key, `key ${i + 1} of remote ${name}`)));
    return this.withLock(async () => {
      const config = await readPrefixConfig(this.paths);
      // Names that differ only in case would share a directory on a case-insensitive file system.
      if (config.remotes.some((remote) => remote.name.toLowerCase() === name.toLowerCase())) {
        throw new KilnError('E_REMOTE_EXISTS', `cannot add remote ${name}: ${this.paths.config} already has it`, {
          hint: `remove it first with "kiln remote remove ${shellQuote(name)}"`,
        });
      }
      const remote: RemoteConfig = {
        name,
        url: parsedUrl.protocol === 'file:' && !url.startsWith('file:') ? parsedUrl.href : url,
        keys: encoded,
        priority,
        ...(mirrorUrls.length > 0 ? { mirrors: mirrorUrls } : {}),
      };
      config.remotes.push(remote);
      await writePrefixConfig(this.paths, config);
      this.config = config;
      this.forgetIndexes();
      return remote;
    });
  }

  /**
   * Trust more keys for a remote (`add`: public key texts), or stop trusting
   * some (`remove`: key ids or key texts), as a repository rotates its key.
   * A remote keeps at least one key. The synced index is kept: the next sync
   * checks the next index with the new keys.
   */
  async changeRemoteKeys(
    name: string,
    change: { add?: readonly string[]; remove?: readonly string[] },
  ): Promise<RemoteConfig> {
    const adding = (change.add ?? []).map((key, i) => parsePublicKey(key, `key ${i + 1} for remote ${name}`));
    const removing = (change.remove ?? []).map((key) => {
      const text = key.trim();
      // A key id (16 hex digits, as "kiln remote list" and "kiln key show" print it) or a key.
      return /^[0-9A-Fa-f]{16}$/.test(text) ? text.toUpperCase() : parsePublicKey(text, `key for remote ${name}`).keyId;
    });
    return this.withLock(async () => {
      const config = await readPrefixConfig(this.paths);
      const remote = config.remotes.find((candidate) => candidate.name === name);
      if (remote === undefined)
        throw new KilnError(
          'E_REMOTE_NOT_FOUND',
          `cannot change the keys of remote ${name}: no such remote in ${this.paths.config}`,
          {
            hint: 'see "kiln remote list"',
          },
        );
      const idOf = (text: string): string => parsePublicKey(text, `${this.paths.config} (remotes.${name}.keys)`).keyId;
      for (const id of removing) {
        if (!remote.keys.some((key) => idOf(key) === id))
          throw new KilnError('E_USAGE', `cannot remove key ${id} from remote ${name}: the remote does not trust it`, {
            hint: `it trusts ${remote.keys.map(idOf).join(', ')}`,
          });
      }
      const kept = remote.keys.filter((key) => !removing.includes(idOf(key)));
      for (const key of adding) if (!kept.some((text) => idOf(text) === key.keyId)) kept.push(encodePublicKey(key));
      if (kept.length === 0)
        throw new KilnError('E_USAGE', `cannot remove every key of remote ${name}: a remote must trust at least one`, {
          hint: 'add the new key in the same command (--key), or remove the remote',
        });
      remote.keys = kept;
      await writePrefixConfig(this.paths, config);
      this.config = config;
      this.forgetIndexes();
      return remote;
    });
  }

  async removeRemote(name: string): Promise<void> {
    await this.withLock(async () => {
      const config = await readPrefixConfig(this.paths);
      const at = config.remotes.findIndex((remote) => remote.name === name);
      if (at < 0)
        throw new KilnError(
          'E_REMOTE_NOT_FOUND',
          `cannot remove remote ${name}: no such remote in ${this.paths.config}`,
          { hint: 'see "kiln remote list"' },
        );
      config.remotes.splice(at, 1);
      await writePrefixConfig(this.paths, config);
      this.store.forgetRemote(name);
      await rm(remoteDirectory(this.paths, name), { recursive: true, force: true });
      await rm(shardDirectory(this.paths, name), { recursive: true, force: true });
      this.config = config;
      this.forgetIndexes();
    });
  }

  async sync(names?: readonly string[]): Promise<SyncResult[]> {
    return this.withLock(async () => {
      const results = await syncRemotes(this.paths, this.config, this.store, this.now(), names);
      this.forgetIndexes();
      // A key rotation followed changes the remotes' keys.
      if (results.some((result) => result.rotated !== undefined)) this.config = await readPrefixConfig(this.paths);
      return results;
    });
  }

  /** Like `sync`, but says how each remote went instead of failing when one does. */
  async syncEach(names?: readonly string[]): Promise<(SyncResult | SyncFailure)[]> {
    return this.withLock(async () => {
      const results = await syncEachRemote(this.paths, this.config, this.store, this.now(), names);
      this.forgetIndexes();
      if (results.some((result) => 'rotated' in result && result.rotated !== undefined))
        this.config = await readPrefixConfig(this.paths);
      return results;
    });
  }

  // ---- queries ----

  installed(): InstalledPackage[] {
    return this.store.listInstalled();
  }

  private forgetIndexes(): void {
    this.availableCache = undefined;
    this.indexCache = undefined;
    this.advisoryCache.clear();
  }

  /** A synced remote's advisories (read once): the document, none, or the error of a damaged copy. */
  private advisoriesOf(remote: string): AdvisoryDocument | KilnError | undefined {
    if (!this.advisoryCache.has(remote)) this.advisoryCache.set(remote, tryReadRemoteAdvisories(this.paths, remote));
    return this.advisoryCache.get(remote);
  }

  /** As `advisoriesOf`, a damaged copy thrown: what installs, upgrades and audit must not pass over. */
  private requireAdvisoriesOf(remote: string): AdvisoryDocument | undefined {
    const read = this.advisoriesOf(remote);
    if (read instanceof KilnError) throw read;
    return read;
  }

  /** Each synced remote's index: read at first use, v2 roots without their shards. */
  private indexes(): SyncedIndex[] {
    if (this.indexCache !== undefined) return this.indexCache;
    const indexes: SyncedIndex[] = [];
    for (const remote of this.config.remotes) {
      const state = this.store.remoteState(remote.name);
      if (state === undefined) continue;
      const base = parseRemoteUrl(remote.url);
      const mirrors = (remote.mirrors ?? []).map((mirror) => parseRemoteUrl(mirror));
      // A damaged copy reads as none here (queries and removals still work); a change that places packages checks first.
      const read = this.advisoriesOf(remote.name);
      const advisories = read instanceof KilnError ? undefined : read;
      const candidate = (entry: IndexEntry): Candidate => {
        const findings = advisories === undefined ? [] : findAdvisories(advisories, entry);
        return {
          remote: remote.name,
          priority: remote.priority,
          entry,
          url: resolveRemotePath(base, entry.path).href,
          ...(mirrors.length > 0
            ? { mirrors: mirrors.map((mirror) => resolveRemotePath(mirror, entry.path).href) }
            : {}),
          ...(findings.length > 0 ? { advisories: findings.map(candidateAdvisory) } : {}),
        };
      };
      const shards = openRemoteShards(
        this.paths,
        remote.name,
        state,
        () => mirroredFetcher([base, ...mirrors], { limits: transferLimitsOf(this.config), remote: remote.name }),
        redactUrl(base),
      );
      if (shards !== undefined) {
        indexes.push({ remote: remote.name, shards, candidate });
        continue;
      }
      const path = syncedIndexPath(this.paths, remote.name);
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (error) {
        if (isErrno(error, 'ENOENT')) continue;
        throw error;
      }
      const index = parseIndex(bytes, path);
      indexes.push({ remote: remote.name, name: index.name, candidates: index.packages.map(candidate), candidate });
    }
    this.indexCache = indexes;
    return indexes;
  }

  /**
   * Every candidate of every synced remote: all of a v1 index, and of a v2
   * index those of the names loaded (`loadAvailable`).
   */
  available(): Candidate[] {
    if (this.availableCache !== undefined) return this.availableCache;
    const candidates: Candidate[] = [];
    for (const index of this.indexes()) {
      if ('candidates' in index) candidates.push(...index.candidates);
      else
        for (const entries of index.shards.loaded.values())
          for (const entry of entries) candidates.push(index.candidate(entry));
    }
    this.availableCache = candidates;
    return candidates;
  }

  /**
   * Load what remotes synced in index format v2 offer of `names` (all names
   * with 'all'), fetching the shards not kept yet, and with `closure` also of
   * every name those depend on, transitively: all a plan can visit. Plans,
   * `info` and `deps` call it; `available()` then holds those names.
   * @returns the bytes fetched.
   */
  async loadAvailable(names: Iterable<string> | 'all', closure = true): Promise<number> {
    const sharded = this.indexes().filter((index): index is ShardedIndex => 'shards' in index);
    if (sharded.length === 0) return 0;
    const before = sharded.reduce((sum, index) => sum + index.shards.fetchedBytes, 0);
    const wholeByName = new Map<string, IndexEntry[]>();
    for (const index of this.indexes())
      if ('candidates' in index)
        for (const { entry } of index.candidates) {
          const list = wholeByName.get(entry.name);
          if (list === undefined) wholeByName.set(entry.name, [entry]);
          else list.push(entry);
        }
    const seen = new Set<string>();
    let wanted = names === 'all' ? sharded.flatMap((index) => [...index.shards.table.keys()]) : [...names];
    while (wanted.length > 0) {
      const batch = [...new Set(wanted)].filter((name) => !seen.has(name));
      for (const name of batch) seen.add(name);
      await Promise.all(sharded.map((index) => index.shards.load(batch)));
      if (!closure) break;
      wanted = [];
      for (const name of batch) {
        const entries = [
          ...(wholeByName.get(name) ?? []),
          ...sharded.flatMap((index) => index.shards.loaded.get(name) ?? []),
        ];
        for (const entry of entries) for (const dep of entry.depends) if (!seen.has(dep.name)) wanted.push(dep.name);
        for (const dep of this.store.getInstalled(name)?.metadata.depends ?? [])
          if (!seen.has(dep.name)) wanted.push(dep.name);
      }
    }
    this.availableCache = undefined;
    return sharded.reduce((sum, index) => sum + index.shards.fetchedBytes, 0) - before;
  }

  /** Every name a synced remote offers (v2 names whether loaded or not). */
  private offeredNames(): Set<string> {
    const names = new Set<string>();
    for (const index of this.indexes()) {
      if ('candidates' in index) for (const { entry } of index.candidates) names.add(entry.name);
      else for (const name of index.shards.table.keys()) names.add(name);
    }
    return names;
  }

  /**
   * Plan `request` (`plan`) after loading what it can visit from remotes
   * synced in format v2: what a program using this library calls.
   */
  async planFor(request: Parameters<Prefix['plan']>[0], build?: Parameters<Prefix['plan']>[1]): Promise<Plan> {
    await this.loadAvailable(this.namesOf(request, build?.recipes ?? []));
    return this.plan(request, build);
  }

  /**
   * The names a request starts from: those it names, the installed ones, and
   * what package files given and recipes offered depend on.
   */
  private namesOf(request: Parameters<Prefix['plan']>[0], recipes: readonly RecipeOffer[]): string[] {
    return [
      ...(request.install ?? []).map((item) => item.name),
      ...(request.upgrade === 'all' ? [] : (request.upgrade ?? [])),
      ...(request.remove ?? []),
      ...this.installed().map((pkg) => pkg.name),
      ...(request.files ?? []).flatMap((file) => file.entry.depends.map((dep) => dep.name)),
      ...recipes.flatMap((recipe) => [recipe.name, ...recipe.depends.map((dep) => dep.name)]),
    ];
  }

  private newestAvailable(): Map<string, Candidate> {
    return newestByName(
      this.available(),
      (candidate) => candidate.entry.name,
      (candidate) => fullVersion(candidate.entry),
    );
  }

  /**
   * Search: each remote's search list (searchList.ts), or its index where the
   * list is missing or stale. Rows stay tuples: a search makes objects only of
   * what it matches.
   */
  search(term: string): AvailablePackage[] {
    const fromIndex = (remote: string): SearchRow[] => {
      const index = this.indexes().find((item) => item.remote === remote);
      if (index === undefined) return [];
      if ('shards' in index)
        return [...index.shards.table.values()].map((row) => [row.name, row.version, row.variant, row.summary]);
      return index.candidates.map(({ entry }) => [entry.name, fullVersion(entry), entry.variant, entry.summary]);
    };
    const rows = readSearchLists(
      this.paths,
      this.store,
      this.config.remotes.map((remote) => remote.name),
      term,
      fromIndex,
    );
    return matchSearch(term, rows, this.installed());
  }

  /**
   * Installed packages that open advisories affect: each is matched (name,
   * version, revision, variant options) with the advisories of the remote it
   * came from (of every remote, for one installed from a file), with the
   * newest version on offer that no advisory affects, when there is one.
   */
  async audit(): Promise<AuditFinding[]> {
    const installed = this.installed();
    const documents = new Map(
      this.config.remotes.map((remote) => [remote.name, this.requireAdvisoriesOf(remote.name)] as const),
    );
    const findings: AuditFinding[] = [];
    for (const pkg of installed) {
      const target = { ...pkg, options: pkg.metadata.options };
      const sources = pkg.remote !== null && documents.has(pkg.remote) ? [pkg.remote] : [...documents.keys()];
      const seen = new Set<string>();
      for (const remote of sources) {
        const document = documents.get(remote);
        if (document === undefined) continue;
        for (const finding of findAdvisories(document, target)) {
          if (seen.has(finding.advisory.id)) continue;
          seen.add(finding.advisory.id);
          findings.push({
            name: pkg.name,
            version: fullVersion(pkg),
            variant: pkg.variant,
            remote,
            advisory: finding.advisory.id,
            aliases: finding.advisory.aliases ?? [],
            summary: finding.advisory.summary ?? '',
            fixed: finding.fixed ?? null,
            upgradeTo: null,
          });
        }
      }
    }
    if (findings.length === 0) return findings;
    await this.loadAvailable([...new Set(findings.map((finding) => finding.name))], false);
    const available = this.available();
    for (const finding of findings) {
      const clean = available
        .filter(
          (candidate) =>
            candidate.entry.name === finding.name &&
            (candidate.advisories ?? []).length === 0 &&
            compareVersions(fullVersion(candidate.entry), finding.version) > 0,
        )
        .sort((a, b) => compareVersions(fullVersion(b.entry), fullVersion(a.entry)))[0];
      if (clean !== undefined) finding.upgradeTo = fullVersion(clean.entry);
    }
    return findings;
  }

  async info(name: string): Promise<{
    installed: InstalledView | null;
    files: number;
    available: AvailableInfo[];
    requiredBy: string[];
  }> {
    await this.loadAvailable([name], false);
    const pkg = this.store.getInstalled(name);
    const remotes = new Map(this.config.remotes.map((remote) => [remote.name, remote]));
    const available = this.available()
      .filter((candidate) => candidate.entry.name === name)
      .sort((a, b) => compareVersions(fullVersion(b.entry), fullVersion(a.entry)))
      .map((candidate): AvailableInfo => {
        const { entry } = candidate;
        const state = this.store.remoteState(candidate.remote);
        const remote = remotes.get(candidate.remote);
        return {
          version: fullVersion(entry),
          variant: entry.variant,
          remote: candidate.remote,
          options: entry.options,
          target: entry.target,
          size: entry.size,
          installedSize: entry.installedSize,
          category: entry.category,
          summary: entry.summary,
          license: entry.license,
          homepage: entry.homepage,
          depends: entry.depends,
          provides: entry.provides.sonames,
          needs: entry.needs.sonames,
          index:
            state === undefined
              ? null
              : {
                  serial: state.serial,
                  created: state.created,
                  expires: state.expires,
                  keyIds: remote === undefined ? [] : remoteKeys(remote, this.paths.config).map((key) => key.keyId),
                  signer: this.indexSigner(candidate.remote),
                },
          advisories: candidate.advisories ?? [],
        };
      });
    if (pkg === undefined && available.length === 0) {
      throw new KilnError(
        'E_NO_CANDIDATE',
        `cannot show ${name}: it is neither installed nor offered by a synced remote`,
        { hint: this.unknownNameHint(name) },
      );
    }
    return {
      installed: pkg === undefined ? null : installedView(pkg),
      files: pkg === undefined ? 0 : this.store.filesOf(name).length,
      available,
      requiredBy: this.rdeps(name).map((row) => row.name),
    };
  }

  /** The notes of `notes` not shown in this prefix before; each is recorded as shown (var/lib/kiln/notes-shown). */
  private onceNotes(notes: readonly PrefixNote[]): string[] {
    if (notes.length === 0) return [];
    const file = join(this.paths.state, 'notes-shown');
    const shown = new Set(
      (lstatIfExists(file) === undefined ? '' : readFileSync(file, 'utf8')).split('\n').filter(Boolean),
    );
    const fresh = notes.filter((note) => !shown.has(note.key));
    if (fresh.length > 0) {
      for (const note of fresh) shown.add(note.key);
      writeFileSync(file, `${[...shown].sort().join('\n')}\n`);
    }
    return fresh.map((note) => note.message);
  }

  /**
   * The file list of each synced remote's index (fileList.ts), fetched on
   * first use for the serial synced and kept beside the index; every copy is
   * checked against the signed index before use, as `pacman -F` reads its files
   * databases.
   */
  private async fileLists(): Promise<{ remote: string; list: FileList }[]> {
    const lists: { remote: string; list: FileList }[] = [];
    await this.loadAvailable('all', false);
    const candidates = this.available();
    for (const remote of this.config.remotes) {
      const state = this.store.remoteState(remote.name);
      if (state === undefined) continue;
      const index = {
        name: this.syncedIndexName(remote.name),
        serial: state.serial,
        packages: candidates
          .filter((candidate) => candidate.remote === remote.name)
          .map((candidate) => candidate.entry),
      };
      const trusted = remoteKeys(remote, this.paths.config);
      const cached = join(remoteDirectory(this.paths, remote.name), 'files.json.zst');
      const source = `${redactUrl(parseRemoteUrl(remote.url))}/${fileListPath(state.serial)}`;
      const fromCache = (): FileList | undefined => {
        try {
          return verifiedFileList(
            readFileSync(cached),
            readFileSync(`${cached}.minisig`, 'utf8'),
            trusted,
            index,
            cached,
          );
        } catch {
          return undefined;
        }
      };
      let list = fromCache();
      if (list === undefined) {
        const fetch = mirroredFetcher(
          [remote.url, ...(remote.mirrors ?? [])].map((url) => parseRemoteUrl(url)),
          { limits: transferLimitsOf(this.config), remote: remote.name },
        );
        const [bytes, signature] = await Promise.all([
          fetch(fileListPath(state.serial)),
          fetch(`${fileListPath(state.serial)}.minisig`),
        ]);
        if (bytes === undefined || signature === undefined)
          throw new KilnError(
            'E_NO_FILE_LIST',
            `cannot list the files of remote ${remote.name}: it publishes no file list for index serial ${state.serial} (${source})`,
            {
              hint: 'the repository was committed by a Kiln without file lists; its next "kiln repo commit" publishes one',
            },
          );
        list = verifiedFileList(bytes, signature.toString('utf8'), trusted, index, source);
        // Kept for the next query; a user who may not write the prefix just fetches it again.
        try {
          await writeFileAtomic(`${cached}.minisig`, signature);
          await writeFileAtomic(cached, bytes);
        } catch {
          // Not writable here: nothing to keep.
        }
      }
      lists.push({ remote: remote.name, list });
    }
    return lists;
  }

  /** The repository name of the index synced from `remote` (what its file list is signed for). */
  private syncedIndexName(remote: string): string {
    const index = this.indexes().find((item) => item.remote === remote);
    if (index === undefined) throw new Error(`Assertion failed: remote ${remote} is not synced`);
    return 'shards' in index ? index.shards.root.name : index.name;
  }

  /** The files the newest available package `name` installs (`kiln files --available`, as pacman -Fl). */
  async availableFiles(name: string): Promise<{ name: string; version: string; remote: string; files: ListedFile[] }> {
    await this.loadAvailable([name], false);
    const candidate = this.newestAvailable().get(name);
    if (candidate === undefined)
      throw new KilnError('E_NO_CANDIDATE', `cannot list the files of ${name}: no synced remote offers it`, {
        hint: this.unknownNameHint(name),
      });
    const lists = await this.fileLists();
    const list = lists.find((entry) => entry.remote === candidate.remote)?.list;
    const pkg = list?.packages.find((entry) => entry.sha256 === candidate.entry.sha256);
    if (pkg === undefined)
      throw new Error(`Assertion failed: the checked file list of ${candidate.remote} lacks ${name}`);
    return { name, version: fullVersion(candidate.entry), remote: candidate.remote, files: pkg.files };
  }

  /** Which available packages install `path` (`kiln owns --available`, as pacman -F). */
  async availableOwners(
    path: string,
  ): Promise<{ path: string; owners: { package: string; version: string; remote: string; type: string }[] }> {
    const absolute = isAbsolute(path) ? path : resolve(this.root, path);
    const relativePath = relative(this.root, absolute);
    if (relativePath === '' || relativePath.startsWith('..') || isAbsolute(relativePath))
      throw new KilnError('E_USAGE', `cannot look up ${path}: it is not inside prefix ${this.root}`);
    const owners: { package: string; version: string; remote: string; type: string }[] = [];
    for (const { remote, list } of await this.fileLists()) {
      for (const pkg of list.packages) {
        const found = pkg.files.find((file) => file[0] === relativePath);
        if (found !== undefined) owners.push({ package: pkg.name, version: pkg.version, remote, type: found[1] });
      }
    }
    if (owners.length === 0)
      throw new KilnError('E_NO_CANDIDATE', `cannot find ${relativePath} in any package the synced remotes offer`, {
        hint: 'check the path (relative to the prefix, as "kiln files --available NAME" lists them), or run "kiln sync"',
      });
    return { path: relativePath, owners };
  }

  /** The id of the key that signed the index of `remote` accepted at the last sync (null when it cannot be read). */
  private indexSigner(remote: string): string | null {
    try {
      const index = this.indexes().find((item) => item.remote === remote);
      const path =
        index !== undefined && 'shards' in index
          ? syncedRootPath(this.paths, remote)
          : syncedIndexPath(this.paths, remote);
      return tryParseSignature(readFileSync(`${path}.minisig`, 'utf8'))?.keyId ?? null;
    } catch {
      return null;
    }
  }

  async list(
    which: 'installed' | 'available' | 'upgradable',
  ): Promise<
    (InstalledView | AvailablePackage | { name: string; installed: string; available: string; remote: string })[]
  > {
    if (which === 'installed') return installedViews(this);
    if (which === 'available') {
      const installed = new Map(this.installed().map((pkg) => [pkg.name, pkg]));
      // The newest version of each name: a v2 index's name table says it without its shards.
      const rows: AvailablePackage[] = [];
      for (const index of this.indexes()) {
        if ('candidates' in index)
          rows.push(...index.candidates.map((candidate) => availableRow(candidate, installed)));
        else
          for (const row of index.shards.table.values()) {
            const have = installed.get(row.name);
            rows.push({
              name: row.name,
              version: row.version,
              variant: row.variant,
              remote: index.remote,
              summary: row.summary,
              installed: have === undefined ? null : fullVersion(have),
            });
          }
      }
      return [
        ...newestByName(
          rows,
          (row) => row.name,
          (row) => row.version,
        ).values(),
      ].sort((a, b) => (a.name < b.name ? -1 : 1));
    }
    await this.loadAvailable(this.installed().map((pkg) => pkg.name));
    const plan = this.resolver.resolve({
      installed: this.installed(),
      available: this.planAvailable(),
      host: this.host(),
      install: [],
      upgrade: 'all',
      remove: [],
      cascade: false,
      settings: this.config.solver,
    });
    return plan.actions.flatMap((action) =>
      action.kind !== 'upgrade'
        ? []
        : [
            {
              name: action.name,
              installed: fullVersion(action.installed),
              available: fullVersion(action.candidate.entry),
              remote: action.candidate.remote,
            },
          ],
    );
  }

  files(name: string): InstalledFile[] {
    this.requireInstalled(name, 'list the files of');
    return this.store.filesOf(name);
  }

  /** Which packages own a path (absolute inside the prefix, or relative to it). */
  owns(path: string): Owners {
    return ownersOf(this, path);
  }

  async deps(name: string): Promise<{ name: string; range: string; installed: string | null }[]> {
    const pkg = this.store.getInstalled(name);
    if (pkg === undefined) await this.loadAvailable([name], false);
    const depends = pkg?.metadata.depends ?? this.newestAvailable().get(name)?.entry.depends;
    if (depends === undefined)
      throw new KilnError(
        'E_NO_CANDIDATE',
        `cannot show the dependencies of ${name}: it is neither installed nor available`,
        { hint: this.unknownNameHint(name) },
      );
    return depends.map((dep) => {
      const have = this.store.getInstalled(dep.name);
      return { name: dep.name, range: dep.range, installed: have === undefined ? null : fullVersion(have) };
    });
  }

  /** The hint for a package name nothing knows: the close installed or available names, else where to look. */
  private unknownNameHint(name: string): string {
    const known = [...this.installed().map((pkg) => pkg.name), ...this.offeredNames()];
    return didYouMean(suggest(name, known)) ?? 'check the name with "kiln search", or run "kiln sync"';
  }

  rdeps(name: string): { name: string; version: string; range: string }[] {
    // As deps does: a name nobody knows is an error, not an empty answer.
    if (this.store.getInstalled(name) === undefined && !this.offeredNames().has(name)) {
      throw new KilnError(
        'E_NO_CANDIDATE',
        `cannot show what depends on ${name}: it is neither installed nor available`,
        { hint: this.unknownNameHint(name) },
      );
    }
    const rows: { name: string; version: string; range: string }[] = [];
    for (const pkg of this.installed()) {
      const dep = pkg.metadata.depends.find((candidate) => candidate.name === name);
      if (dep !== undefined) rows.push({ name: pkg.name, version: fullVersion(pkg), range: dep.range });
    }
    return rows;
  }

  history(limit = 20): TransactionRecord[] {
    return this.store.history(limit);
  }

  /**
   * Compare the prefix with the database; with no name, also check the database itself and, in a user
   * prefix (or when asked), list files nobody owns. A system prefix (`/`) shares its directories with the
   * distribution's own package manager, whose files are not Kiln's business.
   */
  verify(
    name?: string,
    options: { unowned?: boolean } = {},
  ): { problems: VerifyProblem[]; checked: number; database: string[] } {
    const aliases = new DirectoryAliases(this.root);
    if (name !== undefined) {
      this.requireInstalled(name, 'verify');
      const files = this.store.filesOf(name);
      return { problems: verifyFiles(this.root, files, aliases), checked: files.length, database: [] };
    }
    const files = this.store.allFiles();
    const problems = verifyFiles(this.root, files, aliases);
    if (options.unowned ?? this.config.mode === 'user') {
      const owned = new Set<string>(aliases.links.keys());
      for (const file of files) {
        const found = file.type === 'dir' ? aliases.directory(file.path) : aliases.entry(file.path);
        owned.add(isAliasProblem(found) ? file.path : found);
      }
      problems.push(...unownedPaths(this.root, owned));
    }
    return { problems, checked: files.length, database: integrityProblems(this.db) };
  }

  private requireInstalled(name: string, action: string): InstalledPackage {
    const pkg = this.store.getInstalled(name);
    if (pkg === undefined)
      throw new KilnError('E_NOT_INSTALLED', `cannot ${action} ${name}: it is not installed`, {
        hint:
          didYouMean(
            suggest(
              name,
              this.installed().map((candidate) => candidate.name),
            ),
          ) ?? 'see "kiln list --installed"',
      });
    return pkg;
  }

  /**
   * What this prefix installs and builds for: the host (detected, or the one
   * given in the options), its CPU levels capped by the config's `cpu-level`.
   * @throws KilnError `E_CPU_LEVEL` when the configured level is one the host does not run (not forced).
   */
  host(): HostTarget {
    return withCpuLevel(this.options.host ?? detectHost(), this.config.cpuLevel, this.paths.config);
  }

  // ---- changes ----

  /** Compute a plan without changing anything. */
  plan(
    request: {
      install?: readonly Request[];
      upgrade?: readonly string[] | 'all';
      remove?: readonly string[];
      cascade?: boolean;
      reinstall?: boolean;
      autoremove?: boolean;
      /** Package files given on the command line: each the only candidate of its package. */
      files?: readonly Candidate[];
      /** Advisory ids whose packages may be chosen all the same, besides `[solver] allow-advisories`. */
      allowAdvisories?: readonly string[];
    },
    build?: { recipes: readonly RecipeOffer[]; policy?: BuildPolicy | undefined },
  ): Plan {
    const placing =
      (request.install?.length ?? 0) > 0 || request.upgrade === 'all' || (request.upgrade?.length ?? 0) > 0;
    if (placing) this.checkFreshness();
    for (const name of request.upgrade === 'all' ? [] : (request.upgrade ?? [])) {
      if (this.config.solver.hold?.includes(name))
        throw new KilnError('E_HELD', `cannot upgrade ${name}: it is held at the version installed`, {
          hint: `release it first with "kiln unhold ${shellQuote(name)}"`,
        });
    }
    const files = request.files ?? [];
    const fromFiles = new Set(files.map((candidate) => candidate.entry.name));
    return this.resolver.resolve({
      installed: this.installed(),
      available: [...this.planAvailable().filter((candidate) => !fromFiles.has(candidate.entry.name)), ...files],
      host: this.host(),
      install: request.install ?? [],
      upgrade: request.upgrade ?? [],
      remove: request.remove ?? [],
      cascade: request.cascade === true,
      reinstall: request.reinstall === true,
      autoremove: request.autoremove === true,
      settings: {
        ...this.config.solver,
        allowAdvisories: [...(this.config.solver.allowAdvisories ?? []), ...(request.allowAdvisories ?? [])],
      },
      ...(build === undefined ? {} : { recipes: build.recipes, buildPolicy: build.policy ?? 'missing' }),
    });
  }

  /**
   * Recipe offers with the synced remotes' advisories against their versions: a build of an affected version is
   * refused as an affected binary is (with the options it would be built with, checked in the solver's policy).
   */
  private withRecipeAdvisories(offers: readonly RecipeOffer[]): RecipeOffer[] {
    const documents = this.config.remotes
      .filter((remote) => this.store.remoteState(remote.name) !== undefined)
      .map((remote) => this.advisoriesOf(remote.name))
      .filter((read): read is AdvisoryDocument => read !== undefined && !(read instanceof KilnError));
    if (documents.length === 0) return [...offers];
    return offers.map((offer) => {
      const rules = documents.flatMap((document) =>
        advisoryRules(document, { name: offer.name, version: offer.version, revision: 0 }),
      );
      if (rules.length === 0) return offer;
      return {
        ...offer,
        advisories: rules.map((rule) => ({
          id: rule.advisory.id,
          ...(rule.fixed === undefined ? {} : { fixed: rule.fixed }),
          ...(rule.when === undefined ? {} : { when: { ...rule.when } }),
        })),
      };
    });
  }

  /** What a plan may choose from: a held package only as the very package installed. */
  private planAvailable(): Candidate[] {
    const held = new Set(this.config.solver.hold ?? []);
    if (held.size === 0) return this.available();
    const installed = new Map(this.installed().map((pkg) => [pkg.name, pkg]));
    return this.available().filter((candidate) => {
      const pkg = held.has(candidate.entry.name) ? installed.get(candidate.entry.name) : undefined;
      return (
        pkg === undefined ||
        (candidate.entry.version === pkg.version &&
          candidate.entry.revision === pkg.revision &&
          candidate.entry.variant === pkg.variant)
      );
    });
  }

  /** Hold packages at their installed version, or release them (`[solver] hold` in config.toml). */
  async hold(names: readonly string[], on: boolean): Promise<string[]> {
    return this.withLock(async () => {
      const config = await readPrefixConfig(this.paths);
      const held = new Set(config.solver.hold ?? []);
      for (const name of names) {
        if (on && this.store.getInstalled(name) === undefined)
          throw new KilnError('E_NOT_INSTALLED', `cannot hold ${name}: it is not installed`, {
            hint: this.unknownNameHint(name),
          });
        if (!on && !held.has(name))
          throw new KilnError('E_USAGE', `cannot release ${name}: it is not held`, {
            hint: held.size === 0 ? 'no package is held' : `held: ${[...held].sort().join(', ')}`,
          });
        if (on) held.add(name);
        else held.delete(name);
      }
      config.solver = { ...config.solver, hold: [...held].sort() };
      await writePrefixConfig(this.paths, config);
      this.config = config;
      return [...held].sort();
    });
  }

  /** The packages held at their installed version. */
  held(): string[] {
    return [...(this.config.solver.hold ?? [])].sort();
  }

  /** Mark installed packages as requested or as dependencies (a transaction of reasons only, in the history). */
  async mark(names: readonly string[], reason: InstallReason, options: ChangeOptions = {}): Promise<ChangeResult> {
    return this.withLock(async () => {
      const reasonChanges: { name: string; reason: InstallReason }[] = [];
      for (const name of names) {
        const pkg = this.store.getInstalled(name);
        if (pkg === undefined)
          throw new KilnError('E_NOT_INSTALLED', `cannot mark ${name}: it is not installed`, {
            hint: this.unknownNameHint(name),
          });
        if (pkg.reason !== reason && !reasonChanges.some((change) => change.name === name))
          reasonChanges.push({ name, reason });
      }
      const plan: Plan = { builds: [], actions: [], reasonChanges };
      const described = this.describePlan(plan);
      if (reasonChanges.length === 0 || options.dryRun === true)
        return { plan: described, applied: false, transaction: null, notes: [] };
      return this.apply(plan, described, options);
    });
  }

  /** Packages installed as dependencies that nothing requested (or protected) needs: what autoremove would remove. */
  async orphans(): Promise<InstalledView[]> {
    const plan = await this.planFor({ autoremove: true });
    const names = new Set(plan.actions.filter((action) => action.kind === 'remove').map((action) => action.name));
    return installedViews(this).filter((pkg) => names.has(pkg.name));
  }

  /** Installing from an expired index would undo the freeze protection. */
  private checkFreshness(): void {
    const now = this.now().getTime();
    let synced = 0;
    for (const remote of this.config.remotes) {
      const state = this.store.remoteState(remote.name);
      if (state === undefined) continue;
      synced++;
      if (!(Date.parse(state.expires) > now)) {
        throw new KilnError(
          'E_INDEX_EXPIRED',
          `cannot install from remote ${remote.name}: its synced index (serial ${state.serial}) expired at ${state.expires}`,
          {
            hint: `run "kiln sync ${shellQuote(remote.name)}" for a newer index; if that is refused as expired too, the repository has stopped publishing (a freeze) and only its maintainer can help, by committing a fresh index`,
          },
        );
      }
    }
    if (synced === 0) {
      throw new KilnError('E_NOT_SYNCED', `cannot install into ${this.root}: no remote has been synced`, {
        hint:
          this.config.remotes.length === 0
            ? 'add a remote with "kiln remote add NAME URL --key PUBKEY", then run "kiln sync"'
            : 'run "kiln sync"',
      });
    }
  }

  /** The shared cache (option, else config `cache`), if any. */
  private sharedCache(): string | undefined {
    const shared = this.options.cache || this.config.cache;
    return shared === undefined || shared === '' ? undefined : resolve(shared);
  }

  /** Where downloaded packages are kept: the shared cache's `packages/`, else the prefix's own cache. */
  private packageCache(): string {
    const shared = this.sharedCache();
    return shared === undefined ? this.paths.cache : join(shared, 'packages');
  }

  /**
   * The shared cache's unpacked store (unpackedStore.ts), when there is a
   * shared cache on the file system of the prefix (hard links cannot cross
   * file systems) and owners are not applied (a linked inode has one owner),
   * claimed for this process (`owner`: the name its temporaries carry).
   */
  private async unpackedStore(applyOwners: boolean): Promise<{ dir: string; owner: string } | undefined> {
    const shared = this.sharedCache();
    if (shared === undefined || applyOwners) return undefined;
    const dir = join(shared, 'unpacked');
    mkdirSync(dir, { recursive: true });
    if (lstatSync(dir).dev !== lstatSync(this.root).dev) return undefined;
    return { dir, owner: await claimStore(shared) };
  }

  /** What the package cache holds (`kiln cache info`). */
  async cacheInfo(): Promise<CacheInfo> {
    const dir = this.packageCache();
    const files = await scanPackageCache(dir, this.installed());
    const shared = this.sharedCache();
    return {
      dir,
      shared: shared !== undefined,
      files,
      bytes: files.reduce((sum, file) => sum + file.size, 0),
      unpacked: shared === undefined ? null : { dir: join(shared, 'unpacked'), ...treeSize(join(shared, 'unpacked')) },
    };
  }

  /**
   * Remove from the package cache what no installed version needs (`keep`
   * undefined), or all but the `keep` newest versions of each package and the
   * installed ones. Holds the lock of the cache: the writer lock for the
   * prefix's own cache, the cache's lock for a shared one.
   */
  async cleanCache(
    options: { keep?: number; dryRun?: boolean } = {},
  ): Promise<{ removed: CachedFile[]; bytes: number }> {
    const clean = async (): Promise<{ removed: CachedFile[]; bytes: number }> => {
      const dir = this.packageCache();
      const removed = cacheFilesToRemove(await scanPackageCache(dir, this.installed()), options.keep);
      const bytes = removed.reduce((sum, file) => sum + file.size, 0);
      if (options.dryRun !== true) removeCacheFiles(dir, removed);
      return { removed, bytes };
    };
    return this.withLock(async () => {
      const shared = this.sharedCache();
      if (shared === undefined) return clean();
      const lock = await acquireLock(join(shared, 'packages.lock'), `the shared package cache ${shared}`, {
        wait: this.options.wait !== false,
        onWait: (holder, lockPath) => this.report({ kind: 'waiting', holderPid: holder?.pid, lockPath }),
      });
      try {
        return await clean();
      } finally {
        lock.release();
      }
    });
  }

  /** The complete store entry of a candidate, when the shared cache has one. */
  private storedEntry(candidate: Candidate): string | undefined {
    const shared = this.sharedCache();
    if (shared === undefined) return undefined;
    const entry = storeEntry(join(shared, 'unpacked'), candidate.entry.sha256);
    return isStored(entry) ? entry : undefined;
  }

  private cachePath(candidate: Candidate): string {
    return join(this.packageCache(), cachedPackageName(candidate.entry));
  }

  describePlan(plan: Plan): PlannedChange {
    let downloadBytes = 0;
    let sizeChange = 0;
    const actions = plan.actions.map((action): PlannedAction => {
      if (action.kind === 'remove') {
        sizeChange -= action.installed.installedSize;
        return {
          kind: action.kind,
          name: action.name,
          from: fullVersion(action.installed),
          to: null,
          variant: action.installed.variant,
          remote: action.installed.remote,
          download: 0,
          installedSize: action.installed.installedSize,
          reason: null,
          why: action.why ?? null,
          options: action.installed.metadata.options,
          optionsBefore: null,
        };
      }
      const { entry } = action.candidate;
      const cached = lstatSync(this.cachePath(action.candidate), { throwIfNoEntry: false });
      const download =
        (cached !== undefined && cached.size === entry.size) || this.storedEntry(action.candidate) !== undefined
          ? 0
          : entry.size;
      downloadBytes += download;
      sizeChange += entry.installedSize - (action.kind === 'install' ? 0 : action.installed.installedSize);
      return {
        kind: action.kind,
        name: action.name,
        from: action.kind === 'install' ? null : fullVersion(action.installed),
        to: fullVersion(entry),
        variant: entry.variant,
        remote: action.candidate.remote === FILE_REMOTE ? 'file' : action.candidate.remote,
        download,
        installedSize: entry.installedSize,
        reason: action.reason,
        why: action.why ?? null,
        options: entry.options,
        optionsBefore: action.kind === 'install' ? null : action.installed.metadata.options,
      };
    });
    return { builds: plan.builds, actions, downloadBytes, sizeChange, reasonChanges: plan.reasonChanges };
  }

  /**
   * Install packages by request, and package files (`files`: paths), each
   * verified as a download is: its signature must be by a key one of the
   * prefix's remotes trusts, unless `allowUnsigned`. A file is the only
   * candidate of its package in this plan; what it depends on comes from the
   * remotes. Installed from a file, a package has no remote.
   */
  async install(
    requests: readonly Request[],
    options: ChangeOptions & { reinstall?: boolean; files?: readonly string[]; allowUnsigned?: boolean } = {},
  ): Promise<ChangeResult> {
    const files = await Promise.all(
      (options.files ?? []).map((path) => this.fileCandidate(path, options.allowUnsigned === true)),
    );
    const named = files.map((candidate) => parseRequest(candidate.entry.name));
    this.allowUnsigned = options.allowUnsigned === true;
    try {
      return await this.change({ install: [...requests, ...named], reinstall: options.reinstall, files }, options);
    } finally {
      this.allowUnsigned = false;
    }
  }

  /**
   * A package file checked as `install FILE` checks it (container, metadata, payload, and a signature by a
   * key a remote trusts): its name and version, and the remotes whose keys include the one that signed it.
   * kilnd checks a file a user streamed to it with this, then its policy with those remotes.
   */
  async checkPackageFile(path: string): Promise<{ name: string; version: string; remotes: string[] }> {
    const pkg = await this.verifyPackageFile(path);
    const signer = pkg.signer?.publicKey;
    const remotes = this.config.remotes
      .filter((remote) =>
        remoteKeys(remote, this.paths.config).some((key) => signer !== undefined && key.publicKey.equals(signer)),
      )
      .map((remote) => remote.name);
    return { name: pkg.metadata.name, version: fullVersion(pkg.metadata), remotes };
  }

  /** A package file verified against every remote's keys, with the hint a file needs when no key signed it. */
  private verifyPackageFile(absolute: string): Promise<Awaited<ReturnType<typeof verifyPackage>>> {
    const trusted = this.config.remotes.flatMap((remote) => remoteKeys(remote, this.paths.config));
    return verifyPackage(absolute, { trusted }).catch((error: unknown) => {
      if (isKilnError(error, 'E_SIGNATURE_UNTRUSTED', 'E_PACKAGE_UNSIGNED'))
        throw new KilnError(error.code, error.message, {
          hint: 'a package file must be signed by a key a remote of this prefix trusts (kiln remote key add); --allow-unsigned installs it unchecked',
          cause: error,
        });
      throw error;
    });
  }

  /** A package file as a candidate of its own, checked as a download is (signature, metadata). */
  private async fileCandidate(path: string, allowUnsigned: boolean): Promise<Candidate> {
    const absolute = resolve(path);
    const pkg = allowUnsigned ? await openPackage(absolute) : await this.verifyPackageFile(absolute);
    const size = statSync(absolute).size;
    const entry = indexEntryFor(pkg.metadata, basename(absolute), size, sha256FileSync(absolute));
    return { remote: FILE_REMOTE, priority: 0, entry, url: pathToFileURL(absolute).href };
  }

  async remove(names: readonly string[], options: ChangeOptions & { cascade?: boolean } = {}): Promise<ChangeResult> {
    return this.change({ remove: names, cascade: options.cascade }, options);
  }

  async upgrade(names: readonly string[] | 'all' = 'all', options: ChangeOptions = {}): Promise<ChangeResult> {
    return this.change({ upgrade: names }, options);
  }

  // ---- bundles ----

  /**
   * `kiln bundle`: installed packages and what they depend on, as a tarball
   * that unpacks anywhere and relocates itself (bundle/createBundle.ts). The
   * writer lock keeps the prefix still meanwhile, when this user may take it.
   */
  async bundle(options: BundleOptions): Promise<BundleResult> {
    // Loaded here: no other command needs the bundle writer at start-up.
    const { createBundle } = await import('../bundle/createBundle.js');
    const write = (): Promise<BundleResult> =>
      createBundle(this.paths.root, relocationPrefix(this.paths.root), this.store, options);
    // Anyone who can read a prefix may bundle it, as anyone may query it: without the lock when it is not theirs.
    return this.readonly ? write() : this.withLock(write);
  }

  /**
   * `kiln bundle --from-remotes`: the same, of packages the remotes offer,
   * without installing them here. They are installed into a throw-away prefix
   * with this one's configuration (remotes, keys, solver and CPU settings),
   * whose sync must not accept a serial older than this prefix has accepted.
   */
  async bundleFromRemotes(
    requests: readonly Request[],
    options: Omit<BundleOptions, 'names'> & Omit<ChangeOptions, 'dryRun'>,
  ): Promise<BundleResult & { plan: PlannedChange }> {
    const work = mkdtempSync(join(tmpdir(), 'kiln-bundle-'));
    try {
      const paths = await initPrefix(join(work, 'p'), { mode: 'user' });
      await writePrefixConfig(paths, { ...this.config, mode: 'user', fsync: false });
      linkCachedPackages(this.paths.cache, paths.cache);
      const temporary = await openPrefix(paths.root, {
        now: this.now,
        reporter: this.report,
        ...(this.options.cache === undefined ? {} : { cache: this.options.cache }),
        ...(this.options.host === undefined ? {} : { host: this.options.host }),
      });
      try {
        await temporary.sync();
        for (const remote of this.config.remotes) {
          const accepted = this.store.remoteState(remote.name);
          const offered = temporary.store.remoteState(remote.name);
          if (accepted !== undefined && offered !== undefined && offered.serial < accepted.serial) {
            throw new KilnError(
              'E_INDEX_ROLLBACK',
              `cannot bundle from remote ${remote.name}: it now serves serial ${offered.serial}, older than serial ${accepted.serial} that ${this.paths.root} has accepted`,
              { hint: 'a mirror or cache is serving an old index; try again later, or "kiln sync" to see which' },
            );
          }
        }
        const { out, keep, prefix, now, ...changeOptions } = options;
        const change = await temporary.install(requests, changeOptions);
        if (!change.applied) throw new KilnError('E_ABORTED', 'no bundle written: the plan was declined');
        // What was downloaded for the bundle is kept here too, as an install would have.
        if (!this.readonly) linkCachedPackages(paths.cache, this.paths.cache);
        const names = requests.map((request) => request.name);
        const result = await temporary.bundle({ out, names, keep, prefix, now });
        return { ...result, plan: change.plan };
      } finally {
        temporary.close();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** Removes packages pulled in as dependencies that nothing requested (or protected) needs any more. */
  async autoremove(options: ChangeOptions = {}): Promise<ChangeResult> {
    return this.change({ autoremove: true }, options);
  }

  private async change(request: Parameters<Prefix['plan']>[0], options: ChangeOptions): Promise<ChangeResult> {
    return this.withLock(async () => {
      const offers =
        options.build === undefined
          ? undefined
          : {
              recipes: this.withRecipeAdvisories(await (await buildMissing()).recipeOffers(options.build.recipes)),
              policy: options.build.policy,
            };
      mark('start-up, open the prefix, lock, recover');
      // Packages are placed only when every synced remote's advisories can be read: a damaged copy must not let one through.
      if ((request.install?.length ?? 0) > 0 || request.upgrade === 'all' || (request.upgrade?.length ?? 0) > 0)
        for (const remote of this.config.remotes)
          if (this.store.remoteState(remote.name) !== undefined) this.requireAdvisoriesOf(remote.name);
      if (options.allowAdvisories !== undefined && options.allowAdvisories.length > 0)
        request = { ...request, allowAdvisories: [...(request.allowAdvisories ?? []), ...options.allowAdvisories] };
      let plan = await this.planFor(request, offers);
      if (plan.builds.length > 0 && options.build !== undefined) {
        // Every build the plan runs is a row of it: the build dependencies missing from the prefix's own repository too.
        const { localRepositoryDir, withBuildDependencies } = await buildMissing();
        plan = {
          ...plan,
          builds: await withBuildDependencies(plan.builds, options.build.recipes, localRepositoryDir(this.paths)),
        };
      }
      this.checkPlanFits(plan);
      mark('plan (read indexes, resolve)');
      let described = this.describePlan(plan);
      const nothing = plan.builds.length === 0 && plan.actions.length === 0 && plan.reasonChanges.length === 0;
      // A dry run checks the libraries from the index (a real one from the packages, which name the files); what builds will provide is not known yet.
      if (options.dryRun === true && plan.builds.length === 0)
        await this.checkLibraries(plan, (action) => action.candidate.entry);
      if (nothing || options.dryRun === true) return { plan: described, applied: false, transaction: null, notes: [] };
      if (options.confirm !== undefined && !(await options.confirm(described))) {
        throw new KilnError('E_ABORTED', `cannot change prefix ${this.root}: the plan was declined`, {
          hint: 'nothing was changed',
        });
      }
      stopIfCancelled(options.signal, this.root);
      if (plan.builds.length > 0 && options.build !== undefined) {
        // Build into the prefix's own repository, trust it as the remote "local", and plan again: the new binaries are taken like any other.
        const { ensureLocalRepository, runPlannedBuilds } = await buildMissing();
        const local = await ensureLocalRepository(this.paths);
        await this.trustLocalRepository(local);
        await runPlannedBuilds(plan.builds, options.build, local.dir, this.host());
        await syncRemotes(this.paths, this.config, this.store, this.now(), [LOCAL_REMOTE]);
        this.forgetIndexes();
        plan = await this.planFor(request, offers);
        if (plan.builds.length > 0) {
          throw new KilnError(
            'E_BUILD',
            `cannot install into ${this.root}: after building, the plan still wants ${plan.builds.map((b) => `${b.name} ${b.version}`).join(', ')} built`,
            {
              hint: `the package built does not match what was asked (see the build log); try "kiln build ${shellQuote(plan.builds[0]?.recipe ?? '')}" to see it`,
            },
          );
        }
        described = this.describePlan(plan);
      }
      this.checkPlanFits(plan);
      return this.apply(plan, described, options);
    });
  }

  /** A package built for a shorter prefix than this one is refused before anything is downloaded, dry runs included. */
  private checkPlanFits(plan: Plan): void {
    for (const action of plan.actions) {
      if (action.kind !== 'remove')
        checkPrefixFits(action.candidate.entry.name, action.candidate.entry.maxPrefix, relocationPrefix(this.root), '');
    }
  }

  /** The host check before writing: every library a package of the prefix needs is found after the change (missingLibraries.ts). */
  private async checkLibraries(
    plan: Plan,
    linksOf: (action: Exclude<PlanAction, { kind: 'remove' }>) => PackageLinks,
  ): Promise<void> {
    const host = new HostLibraries();
    const missing = findMissingLibraries({
      actions: plan.actions,
      installed: this.installed(),
      linksOf,
      hostHas: (soname, arch) => host.find(soname, arch) !== undefined,
    });
    if (missing.length === 0) return;
    // Remotes synced in format v2 name the providers from their soname tables; those are loaded for the hint.
    const sonames = new Set(missing.map((item) => item.soname));
    for (const index of this.indexes())
      if ('shards' in index) await index.shards.load([...(await index.shards.providers(sonames)).values()].flat());
    this.availableCache = undefined;
    throw missingLibrariesError(this.root, missing, this.available());
  }

  /** Adds (or refreshes) the remote `local` for the prefix's own repository; the caller holds the lock. */
  private async trustLocalRepository(local: { dir: string; published: string; publicKey: string }): Promise<void> {
    const config = await readPrefixConfig(this.paths);
    const key = encodePublicKey(parsePublicKey(local.publicKey, `the key of ${local.dir}`));
    const remote: RemoteConfig = {
      name: LOCAL_REMOTE,
      url: pathToFileURL(local.published).href,
      keys: [key],
      priority: LOCAL_PRIORITY,
    };
    const at = config.remotes.findIndex((r) => r.name === LOCAL_REMOTE);
    if (at >= 0 && JSON.stringify(config.remotes[at]) === JSON.stringify(remote)) return;
    if (at >= 0) config.remotes[at] = remote;
    else config.remotes.push(remote);
    await writePrefixConfig(this.paths, config);
    this.config = config;
  }

  private ownerPolicy(): OwnerPolicy {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const applyOwners = uid === 0 && this.config.mode === 'system';
    return { applyOwners, accounts: undefined, uid, gid, userName: userInfo().username };
  }

  /**
   * Download what the cache lacks, then open and check every package: the
   * metadata, the package's own signature, that it is what the index lists.
   * A cached copy that cannot be opened or is another package is downloaded
   * again; its sha256 is checked against the index's pin when it is extracted
   * (apply). A package already in the shared store needs no package file: its
   * metadata is read from there.
   */
  private async fetchPackages(
    all: Exclude<PlanAction, { kind: 'remove' }>[],
    store: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Map<string, PackageFile>> {
    await mkdir(this.packageCache(), { recursive: true });
    const shared = this.sharedCache();
    if (shared === undefined) return this.fetchPackagesLocked(all, store, signal);
    // Other prefixes fill the shared cache too: one process at a time downloads into it (a .part is one writer's).
    const lock = await acquireLock(join(shared, 'packages.lock'), `the shared package cache ${shared}`, {
      wait: this.options.wait !== false,
      onWait: (holder, lockPath) => this.report({ kind: 'waiting', holderPid: holder?.pid, lockPath }),
    });
    try {
      return await this.fetchPackagesLocked(all, store, signal);
    } finally {
      lock.release();
    }
  }

  /** fetchPackages, holding the lock of the cache it fills (the prefix's own cache is under the writer lock). */
  private async fetchPackagesLocked(
    all: Exclude<PlanAction, { kind: 'remove' }>[],
    store: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Map<string, PackageFile>> {
    const opened = new Map<string, PackageFile>();
    // Unpacked in the shared store already: no package file is needed, its metadata is there.
    for (const action of store === undefined ? [] : all) {
      const entry = storeEntry(store!, action.candidate.entry.sha256);
      if (isStored(entry)) opened.set(action.name, storedPackage(entry));
    }
    const placing = all.filter((action) => !opened.has(action.name));
    const requests = placing.map((action) => ({
      url: new URL(action.candidate.url),
      ...(action.candidate.mirrors === undefined
        ? {}
        : { mirrors: action.candidate.mirrors.map((mirror) => new URL(mirror)) }),
      destination: this.cachePath(action.candidate),
      size: action.candidate.entry.size,
      sha256: action.candidate.entry.sha256,
      remote: action.candidate.remote,
      label: `${action.name} ${fullVersion(action.candidate.entry)}`,
    }));
    const downloadOptions = {
      concurrency: this.config.jobs,
      limits: transferLimitsOf(this.config),
      ...(signal === undefined ? {} : { signal }),
      onProgress: (state: DownloadAllProgress) => this.report({ kind: 'download', ...state }),
    };
    const results = await downloadAll(requests, { ...downloadOptions, cachedUnchecked: true });
    this.checkpoint('downloaded');
    mark('download (or find in the cache)');
    const remotes = new Map(this.config.remotes.map((remote) => [remote.name, remote]));
    const openTask = (action: (typeof placing)[number]): WorkerTask => ({
      kind: 'open',
      path: this.cachePath(action.candidate),
      // A file given on the command line was checked against every remote's keys (fileCandidate). A download is
      // pinned by the signed index, so its own signature may also be by a key the remote has since retired.
      keys:
        action.candidate.remote === FILE_REMOTE
          ? this.config.remotes.flatMap((remote) => remote.keys)
          : [
              ...(remotes.get(action.candidate.remote)?.keys ?? []),
              ...(remotes.get(action.candidate.remote)?.retiredKeys ?? []),
            ],
      skipSignature: action.candidate.remote === FILE_REMOTE && this.allowUnsigned,
      keySource: `${this.paths.config} (remotes.${action.candidate.remote}.keys)`,
    });
    // A cached copy is not hashed here: extraction checks each package file against its pin in the one pass that
    // reads it (readPayloadFileSync), and apply() downloads a copy that fails again. One that cannot be opened, or
    // holds another package than the index lists, is downloaded again now.
    const again: number[] = [];
    for (const [index, action] of placing.entries()) {
      try {
        const result = await runTask(openTask(action));
        if (result.kind !== 'open') continue;
        const problem = identityProblem(action, result.pkg);
        if (problem !== undefined) throw problem;
        opened.set(action.name, result.pkg);
      } catch (error) {
        if (results[index]?.unchecked !== true) throw error;
        again.push(index);
      }
    }
    if (again.length > 0) {
      for (const index of again) await rm(requests[index]!.destination, { force: true });
      await downloadAll(
        again.map((index) => requests[index]!),
        downloadOptions,
      );
      for (const index of again) {
        const result = await runTask(openTask(placing[index]!));
        if (result.kind === 'open') opened.set(placing[index]!.name, result.pkg);
      }
    }
    for (const action of all) {
      const pkg = opened.get(action.name)!;
      const problem = identityProblem(action, pkg);
      if (problem !== undefined) throw problem;
      checkRelocationFits(pkg.metadata, relocationPrefix(this.root));
    }
    return opened;
  }

  private syncToDisk(): void {
    if (!this.config.fsync) return;
    // One syncfs(2) for everything staged and renamed, instead of an fsync per file.
    syncFileSystem(this.paths.state);
  }

  /**
   * Run the transaction. A cached package file that extraction finds is not
   * the one the index pins (it changed after it was downloaded) has been
   * rolled back with everything else; it is removed and the transaction runs
   * once more, downloading it again.
   */
  private async apply(plan: Plan, described: PlannedChange, options: ChangeOptions): Promise<ChangeResult> {
    const placing = plan.actions.filter(isPlacing);
    const forced = process.env['KILN_TEST_THREADS'];
    const threads = InstallWorkers.threadsFor(
      placing.length,
      placing.reduce((sum, action) => sum + action.candidate.entry.size, 0),
      this.config.jobs,
      forced === undefined ? undefined : Number(forced),
    );
    for (let attempt = 1; ; attempt++) {
      const startedAt = this.now().toISOString();
      const id = `${startedAt.replace(/[-:.]/g, '')}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
      const workers = new InstallWorkers(
        threads,
        this.options.killAtStep === undefined ? undefined : (path) => this.checkpoint(`wrote ${path}`),
      );
      const altered = new Set<string>();
      try {
        return await this.applyWith(plan, described, options, placing, workers, startedAt, id, altered);
      } catch (error) {
        if (attempt > 1 || altered.size === 0) throw error;
        for (const path of altered) await rm(path, { force: true });
      } finally {
        await workers.close();
      }
    }
  }

  private async applyWith(
    plan: Plan,
    described: PlannedChange,
    options: ChangeOptions,
    placing: Exclude<PlanAction, { kind: 'remove' }>[],
    workers: InstallWorkers,
    startedAt: string,
    id: string,
    /** Filled with the cached package files that extraction found are not what the index pins. */
    altered: Set<string>,
  ): Promise<ChangeResult> {
    if (this.config.checkSpace) checkFreeSpace(this.root, this.paths.cache, placing, described.downloadBytes);
    const policy = this.ownerPolicy();
    const store = await this.unpackedStore(policy.applyOwners);
    const packages = await this.fetchPackages(placing, store?.dir, options.signal).catch((error: unknown) => {
      stopIfCancelled(options.signal, this.root);
      throw error;
    });
    stopIfCancelled(options.signal, this.root);
    mark('open and check packages');
    await this.checkLibraries(plan, (action) => packages.get(action.name)!.metadata);
    const created: { kind: 'user' | 'group'; name: string; id: number; package: string }[] = [];
    const metadataOf = (name: string): PackageFile['metadata'] => packages.get(name)!.metadata;
    if (policy.applyOwners) {
      // Find conflicts before any account is created: nothing is written when the plan cannot go ahead.
      prepareTransaction(this.root, this.store, plan.actions, metadataOf, { ...policy, applyOwners: false }, startedAt);
      for (const action of placing) {
        const meta = packages.get(action.name)!.metadata;
        const result = await ensureAccounts(this.root, meta.users, meta.groups);
        policy.accounts = result.table;
        for (const name of result.createdGroups)
          created.push({ kind: 'group', name, id: result.table.groups.get(name)!, package: action.name });
        for (const name of result.createdUsers)
          created.push({ kind: 'user', name, id: result.table.users.get(name)!.uid, package: action.name });
      }
      if (policy.accounts === undefined) policy.accounts = (await ensureAccounts(this.root, [], [])).table;
    }
    const prepared: PreparedTransaction = prepareTransaction(
      this.root,
      this.store,
      plan.actions,
      metadataOf,
      policy,
      startedAt,
    );
    mark('prepare (conflicts, owners, journal ops)');
    const transactionDir = this.paths.transaction;
    mkdirSync(join(transactionDir, 'stage'), { recursive: true });
    mkdirSync(join(transactionDir, 'backup'), { recursive: true });
    const journal: Journal = {
      format: JOURNAL_FORMAT,
      id,
      command: options.command ?? 'api',
      startedAt,
      ops: prepared.ops,
      cleanup: prepared.cleanup,
    };
    try {
      await writeJournal(transactionDir, journal);
    } catch (error) {
      removeTransactionDirectory(transactionDir);
      throw error;
    }
    this.checkpoint('journal written');
    mark('write the journal');
    const summary =
      described.actions
        .map(
          (action) =>
            `${action.kind} ${action.name} ${action.from === null ? action.to : action.to === null || action.to === action.from ? action.from : `${action.from} -> ${action.to}`}`,
        )
        .join(', ') || 'reasons changed';
    let pending: PendingCommit | undefined;
    try {
      stopIfCancelled(options.signal, this.root);
      const umask = currentUmask();
      makeDirectories(this.root, journal, this.checkpoint, umask);
      mark('make directories');
      const jobs: ExtractJob[] = prepared.packages.map((pkg) => {
        const file = packages.get(pkg.action.name)!;
        const cached = file.path === this.cachePath(pkg.action.candidate);
        return {
          path: file.path,
          payloadOffset: file.payloadOffset,
          payloadSize: file.payloadSize,
          metadata: file.metadata,
          entries: pkg.entries,
          root: this.root,
          transactionDir,
          relocationPrefix: relocationPrefix(this.root),
          applyOwners: policy.applyOwners,
          umask,
          // Checked in the pass that reads the payload (cached copies are not hashed when opened).
          ...(cached
            ? {
                pin: {
                  sha256: pkg.action.candidate.entry.sha256,
                  metadata: file.metadataBytes,
                  signature: file.signatureBytes,
                },
              }
            : {}),
        };
      });
      // The database rows go in while the threads extract (the main thread has nothing else to do); committed after syncfs.
      pending = this.store.begin(prepared.removeNames);
      let index = 0;
      // Biggest first, so that no thread is left with a large package at the end.
      const cost = (job: ExtractJob): number =>
        job.metadata.payload.uncompressedSize + job.metadata.files.length * 16384;
      const order = prepared.packages
        .map((pkg, at) => ({ pkg, job: jobs[at]! }))
        .sort((a, b) => cost(b.job) - cost(a.job));
      try {
        await Promise.all(
          order.map(async ({ pkg, job }) => {
            const task: WorkerTask =
              store === undefined
                ? { kind: 'extract', job }
                : {
                    kind: 'link',
                    job,
                    entry: storeEntry(store.dir, pkg.action.candidate.entry.sha256),
                    metadataBytes: packages.get(pkg.action.name)!.metadataBytes,
                    owner: store.owner,
                  };
            const result = await workers.run(task).catch((error: unknown) => {
              if (job.pin !== undefined && isKilnError(error) && error.code === 'E_INDEX_MISMATCH')
                altered.add(job.path);
              throw error;
            });
            if (result.kind !== 'extract') return;
            for (const { index: at, size, sha256 } of result.result.relocated) {
              const row = pkg.change.files[at]!;
              row.size = size;
              row.sha256 = sha256;
            }
            pending!.add(pkg.change);
            this.report({ kind: 'stage', name: pkg.action.name, index: index++, total: prepared.packages.length });
            this.checkpoint(`extracted ${pkg.action.name}`);
          }),
        );
      } finally {
        // On an error, nothing may still be writing when the journal is rolled back.
        await workers.close();
      }
      mark('extract (worker threads) and write database rows');
      // The last moment to stop: from here the files are moved into place and the change completes.
      stopIfCancelled(options.signal, this.root);
      this.report({ kind: 'commit', operations: journal.ops.length });
      executeJournal(this.root, transactionDir, journal, this.checkpoint);
      mark('renames');
      this.syncToDisk();
      mark('syncfs');
      pending.commit({
        transaction: { id, startedAt, finishedAt: this.now().toISOString(), command: journal.command, summary },
        reasons: plan.reasonChanges,
        accounts: created,
      });
    } catch (error) {
      pending?.abort();
      rollBackJournal(this.root, transactionDir, journal, () => undefined);
      removeTransactionDirectory(transactionDir);
      if (isErrno(error, 'EXDEV')) {
        throw new KilnError(
          'E_IO',
          `cannot change prefix ${this.root}: part of it is on another file system than ${this.paths.state} (${(error as NodeJS.ErrnoException).path ?? ''})`,
          {
            hint: 'files are moved into place by rename, which needs one file system; nothing was changed',
            cause: error,
          },
        );
      }
      throw (
        fromSystemError(error, { doing: `cannot change prefix ${this.root}`, outcome: 'nothing was changed' }) ?? error
      );
    }
    this.checkpoint('committed');
    mark('database commit');
    finishJournal(this.root, transactionDir, journal, this.checkpoint);
    mark('finish the journal');
    return {
      plan: described,
      applied: true,
      transaction: id,
      notes: [...prepared.notes, ...this.onceNotes(prepared.prefixNotes)],
    };
  }
}

/** Why a package file is not the one the index lists for `action` (name, version, revision, variant), if it is not. */
function identityProblem(action: Exclude<PlanAction, { kind: 'remove' }>, pkg: PackageFile): KilnError | undefined {
  const { entry } = action.candidate;
  const meta = pkg.metadata;
  if (
    meta.name === entry.name &&
    meta.version === entry.version &&
    meta.revision === entry.revision &&
    meta.variant === entry.variant
  )
    return undefined;
  return new KilnError(
    'E_INDEX_MISMATCH',
    `cannot install ${entry.name}: ${pkg.path} holds ${meta.name}-${fullVersion(meta)} variant ${meta.variant}, not what the index of ${action.candidate.remote} lists`,
    { hint: 'the repository is inconsistent; tell its maintainer' },
  );
}

/**
 * Binary files are patched in place, so the prefix must fit where the
 * placeholder was. Checked from the index when the plan is made (before any
 * download), and again from each package's own relocation table.
 */
function checkRelocationFits(meta: PackageFile['metadata'], prefix: string): void {
  const binaries = meta.relocation?.files.filter((row) => row.kind === 'binary') ?? [];
  if (meta.relocation === null || binaries.length === 0) return;
  const names =
    binaries
      .slice(0, 3)
      .map((row) => row.path)
      .join(', ') + (binaries.length > 3 ? ` and ${binaries.length - 3} more` : '');
  checkPrefixFits(meta.name, Buffer.byteLength(meta.relocation.placeholder), prefix, ` (${names})`);
}

function checkPrefixFits(name: string, room: number | undefined, prefix: string, files: string): void {
  const length = Buffer.byteLength(prefix);
  if (room === undefined || length <= room) return;
  throw new KilnError(
    'E_RELOCATE',
    `cannot install ${name} into ${prefix}: the prefix is ${length} bytes long, but ${name} has paths compiled into its binary files${files} with room for ${room} bytes`,
    {
      hint: `install into a prefix whose real path (symbolic links resolved) is at most ${room} bytes long; nothing was changed`,
    },
  );
}

/** A finding as a candidate carries it: the id, the fixed version and the summary. */
function candidateAdvisory(finding: Finding): CandidateAdvisory {
  return {
    id: finding.advisory.id,
    ...(finding.fixed === undefined ? {} : { fixed: finding.fixed }),
    ...(finding.advisory.summary === undefined ? {} : { summary: finding.advisory.summary }),
  };
}

/**
 * Hard-link the packages of one cache into another (both name packages by
 * their sha256, and every use checks it again); what cannot be linked, say
 * across file systems, is downloaded again.
 */
function linkCachedPackages(from: string, to: string): void {
  let names: string[];
  try {
    names = readdirSync(from);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith('.kpkg')) continue;
    try {
      linkSync(join(from, name), join(to, name));
    } catch {
      // Another file system, or no permission to link another user's file: downloaded again instead.
    }
  }
}

/** E_ABORTED when `signal` says the change was cancelled (a change stopped here is rolled back by its caller). */
function stopIfCancelled(signal: AbortSignal | undefined, root: string): void {
  if (signal?.aborted === true)
    throw new KilnError('E_ABORTED', `cannot change prefix ${root}: the change was cancelled`, {
      hint: 'nothing was changed',
    });
}
