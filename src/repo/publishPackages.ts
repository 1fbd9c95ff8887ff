/**
 * Stage packages and publish them in one commit, holding the repository's
 * lock once for both: what a build does with what it made. Two steps under
 * two holds would let another maintainer's commit publish the packages in
 * between, and this commit then find nothing staged.
 */
import type { AddOptions, AddResult } from './addPackages.js';
import { stagePackages } from './addPackages.js';
import type { CommitOptions, CommitResult } from './commitRepository.js';
import { commitStaged } from './commitRepository.js';
import { openRepository, withRepositoryLock } from './openRepository.js';
import { isStageEmpty, readStage } from './stage.js';

export interface PublishResult {
  added: AddResult;
  /** The commit; null when nothing was staged (every package was published already, with the same content). */
  committed: CommitResult | null;
}

export async function publishPackages(
  root: string,
  files: readonly string[],
  options: AddOptions & CommitOptions = {},
): Promise<PublishResult> {
  const repo = await openRepository(root);
  return withRepositoryLock(repo, options, async () => {
    const added = await stagePackages(repo, files, options);
    if (isStageEmpty(await readStage(repo.paths))) return { added, committed: null };
    return { added, committed: await commitStaged(repo, options) };
  });
}
