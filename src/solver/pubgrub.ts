/**
 * The solver over the neutral problem form (see problem.ts for the
 * vocabulary): the policy chooses and orders candidates (policy.ts), PubGrub
 * picks one per name or proves there is none (pubgrub/), and the chosen set
 * becomes an ordered plan with a reason per step (orderGraph.ts,
 * removal.ts). Pure: no I/O.
 *
 * @example
 * solve(readProblem({ packages: [{ name: 'a', version: '1.0' }], request: { install: ['a'] } }));
 * // { solved: true, install: [{ name: 'a', version: '1.0' }], remove: [], keep: [], steps: [...], cycles: [] }
 */
import { KilnError } from '../errors/index.js';
import { compareVersions, formatRange, formatVersion, parseRange } from '../version/index.js';
import { explainFailure } from './explain.js';
import { orderGraph } from './orderGraph.js';
import { describePackage, Policy, type CandidateSource, type SolverCandidate } from './policy.js';
import type {
  InstallRequest,
  InstalledEntry,
  PlanEntry,
  PlanStep,
  SolveResult,
  SolverProblem,
  StepSource,
} from './problem.js';
import { formatSettings } from './problem.js';
import { Model } from './pubgrub/model.js';
import { PubGrubSolver, SolveFailure } from './pubgrub/solver.js';
import { cascadeRemovals, consumersGraph, PresentSet, unneededPackages } from './removal.js';
import { dict, own } from '../util/dict.js';

export interface SolveStats {
  decisions: number;
  conflicts: number;
  learned: number;
}

/** A solution with the candidates behind it, for callers that carry the plan out. */
export type DetailedResult =
  | (Extract<SolveResult, { solved: true }> & { chosen: Map<string, SolverCandidate> })
  | Extract<SolveResult, { solved: false }>;

/**
 * Solves a problem: a plan relative to what is installed, or an explanation
 * of why there is none. Deterministic: the same problem gives the same answer.
 */
export function solve(problem: SolverProblem, stats?: SolveStats, source?: CandidateSource): SolveResult {
  const result = solveDetailed(problem, stats, source);
  if (!result.solved) return result;
  const { chosen: _chosen, ...plain } = result;
  return plain;
}

/**
 * Like `solve`, and also returns the chosen candidate of each name present.
 *
 * Upgrading named packages is first tried as a requirement (each named
 * package that has a newer candidate must move to one), so that the order in
 * which names are decided cannot keep an old library that holds the upgrade
 * back; when that has no solution, the upgrade is a preference only and
 * whatever cannot move is kept. `upgrade: "all"` is a preference only.
 */
export function solveDetailed(problem: SolverProblem, stats?: SolveStats, source?: CandidateSource): DetailedResult {
  const upgrade = problem.request.upgrade;
  if (upgrade !== 'all' && upgrade.length > 0) {
    const policy = new Policy(problem, source);
    const strict: InstallRequest[] = [];
    for (const name of upgrade) {
      const entry = problem.installed.find((e) => e.name === name);
      if (entry === undefined || problem.request.install.some((r) => r.name === name)) continue;
      if (!policy.candidates(name).some((c) => compareVersions(c.pkg.version, entry.version) > 0)) continue;
      const range = parseRange(`>${formatVersion(entry.version)}`);
      strict.push({ name, range, text: `${name} ${formatRange(range)}`, options: {} });
    }
    if (strict.length > 0) {
      const attempt = solveOnce(
        { ...problem, request: { ...problem.request, install: [...problem.request.install, ...strict] } },
        stats,
        source,
        problem.request.install,
      );
      if (attempt.solved) return attempt;
    }
  }
  return solveOnce(problem, stats, source, problem.request.install);
}

