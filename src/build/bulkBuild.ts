/**
 * `kiln bulk`: build a set of recipes in dependency order, keep going past
 * failures, skip recipes whose license is not accepted and report which
 * dependents that blocks, and write a report (text and JSON) with every
 * package's status, duration and log.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KilnError } from '../errors/index.js';
import { FarmQueue } from '../farm/farmQueue.js';
import { migrate } from '../farm/migrations.js';
import { openSqliteDb } from '../farm/sqlDb.js';
import { detectHost } from '../solver/index.js';
import { licenseAccepted, parseLicense } from '../license/index.js';
import type { IndexEntry } from '../repo/index.js';
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
  /** Called as each recipe's outcome is known: `index` counts the outcomes so far. */
  onEntry?: (entry: BulkEntry, index: number, total: number) => void;
  /** Builds run at once, each by an in-process worker of the queue (default 1). */
  workers?: number;
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
  const workDir = resolve(options.workDir ?? defaultWorkDir(options.env));
  const outcome = new Map<string, BulkEntry>();
  let done = 0;
  const finish = (entry: BulkEntry): void => {
    outcome.set(entry.recipe, entry);
    options.onEntry?.(entry, done++, order.length);
  };
  // What needs no build is decided first, in order; the rest becomes one build of the farm's queue.
  const queued: Recipe[] = [];
  // What the repository has for this host, read once for every recipe.
  const runnable = await runnablePackages(options.repo);
  const host = detectHost();
  const target = { arch: host.arch, libc: host.libc, cpu: options.cpu ?? defaultCpu(host.arch) };
  for (const recipe of order) {
    const entry = decide(recipe, options, accepted, outcome, tree, runnable, target);
    if (entry === undefined) queued.push(recipe);
    else finish(entry);
  }
  if (queued.length > 0) await runQueued(queued, options, workDir, tree, finish);
  const entries = order.map((recipe) => outcome.get(recipeId(recipe))!);
  const counts: Record<BulkStatus, number> = { built: 0, 'up-to-date': 0, failed: 0, 'skipped-license': 0, blocked: 0 };
  for (const entry of entries) counts[entry.status]++;
  const reportDir = resolve(options.reportDir ?? join(workDir, 'reports'));
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

/** A recipe's entry when it is not built (license, a dependency not built, already published); undefined: build it. */
function decide(
  recipe: Recipe,
  options: BulkOptions,
  accepted: readonly string[],
  outcome: ReadonlyMap<string, BulkEntry>,
  tree: PortsTree,
  runnable: readonly IndexEntry[],
  target: { arch: string; libc: string; cpu: string },
): BulkEntry | undefined {
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
    const before = outcome.get(dependencyId(tree, dep.name));
    if (before !== undefined && before.status !== 'built' && before.status !== 'up-to-date') {
      const why =
        before.status === 'skipped-license' ? 'its license is not accepted' : `it is blocked (${before.reason ?? ''})`;
      return { ...base, status: 'blocked', reason: `build dependency ${before.recipe} was not built: ${why}` };
    }
  }
  if (options.rebuild !== true && isPublished(runnable, recipe, chosen, target))
    return { ...base, status: 'up-to-date' };
  return undefined;
}

/** The CATEGORY/NAME of a build dependency named `NAME` or `CATEGORY/NAME`. */
export function dependencyId(tree: PortsTree, name: string): string {
  const plain = name.split('/').at(-1)!;
  return `${tree.categories.get(plain) ?? ''}/${plain}`;
}

/**
 * Builds `recipes` as the build farm does, on its queue (farm/farmQueue.ts)
 * in an SQLite catalog of the work directory, with `options.workers`
 * in-process workers: each step waits for the steps that build its build
 * dependencies; a failure is final (one attempt) and fails what waits on it,
 * which the report calls blocked.
 */
