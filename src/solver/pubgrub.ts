/**
 * The PubGrub solver over the neutral problem form (see problem.ts for the
 * vocabulary). Pure: no I/O.
 *
 * @example
 * solve(readProblem({ packages: [{ name: 'a', version: '1.0' }], request: { install: ['a'] } }));
 * // { solved: true, install: [{ name: 'a', version: '1.0' }], remove: [], keep: [] }
 */
import { KilnError } from '../errors/index.js';
import { compareVersions, formatVersion } from '../version/index.js';
import { explainFailure } from './explain.js';
import type { PlanEntry, SolveResult, SolverProblem } from './problem.js';
import { Model } from './pubgrub/model.js';
import { PubGrubSolver, SolveFailure } from './pubgrub/solver.js';

export interface SolveStats {
  decisions: number;
  conflicts: number;
  learned: number;
}

/**
 * Solves a problem: a plan relative to what is installed, or an explanation
 * of why there is none. Deterministic: the same problem gives the same answer.
 */
export function solve(problem: SolverProblem, stats?: SolveStats): SolveResult {
  const model = new Model(problem);
  const solver = new PubGrubSolver(model);
  let choice: Int32Array;
  try {
    choice = solver.solve();
  } catch (error) {
    if (!(error instanceof SolveFailure)) throw error;
    if (stats !== undefined) Object.assign(stats, solver.stats);
    return { solved: false, ...explainFailure(model, error.incompatibility) };
  }
  if (stats !== undefined) Object.assign(stats, solver.stats);
  const chosen = new Map<string, PlanEntry>();
  for (const info of model.names) {
    const candidate = choice[info.index] ?? -1;
    if (info.kind !== 'package' || candidate < 0) continue;
    const pkg = info.candidates[candidate]?.pkg;
    if (pkg === undefined) throw new Error('Assertion failed: a chosen candidate has no package');
    chosen.set(info.display, { name: pkg.name, version: formatVersion(pkg.version) });
  }
  const install: PlanEntry[] = [];
  const remove: PlanEntry[] = [];
  const keep: PlanEntry[] = [];
  const installed = new Map(problem.installed.map((entry) => [entry.name, entry]));
  for (const entry of problem.installed) {
    const now = chosen.get(entry.name);
    const plain = { name: entry.name, version: formatVersion(entry.version) };
    if (now === undefined) remove.push(plain);
    else if (compareVersions(now.version, entry.version) === 0) keep.push(plain);
  }
  for (const [name, entry] of chosen) {
    const before = installed.get(name);
    if (before === undefined || compareVersions(entry.version, before.version) !== 0) install.push({ name, version: entry.version });
  }
  const byName = (a: PlanEntry, b: PlanEntry): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { solved: true, install: install.sort(byName), remove: remove.sort(byName), keep: keep.sort(byName) };
}

/**
 * Like `solve`, but throws when there is no solution.
 *
 * @throws KilnError `E_NO_CANDIDATE` whose message holds the explanation.
 */
export function solveOrThrow(problem: SolverProblem): Extract<SolveResult, { solved: true }> {
  const result = solve(problem);
  if (result.solved) return result;
  throw new KilnError('E_NO_CANDIDATE', `cannot solve the request: no set of package versions satisfies it\n${result.explanation.join('\n')}`, { hint: result.hint });
}
