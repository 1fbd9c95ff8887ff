/**
 * An independent check of a solution, sharing no code with the solver beyond
 * `src/version` (and the problem types). It rebuilds the set of packages
 * present after the plan and tests every rule directly:
 *
 * - the plan is consistent with what is installed (`keep` and `remove` name
 *   installed versions; `install` names versions not installed as they are);
 * - every package present exists in `packages`, at most one version per name;
 * - every dependency of a package present is met by a package present (the
 *   real name at a version in range, or a provide that matches: a versioned
 *   provide whose version is in range, an unversioned one only for "any");
 * - no package present conflicts with another present (a package never
 *   conflicts with its own name; a conflict reaches providers other than itself);
 * - every `request.install` is met, every `request.remove` name is absent,
 *   and every installed package not asked to be removed is still present.
 *
 * @example
 * verifyPlan(problem, { install: [{ name: 'a', version: '1.0' }], remove: [], keep: [] }); // [] when valid
 */
import { compareVersions, isAnyRange, satisfies } from '../version/index.js';
import type { PlanEntry, ProblemPackage, Requirement, SolverProblem } from './problem.js';

export interface PlanToCheck {
  install: readonly PlanEntry[];
  remove: readonly PlanEntry[];
  keep: readonly PlanEntry[];
}

/** Every rule the plan breaks, in words; empty when the plan is a valid solution. */
export function verifyPlan(problem: SolverProblem, plan: PlanToCheck): string[] {
  const problems: string[] = [];
  const byName = new Map<string, ProblemPackage[]>();
  for (const pkg of problem.packages) byName.set(pkg.name, [...(byName.get(pkg.name) ?? []), pkg]);
  const findPackage = (name: string, version: string): ProblemPackage | undefined =>
    byName.get(name)?.find((pkg) => compareVersions(pkg.version, version) === 0);

  const present = new Map<string, ProblemPackage>();
  const put = (entry: PlanEntry, from: string): void => {
    const pkg = findPackage(entry.name, entry.version);
    if (pkg === undefined) {
      problems.push(`${from} names ${entry.name} ${entry.version}, which is not a known package`);
      return;
    }
    if (present.has(entry.name)) problems.push(`${entry.name} is present more than once`);
    present.set(entry.name, pkg);
  };

  const installed = new Map(problem.installed.map((entry) => [entry.name, entry]));
  const accounted = new Set<string>();
  for (const entry of plan.keep) {
    const before = installed.get(entry.name);
    if (before === undefined || compareVersions(before.version, entry.version) !== 0) problems.push(`keep names ${entry.name} ${entry.version}, which is not installed`);
    if (accounted.has(entry.name)) problems.push(`${entry.name} is listed twice among keep and remove`);
    accounted.add(entry.name);
    put(entry, 'keep');
  }
  for (const entry of plan.remove) {
    const before = installed.get(entry.name);
    if (before === undefined || compareVersions(before.version, entry.version) !== 0) problems.push(`remove names ${entry.name} ${entry.version}, which is not installed`);
    if (accounted.has(entry.name)) problems.push(`${entry.name} is listed twice among keep and remove`);
    accounted.add(entry.name);
  }
  for (const entry of plan.install) {
    const before = installed.get(entry.name);
    if (before !== undefined && compareVersions(before.version, entry.version) === 0) problems.push(`install names ${entry.name} ${entry.version}, which is installed already (it belongs in keep)`);
    if (before !== undefined && plan.keep.some((kept) => kept.name === entry.name)) problems.push(`${entry.name} is both kept and installed`);
    if (before !== undefined) accounted.add(entry.name);
    put(entry, 'install');
  }
  for (const entry of problem.installed) {
    if (!accounted.has(entry.name)) problems.push(`installed ${entry.name} is in none of keep, remove or install`);
  }

  const providing = new Map<string, ProblemPackage[]>();
  for (const pkg of present.values()) {
    for (const provide of pkg.provides) providing.set(provide.name, [...(providing.get(provide.name) ?? []), pkg]);
  }
  const meets = (requirement: Requirement): boolean => {
    const real = present.get(requirement.name);
    if (real !== undefined && satisfies(real.version, requirement.range)) return true;
    for (const pkg of providing.get(requirement.name) ?? []) {
      for (const provide of pkg.provides) {
        if (provide.name !== requirement.name) continue;
        if (provide.version === undefined ? isAnyRange(requirement.range) : satisfies(provide.version, requirement.range)) return true;
      }
    }
    return false;
  };

  for (const pkg of present.values()) {
    const label = `${pkg.name} ${pkg.version.raw}`;
    for (const requirement of pkg.depends) {
      if (!meets(requirement)) problems.push(`${label} depends on ${requirement.text}, which nothing present meets`);
    }
    for (const requirement of pkg.conflicts) {
      if (requirement.name === pkg.name) continue;
      const real = present.get(requirement.name);
      if (real !== undefined && satisfies(real.version, requirement.range)) problems.push(`${label} conflicts with ${requirement.text}, and ${real.name} ${real.version.raw} is present`);
      for (const other of new Set(providing.get(requirement.name) ?? [])) {
        if (other.name === pkg.name) continue;
        for (const provide of other.provides) {
          if (provide.name !== requirement.name) continue;
          if (provide.version === undefined ? isAnyRange(requirement.range) : satisfies(provide.version, requirement.range)) {
            problems.push(`${label} conflicts with ${requirement.text}, which ${other.name} ${other.version.raw} provides`);
          }
        }
      }
    }
  }
  for (const requirement of problem.request.install) {
    if (!meets(requirement)) problems.push(`the request for ${requirement.text} is not met`);
  }
  for (const name of problem.request.remove) {
    if (present.has(name)) problems.push(`${name} was to be removed but is present`);
  }
  for (const entry of problem.installed) {
    if (!problem.request.remove.includes(entry.name) && !present.has(entry.name)) problems.push(`installed ${entry.name} was removed, but no request asked for that`);
  }
  return problems;
}
