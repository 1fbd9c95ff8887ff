/**
 * `kiln bulk`: build a set of recipes in dependency order, keep going past
 * failures, skip recipes whose license is not accepted and report which
 * dependents that blocks, and write a report (text and JSON) with every
 * package's status, duration and log.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KilnError } from '../errors/index.js';
import { licenseAccepted, parseLicense } from '../license/index.js';
import type { BuildOptions } from './buildPackage.js';
import { buildPackage, defaultCpu, defaultWorkDir, runnablePackages } from './buildPackage.js';
import type { PortsTree } from './portsTree.js';
import { loadRecipe, openPortsTree } from './portsTree.js';
import type { Recipe } from './recipe.js';
import { activeDependencies, recipeId, resolveOptions } from './recipe.js';

export type BulkStatus = 'built' | 'up-to-date' | 'failed' | 'skipped-license' | 'blocked';

export interface BulkEntry {
  recipe: string;
  version: string;
  status: BulkStatus;
  /** Why it was not built (failure message, license, blocking dependency). */
  reason?: string;
  seconds: number;
  log?: string;
  package?: string;
}

export interface BulkReport {
  started: string;
  seconds: number;
  repo: string;
  entries: BulkEntry[];
  counts: Record<BulkStatus, number>;
  /** Where the report was written. */
  files: { json: string; text: string };
}

export interface BulkOptions extends Omit<BuildOptions, 'buildMissing'> {
  /** SPDX ids accepted; undefined: the ports tree's accept-licenses (empty there = all). */
  acceptLicenses?: readonly string[];
  /** Build even when the repository already has this version with these options. */
  rebuild?: boolean;
  /** Directory for the report (default WORKDIR/reports). */
  reportDir?: string;
  onEntry?: (entry: BulkEntry, index: number, total: number) => void;
}

/**
 * Build `ids` (empty: the whole tree) and their build dependencies, each with
 * its default options, providers first.
 * @example const report = await bulkBuild([], { recipes: 'recipes', repo: '/srv/binhost', distfiles: ['/srv/distfiles'] })
 */
export async function bulkBuild(ids: readonly string[], options: BulkOptions): Promise<BulkReport> {
  const startedAt = new Date();
  const started = performance.now();
  const tree = await openPortsTree(options.recipes);
  const order = await buildOrder(tree, ids.length === 0 ? tree.ids : ids);
  const accepted = options.acceptLicenses ?? tree.config.acceptLicenses;
  const outcome = new Map<string, BulkEntry>();
  const entries: BulkEntry[] = [];
  for (const [i, recipe] of order.entries()) {
    const entry = await bulkOne(recipe, options, accepted, outcome);
    outcome.set(recipe.name, entry);
    entries.push(entry);
    options.onEntry?.(entry, i, order.length);
  }
  const counts: Record<BulkStatus, number> = { built: 0, 'up-to-date': 0, failed: 0, 'skipped-license': 0, blocked: 0 };
  for (const entry of entries) counts[entry.status]++;
  const reportDir = resolve(options.reportDir ?? join(options.workDir ?? defaultWorkDir(options.env), 'reports'));
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const files = { json: join(reportDir, `bulk-${stamp}.json`), text: join(reportDir, `bulk-${stamp}.txt`) };
  const report: BulkReport = {
    started: startedAt.toISOString(),
    seconds: (performance.now() - started) / 1000,
    repo: resolve(options.repo),
    entries,
    counts,
    files,
  };
  await mkdir(reportDir, { recursive: true });
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.text, formatBulkReport(report));
  return report;
}

