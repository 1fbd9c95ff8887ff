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
import {
  activeDependencies,
  buildPackage,
  CPU_FLAGS,
  defaultCpu,
  loadRecipe,
  openPortsTree,
  resolveOptions,
  runnablePackages,
} from '../build/index.js';
import type { BuildEvent } from '../build/index.js';
import { fullVersion } from '../format/metadata.js';
import { initRepository, openRepository, repositoryPaths } from '../repo/index.js';
import { writeKeyPair } from '../sign/index.js';
import type { BuildPolicy } from '../solver/problem.js';
import type { HostTarget, PlannedBuild, RecipeOffer } from '../solver/types.js';
import { formatSettings } from '../solver/problem.js';
import { satisfies } from '../version/index.js';
import type { PrefixPaths } from '../config/prefixLayout.js';

import { LOCAL_REMOTE } from './localRemote.js';
import { dict } from '../util/dict.js';

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
    const options: Record<string, boolean> = dict();
    for (const [name, option] of Object.entries(recipe.options)) options[name] = option.default;
    offers.push({
      id,
      name: recipe.name,
      version: fullVersion(recipe),
      options,
      depends: recipe.depends,
      license: recipe.license,
    });
  }
  return offers;
}

/** Where the prefix's own repository is (the maintainer's directory builds publish into; made by the first build). */
export function localRepositoryDir(paths: PrefixPaths): string {
  return join(paths.state, 'local-repo');
}

/**
 * The prefix's local repository and its key, made on first use: `dir` is the
 * maintainer's directory that builds publish into, `published` its public/
 * tree that the remote `local` names. One of the earlier layout is refused
 * here (E_REPO_LAYOUT), before the remote is pointed at its public/.
 */
export async function ensureLocalRepository(
  paths: PrefixPaths,
): Promise<{ dir: string; published: string; publicKey: string }> {
  const dir = localRepositoryDir(paths);
  const keyDir = join(paths.state, 'local-key');
  if (!existsSync(join(keyDir, 'kiln.key'))) await writeKeyPair(keyDir, {});
  const repo = repositoryPaths(dir);
  if (existsSync(repo.config)) await openRepository(dir);
  else await initRepository(dir, { keyPath: join(keyDir, 'kiln.key'), name: LOCAL_REMOTE, expireDays: 3650 });
  return { dir, published: repo.public, publicKey: await readFile(join(keyDir, 'kiln.pub'), 'utf8') };
}

/** The CPU level builds are made for: the highest `host` runs that the compiler flags know (Prefix.host(): capped by the prefix's `cpu-level`). */
export function buildCpu(host: HostTarget): string {
  const known = host.cpuLevels.filter((level) => level in CPU_FLAGS);
  return known[known.length - 1] ?? defaultCpu(host.arch);
}

/**
 * The planned builds with the builds of their build dependencies before them:
 * a build dependency comes from `repo` (the prefix's own repository), and a
 * recipe of the tree is built for each one `repo` does not have (nor an
 * earlier build), recursively — so the plan shows every build it will run.
 */
export async function withBuildDependencies(
  builds: readonly PlannedBuild[],
  recipesDir: string,
  repo: string,
): Promise<PlannedBuild[]> {
  const tree = await openPortsTree(recipesDir);
  // The repository is made with the first build: until then it has nothing.
  const published = existsSync(repo) ? await runnablePackages(repo) : [];
  const expanded: PlannedBuild[] = [];
  const provides = (name: string, range: string): boolean =>
    published.some((entry) => entry.name === name && satisfies(fullVersion(entry), range)) ||
    expanded.some((build) => build.name === name && satisfies(build.version, range));
  const visit = async (build: PlannedBuild, stack: readonly string[]): Promise<void> => {
    const recipe = await loadRecipe(tree, build.recipe);
    for (const dep of activeDependencies(recipe.buildDepends, build.options)) {
      if (provides(dep.name, dep.range) || stack.includes(dep.name)) continue;
      const depRecipe = await loadRecipe(tree, dep.name);
      const options = resolveOptions(depRecipe);
      const settings = formatSettings(options);
      await visit(
        {
          name: depRecipe.name,
          recipe: `${depRecipe.category}/${depRecipe.name}`,
          version: fullVersion(depRecipe),
          options,
          why: `build dependency of ${build.name} (${dep.name}${dep.range === '' ? '' : ` ${dep.range}`}); no build of it in ${repo}${settings === '' ? '' : `; built with its defaults ${settings}`}`,
        },
        [...stack, build.name],
      );
    }
    if (
      !expanded.some(
        (other) => other.recipe === build.recipe && formatSettings(other.options) === formatSettings(build.options),
      )
    )
      expanded.push(build);
  };
  for (const build of builds) await visit(build, []);
  return expanded;
}

/** Builds each planned recipe with its options into `repo`, in the plan's order. */
export async function runPlannedBuilds(
  builds: readonly PlannedBuild[],
  fallback: BuildFallback,
  repo: string,
  host: HostTarget,
): Promise<void> {
  for (const build of builds) {
    const enable = Object.keys(build.options).filter((name) => build.options[name] === true);
    const disable = Object.keys(build.options).filter((name) => build.options[name] === false);
    await buildPackage(
      { recipe: build.recipe, enable, disable },
      {
        recipes: fallback.recipes,
        repo,
        cpu: buildCpu(host),
        ...(fallback.workDir === undefined ? {} : { workDir: fallback.workDir }),
        ...(fallback.cacheDir === undefined ? {} : { cacheDir: fallback.cacheDir }),
        ...(fallback.distfiles === undefined ? {} : { distfiles: fallback.distfiles }),
        ...(fallback.mirrors === undefined ? {} : { mirrors: fallback.mirrors }),
        ...(fallback.jobs === undefined ? {} : { jobs: fallback.jobs }),
        ...(fallback.onEvent === undefined ? {} : { onEvent: fallback.onEvent }),
      },
    );
  }
}
