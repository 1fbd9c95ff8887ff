/**
 * Building what no binary offers, for `kiln install` and `kiln upgrade`:
 * the recipes of a ports tree are offered to the resolver as buildable
 * candidates; the builds a plan asks for are built (providers first) into
 * the prefix's own signed repository, which the prefix trusts as the remote
 * `local`; then the plan is made again, and takes the new binaries like any
 * other (docs/solver.md, "In a prefix").
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildPackage, CPU_FLAGS, defaultCpu, loadRecipe, openPortsTree } from '../build/index.js';
import type { BuildEvent } from '../build/index.js';
import { fullVersion } from '../format/metadata.js';
import { initRepository, openRepository, repositoryPaths } from '../repo/index.js';
import { writeKeyPair } from '../sign/index.js';
import type { BuildPolicy } from '../solver/problem.js';
import type { HostTarget, PlannedBuild, RecipeOffer } from '../solver/types.js';
import type { PrefixPaths } from '../config/prefixLayout.js';

import { LOCAL_REMOTE } from './localRemote.js';

export { LOCAL_PRIORITY, LOCAL_REMOTE } from './localRemote.js';

export interface BuildFallback {
  /** The ports tree. */
  recipes: string;
  /** `missing` (default): build what has no usable binary; `always`: build everything; `never`: binaries only. */
  policy?: BuildPolicy;
  distfiles?: readonly string[];
  mirrors?: readonly string[];
  workDir?: string;
  cacheDir?: string;
  jobs?: number;
  onEvent?: (event: BuildEvent) => void;
}

/** Every recipe of the tree, as the resolver sees it. */
export async function recipeOffers(recipes: string): Promise<RecipeOffer[]> {
  const tree = await openPortsTree(recipes);
  const offers: RecipeOffer[] = [];
  for (const id of tree.ids) {
    const recipe = await loadRecipe(tree, id);
    const options: Record<string, boolean> = {};
    for (const [name, option] of Object.entries(recipe.options)) options[name] = option.default;
    offers.push({ id, name: recipe.name, version: fullVersion(recipe), options, depends: recipe.depends, license: recipe.license });
  }
  return offers;
}

/**
 * The prefix's local repository and its key, made on first use: `dir` is the
 * maintainer's directory that builds publish into, `published` its public/
 * tree that the remote `local` names. One of the earlier layout is refused
 * here (E_REPO_LAYOUT), before the remote is pointed at its public/.
 */
export async function ensureLocalRepository(paths: PrefixPaths): Promise<{ dir: string; published: string; publicKey: string }> {
  const base = join(paths.root, 'var', 'lib', 'kiln');
  const dir = join(base, 'local-repo');
  const keyDir = join(base, 'local-key');
  if (!existsSync(join(keyDir, 'kiln.key'))) await writeKeyPair(keyDir, {});
  const repo = repositoryPaths(dir);
  if (existsSync(repo.config)) await openRepository(dir);
  else await initRepository(dir, { keyPath: join(keyDir, 'kiln.key'), name: LOCAL_REMOTE, expireDays: 3650 });
  return { dir, published: repo.public, publicKey: await readFile(join(keyDir, 'kiln.pub'), 'utf8') };
}

/** The CPU level builds are made for: the highest this host runs that the compiler flags know. */
export function buildCpu(host: HostTarget): string {
  const known = host.cpuLevels.filter((level) => level in CPU_FLAGS);
  return known[known.length - 1] ?? defaultCpu(host.arch);
}

/** Builds each planned recipe with its options into `repo`, in the plan's order. */
export async function runPlannedBuilds(builds: readonly PlannedBuild[], fallback: BuildFallback, repo: string, host: HostTarget): Promise<void> {
  for (const build of builds) {
    const enable = Object.keys(build.options).filter((name) => build.options[name] === true);
    const disable = Object.keys(build.options).filter((name) => build.options[name] === false);
    await buildPackage({ recipe: build.recipe, enable, disable }, {
      recipes: fallback.recipes,
      repo,
      cpu: buildCpu(host),
      ...(fallback.workDir === undefined ? {} : { workDir: fallback.workDir }),
      ...(fallback.cacheDir === undefined ? {} : { cacheDir: fallback.cacheDir }),
      ...(fallback.distfiles === undefined ? {} : { distfiles: fallback.distfiles }),
      ...(fallback.mirrors === undefined ? {} : { mirrors: fallback.mirrors }),
      ...(fallback.jobs === undefined ? {} : { jobs: fallback.jobs }),
      ...(fallback.onEvent === undefined ? {} : { onEvent: fallback.onEvent }),
    });
  }
}
