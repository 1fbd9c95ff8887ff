/**
 * Property tests for the PubGrub solver on seeded random problems:
 * - small problems (at most 6 names x 3 versions, random dependencies,
 *   conflicts, provides, installed packages and removals): every solution
 *   passes verifyPlan, and every "no solution" is confirmed by trying every
 *   assignment (each name absent or one of its versions);
 * - rich problems (remotes, CPU levels, options, recipes, policies; see
 *   richProblem): every solution passes verifyPlan and uses only packages
 *   the rules allow; every "no solution" is confirmed by brute force;
 * - large problems (2,000 names x 3 versions): every solution
 *   passes verifyPlan; the time taken is printed, not asserted.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { readProblem, type PlanEntry, type PlanStep, type SolverProblem } from '../src/solver/problem.js';
import { compareVersions } from '../src/version/index.js';
import { solve, type SolveStats } from '../src/solver/pubgrub.js';
import { verifyPlan } from '../src/solver/verifyPlan.js';
import { seededRandom } from '../src/util/seededRandom.js';

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const RANGES = ['', '', '', '>=2.0', '<2.0', '=1.0', '!=2.0', '>=3.0', '<=2.0', '>1.0 <3.0'];
const VERSIONS = ['1.0', '2.0', '3.0'];

interface RawPackage {
  name: string;
  version: string;
  depends: string[];
  conflicts: string[];
  provides: string[];
}

function smallProblem(random: Random): unknown {
  const nameCount = 1 + Math.floor(random() * 6);
  const names = Array.from({ length: nameCount }, (_, i) => `p${i}`);
  const targets = [...names, 'v0', 'v1', ...(random() < 0.1 ? ['missing'] : [])];
  const packages: RawPackage[] = [];
  for (const name of names) {
    const versions = VERSIONS.filter(() => random() < 0.7);
    if (versions.length === 0) versions.push(pick(random, VERSIONS));
    for (const version of versions) {
      const pkg: RawPackage = { name, version, depends: [], conflicts: [], provides: [] };
      const dependCount = Math.floor(random() * random() * 3);
      for (let i = 0; i < dependCount; i++) pkg.depends.push(`${pick(random, targets)} ${pick(random, RANGES)}`.trim());
      if (random() < 0.1) pkg.conflicts.push(`${pick(random, targets)} ${pick(random, RANGES)}`.trim());
      if (random() < 0.2)
        pkg.provides.push(
          random() < 0.5 ? pick(random, ['v0', 'v1']) : `${pick(random, ['v0', 'v1'])} =${pick(random, VERSIONS)}`,
        );
      packages.push(pkg);
    }
  }
  const installed = packages
    .filter(() => random() < 0.1)
    .filter((pkg, i, all) => all.findIndex((other) => other.name === pkg.name) === i)
    .map((pkg) => ({ name: pkg.name, version: pkg.version }));
  const install = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
    `${pick(random, targets)} ${pick(random, RANGES)}`.trim(),
  );
  const remove =
    random() < 0.3 ? [pick(random, names)].filter((name) => !install.some((r) => r.split(' ')[0] === name)) : [];
  return { packages, installed, request: { install, remove } };
}

/** Whether any assignment (each name absent or one of its versions) passes verifyPlan. */
function bruteForceSolvable(problem: SolverProblem): boolean {
  const byName = new Map<string, PlanEntry[]>();
  for (const pkg of problem.packages)
    byName.set(pkg.name, [...(byName.get(pkg.name) ?? []), { name: pkg.name, version: pkg.version.raw }]);
  const names = [...byName.keys()];
  const choice: (PlanEntry | undefined)[] = [];
  const installed = new Map(problem.installed.map((entry) => [entry.name, entry.version.raw]));
  const tryAll = (i: number): boolean => {
    if (i === names.length) {
      const install: PlanEntry[] = [];
      const remove: PlanEntry[] = [];
      const keep: PlanEntry[] = [];
      names.forEach((name, k) => {
        const chosen = choice[k];
        const before = installed.get(name);
        if (chosen === undefined) {
          if (before !== undefined) remove.push({ name, version: before });
        } else if (before === chosen.version) keep.push(chosen);
        else install.push(chosen);
      });
      return verifyPlan(problem, { install, remove, keep }).length === 0;
    }
    for (const option of [undefined, ...(byName.get(names[i] as string) ?? [])]) {
      choice[i] = option;
      if (tryAll(i + 1)) return true;
    }
    return false;
  };
  return tryAll(0);
}

