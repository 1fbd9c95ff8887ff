/**
 * `kiln repo add DIR PKG...`: check packages (signature by a repository key,
 * every hash, no conflicting identity) and stage them for the next commit.
 * All packages are checked before any is staged: one bad package stages none.
 * Staging places the file at its final path at once (an unreferenced file is
 * harmless to readers, like a git object) and appends to the stage log.
 */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KilnError } from '../errors/index.js';
import type { VerifiedPackage } from '../format/index.js';
import { fullVersion, packageFileName, signPackage, verifyPackage } from '../format/index.js';
import { formatSettings } from '../solver/problem.js';
import { copyFileAtomic, syncDirectory, temporaryPathFor } from '../util/atomicWrite.js';
import { sha256File } from '../util/hash.js';
import { mapConcurrent } from '../util/mapConcurrent.js';
import type { IndexEntry } from './indexFormat.js';
import { entryKey, indexEntryFor } from './indexFormat.js';
import { packagePath } from './layout.js';
import type { Repository, RepositoryOptions } from './openRepository.js';
import { loadSigningKey, openRepository, readCurrentIndex, withRepositoryLock } from './openRepository.js';
import { appendStage, readStage } from './stage.js';

export interface AddOptions extends RepositoryOptions {
  /** Sign each package with the repository's key (replacing any signature it has). */
  sign?: boolean | undefined;
}

export interface AddResult {
  /** Newly staged packages. */
  staged: IndexEntry[];
  /** Packages already staged or published with identical content. */
  unchanged: IndexEntry[];
}

/** Packages checked or copied at once: enough to hide file-system latency. */
const ADD_CONCURRENCY = 8;

interface Candidate {
  source: string;
  pkg: VerifiedPackage;
  entry: IndexEntry;
}

export async function addPackages(
  root: string,
  files: readonly string[],
  options: AddOptions = {},
): Promise<AddResult> {
  const repo = await openRepository(root);
  return withRepositoryLock(repo, options, () => stagePackages(repo, files, options));
}

/** What `addPackages` does once it holds the repository's lock (the caller holds it). */
export async function stagePackages(
  repo: Repository,
  files: readonly string[],
  options: AddOptions = {},
): Promise<AddResult> {
  const scratch: string[] = [];
  try {
    const { index } = await readCurrentIndex(repo);
    const stage = await readStage(repo.paths);
    const published = new Map(index.packages.map((entry) => [entryKey(entry), entry]));
    const categories = new Map<string, string>();
    for (const entry of [...index.packages, ...stage.adds.values()]) categories.set(entry.name, entry.category);
    const key = options.sign ? await loadSigningKey(repo, options) : undefined;

    const candidates: Candidate[] = [];
    const result: AddResult = { staged: [], unchanged: [] };
    const pending = new Map<string, Candidate>();
    // Verify (the slow, I/O-bound part) concurrently; decide conflicts in the order given.
    const verified = await mapConcurrent(files, ADD_CONCURRENCY, async (file) => {
      let source = file;
      if (key !== undefined) {
        source = temporaryPathFor(join(repo.paths.state, 'signed.kpkg'));
        scratch.push(source);
        await signPackage(file, key, source, false);
      }
      const pkg = await verifyPackage(source, { trusted: repo.keys });
      const { sha256, size } = await sha256File(source);
      return {
        file,
        source,
        pkg,
        entry: indexEntryFor(
          pkg.metadata,
          packagePath(pkg.metadata.category, pkg.metadata.name, packageFileName(pkg.metadata)),
          size,
          sha256,
        ),
      };
    });
    for (const { file, source, pkg, entry } of verified) {
      const identity = entryKey(entry);
      const staged = pending.get(identity)?.entry ?? stage.adds.get(identity);
      const live = published.get(identity);
      for (const [other, where] of [
        [live, 'published'],
        [staged, pending.has(identity) ? 'given twice' : 'staged'],
      ] as const) {
        if (other !== undefined && other.sha256 !== entry.sha256) {
          throw new KilnError(
            'E_REPO_CONFLICT',
            `cannot add ${file}: package ${identity} is already ${where} with different content`,
            {
              hint: 'a published package never changes: bump the revision (or "kiln repo remove" a staged one first)',
            },
          );
        }
      }
      if (staged !== undefined || (live !== undefined && !stage.retires.has(identity))) {
        result.unchanged.push(staged ?? live!);
        continue;
      }
      // Every variant of one version says the same about its defaults: a client asking for no options gets those.
      const sibling = [...pending.values()]
        .map((c) => c.entry)
        .concat([...stage.adds.values()], index.packages)
        .find(
          (other) =>
            other.name === entry.name &&
            other.version === entry.version &&
            other.revision === entry.revision &&
            other.defaults !== undefined &&
            entry.defaults !== undefined &&
            formatSettings(other.defaults) !== formatSettings(entry.defaults),
        );
      if (sibling !== undefined) {
        throw new KilnError(
          'E_REPO_CONFLICT',
          `cannot add ${file}: it says the option defaults of ${entry.name} ${fullVersion(entry)} are [${formatSettings(entry.defaults!)}], but variant ${sibling.variant} says [${formatSettings(sibling.defaults!)}]`,
          {
            hint: 'every variant of one version must name the same defaults ("defaults" in the pack input; a recipe\'s options for kiln build)',
          },
        );
      }
      const category = categories.get(entry.name);
      if (category !== undefined && category !== entry.category) {
        throw new KilnError(
          'E_REPO_CONFLICT',
          `cannot add ${file}: package name ${entry.name} is already used in category ${category}, not ${entry.category}`,
          {
            hint: 'a name is unique within a repository',
          },
        );
      }
      categories.set(entry.name, entry.category);
      const candidate = { source, pkg, entry };
      pending.set(identity, candidate);
      candidates.push(candidate);
    }

    const directories = new Set<string>();
    await mapConcurrent(candidates, ADD_CONCURRENCY, async (candidate) => {
      // A retired package added back has the same bytes as the published file: nothing to copy.
      if (published.has(entryKey(candidate.entry))) return;
      const target = join(repo.paths.public, candidate.entry.path);
      await copyFileAtomic(candidate.source, target, true);
      directories.add(dirname(target));
    });
    // The renames are durable once their directories are synced: once per directory, not per file.
    for (const directory of directories) await syncDirectory(directory);
    await appendStage(
      repo.paths,
      candidates.map((candidate) => ({ op: 'add', entry: candidate.entry })),
    );
    result.staged = candidates.map((candidate) => candidate.entry);
    return result;
  } finally {
    for (const path of scratch) await rm(path, { force: true });
  }
}