function solveOnce(
  problem: SolverProblem,
  stats: SolveStats | undefined,
  source: CandidateSource | undefined,
  asked: readonly InstallRequest[],
): DetailedResult {
  const installedByName = new Map(problem.installed.map((entry) => [entry.name, entry]));
  const protectedNames = new Set([
    ...problem.config.protected,
    ...problem.installed.filter((e) => e.protected).map((e) => e.name),
  ]);
  const removeReasons = new Map<string, string>();
  for (const name of problem.request.remove) removeReasons.set(name, 'you asked to remove it');

  let working = problem;
  if (problem.request.cascade && problem.request.remove.length > 0) {
    const installedSet = new PresentSet(
      problem.installed.map((entry) => ({ pkg: entry.pkg, depends: entry.pkg.depends })),
    );
    const cascade = cascadeRemovals(
      installedSet,
      problem.request.remove.filter((name) => installedByName.has(name)),
      (name) => protectedNames.has(name),
    );
    if (cascade.blocked.length > 0) {
      const first = cascade.blocked[0] as { name: string; needs: string };
      return {
        solved: false,
        explanation: cascade.blocked.map(
          (b) =>
            `Because ${b.name} is protected and needs ${b.needs}, which would be removed, ${b.needs} cannot be removed with the packages that need it, and version solving failed.`,
        ),
        hint: `protected packages are never removed implicitly: remove ${first.name} by name if it may go, or keep ${first.needs}`,
      };
    }
    for (const [name, needed] of cascade.because) removeReasons.set(name, `it needs ${needed}, which is being removed`);
    working = {
      ...problem,
      request: {
        ...problem.request,
        remove: [
          ...problem.request.remove,
          ...cascade.remove.filter((name) => !problem.request.remove.includes(name)).sort(),
        ],
      },
    };
  }

  const policy = new Policy(working, source);
  const model = new Model(working, policy);
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

  const chosen = new Map<string, SolverCandidate>();
  for (const info of model.names) {
    const index = choice[info.index] ?? -1;
    if (info.kind !== 'package' || index < 0) continue;
    const candidate = info.candidates[index]?.candidate;
    if (candidate === undefined) throw new Error('Assertion failed: a chosen candidate has no package');
    chosen.set(info.display, candidate);
  }

  const requestedNames = new Set(asked.map((request) => request.name));
  if (working.request.autoremove) {
    const present = new PresentSet([...chosen.values()]);
    const roots = new Set<string>(protectedNames);
    for (const request of asked) for (const name of present.meeting(request)) roots.add(name);
    for (const entry of working.installed) if (entry.reason === 'requested') roots.add(entry.name);
    for (const name of chosen.keys()) if (!installedByName.has(name)) roots.add(name);
    for (const name of unneededPackages(
      present,
      roots,
      (name) => installedByName.get(name)?.reason === 'dependency' && !protectedNames.has(name),
    )) {
      chosen.delete(name);
      removeReasons.set(name, 'it was pulled in as a dependency and nothing needs it any more');
    }
  }

  return {
    solved: true,
    ...planSteps(working, chosen, installedByName, removeReasons, requestedNames, policy),
    chosen,
  };
}

function planSteps(
  problem: SolverProblem,
  chosen: Map<string, SolverCandidate>,
  installed: Map<string, InstalledEntry>,
  removeReasons: Map<string, string>,
  requestedNames: Set<string>,
  policy: Policy,
): Omit<Extract<SolveResult, { solved: true }>, 'solved'> {
  const install: PlanEntry[] = [];
  const remove: PlanEntry[] = [];
  const keep: PlanEntry[] = [];
  const placed: SolverCandidate[] = [];
  for (const entry of problem.installed) {
    const now = chosen.get(entry.name);
    const plain = { name: entry.name, version: formatVersion(entry.version) };
    if (now === undefined) remove.push(plain);
    else if (now.kind === 'installed') keep.push(plain);
  }
  for (const [name, candidate] of chosen) {
    if (candidate.kind === 'installed') continue;
    install.push({ name, version: formatVersion(candidate.pkg.version) });
    placed.push(candidate);
  }

  // Removals, consumers first: the reverse of the providers-first order of what was installed.
  const removedSet = new PresentSet(
    remove.map((entry) => {
      const pkg = (installed.get(entry.name) as InstalledEntry).pkg;
      return { pkg, depends: pkg.depends };
    }),
  );
  const removeGraph = removedSet.needsGraph();
  const removeOrder = orderGraph(
    remove.map((entry) => ({
      name: entry.name,
      role: installed.get(entry.name)?.pkg.role,
      needs: removeGraph.get(entry.name) ?? [],
    })),
    true,
  );
  const steps: PlanStep[] = removeOrder.order.map((name) => {
    const entry = installed.get(name) as InstalledEntry;
    return {
      action: 'remove',
      name,
      version: formatVersion(entry.version),
      reason: removeReasons.get(name) ?? 'it must go for the rest to fit',
    };
  });

  // Placements, providers first, libc and toolchain before everything.
  const present = new PresentSet([...chosen.values()]);
  const graph = present.needsGraph();
  const placing = new Set(placed.map((candidate) => candidate.pkg.name));
  const consumersOf = consumersGraph(graph);
  const placeOrder = orderGraph(
    placed.map((candidate) => ({
      name: candidate.pkg.name,
      role: candidate.pkg.role,
      needs: (graph.get(candidate.pkg.name) ?? []).filter((name) => placing.has(name)),
    })),
  );
  for (const name of placeOrder.order) {
    const candidate = chosen.get(name) as SolverCandidate;
    const before = installed.get(name);
    const version = formatVersion(candidate.pkg.version);
    const order = before === undefined ? 0 : compareVersions(candidate.pkg.version, before.version);
    const action = before === undefined ? 'install' : order > 0 ? 'upgrade' : order < 0 ? 'downgrade' : 'reinstall';
    const upgrading =
      problem.request.upgrade === 'all' ||
      problem.request.upgrade.includes(name) ||
      problem.request.reinstall.includes(name);
    const why = requestedNames.has(name)
      ? 'you asked for it'
      : upgrading && before !== undefined
        ? `you asked to ${action === 'reinstall' ? 'reinstall' : 'upgrade'} it`
        : (consumersOf.get(name) ?? []).length > 0
          ? `${(consumersOf.get(name) ?? []).slice().sort()[0]} needs it`
          : 'installed';
    const step = {
      action,
      name,
      version,
      reason: `${why}; ${sourceReason(candidate, policy)}`,
      ...stepSource(candidate),
    } as PlanStep;
    if (before !== undefined && action !== 'install')
      (step as { replaces?: string }).replaces = formatVersion(before.version);
    steps.push(step);
  }
  for (const entry of keep) {
    steps.push({
      action: 'keep',
      name: entry.name,
      version: entry.version,
      reason: requestedNames.has(entry.name)
        ? 'installed, and it satisfies your request'
        : 'installed, and nothing asks to change it',
    });
  }

  const byName = (a: PlanEntry, b: PlanEntry): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    install: install.sort(byName),
    remove: remove.sort(byName),
    keep: keep.sort(byName),
    steps,
    cycles: [...removeOrder.cycles, ...placeOrder.cycles],
  };
}