test('small random problems: solutions verify, failures are confirmed by brute force', () => {
  let solved = 0;
  let unsolved = 0;
  for (let seed = 1; seed <= 600; seed++) {
    const json = smallProblem(seededRandom(seed));
    const problem = readProblem(json);
    const result = solve(problem);
    if (result.solved) {
      solved++;
      assert.deepEqual(verifyPlan(problem, result), [], `seed ${seed}: ${JSON.stringify(json)}`);
    } else {
      unsolved++;
      assert.ok(result.explanation.length > 0, `seed ${seed}: empty explanation`);
      assert.equal(
        bruteForceSolvable(problem),
        false,
        `seed ${seed}: solver found no solution but one exists: ${JSON.stringify(json)}\n${result.explanation.join('\n')}`,
      );
    }
  }
  console.log(`small problems: ${solved} solved, ${unsolved} without a solution (confirmed)`);
  assert.ok(solved >= 50 && unsolved >= 50, 'the generator should give a mix of outcomes');
});

function largeProblem(random: Random, nameCount: number): unknown {
  const packages: RawPackage[] = [];
  const ranges = ['', '>=1.0', '<3.0', '>=2.0', '!=2.0', '<=2.0', '>1.0'];
  for (let i = 0; i < nameCount; i++) {
    for (const version of VERSIONS) {
      const depends = Array.from({ length: Math.floor(random() * 4) }, () =>
        `n${Math.floor(random() * nameCount)} ${pick(random, ranges)}`.trim(),
      );
      const conflicts = random() < 0.02 ? [`n${Math.floor(random() * nameCount)} ${pick(random, ranges)}`.trim()] : [];
      packages.push({ name: `n${i}`, version, depends, conflicts, provides: [] });
    }
  }
  const installed = Array.from({ length: Math.floor(nameCount / 20) }, () => ({
    name: `n${Math.floor(random() * nameCount)}`,
    version: pick(random, VERSIONS),
  })).filter((entry, i, all) => all.findIndex((other) => other.name === entry.name) === i);
  const install = Array.from({ length: 20 }, () =>
    `n${Math.floor(random() * nameCount)} ${pick(random, ranges)}`.trim(),
  );
  return { packages, installed, request: { install, remove: [] } };
}

for (const [nameCount, seeds] of [[2000, [1, 2, 3, 4, 5]]] as const) {
  test(`large random problems: ${nameCount} names x 3 versions`, () => {
    for (const seed of seeds) {
      const problem = readProblem(largeProblem(seededRandom(seed), nameCount));
      const stats: SolveStats = { decisions: 0, conflicts: 0, learned: 0 };
      const started = performance.now();
      const result = solve(problem, stats);
      const elapsed = performance.now() - started;
      if (result.solved) assert.deepEqual(verifyPlan(problem, result), [], `seed ${seed}`);
      const outcome = result.solved
        ? `solved, ${result.install.length} to install`
        : `no solution (${result.explanation.length} lines)`;
      console.log(
        `${nameCount} names, seed ${seed}: ${outcome} in ${elapsed.toFixed(0)} ms (${stats.decisions} decisions, ${stats.conflicts} conflicts, ${stats.learned} learned)`,
      );
    }
  });
}

/**
 * Rich problems: every name has binaries from two remotes (priorities 0 and
 * 5) for assorted CPU levels, glibc floors, options and licenses, and maybe a
 * recipe with an option-conditional dependency; the configuration draws CPU
 * levels, a deny glob, a build policy, respect-options, accepted licenses, a
 * host glibc and global options; requests may carry options. No installed
 * packages, so the brute force only has to know which packages the rules
 * allow — written again here from docs/solver.md, independently of policy.ts.
 */
