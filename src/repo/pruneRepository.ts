/**
 * `kiln repo prune DIR [--keep N]`: delete index snapshots older than the
 * newest N, and package files that neither those snapshots nor the stage
 * reference. Clients that fetched one of the kept indexes can still download
 * every package it lists.
 */
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import { parseIndex } from './indexFormat.js';
import type { IndexRoot } from './indexV2.js';
import { V2_DIR, openPinned, parseNameTable, parseRoot, pinnedPath, rootSnapshotPath } from './indexV2.js';
import { SIGNATURE_SUFFIX, snapshotPath } from './layout.js';
import { fileListPath } from './fileList.js';
import { isTemporaryPath, removeStaleTemporaries } from '../util/atomicWrite.js';
import type { RepositoryOptions } from './openRepository.js';
import { lockRepository, openRepository, readCurrentIndex } from './openRepository.js';
import { removeEmptyParents } from './removeEmptyParents.js';
import { readStage } from './stage.js';
import { listPackageFiles } from './verifyRepository.js';

export interface PruneResult {
  removedSnapshots: number[];
  removedFiles: string[];
  freedBytes: number;
}

export const DEFAULT_KEEP = 3;

/**
 * Delete the format v2 files (name tables, deltas, shards) that no kept root
 * pins; returns the bytes freed. A kept root whose files cannot be read keeps
 * everything (nothing is deleted on a guess).
 */
async function prunePinned(published: string, kept: readonly number[]): Promise<number> {
  const pinnedFiles = new Set<string>();
  for (const serial of kept) {
    let root: IndexRoot;
    try {
      root = parseRoot(await readFile(join(published, rootSnapshotPath(serial))), rootSnapshotPath(serial));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) continue;
      return 0;
    }
    pinnedFiles.add(pinnedPath('names', root.names));
    for (const delta of root.deltas) pinnedFiles.add(pinnedPath('deltas', delta));
    pinnedFiles.add(pinnedPath('provides', root.provides));
    const path = join(published, pinnedPath('names', root.names));
    let table: ReturnType<typeof parseNameTable>;
    try {
      table = parseNameTable(openPinned(await readFile(path), root.names, path).toString('utf8'), path);
    } catch {
      return 0;
    }
    for (const row of table.values()) pinnedFiles.add(pinnedPath('shards', row.shard));
  }
  let freed = 0;
  for (const kind of ['names', 'deltas', 'shards', 'provides'] as const) {
    const dir = join(published, V2_DIR, kind);
    const fans = await readdir(dir).catch((error: unknown) => (isErrno(error, 'ENOENT') ? [] : Promise.reject(error)));
    for (const fan of fans) {
      // What a killed commit was writing: only a live "repo commit" could still be, and it holds the lock we hold.
      await removeStaleTemporaries(join(dir, fan));
      for (const file of await readdir(join(dir, fan))) {
        const relative = `${V2_DIR}/${kind}/${fan}/${file}`;
        if (pinnedFiles.has(relative) || isTemporaryPath(file)) continue;
        freed += (await stat(join(dir, fan, file))).size;
        await rm(join(dir, fan, file), { force: true });
      }
      await removeEmptyParents(join(dir, fan), dir);
    }
  }
  return freed;
}

export async function pruneRepository(
  root: string,
  keep = DEFAULT_KEEP,
  options: Pick<RepositoryOptions, 'wait' | 'onWait'> = {},
): Promise<PruneResult> {
  if (!Number.isSafeInteger(keep) || keep < 1)
    throw new KilnError('E_USAGE', `cannot prune repository ${root}: --keep must be at least 1`);
  const repo = await openRepository(root);
  const lock = await lockRepository(repo, options);
  const published = repo.paths.public;
  try {
    const { index } = await readCurrentIndex(repo);
    const serials = (
      await readdir(repo.paths.snapshots).catch((error: unknown) =>
        isErrno(error, 'ENOENT') ? [] : Promise.reject(error),
      )
    )
      .map((name) => /^(\d+)\.json$/.exec(name)?.[1])
      .filter((serial): serial is string => serial !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
    const kept = serials.filter((serial) => serial <= index.serial).slice(0, keep);
    const referenced = new Set<string>();
    for (const entry of index.packages) referenced.add(entry.path);
    for (const serial of kept) {
      const path = join(published, snapshotPath(serial));
      for (const entry of parseIndex(await readFile(path), path).packages) referenced.add(entry.path);
    }
    for (const entry of (await readStage(repo.paths)).adds.values()) referenced.add(entry.path);
    const result: PruneResult = { removedSnapshots: [], removedFiles: [], freedBytes: 0 };
    for (const serial of serials) {
      if (kept.includes(serial) || serial > index.serial) continue;
      const path = join(published, snapshotPath(serial));
      await rm(path, { force: true });
      await rm(path + SIGNATURE_SUFFIX, { force: true });
      const list = join(published, fileListPath(serial));
      await rm(list, { force: true });
      await rm(list + SIGNATURE_SUFFIX, { force: true });
      const root = join(published, rootSnapshotPath(serial));
      await rm(root, { force: true });
      await rm(root + SIGNATURE_SUFFIX, { force: true });
      result.removedSnapshots.push(serial);
    }
    result.freedBytes += await prunePinned(published, kept);
    const files = await listPackageFiles(published);
    for (const directory of new Set(files.map((file) => join(published, dirname(file)))))
      await removeStaleTemporaries(directory);
    for (const file of await listPackageFiles(published)) {
      // Referenced, or a copy in flight from a live "repo add".
      if (referenced.has(file) || isTemporaryPath(file)) continue;
      const path = join(published, file);
      result.freedBytes += (await stat(path)).size;
      await rm(path, { force: true });
      result.removedFiles.push(file);
      await removeEmptyParents(dirname(path), repo.paths.packages);
    }
    return result;
  } finally {
    lock.release();
  }
}
