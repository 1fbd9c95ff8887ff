/**
 * Publish a new index: write the immutable snapshot and its signature first,
 * then replace the current signature and `index.json` (each atomically). A
 * client that follows the signature to its snapshot therefore always sees a
 * complete, matching pair — the old one or the new one.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { sha256 } from '../util/hash.js';
import { mapConcurrent } from '../util/mapConcurrent.js';
import { lstatIfExists } from '../util/fs.js';
import { syncFileSystem } from '../util/syncFileSystem.js';
import type { IndexRoot, Pin, PinnedKind } from './indexV2.js';
import {
  INDEX_V2_VERSION,
  MAX_DELTAS,
  ROOT_FILE,
  diffNameTables,
  encodeNameTable,
  encodeProvides,
  encodeShard,
  nameRows,
  openPinned,
  parseRoot,
  pinned,
  pinnedPath,
  rootSnapshotPath,
  rootTrustedComment,
  serializeRoot,
} from './indexV2.js';
import type { FileList } from './fileList.js';
import { buildFileList, decodeFileList, encodeFileList, fileListPath, fileListTrustedComment } from './fileList.js';
import { dirname, join } from 'node:path';
import type { SecretKey } from '../sign/index.js';
import { formatSignature, signData } from '../sign/index.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { isoTime } from '../util/isoTime.js';
import type { IndexEntry, RepositoryIndex } from './indexFormat.js';
import { INDEX_FORMAT, INDEX_FORMAT_VERSION, indexTrustedComment, serializeIndex } from './indexFormat.js';
import type { Repository } from './openRepository.js';
import { SIGNATURE_SUFFIX, snapshotPath } from './layout.js';

export interface PublishRequest {
  serial: number;
  packages: IndexEntry[];
  now: Date;
  expireDays: number;
  key: SecretKey;
  /** The advisories document's bytes (advisory/advisoryDocument.ts), pinned by both index formats; none when absent. */
  advisories?: Buffer | undefined;
}

/** The file list of serial `serial`, when this repository published one (to reuse its entries). */
async function previousFileList(repo: Repository, serial: number): Promise<FileList | undefined> {
  if (serial < 1) return undefined;
  const path = join(repo.paths.public, fileListPath(serial));
  try {
    return decodeFileList(await readFile(path), path);
  } catch {
    // Absent (published by an earlier Kiln) or unreadable: every package is read again.
    return undefined;
  }
}

export async function publishIndex(repo: Repository, request: PublishRequest): Promise<RepositoryIndex> {
  const expires = new Date(request.now.getTime() + request.expireDays * 86_400_000);
  // The advisories are on disk before the index that pins them.
  let advisories: Pin | undefined;
  if (request.advisories !== undefined) {
    advisories = await writePinned(repo.paths.public, 'advisories', request.advisories);
    syncFileSystem(repo.paths.public);
  }
  const index: RepositoryIndex = {
    format: INDEX_FORMAT,
    formatVersion: INDEX_FORMAT_VERSION,
    name: repo.config.name,
    serial: request.serial,
    created: isoTime(request.now),
    expires: isoTime(expires),
    keys: repo.keys.map((key) => key.keyId).sort(),
    ...(advisories === undefined ? {} : { advisories }),
    packages: request.packages,
  };
  const bytes = serializeIndex(index);
  const signature = formatSignature(signData(bytes, request.key, { trustedComment: indexTrustedComment(index) }));
  await mkdir(repo.paths.snapshots, { recursive: true });
  // The file list of this serial is in place before the index that names the serial.
  const list = encodeFileList(
    await buildFileList(repo.paths.public, index, await previousFileList(repo, index.serial - 1)),
  );
  const listPath = join(repo.paths.public, fileListPath(index.serial));
  await writeFileAtomic(listPath, list);
  await writeFileAtomic(
    listPath + SIGNATURE_SUFFIX,
    formatSignature(signData(list, request.key, { trustedComment: fileListTrustedComment(index) })),
  );
  const snapshot = join(repo.paths.public, snapshotPath(index.serial));
  await writeFileAtomic(snapshot, bytes);
  await writeFileAtomic(snapshot + SIGNATURE_SUFFIX, signature);
  if (repo.config.publishV1) {
    // The commit point: recovery reads the serial this signature names.
    await writeFileAtomic(repo.paths.indexSignature, signature);
    await writeFileAtomic(repo.paths.index, bytes);
  }
  // Format v2 after the commit point, never before it: a crash in between leaves the v2 root one
  // serial behind (still valid, caught up by the next commit), never a serial that recovery then
  // undoes and a later commit reuses. Without v1, the v2 root's signature is the commit point.
  await publishIndexV2(repo.paths.public, index, request.key);
  if (!repo.config.publishV1) {
    // v1 clients are no longer served: only the snapshots stay, the repository's own record.
    await rm(repo.paths.indexSignature, { force: true });
    await rm(repo.paths.index, { force: true });
  }
  return index;
}

