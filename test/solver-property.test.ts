/**
 * Property tests for the PubGrub solver on seeded random problems:
 * - small problems (at most 6 names x 3 versions, random dependencies,
 *   conflicts, provides, installed packages and removals): every solution
 *   passes verifyPlan, and every "no solution" is confirmed by trying every
 *   assignment (each name absent or one of its versions);
 * - large problems (2,000 names x 3 versions): every solution
 *   passes verifyPlan; the time taken is printed, not asserted.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { readProblem, type PlanEntry, type SolverProblem } from '../src/solver/problem.js';
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
      if (random() < 0.2) pkg.provides.push(random() < 0.5 ? pick(random, ['v0', 'v1']) : `${pick(random, ['v0', 'v1'])} =${pick(random, VERSIONS)}`);
      packages.push(pkg);
    }
  }
  const installed = packages.filter(() => random() < 0.1).filter((pkg, i, all) => all.findIndex((other) => other.name === pkg.name) === i).map((pkg) => ({ name: pkg.name, version: pkg.version }));
  const install = Array.from({ length: 1 + Math.floor(random() * 3) }, () => `${pick(random, targets)} ${pick(random, RANGES)}`.trim());
  const remove = random() < 0.3 ? [pick(random, names)].filter((name) => !install.some((r) => r.split(' ')[0] === name)) : [];
  return { packages, installed, request: { install, remove } };
}

/** Whether any assignment (each name absent or one of its versions) passes verifyPlan. */
function bruteForceSolvable(problem: SolverProblem): boolean {
  const byName = new Map<string, PlanEntry[]>();
  for (const pkg of problem.packages) byName.set(pkg.name, [...(byName.get(pkg.name) ?? []), { name: pkg.name, version: pkg.version.raw }]);
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
      assert.equal(bruteForceSolvable(problem), false, `seed ${seed}: solver found no solution but one exists: ${JSON.stringify(json)}\n${result.explanation.join('\n')}`);
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
      const depends = Array.from({ length: Math.floor(random() * 4) }, () => `n${Math.floor(random() * nameCount)} ${pick(random, ranges)}`.trim());
      const conflicts = random() < 0.02 ? [`n${Math.floor(random() * nameCount)} ${pick(random, ranges)}`.trim()] : [];
      packages.push({ name: `n${i}`, version, depends, conflicts, provides: [] });
    }
  }
  const installed = Array.from({ length: Math.floor(nameCount / 20) }, () => ({ name: `n${Math.floor(random() * nameCount)}`, version: pick(random, VERSIONS) }))
    .filter((entry, i, all) => all.findIndex((other) => other.name === entry.name) === i);
  const install = Array.from({ length: 20 }, () => `n${Math.floor(random() * nameCount)} ${pick(random, ranges)}`.trim());
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
      const outcome = result.solved ? `solved, ${result.install.length} to install` : `no solution (${result.explanation.length} lines)`;
      console.log(`${nameCount} names, seed ${seed}: ${outcome} in ${elapsed.toFixed(0)} ms (${stats.decisions} decisions, ${stats.conflicts} conflicts, ${stats.learned} learned)`);
    }
  });
}
