/**
 * Submitting a ports tree's recipes to the farm: one build whose steps are
 * the recipes asked for (with the options asked for, else their defaults)
 * and every build dependency they need (default options), each waiting for the steps that build its build dependencies, as
 * `kiln bulk` orders them. A recipe whose license is not accepted is left
 * out, with every recipe that needs it. With a repository given, a recipe
 * already published there for the target (same version and options) is left
 * out too, and what needs it does not wait for it.
 */
import { buildOrder, dependencyId, isPublished } from '../build/bulkBuild.js';
import { openPortsTree } from '../build/portsTree.js';
import { activeDependencies, recipeId, resolveOptions } from '../build/recipe.js';
import { fullVersion } from '../format/index.js';
import { licenseAccepted, parseLicense } from '../license/index.js';
import { openRepository, readCurrentIndex } from '../repo/openRepository.js';
import { X86_64_LEVELS } from '../solver/index.js';
import type { StepSpec } from './farmQueue.js';
import { FarmQueue } from './farmQueue.js';
import { readRecipeBundle } from './recipeFiles.js';
import { formatStepOptions } from './stepOptions.js';
import type { SqlDb } from './sqlDb.js';

export interface SubmitOptions {
  recipes: string;
  /** Recipe ids or names; empty: the whole tree. */
  ids: readonly string[];
  /** Options to turn on (true) and off (false) for a recipe, by its id or name; others build with their defaults. */
  optionsFor?: ReadonlyMap<string, Readonly<Record<string, boolean>>>;
  arch: string;
  libc: string;
  cpuLevel: string;
  submitter: string;
  priority?: number;
  note?: string;
  maxAttempts?: number;
  /** SPDX ids accepted; undefined: the tree's accept-licenses (empty there = all). */
  acceptLicenses?: readonly string[];
  /** The repository whose published packages need not be built again. */
  repo?: string;
  now: number;
}

export interface SubmitResult {
  buildId: number | null;
  steps: { id: number; package: string; version: string; options: string; dependsOn: string[] }[];
  /** Recipes left out, and why. */
  skipped: { package: string; reason: string }[];
}

export async function submitRecipes(db: SqlDb, options: SubmitOptions): Promise<SubmitResult> {
  const tree = await openPortsTree(options.recipes);
  const order = await buildOrder(tree, options.ids.length === 0 ? tree.ids : options.ids);
  const accepted = options.acceptLicenses ?? tree.config.acceptLicenses;
  const published =
    options.repo === undefined ? [] : (await readCurrentIndex(await openRepository(options.repo))).index.packages;
  const left = new Map<string, string>();
  const steps: (StepSpec & { dependsOn: string[] })[] = [];
  const skipped: SubmitResult['skipped'] = [];
  const rank = Math.max(0, (X86_64_LEVELS as readonly string[]).indexOf(options.cpuLevel));
  const target = { arch: options.arch, libc: options.libc, cpu: options.cpuLevel };
  for (const recipe of order) {
    const id = recipeId(recipe);
    const asked = options.optionsFor?.get(id) ?? options.optionsFor?.get(recipe.name) ?? {};
    const flips = Object.keys(asked);
    const chosen = resolveOptions(
      recipe,
      flips.filter((name) => asked[name]),
      flips.filter((name) => !asked[name]),
    );
    const deps = activeDependencies(recipe.buildDepends, chosen).map((dep) => dependencyId(tree, dep.name));
    const blocked = deps.find((dep) => left.has(dep) && left.get(dep) !== 'published');
    let reason: string | undefined;
    if (blocked !== undefined) reason = `build dependency ${blocked} is left out (${left.get(blocked)})`;
    else if (accepted.length > 0 && !licenseAccepted(parseLicense(recipe.license), (l) => accepted.includes(l)))
      reason = `license ${recipe.license} is not accepted`;
    else if (isPublished(published, recipe, chosen, target)) reason = 'published';
    if (reason !== undefined) {
      left.set(id, reason);
      if (reason !== 'published') skipped.push({ package: id, reason });
      continue;
    }
    steps.push({
      key: id,
      package: id,
      version: fullVersion(recipe),
      arch: options.arch,
      libc: options.libc,
      cpuLevel: options.cpuLevel,
      cpuRank: rank,
      dependsOn: deps.filter((dep) => !left.has(dep)),
      recipeDigest: (await readRecipeBundle(tree.root, id)).digest,
      options: formatStepOptions(asked),
    });
  }
  if (steps.length === 0) return { buildId: null, steps: [], skipped };
  const { buildId, steps: ids } = await new FarmQueue(db).submit(
    {
      submitter: options.submitter,
      ...(options.priority === undefined ? {} : { priority: options.priority }),
      ...(options.note === undefined ? {} : { note: options.note }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      steps,
    },
    options.now,
  );
  return {
    buildId,
    steps: steps.map((step) => ({
      id: ids.get(step.key)!,
      package: step.package,
      version: step.version,
      options: step.options ?? '',
      dependsOn: step.dependsOn,
    })),
    skipped,
  };
}