function stepSource(candidate: SolverCandidate): StepSource {
  const pkg = candidate.pkg;
  const options = Object.keys(candidate.options).length > 0 ? { options: { ...candidate.options } } : {};
  if (candidate.kind === 'build') return { from: 'build', recipe: pkg.recipe as string, ...options };
  if (candidate.kind === 'installed') return { from: 'installed' };
  return { from: 'binary', remote: pkg.remote ?? '', ...(pkg.cpu === undefined ? {} : { cpu: pkg.cpu }), ...options };
}

/** Why this candidate: the remote a binary comes from, or why a recipe is built. */
function sourceReason(candidate: SolverCandidate, policy: Policy): string {
  const pkg = candidate.pkg;
  const version = formatVersion(pkg.version);
  if (candidate.kind === 'binary') {
    const remote = pkg.remote === undefined || pkg.remote === '' ? '' : ` from remote ${pkg.remote}`;
    return `binary${remote}${pkg.cpu === undefined ? '' : ` for ${pkg.cpu}`}`;
  }
  if (candidate.kind === 'installed') return 'installed';
  const wanted = policy.wantedSettings(pkg.name);
  const asked: Record<string, boolean> = dict();
  for (const option of Object.keys(candidate.options))
    if (own(wanted, option) !== undefined) asked[option] = candidate.options[option] as boolean;
  const settings = formatSettings(asked);
  const levels = policy.cpuLevels();
  const forLevel = levels === undefined || levels.length === 0 ? '' : ` for ${levels[levels.length - 1]}`;
  const excluded = policy
    .excluded(pkg.name)
    .filter((e) => e.pkg.recipe === undefined && compareVersions(e.pkg.version, pkg.version) === 0);
  const describe = `${pkg.name} ${version}${settings === '' ? '' : ` with ${settings}`}${forLevel}`;
  if (policy.buildPolicy(pkg.name) === 'always') return `built from source: the build policy for ${pkg.name} is always`;
  if (excluded.length === 0) return `built from source: no binary of ${describe}`;
  return `built from source: no usable binary of ${describe} (${excluded.map((e) => e.why).join('; ')})`;
}

/**
 * Like `solve`, but throws when there is no solution.
 *
 * @throws KilnError `E_NO_CANDIDATE` whose message holds the explanation.
 */
export function solveOrThrow(problem: SolverProblem): Extract<SolveResult, { solved: true }> {
  const result = solve(problem);
  if (result.solved) return result;
  throw new KilnError(
    'E_NO_CANDIDATE',
    `cannot solve the request: no set of package versions satisfies it\n${result.explanation.join('\n')}`,
    { hint: result.hint },
  );
}

export { describePackage };