async function runQueued(
  recipes: readonly Recipe[],
  options: BulkOptions,
  workDir: string,
  tree: PortsTree,
  finish: (entry: BulkEntry) => void,
): Promise<void> {
  await mkdir(workDir, { recursive: true });
  const catalogPath = join(workDir, `bulk-${process.pid}-${Date.now()}.sqlite`);
  const db = openSqliteDb(catalogPath);
  try {
    await migrate(db);
    const queue = new FarmQueue(db);
    const host = detectHost();
    const cpu = options.cpu ?? defaultCpu(host.arch);
    const target = { arch: host.arch, libc: host.libc, cpuLevel: cpu, cpuRank: 0 };
    const ids = new Set(recipes.map((recipe) => recipeId(recipe)));
    const { steps } = await queue.submit(
      {
        submitter: 'kiln bulk',
        maxAttempts: 1,
        steps: recipes.map((recipe) => ({
          ...target,
          key: recipeId(recipe),
          package: recipeId(recipe),
          version: recipe.version,
          dependsOn: activeDependencies(recipe.buildDepends, resolveOptions(recipe))
            .map((dep) => dependencyId(tree, dep.name))
            .filter((dep) => ids.has(dep)),
        })),
      },
      Date.now(),
    );
    const byId = new Map(recipes.map((recipe) => [recipeId(recipe), recipe]));
    const byStep = new Map([...steps].map(([key, stepId]) => [stepId, byId.get(key)!]));
    // A worker that finds nothing ready while others build waits until one of them finishes.
    const waiting = new Set<() => void>();
    const wake = (): void => {
      for (const waiter of [...waiting]) waiter();
    };
    const worker = async (name: string): Promise<void> => {
      for (;;) {
        const claim = await queue.claim({ worker: name, arch: host.arch, libc: host.libc, cpuRank: 0 }, Date.now());
        if (claim === undefined) {
          if ((await queue.counts()).running === 0) return wake();
          await new Promise<void>((resolveWait) => {
            const done = (): void => {
              waiting.delete(done);
              resolveWait();
            };
            waiting.add(done);
          });
          continue;
        }
        const recipe = byStep.get(claim.step.id)!;
        const entry = await buildOne(recipe, options);
        if (entry.status === 'built') await queue.succeed(claim.step.id, claim.leaseToken, Date.now());
        else await queue.fail(claim.step.id, claim.leaseToken, entry.reason ?? 'failed', Date.now(), { final: true });
        finish(entry);
        wake();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.workers ?? 1) }, (_, i) => worker(`bulk-${i + 1}`)));
    // What waited on a failure failed with it: blocked.
    for (const [stepId, recipe] of byStep) {
      const step = (await queue.step(stepId))!;
      if (step.state !== 'failed' || step.attempt > 0) continue;
      const failedDep = /^depends on (\S+) /.exec(step.reason)?.[1] ?? 'a build dependency';
      finish({
        recipe: recipeId(recipe),
        version: recipe.version,
        seconds: 0,
        status: 'blocked',
        reason: `build dependency ${failedDep} was not built: it failed to build`,
      });
    }
  } finally {
    await db.close();
    await rm(catalogPath, { force: true });
    await rm(`${catalogPath}-wal`, { force: true });
    await rm(`${catalogPath}-shm`, { force: true });
  }
}

/** Builds one recipe with its default options into the repository. */
async function buildOne(recipe: Recipe, options: BulkOptions): Promise<BulkEntry> {
  const id = recipeId(recipe);
  const base = { recipe: id, version: recipe.version, seconds: 0 };
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

/** Whether `entries` hold this recipe's version and revision, built with these options for this target. */
export function isPublished(
  entries: readonly Pick<IndexEntry, 'name' | 'version' | 'revision' | 'options' | 'target'>[],
  recipe: Recipe,
  chosen: Record<string, boolean>,
  target: { arch: string; libc: string; cpu: string },
): boolean {
  const wanted = JSON.stringify(Object.entries(chosen).sort());
  return entries.some(
    (entry) =>
      entry.name === recipe.name &&
      entry.version === recipe.version &&
      entry.revision === recipe.revision &&
      entry.target.arch === target.arch &&
      entry.target.libc === target.libc &&
      entry.target.cpu === target.cpu &&
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
