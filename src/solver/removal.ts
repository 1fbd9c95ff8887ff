/**
 * Removal from inverse dependencies (vocabulary in problem.ts). Pure.
 *
 * - `cascade`: removing a package also removes every installed package that
 *   needs it, directly or through others, unless one of them is protected.
 * - `autoremove`: packages pulled in as dependencies that no requested or
 *   protected package needs any more, directly or through others.
 *
 * "Needs" follows the packages present: a dependency is met by the package
 * of that name when its version is in range, else by packages that provide
 * the name.
 */
import { isAnyRange, satisfies } from '../version/index.js';
import type { ProblemPackage, Requirement } from './problem.js';

/** The packages present, indexed for looking up who meets a requirement. */
export class PresentSet {
  private readonly byName = new Map<string, ProblemPackage>();
  private readonly providing = new Map<string, ProblemPackage[]>();

  constructor(packages: Iterable<{ pkg: ProblemPackage; depends: readonly Requirement[] }>) {
    this.entries = [...packages];
    for (const { pkg } of this.entries) {
      this.byName.set(pkg.name, pkg);
      for (const provide of pkg.provides) {
        const list = this.providing.get(provide.name);
        if (list === undefined) this.providing.set(provide.name, [pkg]);
        else list.push(pkg);
      }
    }
  }

  readonly entries: { pkg: ProblemPackage; depends: readonly Requirement[] }[];

  /** The names of the packages present that meet a requirement. */
  meeting(requirement: Requirement): string[] {
    const real = this.byName.get(requirement.name);
    if (real !== undefined && satisfies(real.version, requirement.range)) return [real.name];
    const out: string[] = [];
    for (const pkg of this.providing.get(requirement.name) ?? []) {
      const ok = pkg.provides.some(
        (provide) =>
          provide.name === requirement.name &&
          (provide.version === undefined
            ? isAnyRange(requirement.range)
            : satisfies(provide.version, requirement.range)),
      );
      if (ok && !out.includes(pkg.name)) out.push(pkg.name);
    }
    return out;
  }

  /** For each name present, the names it needs (the first package meeting each dependency). */
  needsGraph(): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    for (const { pkg, depends } of this.entries) {
      const needs: string[] = [];
      for (const requirement of depends) {
        const met = this.meeting(requirement);
        for (const name of met) if (name !== pkg.name && !needs.includes(name)) needs.push(name);
      }
      graph.set(pkg.name, needs);
    }
    return graph;
  }
}

/** The needs graph turned around: for each name, the names that need it. */
export function consumersGraph(needs: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const consumers = new Map<string, string[]>();
  for (const [name, providers] of needs) {
    for (const provider of providers) {
      const list = consumers.get(provider);
      if (list === undefined) consumers.set(provider, [name]);
      else list.push(name);
    }
  }
  return consumers;
}

/**
 * The installed packages that go when `remove` goes: `remove` itself and,
 * transitively, every package that needs one of them. `because` says, for
 * each added name, which removed package it needs. `blocked` lists protected
 * packages that would have to go.
 */
export function cascadeRemovals(
  present: PresentSet,
  remove: readonly string[],
  isProtected: (name: string) => boolean,
): { remove: string[]; because: Map<string, string>; blocked: { name: string; needs: string }[] } {
  const consumers = consumersGraph(present.needsGraph());
  const removing = new Set(remove);
  const because = new Map<string, string>();
  const blocked: { name: string; needs: string }[] = [];
  const queue = [...remove];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    for (const consumer of (consumers.get(name) ?? []).slice().sort()) {
      if (removing.has(consumer)) continue;
      if (isProtected(consumer)) {
        if (!blocked.some((b) => b.name === consumer)) blocked.push({ name: consumer, needs: name });
        continue;
      }
      removing.add(consumer);
      because.set(consumer, name);
      queue.push(consumer);
    }
  }
  return { remove: [...removing], because, blocked };
}

/**
 * Packages that autoremove takes: those marked `dependency` that no root
 * (a requested or protected package) reaches through what it needs.
 */
export function unneededPackages(
  present: PresentSet,
  roots: Iterable<string>,
  removable: (name: string) => boolean,
): string[] {
  const graph = present.needsGraph();
  const reached = new Set<string>();
  const queue = [...roots].filter((name) => graph.has(name));
  for (const name of queue) reached.add(name);
  while (queue.length > 0) {
    const name = queue.pop() as string;
    for (const provider of graph.get(name) ?? []) {
      if (reached.has(provider)) continue;
      reached.add(provider);
      queue.push(provider);
    }
  }
  return [...graph.keys()].filter((name) => !reached.has(name) && removable(name)).sort();
}
