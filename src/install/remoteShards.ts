/**
 * A remote synced in index format v2 (repo/indexV2.ts), on the client:
 * `var/lib/kiln/indexes/NAME/` keeps the accepted root (`index.v2.json` and
 * its signature) and its name table (`names.txt`); the shards fetched so far
 * are a cache, `var/cache/kiln/shards/NAME/SHA256.zst` (as published). `kiln sync` accepts a root and fetches
 * its name table — only a delta when it has the previous one; plans fetch
 * the shards of the names they visit, each checked against the pin in the
 * table the signed root pins.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PrefixPaths } from '../config/prefixLayout.js';
import { remoteDirectory, syncedIndexPath } from '../config/prefixLayout.js';
import type { RemoteState } from '../db/index.js';
import { KilnError, isErrno, isKilnError } from '../errors/index.js';
import type { IndexEntry } from '../repo/indexFormat.js';
import type { IndexRoot, NameRow } from '../repo/indexV2.js';
import {
  NameTable,
  applyDelta,
  checkNameTable,
  countLines,
  openPinned,
  parseRoot,
  parseShard,
  pinnedPath,
  providersIn,
  searchRowsOf,
  shardDigestsOf,
} from '../repo/indexV2.js';
import type { PublishedRoot, RepositoryFetcher } from '../repo/readPublishedIndex.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readFileIfExistsSync } from '../util/fs.js';
import { syncFileSystem } from '../util/syncFileSystem.js';
import { sha256 } from '../util/hash.js';
import { mapConcurrent } from '../util/mapConcurrent.js';
import { writeSearchText } from './searchList.js';

/** Written without an fsync each: one syncfs follows them all. */
const QUICK = { durable: false } as const;

/** How many shards are fetched at once. */
const SHARD_CONCURRENCY = 16;

export function syncedRootPath(paths: PrefixPaths, remote: string): string {
  return join(remoteDirectory(paths, remote), 'index.v2.json');
}

function nameTablePath(paths: PrefixPaths, remote: string): string {
  return join(remoteDirectory(paths, remote), 'names.txt');
}

/** Shards fetched, a cache like the packages': `var/cache/kiln/shards/NAME/`. */
export function shardDirectory(paths: PrefixPaths, remote: string): string {
  return join(dirname(paths.cache), 'shards', remote);
}

/**
 * The name table of the root accepted before, and that root: the base of a
 * delta. Not hashed here: whatever is made from it is checked against the new
 * root's pin, and a copy that was damaged gives a table that does not match.
 */
function previousTable(paths: PrefixPaths, remote: string): { root: IndexRoot; table: Buffer } | undefined {
  try {
    const bytes = readFileIfExistsSync(syncedRootPath(paths, remote));
    const table = readFileIfExistsSync(nameTablePath(paths, remote));
    if (bytes === undefined || table === undefined) return undefined;
    return { root: parseRoot(bytes, syncedRootPath(paths, remote)), table };
  } catch {
    return undefined;
  }
}

/**
 * Keep a root that passed the rollback and freeze checks: fetch its name
 * table (a delta from the table kept, when the root offers one from that
 * serial; else the whole table), check it against the root's pin, and write
 * table, search list, signature and root, in that order. The database row,
 * written by the caller last, is what makes them current.
 *
 * A whole table is checked line by line (`checkNameTable`). One made from the
 * kept table has its new lines checked as the delta is applied, and the
 * others were checked when the kept table was accepted (the same bytes: the
 * result matches the root's pin), so a re-sync costs what changed.
 */
