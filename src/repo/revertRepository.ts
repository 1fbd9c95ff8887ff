/**
 * `kiln repo revert DIR SERIAL`: publish the package set of an earlier serial
 * as a new commit, serial + 1, so that a bad publish is undone in one command
 * while the serial never goes down (clients refuse an older one as a
 * rollback). The earlier index is read from its signed snapshot and checked
 * with the repository's keys; every package file it names must still be in
 * the published tree at its pinned size (`kiln repo prune` may have deleted
 * it), else nothing is published. The commit is journaled as any other.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import { mapConcurrent } from '../util/mapConcurrent.js';
import type { CommitOptions, CommitResult } from './commitRepository.js';
import { publishCommit } from './commitRepository.js';
import type { IndexEntry } from './indexFormat.js';
import { entryKey } from './indexFormat.js';
import { SIGNATURE_SUFFIX, snapshotPath } from './layout.js';
import type { Repository } from './openRepository.js';
import { openRepository, readCurrentIndex, withRepositoryLock } from './openRepository.js';
import { localFetcher, readIndexAtSerial } from './readPublishedIndex.js';
import { advisoriesToPublish } from './repositoryAdvisories.js';
import { isStageEmpty, readStage } from './stage.js';

export interface RevertResult extends CommitResult {
  /** The serial whose package set was published again. */
  revertedTo: number;
}

export async function revertRepository(
  root: string,
  serial: number,
  options: CommitOptions = {},
): Promise<RevertResult> {
  const repo = await openRepository(root);
  return withRepositoryLock(repo, options, () => revertLocked(repo, serial, options));
}

async function revertLocked(repo: Repository, serial: number, options: CommitOptions): Promise<RevertResult> {
  const root = repo.paths.root;
  const { index: current } = await readCurrentIndex(repo);
  if (!Number.isInteger(serial) || serial < 1 || serial >= current.serial)
    throw new KilnError(
      'E_USAGE',
      `cannot revert repository ${root} to serial ${serial}: the published serial is ${current.serial}, so an earlier one is 1 to ${current.serial - 1}`,
      { hint: `"kiln repo log ${root}" lists the serials` },
    );
  if (!isStageEmpty(await readStage(repo.paths)))
    throw new KilnError('E_REPO_CONFLICT', `cannot revert repository ${root}: packages are staged`, {
      hint: 'commit them first, or take them off the stage with "kiln repo remove", then revert',
    });

  // The earlier index, as its signed snapshot says, checked like the current one.
  const signature = join(repo.paths.public, snapshotPath(serial) + SIGNATURE_SUFFIX);
  const pruned = (what: string): KilnError =>
    new KilnError('E_REPO_PRUNED', `cannot revert repository ${root} to serial ${serial}: ${what}`, {
      hint: '"kiln repo prune" deleted it; an earlier serial can be published again only while its files are kept (prune with a larger --keep)',
    });
  const read = await readIndexAtSerial(localFetcher(repo.paths.public), repo.keys, repo.paths.public, serial);
  if (read === undefined) throw pruned(`its index ${signature} was pruned`);
  const earlier = read.index;

  const missing = (
    await mapConcurrent(earlier.packages, 16, async (entry) => ((await present(repo, entry)) ? undefined : entry.path))
  ).filter((path): path is string => path !== undefined);
  if (missing.length > 0)
    throw pruned(
      `${missing.length} of its package files ${missing.length === 1 ? 'is' : 'are'} gone: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
    );

  const before = new Map(current.packages.map((entry) => [entryKey(entry), entry]));
  const after = new Map(earlier.packages.map((entry) => [entryKey(entry), entry]));
  const added = [...after].filter(([key]) => !before.has(key)).map(([, entry]) => entry);
  const retired = [...before].filter(([key]) => !after.has(key)).map(([, entry]) => entry);
  const { index, notes } = await publishCommit(repo, options, {
    serial: current.serial + 1,
    packages: earlier.packages,
    added,
    retired,
    message: options.message ?? `revert to serial ${serial}`,
    advisories: await advisoriesToPublish(repo.paths),
  });
  return { index, added, retired, revertedTo: serial, ...(notes.length === 0 ? {} : { notes }) };
}

/** A package file of the published tree, at the size its index pins (published files never change). */
async function present(repo: Repository, entry: IndexEntry): Promise<boolean> {
  try {
    return (await stat(join(repo.paths.public, entry.path))).size === entry.size;
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
    throw error;
  }
}
