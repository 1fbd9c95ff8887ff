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
      result.removedSnapshots.push(serial);
    }
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
