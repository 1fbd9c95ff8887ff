/**
 * `kiln repo remove DIR NAME[-VERSION[-rN]]...`: take back staged packages and
 * retire published ones in the next commit. `NAME-VERSION` matches every
 * revision of that version; `NAME-VERSION-rN` matches one; `variant` narrows
 * to one variant. A dropped staged file is deleted; a retired file stays until
 * `kiln repo prune`, since clients holding the previous index may still fetch it.
 */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KilnError } from '../errors/index.js';
import { fullVersion } from '../format/index.js';
import type { Version } from '../version/index.js';
import { compareVersions, splitNameVersion, withoutRevision } from '../version/index.js';
import type { IndexEntry } from './indexFormat.js';
import { entryKey } from './indexFormat.js';
import type { RepositoryOptions } from './openRepository.js';
import { lockRepository, openRepository, readCurrentIndex } from './openRepository.js';
import { removeEmptyParents } from './removeEmptyParents.js';
import type { StageOperation } from './stage.js';
import { appendStage, readStage } from './stage.js';

export interface RemoveOptions extends Pick<RepositoryOptions, 'wait' | 'onWait'> {
  /** Only this variant id. */
  variant?: string | undefined;
}

export interface RemoveResult {
  /** Staged packages taken back. */
  dropped: IndexEntry[];
  /** Published packages that the next commit removes. */
  retired: IndexEntry[];
}

interface Selector {
  spec: string;
  name: string;
  version: Version | undefined;
}

export function parseSelector(spec: string): Selector {
  const split = splitNameVersion(spec);
  return split ? { spec, name: split.name, version: split.version } : { spec, name: spec, version: undefined };
}

function matches(entry: IndexEntry, selector: Selector, variant: string | undefined): boolean {
  if (entry.name !== selector.name) return false;
  if (variant !== undefined && entry.variant !== variant) return false;
  const version = selector.version;
  if (version === undefined) return true;
  if (compareVersions(withoutRevision(version), entry.version) !== 0) return false;
  return !version.hasRevision || version.revision === String(entry.revision);
}

export async function removePackages(
  root: string,
  specs: readonly string[],
  options: RemoveOptions = {},
): Promise<RemoveResult> {
  const repo = await openRepository(root);
  const lock = await lockRepository(repo, options);
  try {
    const { index } = await readCurrentIndex(repo);
    const stage = await readStage(repo.paths);
    const publishedPaths = new Set(index.packages.map((entry) => entry.path));
    const result: RemoveResult = { dropped: [], retired: [] };
    const operations: StageOperation[] = [];
    for (const spec of specs) {
      const selector = parseSelector(spec);
      let matched = 0;
      for (const entry of stage.adds.values()) {
        if (!matches(entry, selector, options.variant)) continue;
        matched++;
        stage.adds.delete(entryKey(entry));
        operations.push({ op: 'drop', key: entryKey(entry) });
        result.dropped.push(entry);
      }
      for (const entry of index.packages) {
        if (!matches(entry, selector, options.variant)) continue;
        matched++;
        if (stage.retires.has(entryKey(entry))) continue;
        stage.retires.set(entryKey(entry), entry);
        operations.push({ op: 'retire', entry });
        result.retired.push(entry);
      }
      if (matched === 0) {
        const known = [...index.packages, ...stage.adds.values()]
          .filter((entry) => entry.name === selector.name)
          .map((entry) => `${fullVersion(entry)}/${entry.variant}`);
        throw new KilnError(
          'E_REPO_NO_MATCH',
          `cannot remove ${spec} from repository ${root}: no staged or published package matches`,
          {
            hint:
              known.length > 0
                ? `${selector.name} has: ${[...new Set(known)].join(', ')}`
                : `the repository has no package named ${selector.name}`,
          },
        );
      }
    }
    await appendStage(repo.paths, operations);
    for (const entry of result.dropped) {
      if (publishedPaths.has(entry.path)) continue;
      const path = join(repo.paths.public, entry.path);
      await rm(path, { force: true });
      await removeEmptyParents(dirname(path), repo.paths.packages);
    }
    return result;
  } finally {
    lock.release();
  }
}