async function bulkOne(
  recipe: Recipe,
  options: BulkOptions,
  accepted: readonly string[],
  outcome: ReadonlyMap<string, BulkEntry>,
): Promise<BulkEntry> {
  const id = recipeId(recipe);
  const base = { recipe: id, version: recipe.version, seconds: 0 };
  if (accepted.length > 0 && !licenseAccepted(parseLicense(recipe.license), (license) => accepted.includes(license))) {
    return {
      ...base,
      status: 'skipped-license',
      reason: `license ${recipe.license} is not accepted (accepted: ${accepted.join(', ')})`,
    };
  }
  const chosen = resolveOptions(recipe);
  for (const dep of activeDependencies(recipe.buildDepends, chosen)) {
    const before = outcome.get(dep.name);
    if (before !== undefined && before.status !== 'built' && before.status !== 'up-to-date') {
      const why =
        before.status === 'skipped-license'
          ? 'its license is not accepted'
          : before.status === 'failed'
            ? 'it failed to build'
            : `it is blocked (${before.reason ?? ''})`;
      return { ...base, status: 'blocked', reason: `build dependency ${before.recipe} was not built: ${why}` };
    }
  }
  if (options.rebuild !== true && (await published(options.repo, recipe, chosen, options.cpu ?? defaultCpu())))
    return { ...base, status: 'up-to-date' };
  const started = performance.now();
  let log: string | undefined;
  try {
    const results = await buildPackage(
      { recipe: id },
      {
        ...options,
        buildMissing: false,
        onEvent: (event) => {
          if (event.kind === 'failed' && event.recipe === id) log = event.log;
          options.onEvent?.(event);
        },
      },
    );
    const result = results.at(-1)!;
    return { ...base, status: 'built', seconds: result.seconds, log: result.log, package: result.package };
  } catch (error) {
    if (!(error instanceof KilnError)) throw error;
    return {
      ...base,
      status: 'failed',
      seconds: (performance.now() - started) / 1000,
      reason: error.message.split('\n')[0]!,
      ...(log === undefined ? {} : { log }),
    };
  }
}

/** Whether the repository already has this recipe's version and revision, built with these options for this CPU level, runnable here. */
async function published(
  repoDir: string,
  recipe: Recipe,
  chosen: Record<string, boolean>,
  cpu: string,
): Promise<boolean> {
  const wanted = JSON.stringify(Object.entries(chosen).sort());
  return (await runnablePackages(repoDir)).some(
    (entry) =>
      entry.name === recipe.name &&
      entry.version === recipe.version &&
      entry.revision === recipe.revision &&
      entry.target.cpu === cpu &&
      JSON.stringify(Object.entries(entry.options).sort()) === wanted,
  );
}

/** The recipes `ids` and everything they build-depend on (default options), providers first; a cycle is an error. */
export async function buildOrder(tree: PortsTree, ids: readonly string[]): Promise<Recipe[]> {
  const order: Recipe[] = [];
  const state = new Map<string, 'active' | 'done'>();
  const visit = async (id: string, path: string[]): Promise<void> => {
    const recipe = await loadRecipe(tree, id);
    const key = recipeId(recipe);
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'active') {
      throw new KilnError(
        'E_BUILD',
        `cannot order the bulk build: build dependencies form a cycle (${[...path, key].join(' → ')})`,
        { hint: 'make one dependency of the cycle conditional on an option that is off by default' },
      );
    }
    state.set(key, 'active');
    for (const dep of activeDependencies(recipe.buildDepends, resolveOptions(recipe)))
      await visit(dep.name, [...path, key]);
    state.set(key, 'done');
    order.push(recipe);
  };
  for (const id of ids) await visit(id, []);
  return order;
}

/** The text form of a report: one line per recipe, then the counts. */
export function formatBulkReport(report: Omit<BulkReport, 'files'>): string {
  const width = Math.max(6, ...report.entries.map((entry) => entry.recipe.length));
  const lines = report.entries.map((entry) => {
    const detail = entry.status === 'built' ? (entry.log ?? '') : (entry.reason ?? '');
    return `${entry.recipe.padEnd(width)}  ${entry.version.padEnd(10)}  ${entry.status.padEnd(15)}  ${entry.seconds.toFixed(1).padStart(7)} s  ${detail}${entry.status === 'failed' && entry.log !== undefined ? ` (log: ${entry.log})` : ''}`;
  });
  const counts = Object.entries(report.counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  return `kiln bulk into ${report.repo}, started ${report.started}, ${report.seconds.toFixed(1)} s\n\n${lines.join('\n')}\n\n${counts}\n`;
}
