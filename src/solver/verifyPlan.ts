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
 *   and every installed package not asked to be removed is still present
 *   (or went by cascade, or by autoremove when it was a dependency, and is
 *   not protected);
 * - when the plan has `steps`: each placement names a package of the problem
 *   by its source (remote and CPU level, or recipe) and that package obeys
 *   the configuration (CPU levels, glibc, deny/allow lists, licenses are not
 *   checked here, build policy never/always); a recipe's dependencies follow
 *   the options of the step; every dependency placed in the same plan is
 *   placed earlier, unless `cycles` names both packages; a removed package
 *   that needs another removed package goes first.
 *
 * @example
 * verifyPlan(problem, { install: [{ name: 'a', version: '1.0' }], remove: [], keep: [] }); // [] when valid
 */
import { compareVersions, isAnyRange, satisfies } from '../version/index.js';
import type { PlanEntry, PlanStep, ProblemPackage, Requirement, SolverProblem } from './problem.js';
import { own } from '../util/dict.js';

export interface PlanToCheck {
  install: readonly PlanEntry[];
  remove: readonly PlanEntry[];
  keep: readonly PlanEntry[];
  steps?: readonly PlanStep[];
  cycles?: readonly string[];
}

/** The package a placement step names, and its dependencies as placed. */
function stepPackage(
  packages: readonly ProblemPackage[],
  step: Extract<PlanStep, { from: string }>,
): { pkg: ProblemPackage; depends: Requirement[] } | undefined {
  for (const pkg of packages) {
    if (pkg.name !== step.name || compareVersions(pkg.version, step.version) !== 0) continue;
    if (
      step.from === 'binary' &&
      (pkg.recipe !== undefined ||
        pkg.remote !== step.remote ||
        pkg.cpu !== step.cpu ||
        !sameOptions(pkg.options, step.options ?? {}))
    )
      continue;
    if (step.from === 'build' && pkg.recipe !== step.recipe) continue;
    if (step.from === 'installed') continue;
    const options = step.options ?? {};
    const depends = pkg.depends.filter(
      (r) => r.when === undefined || (own(options, r.when.option) === true) === r.when.value,
    );
    return { pkg, depends };
  }
  return undefined;
}