export async function acceptRoot(
  paths: PrefixPaths,
  remote: string,
  published: PublishedRoot,
  fetch: RepositoryFetcher,
  source: string,
): Promise<void> {
  const { root } = published;
  let text: string | undefined;
  // Counted by checkNameTable when the table is fetched whole.
  let lines: number | undefined;
  const previous = previousTable(paths, remote);
  if (
    previous !== undefined &&
    previous.root.names.sha256 === root.names.sha256 &&
    sha256(previous.table) === root.names.sha256
  )
    text = previous.table.toString('utf8');
  const delta = previous === undefined ? undefined : root.deltas.find((d) => d.from === previous.root.serial);
  if (text === undefined && previous !== undefined && delta !== undefined) {
    const path = pinnedPath('deltas', delta);
    const bytes = await fetch(path);
    if (bytes !== undefined) {
      // A delta that is damaged, or does not give the pinned table, is not used: the whole table is fetched instead.
      try {
        const applied = applyDelta(
          previous.table.toString('utf8'),
          openPinned(bytes, delta, `${source}/${path}`).toString('utf8'),
          `${source}/${path}`,
        );
        if (sha256(applied) === root.names.sha256) text = applied;
      } catch (error) {
        if (!isKilnError(error, 'E_INDEX_MISMATCH') && !isKilnError(error, 'E_INDEX_FORMAT')) throw error;
      }
    }
  }
  if (text === undefined) {
    const path = pinnedPath('names', root.names);
    const bytes = await fetch(path);
    if (bytes === undefined)
      throw new KilnError('E_INDEX_MISMATCH', `cannot sync remote ${remote}: ${source}/${path} is missing`, {
        hint: 'the repository is incomplete (its index names a file it does not serve); tell its maintainer',
      });
    text = openPinned(bytes, root.names, `${source}/${path}`).toString('utf8');
    lines = checkNameTable(text, `${source}/${path}`);
  }
  if ((lines ?? countLines(text)) !== root.names.count)
    throw new KilnError(
      'E_INDEX_FORMAT',
      `cannot sync remote ${remote}: its name table does not hold ${root.names.count} names`,
      {
        hint: 'the index was not written by a compatible Kiln',
      },
    );
  const dir = remoteDirectory(paths, remote);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(nameTablePath(paths, remote), text, QUICK);
  await writeSearchText(syncedIndexPath(paths, remote), sha256(published.bytes), searchRowsOf(text), QUICK);
  await writeFileAtomic(`${syncedRootPath(paths, remote)}.minisig`, published.signatureText, QUICK);
  await writeFileAtomic(syncedRootPath(paths, remote), published.bytes, QUICK);
  // The v1 copy, from a sync before the repository published v2, is no longer current.
  await rm(syncedIndexPath(paths, remote), { force: true });
  await rm(`${syncedIndexPath(paths, remote)}.minisig`, { force: true });
  // One syncfs(2) for the files above, before the database row that makes them current.
  syncFileSystem(dir);
  await pruneShards(paths, remote, text);
}

/** After a v1 sync: drop what a v2 sync of this remote left (the repository went back to v1 only). */
export async function forgetRoot(paths: PrefixPaths, remote: string): Promise<void> {
  for (const path of [
    syncedRootPath(paths, remote),
    `${syncedRootPath(paths, remote)}.minisig`,
    nameTablePath(paths, remote),
  ])
    await rm(path, { force: true });
  await rm(shardDirectory(paths, remote), { recursive: true, force: true });
}