/**
 * Write a pinned file under its content address unless it is there already
 * (it is immutable), without an fsync of its own: the caller syncs the file
 * system once, before the root that pins it.
 */
async function writePinned(published: string, kind: PinnedKind, bytes: Buffer): Promise<Pin> {
  const pin: Pin = { sha256: sha256(bytes), size: bytes.length };
  const path = join(published, pinnedPath(kind, pin));
  // An empty file is what a crash before the sync can leave: written again.
  if ((lstatIfExists(path)?.size ?? 0) > 0) return pin;
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, pinned(bytes).compressed, { durable: false });
  return pin;
}

/** The name table of root `serial`, when it was published and can be read (for deltas). */
async function previousNameTable(published: string, serial: number): Promise<string | undefined> {
  try {
    const root = parseRoot(await readFile(join(published, rootSnapshotPath(serial))), rootSnapshotPath(serial));
    const path = join(published, pinnedPath('names', root.names));
    return openPinned(await readFile(path), root.names, path).toString('utf8');
  } catch {
    // Pruned, or published before format v2: no delta from it.
    return undefined;
  }
}

/**
 * Publish index format v2 (indexV2.ts) for `index` into the published tree `published`: a shard per name (only
 * the new ones are written), the name table, deltas from up to MAX_DELTAS
 * earlier serials, then the root's snapshot and signature, and last the
 * current root and its signature.
 */
export async function publishIndexV2(published: string, index: RepositoryIndex, key: SecretKey): Promise<IndexRoot> {
  const byName = new Map<string, IndexEntry[]>();
  for (const entry of index.packages) {
    const list = byName.get(entry.name);
    if (list === undefined) byName.set(entry.name, [entry]);
    else list.push(entry);
  }
  const shards = new Map<string, { pin: Pin; entries: IndexEntry[] }>();
  const pins = await mapConcurrent([...byName], 8, ([name, entries]) =>
    writePinned(published, 'shards', encodeShard(name, entries)),
  );
  let i = 0;
  for (const [name, entries] of byName) shards.set(name, { pin: pins[i++]!, entries });
  const table = encodeNameTable(nameRows(shards));
  const names = await writePinned(published, 'names', Buffer.from(table));
  const deltas: IndexRoot['deltas'] = [];
  for (let from = index.serial - 1; from >= Math.max(1, index.serial - MAX_DELTAS); from--) {
    const old = await previousNameTable(published, from);
    if (old === undefined) break;
    deltas.push({ from, ...(await writePinned(published, 'deltas', Buffer.from(diffNameTables(old, table)))) });
  }
  const provides = await writePinned(published, 'provides', Buffer.from(encodeProvides(index.packages)));
  // One syncfs(2) for every file written above, before the root that pins them.
  syncFileSystem(published);
  const root: IndexRoot = {
    format: index.format,
    formatVersion: INDEX_V2_VERSION,
    name: index.name,
    serial: index.serial,
    created: index.created,
    expires: index.expires,
    keys: index.keys,
    packages: index.packages.length,
    names: { ...names, count: byName.size },
    deltas,
    provides,
    ...(index.advisories === undefined ? {} : { advisories: index.advisories }),
  };
  const bytes = serializeRoot(root);
  const signature = formatSignature(signData(bytes, key, { trustedComment: rootTrustedComment(root) }));
  const snapshot = join(published, rootSnapshotPath(root.serial));
  await mkdir(dirname(snapshot), { recursive: true });
  await writeFileAtomic(snapshot, bytes);
  await writeFileAtomic(snapshot + SIGNATURE_SUFFIX, signature);
  await writeFileAtomic(join(published, ROOT_FILE + SIGNATURE_SUFFIX), signature);
  await writeFileAtomic(join(published, ROOT_FILE), bytes);
  return root;
}