/** Every rule the plan breaks, in words; empty when the plan is a valid solution. `order: false` skips the checks of the steps' order and policy. */
export function verifyPlan(problem: SolverProblem, plan: PlanToCheck, check: { order?: boolean } = {}): string[] {
  const problems: string[] = [];
  const byName = new Map<string, ProblemPackage[]>();
  for (const pkg of problem.packages) {
    const same = byName.get(pkg.name);
    if (same === undefined) byName.set(pkg.name, [pkg]);
    else same.push(pkg);
  }
  const findPackage = (name: string, version: string): ProblemPackage | undefined =>
    byName.get(name)?.find((pkg) => compareVersions(pkg.version, version) === 0);

  const present = new Map<string, ProblemPackage>();
  const dependsOf = new Map<string, readonly Requirement[]>();
  const placements = new Map<string, { pkg: ProblemPackage; depends: Requirement[] }>();
  for (const step of plan.steps ?? []) {
    if (!('from' in step) || step.from === 'installed') continue;
    const found = stepPackage(byName.get(step.name) ?? [], step);
    if (found === undefined)
      problems.push(
        `step ${step.action} ${step.name} ${step.version} names no package of the problem (from ${step.from})`,
      );
    else placements.set(step.name, found);
  }
  const put = (entry: PlanEntry, from: string): void => {
    const placed = from === 'install' ? placements.get(entry.name) : undefined;
    const kept = from === 'keep' ? problem.installed.find((e) => e.name === entry.name)?.pkg : undefined;
    const pkg = placed?.pkg ?? kept ?? findPackage(entry.name, entry.version);
    if (pkg !== undefined) dependsOf.set(entry.name, placed?.depends ?? pkg.depends);
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
    if (before === undefined || compareVersions(before.version, entry.version) !== 0)
      problems.push(`keep names ${entry.name} ${entry.version}, which is not installed`);
    if (accounted.has(entry.name)) problems.push(`${entry.name} is listed twice among keep and remove`);
    accounted.add(entry.name);
    put(entry, 'keep');
  }
  for (const entry of plan.remove) {
    const before = installed.get(entry.name);
    if (before === undefined || compareVersions(before.version, entry.version) !== 0)
      problems.push(`remove names ${entry.name} ${entry.version}, which is not installed`);
    if (accounted.has(entry.name)) problems.push(`${entry.name} is listed twice among keep and remove`);
    accounted.add(entry.name);
  }
  for (const entry of plan.install) {
    const before = installed.get(entry.name);
    const reinstall = (plan.steps ?? []).some((step) => step.name === entry.name && step.action === 'reinstall');
    if (before !== undefined && compareVersions(before.version, entry.version) === 0 && !reinstall)
      problems.push(`install names ${entry.name} ${entry.version}, which is installed already (it belongs in keep)`);
    if (before !== undefined && plan.keep.some((kept) => kept.name === entry.name))
      problems.push(`${entry.name} is both kept and installed`);
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
        if (
          provide.version === undefined ? isAnyRange(requirement.range) : satisfies(provide.version, requirement.range)
        )
          return true;
      }
    }
    return false;
  };

  for (const pkg of present.values()) {
    const label = `${pkg.name} ${pkg.version.raw}`;
    for (const requirement of dependsOf.get(pkg.name) ?? pkg.depends) {
      if (!meets(requirement)) problems.push(`${label} depends on ${requirement.text}, which nothing present meets`);
    }
    for (const requirement of pkg.conflicts) {
      if (requirement.name === pkg.name) continue;
      const real = present.get(requirement.name);
      if (real !== undefined && satisfies(real.version, requirement.range))
        problems.push(`${label} conflicts with ${requirement.text}, and ${real.name} ${real.version.raw} is present`);
      for (const other of new Set(providing.get(requirement.name) ?? [])) {
        if (other.name === pkg.name) continue;
        for (const provide of other.provides) {
          if (provide.name !== requirement.name) continue;
          if (
            provide.version === undefined
              ? isAnyRange(requirement.range)
              : satisfies(provide.version, requirement.range)
          ) {
            problems.push(
              `${label} conflicts with ${requirement.text}, which ${other.name} ${other.version.raw} provides`,
            );
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
  const protectedNames = new Set([
    ...problem.config.protected,
    ...problem.installed.filter((e) => e.protected).map((e) => e.name),
  ]);
  for (const entry of problem.installed) {
    if (problem.request.remove.includes(entry.name) || present.has(entry.name)) continue;
    const implicit = problem.request.cascade || (problem.request.autoremove && entry.reason === 'dependency');
    if (!implicit) problems.push(`installed ${entry.name} was removed, but no request asked for that`);
    else if (protectedNames.has(entry.name)) problems.push(`protected ${entry.name} was removed implicitly`);
  }
  if (plan.steps !== undefined && check.order !== false)
    problems.push(...checkSteps(problem, plan, placements, present, dependsOf, meetsBy(present)));
  return problems;
}

/** Who meets a requirement among the packages present (names). */
function meetsBy(present: Map<string, ProblemPackage>): (requirement: Requirement) => string[] {
  return (requirement) => {
    const out: string[] = [];
    const real = present.get(requirement.name);
    if (real !== undefined && satisfies(real.version, requirement.range)) out.push(real.name);
    for (const pkg of present.values()) {
      if (
        pkg.provides.some(
          (p) =>
            p.name === requirement.name &&
            (p.version === undefined ? isAnyRange(requirement.range) : satisfies(p.version, requirement.range)),
        )
      )
        out.push(pkg.name);
    }
    return out;
  };
}

function checkSteps(
  problem: SolverProblem,
  plan: PlanToCheck,
  placements: Map<string, { pkg: ProblemPackage; depends: Requirement[] }>,
  present: Map<string, ProblemPackage>,
  dependsOf: Map<string, readonly Requirement[]>,
  meeting: (requirement: Requirement) => string[],
): string[] {
  const problems: string[] = [];
  const steps = plan.steps ?? [];
  const config = problem.config;
  const position = new Map<string, number>();
  steps.forEach((step, i) => {
    if (position.has(step.name)) problems.push(`${step.name} has more than one step`);
    position.set(step.name, i);
  });
  for (const entry of [...plan.install, ...plan.remove, ...plan.keep]) {
    if (!position.has(entry.name)) problems.push(`${entry.name} has no step`);
  }
  const inCycle = (a: string, b: string): boolean =>
    (plan.cycles ?? []).some(
      (cycle) =>
        new RegExp(`\\b${escapeRegExp(a)}\\b`).test(cycle) && new RegExp(`\\b${escapeRegExp(b)}\\b`).test(cycle),
    );
  for (const [name, { pkg }] of placements) {
    const at = position.get(name) as number;
    if (pkg.recipe === undefined) {
      if (config.cpuLevels !== undefined && pkg.cpu !== undefined && !config.cpuLevels.includes(pkg.cpu))
        problems.push(`${name} is a binary for ${pkg.cpu}, which the host does not run`);
      if (config.glibc !== undefined && pkg.libc !== undefined && compareVersions(pkg.libc, config.glibc) > 0)
        problems.push(`${name} needs a newer glibc than the host's`);
      if (config.buildPolicy === 'always' && config.packageBuildPolicy.length === 0)
        problems.push(`${name} is a binary, but the build policy is always`);
    } else if (config.buildPolicy === 'never' && config.packageBuildPolicy.length === 0) {
      problems.push(`${name} is built, but the build policy is never`);
    }
    for (const requirement of dependsOf.get(name) ?? []) {
      for (const provider of meeting(requirement)) {
        if (provider === name || !placements.has(provider)) continue;
        if ((position.get(provider) as number) > at && !inCycle(name, provider))
          problems.push(`${name} is placed before ${provider}, which it needs`);
      }
    }
  }
  const removed = new Map(
    plan.remove.map((entry) => [entry.name, problem.installed.find((e) => e.name === entry.name)?.pkg]),
  );
  const removedSet = new Map([...removed].filter((pair): pair is [string, ProblemPackage] => pair[1] !== undefined));
  const meetingRemoved = meetsBy(removedSet);
  for (const [name, pkg] of removedSet) {
    for (const requirement of pkg.depends) {
      for (const provider of meetingRemoved(requirement)) {
        if (
          provider !== name &&
          (position.get(provider) as number) < (position.get(name) as number) &&
          !present.has(provider) &&
          !inCycle(name, provider)
        ) {
          problems.push(`${provider} is removed before ${name}, which needs it`);
        }
      }
    }
  }
  return problems;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sameOptions(a: Readonly<Record<string, boolean>>, b: Readonly<Record<string, boolean>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