/** Shards no name of the table pins any more are deleted; the others stay for the next plan. */
async function pruneShards(paths: PrefixPaths, remote: string, table: string): Promise<void> {
  let files: string[];
  try {
    files = await readdir(shardDirectory(paths, remote));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  const pinned = shardDigestsOf(table);
  for (const file of files)
    if (!(file.endsWith('.zst') && pinned.has(file.slice(0, -4))))
      await rm(join(shardDirectory(paths, remote), file), { force: true });
}

/**
 * The accepted root of `remote` and its name table, when the remote was last
 * synced in format v2 (the root's digest is the database row's); undefined
 * when it was synced in v1.
 */
export function openRemoteShards(
  paths: PrefixPaths,
  remote: string,
  state: RemoteState,
  fetcher: () => RepositoryFetcher,
  source: string,
): RemoteShards | undefined {
  const bytes = readFileIfExistsSync(syncedRootPath(paths, remote));
  if (bytes === undefined || sha256(bytes) !== state.sha256) return undefined;
  const root = parseRoot(bytes, syncedRootPath(paths, remote));
  const tablePath = nameTablePath(paths, remote);
  const table = readFileIfExistsSync(tablePath);
  if (table === undefined || sha256(table) !== root.names.sha256)
    throw new KilnError(
      'E_INDEX_MISMATCH',
      `cannot read the synced index of remote ${remote}: ${tablePath} is missing or damaged`,
      {
        hint: `run "kiln sync ${remote}" to fetch it again`,
      },
    );
  return new RemoteShards(
    remote,
    root,
    new NameTable(table.toString('utf8'), tablePath),
    shardDirectory(paths, remote),
    fetcher,
    source,
  );
}

/** The shards of one v2 remote: fetched on demand, kept, and checked on every read. */
export class RemoteShards {
  /** The entries of each name loaded so far. */
  readonly loaded = new Map<string, IndexEntry[]>();
  private fetch: RepositoryFetcher | undefined;
  /** Bytes fetched from the remote by this object. */
  fetchedBytes = 0;

  constructor(
    readonly remote: string,
    readonly root: IndexRoot,
    readonly table: Pick<ReadonlyMap<string, NameRow>, 'get' | 'has' | 'keys' | 'values' | 'size'>,
    private readonly dir: string,
    private readonly fetcher: () => RepositoryFetcher,
    private readonly source: string,
  ) {}

  /** Load the shards of those of `names` this remote offers and has not loaded yet. */
  async load(names: Iterable<string>): Promise<void> {
    const rows: NameRow[] = [];
    for (const name of names) {
      const row = this.table.get(name);
      if (row !== undefined && !this.loaded.has(name)) rows.push(row);
    }
    if (rows.length === 0) return;
    const shards = await mapConcurrent(rows, SHARD_CONCURRENCY, (row) => this.shard(row));
    for (let i = 0; i < rows.length; i++) this.loaded.set(rows[i]!.name, shards[i]!);
  }

  /** The names this remote offers that provide each of `sonames` (its soname table, fetched for the question). */
  async providers(sonames: ReadonlySet<string>): Promise<Map<string, string[]>> {
    const path = pinnedPath('provides', this.root.provides);
    this.fetch ??= this.fetcher();
    const bytes = await this.fetch(path);
    if (bytes === undefined) return new Map();
    this.fetchedBytes += bytes.length;
    const where = `${this.source}/${path}`;
    return providersIn(openPinned(bytes, this.root.provides, where).toString('utf8'), sonames, where);
  }

  private async shard(row: NameRow): Promise<IndexEntry[]> {
    const cached = join(this.dir, `${row.shard.sha256}.zst`);
    const kept = readFileIfExistsSync(cached);
    if (kept !== undefined) {
      try {
        return parseShard(openPinned(kept, row.shard, cached), row.name, cached);
      } catch {
        // A damaged copy: fetched again below.
      }
    }
    const path = pinnedPath('shards', row.shard);
    this.fetch ??= this.fetcher();
    const bytes = await this.fetch(path);
    if (bytes === undefined)
      throw new KilnError(
        'E_INDEX_MISMATCH',
        `cannot read the index of ${row.name} from remote ${this.remote}: ${this.source}/${path} is missing`,
        { hint: `the repository no longer serves the index synced; run "kiln sync ${this.remote}" and try again` },
      );
    this.fetchedBytes += bytes.length;
    const entries = parseShard(
      openPinned(bytes, row.shard, `${this.source}/${path}`),
      row.name,
      `${this.source}/${path}`,
    );
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(cached, bytes);
    } catch {
      // Not writable by this user (a query by another user): nothing to keep.
    }
    return entries;
  }
}