function richProblem(random: Random): Record<string, unknown> {
  const nameCount = 1 + Math.floor(random() * 4);
  const names = Array.from({ length: nameCount }, (_, i) => `p${i}`);
  const packages: Record<string, unknown>[] = [];
  for (const name of names) {
    for (const version of VERSIONS.filter(() => random() < 0.6)) {
      const depends = (): string[] =>
        Array.from({ length: Math.floor(random() * random() * 3) }, () =>
          `${pick(random, names)} ${pick(random, RANGES)}`.trim(),
        );
      const seen = new Set<string>();
      for (let i = 0, count = Math.floor(random() * 3); i < count; i++) {
        const pkg: Record<string, unknown> = {
          name,
          version,
          remote: pick(random, ['r0', 'r1']),
          depends: depends(),
          options: { o: random() < 0.5 },
        };
        const cpu = pick(random, ['x86-64', 'x86-64-v2', 'x86-64-v3', undefined]);
        if (cpu !== undefined) pkg['cpu'] = cpu;
        if (random() < 0.3) pkg['libc'] = pick(random, ['2.17', '2.40']);
        if (random() < 0.3) pkg['license'] = pick(random, ['MIT', 'GPL-3.0-only']);
        const key = JSON.stringify([pkg['remote'], pkg['cpu'], pkg['options']]);
        if (seen.has(key)) continue;
        seen.add(key);
        packages.push(pkg);
      }
      if (random() < 0.5) {
        const pkg: Record<string, unknown> = {
          name,
          version,
          recipe: `cat/${name}`,
          cost: 1 + Math.floor(random() * 3),
          options: { o: random() < 0.5 },
          depends: depends(),
        };
        if (random() < 0.5)
          (pkg['depends'] as string[]).push(`${pick(random, names)} when ${random() < 0.5 ? '' : '!'}o`);
        if (random() < 0.2) pkg['license'] = 'GPL-3.0-only';
        packages.push(pkg);
      }
    }
  }
  const config: Record<string, unknown> = {};
  if (random() < 0.6) config['cpuLevels'] = ['x86-64', 'x86-64-v2'];
  if (random() < 0.2) config['binaryDeny'] = [`p${Math.floor(random() * nameCount)}*`];
  config['buildPolicy'] = pick(random, ['never', 'missing', 'missing', 'always']);
  if (random() < 0.3) config['respectOptions'] = false;
  if (random() < 0.2) config['acceptLicenses'] = ['MIT'];
  if (random() < 0.5) config['glibc'] = '2.36';
  if (random() < 0.3) config['options'] = [random() < 0.5 ? '+o' : '-o'];
  const install = Array.from({ length: 1 + Math.floor(random() * 2) }, () => {
    const options = random() < 0.3 ? `[${random() < 0.5 ? '+' : '-'}o]` : '';
    return `${pick(random, names)}${options} ${pick(random, RANGES)}`.trim();
  }).filter((text, i, all) => all.findIndex((other) => other.split(/[\s[]/)[0] === text.split(/[\s[]/)[0]) === i);
  return {
    remotes: [
      { name: 'r0', priority: 0 },
      { name: 'r1', priority: 5 },
    ],
    config,
    packages,
    request: { install },
  };
}

/** The packages the rules allow, each with the options it would have; from docs/solver.md. */
function allowedChoices(
  problem: SolverProblem,
): Map<string, { pkg: SolverProblem['packages'][number]; options: Record<string, boolean> }[]> {
  const config = problem.config;
  const out = new Map<string, { pkg: SolverProblem['packages'][number]; options: Record<string, boolean> }[]>();
  for (const pkg of problem.packages) {
    const asked: Record<string, boolean> = {};
    for (const request of problem.request.install) if (request.name === pkg.name) Object.assign(asked, request.options);
    const wanted = { ...config.options, ...asked };
    if (
      config.acceptLicenses !== undefined &&
      pkg.license !== undefined &&
      !config.acceptLicenses.includes(pkg.license)
    )
      continue;
    let options: Record<string, boolean>;
    if (pkg.recipe !== undefined) {
      if (config.buildPolicy === 'never' || Object.keys(asked).some((key) => !(key in pkg.options))) continue;
      options = { ...pkg.options };
      for (const key of Object.keys(options)) if (key in wanted) options[key] = wanted[key] as boolean;
    } else {
      if (config.buildPolicy === 'always') continue;
      if (config.binaryDeny.some((glob) => pkg.name.startsWith(glob.replace(/\*$/, '')))) continue;
      if (config.cpuLevels !== undefined && pkg.cpu !== undefined && !config.cpuLevels.includes(pkg.cpu)) continue;
      if (config.glibc !== undefined && pkg.libc !== undefined && compareVersions(pkg.libc, config.glibc) > 0) continue;
      const recipe = problem.packages.find(
        (other) =>
          other.name === pkg.name && other.recipe !== undefined && compareVersions(other.version, pkg.version) === 0,
      );
      const all = { ...(recipe?.options ?? {}), ...wanted };
      const mismatch =
        Object.keys(all).some((key) => key in pkg.options && pkg.options[key] !== all[key]) ||
        Object.keys(asked).some((key) => !(key in pkg.options));
      if (mismatch && config.respectOptions) continue;
      options = pkg.options;
    }
    out.set(pkg.name, [...(out.get(pkg.name) ?? []), { pkg, options }]);
  }
  return out;
}

function richBruteForceSolvable(problem: SolverProblem): boolean {
  const allowed = allowedChoices(problem);
  const names = [...new Set(problem.packages.map((pkg) => pkg.name))];
  const choice: ({ pkg: SolverProblem['packages'][number]; options: Record<string, boolean> } | undefined)[] = [];
  const tryAll = (i: number): boolean => {
    if (i === names.length) {
      const chosen = choice.filter((c): c is NonNullable<typeof c> => c !== undefined);
      const install = chosen.map((c) => ({ name: c.pkg.name, version: c.pkg.version.raw }));
      const steps = chosen.map(
        (c): PlanStep =>
          c.pkg.recipe !== undefined
            ? {
                action: 'install',
                name: c.pkg.name,
                version: c.pkg.version.raw,
                reason: '',
                from: 'build',
                recipe: c.pkg.recipe,
                options: c.options,
              }
            : {
                action: 'install',
                name: c.pkg.name,
                version: c.pkg.version.raw,
                reason: '',
                from: 'binary',
                remote: c.pkg.remote ?? '',
                ...(c.pkg.cpu === undefined ? {} : { cpu: c.pkg.cpu }),
                options: c.options,
              },
      );
      // Request options hold: the chosen package has the options asked for (unless respect-options is off and it is a binary).
      for (const request of problem.request.install) {
        const c = chosen.find((x) => x.pkg.name === request.name);
        if (
          c !== undefined &&
          Object.entries(request.options).some(([key, value]) => c.options[key] !== value) &&
          (problem.config.respectOptions || c.pkg.recipe !== undefined)
        )
          return false;
      }
      return verifyPlan(problem, { install, remove: [], keep: [], steps }, { order: false }).length === 0;
    }
    for (const option of [undefined, ...(allowed.get(names[i] as string) ?? [])]) {
      choice[i] = option;
      if (tryAll(i + 1)) return true;
    }
    return false;
  };
  return tryAll(0);
}

test('rich random problems (remotes, CPU levels, options, recipes, policies): plans verify and use allowed packages, failures are confirmed by brute force', () => {
  let solved = 0;
  let unsolved = 0;
  let built = 0;
  for (let seed = 1; seed <= 600; seed++) {
    const json = richProblem(seededRandom(seed));
    const problem = readProblem(json);
    const result = solve(problem);
    if (result.solved) {
      solved++;
      assert.deepEqual(verifyPlan(problem, result), [], `seed ${seed}: ${JSON.stringify(json)}`);
      const allowed = allowedChoices(problem);
      for (const step of result.steps) {
        if (!('from' in step) || step.from === 'installed') continue;
        if (step.from === 'build') built++;
        const ok = (allowed.get(step.name) ?? []).some(
          (c) =>
            c.pkg.version.raw === step.version &&
            (step.from === 'build'
              ? c.pkg.recipe === step.recipe && JSON.stringify(c.options) === JSON.stringify(step.options ?? {})
              : c.pkg.remote === step.remote &&
                c.pkg.cpu === step.cpu &&
                JSON.stringify(c.options) === JSON.stringify(step.options ?? {})),
        );
        assert.ok(
          ok,
          `seed ${seed}: step ${JSON.stringify(step)} uses a package the rules do not allow: ${JSON.stringify(json)}`,
        );
      }
    } else {
      unsolved++;
      assert.ok(result.explanation.length > 0, `seed ${seed}: empty explanation`);
      assert.equal(
        richBruteForceSolvable(problem),
        false,
        `seed ${seed}: solver found no solution but one exists: ${JSON.stringify(json)}\n${result.explanation.join('\n')}`,
      );
    }
  }
  console.log(`rich problems: ${solved} solved (${built} builds), ${unsolved} without a solution (confirmed)`);
  assert.ok(solved >= 50 && unsolved >= 50 && built >= 20, 'the generator should give a mix of outcomes');
});
