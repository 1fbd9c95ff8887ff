/**
 * The interim resolver: for every package needed, the newest candidate that
 * satisfies every range asked of it, from the highest-priority remote; the
 * installed version is kept when it still satisfies them. Dependencies are
 * followed to a fixed point. Removal follows reverse dependencies. Actions
 * are ordered providers first (installs) and consumers first (removals);
 * dependency cycles are broken by name so the order is stable.
 */
import type { InstalledPackage, InstallReason } from '../db/types.js';
import { KilnError } from '../errors/index.js';
import { fullVersion } from '../format/metadata.js';
import { compareVersions, formatRange, parseRange, satisfies } from '../version/index.js';
import { targetProblem } from './hostTarget.js';
import type { Candidate, Plan, PlanAction, Request, ResolveInput, Resolver } from './types.js';

interface Constraint {
  range: string;
  /** Who asks: `you` or `NAME-VERSION`. */
  from: string;
}

function describe(constraints: readonly Constraint[]): string {
  return constraints.map((c) => `${c.from} ${c.from === 'you' ? 'asked for' : 'needs'} ${c.range === '' ? 'any version' : c.range}`).join(', ');
}

/** Best first: remote priority, then version, then CPU level, then variant id. */
function compareCandidates(a: Candidate, b: Candidate, cpuRank: (cpu: string) => number): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const byVersion = compareVersions(fullVersion(b.entry), fullVersion(a.entry));
  if (byVersion !== 0) return byVersion;
  const byCpu = cpuRank(b.entry.target.cpu) - cpuRank(a.entry.target.cpu);
  if (byCpu !== 0) return byCpu;
  return a.entry.variant < b.entry.variant ? -1 : a.entry.variant > b.entry.variant ? 1 : 0;
}

/** Topological order, `edges(x)` = what x needs; needed first; cycles broken by name. */
export function orderByDependencies(names: readonly string[], edges: (name: string) => readonly string[]): string[] {
  const inSet = new Set(names);
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name) || visiting.has(name)) return;
    visiting.add(name);
    for (const dep of [...edges(name)].sort()) if (inSet.has(dep)) visit(dep);
    visiting.delete(name);
    done.add(name);
    order.push(name);
  };
  for (const name of [...names].sort()) visit(name);
  return order;
}

export const simpleResolver: Resolver = {
  resolve(input: ResolveInput): Plan {
    const installed = new Map(input.installed.map((pkg) => [pkg.name, pkg]));
    const cpuRank = (cpu: string): number => input.host.cpuLevels.indexOf(cpu);
    const byName = new Map<string, Candidate[]>();
    for (const candidate of input.available) {
      if (targetProblem(candidate.entry.target, input.host) !== undefined) continue;
      const list = byName.get(candidate.entry.name);
      if (list === undefined) byName.set(candidate.entry.name, [candidate]);
      else list.push(candidate);
    }
    for (const list of byName.values()) list.sort((a, b) => compareCandidates(a, b, cpuRank));

    // Removal first: what goes, and whether anything left behind needs it.
    const removing = new Set<string>();
    for (const name of input.remove) {
      if (!installed.has(name)) throw new KilnError('E_NOT_INSTALLED', `cannot remove ${name}: it is not installed`, { hint: 'see "kiln list --installed"' });
      removing.add(name);
    }
    const dependents = (name: string): InstalledPackage[] => input.installed.filter((pkg) => pkg.metadata.depends.some((dep) => dep.name === name));
    for (let changed = removing.size > 0; changed; ) {
      changed = false;
      for (const name of [...removing]) {
        const needing = dependents(name).filter((pkg) => !removing.has(pkg.name));
        if (needing.length === 0) continue;
        if (!input.cascade) {
          throw new KilnError('E_REMOVE_NEEDED', `cannot remove ${name}: ${needing.map((pkg) => pkg.name).join(', ')} ${needing.length === 1 ? 'needs' : 'need'} it`, {
            hint: 'remove those too, or pass --cascade to remove everything that needs it',
          });
        }
        for (const pkg of needing) removing.add(pkg.name);
        changed = true;
      }
    }

    // Install and upgrade: constraints per name, chosen candidate per name.
    const constraints = new Map<string, Constraint[]>();
    const addConstraint = (name: string, constraint: Constraint): void => {
      const list = constraints.get(name);
      if (list === undefined) constraints.set(name, [constraint]);
      else if (!list.some((c) => c.range === constraint.range && c.from === constraint.from)) list.push(constraint);
    };
    const requested = new Set<string>();
    for (const request of input.install) {
      addConstraint(request.name, { range: request.range, from: 'you' });
      requested.add(request.name);
    }
    const upgrading = new Set(input.upgrade === 'all' ? input.installed.map((pkg) => pkg.name) : input.upgrade);
    for (const name of upgrading) {
      if (!installed.has(name)) throw new KilnError('E_NOT_INSTALLED', `cannot upgrade ${name}: it is not installed`, { hint: `install it with "kiln install ${name}"` });
      if (!removing.has(name)) addConstraint(name, { range: '', from: 'you' });
    }
    // Installed packages keep needing what they need.
    for (const pkg of input.installed) {
      if (removing.has(pkg.name)) continue;
      for (const dep of pkg.metadata.depends) addConstraint(dep.name, { range: dep.range, from: `${pkg.name}-${fullVersion(pkg)}` });
    }

    const chosen = new Map<string, Candidate | 'keep'>();
    const pending = [...constraints.keys()].filter((name) => requested.has(name) || upgrading.has(name));
    const pendingSet = new Set(pending);
    const satisfiesAll = (version: string, list: readonly Constraint[]): boolean => list.every((c) => c.range === '' || satisfies(version, c.range));
    let rounds = 0;
    while (pending.length > 0) {
      if (++rounds > 100_000) throw new Error('Assertion failed: the simple resolver does not converge');
      const name = pending.shift()!;
      pendingSet.delete(name);
      if (removing.has(name)) {
        throw new KilnError('E_NO_CANDIDATE', `cannot plan: ${name} is being removed but ${describe(constraints.get(name) ?? [])}`, { hint: 'remove its dependents too (--cascade)' });
      }
      const list = constraints.get(name) ?? [];
      const current = installed.get(name);
      const wantsNew = upgrading.has(name) || (input.reinstall === true && requested.has(name));
      let choice: Candidate | 'keep' | undefined;
      if (current !== undefined && !wantsNew && satisfiesAll(fullVersion(current), list)) choice = 'keep';
      else {
        choice = (byName.get(name) ?? []).find((candidate) => satisfiesAll(fullVersion(candidate.entry), list));
        if (choice !== undefined && current !== undefined && upgrading.has(name) && input.reinstall !== true) {
          // An upgrade never moves to an older version or to the same file.
          const order = compareVersions(fullVersion(choice.entry), fullVersion(current));
          if (order < 0 || (order === 0 && choice.entry.variant === current.variant)) {
            if (satisfiesAll(fullVersion(current), list)) choice = 'keep';
          }
        }
      }
      if (choice === undefined) throw noCandidate(name, list, byName.get(name) ?? [], input);
      const previous = chosen.get(name);
      if (previous === choice) continue;
      chosen.set(name, choice);
      if (choice === 'keep') continue;
      const from = `${name}-${fullVersion(choice.entry)}`;
      for (const dep of choice.entry.depends) {
        addConstraint(dep.name, { range: dep.range, from });
        const have = chosen.get(dep.name);
        const depInstalled = installed.get(dep.name);
        const stillFine = have === 'keep' ? depInstalled !== undefined && satisfiesAll(fullVersion(depInstalled), constraints.get(dep.name)!)
          : have !== undefined ? satisfiesAll(fullVersion(have.entry), constraints.get(dep.name)!)
            : depInstalled !== undefined && !removing.has(dep.name) && satisfiesAll(fullVersion(depInstalled), constraints.get(dep.name)!);
        if (!stillFine && !pendingSet.has(dep.name)) {
          pending.push(dep.name);
          pendingSet.add(dep.name);
        }
      }
    }

    const placing: PlanAction[] = [];
    const reasonChanges: Plan['reasonChanges'] = [];
    for (const [name, choice] of chosen) {
      const current = installed.get(name);
      if (choice === 'keep') {
        if (current !== undefined && requested.has(name) && current.reason !== 'requested') reasonChanges.push({ name, reason: 'requested' });
        continue;
      }
      const reason: InstallReason = requested.has(name) ? 'requested' : (current?.reason ?? 'dependency');
      if (current === undefined) {
        placing.push({ kind: 'install', name, candidate: choice, reason });
        continue;
      }
      const order = compareVersions(fullVersion(choice.entry), fullVersion(current));
      const kind = order > 0 ? 'upgrade' : order < 0 ? 'downgrade' : 'reinstall';
      placing.push({ kind, name, candidate: choice, installed: current, reason });
    }
    const placingByName = new Map(placing.map((action) => [action.name, action]));
    const placeOrder = orderByDependencies([...placingByName.keys()], (name) => {
      const action = placingByName.get(name)!;
      return action.kind === 'remove' ? [] : action.candidate.entry.depends.map((dep) => dep.name);
    });
    const removeOrder = orderByDependencies([...removing], (name) => dependents(name).map((pkg) => pkg.name));
    const actions: PlanAction[] = [
      ...removeOrder.map((name): PlanAction => ({ kind: 'remove', name, installed: installed.get(name)! })),
      ...placeOrder.map((name) => placingByName.get(name)!),
    ];
    return { actions, reasonChanges };
  },
};

function noCandidate(name: string, list: readonly Constraint[], compatible: readonly Candidate[], input: ResolveInput): KilnError {
  const all = input.available.filter((candidate) => candidate.entry.name === name);
  if (all.length === 0) {
    return new KilnError('E_NO_CANDIDATE', `cannot find package ${name} in any remote (${describe(list)})`, { hint: 'check the name with "kiln search", or run "kiln sync"' });
  }
  if (compatible.length === 0) {
    const problem = targetProblem(all[0]!.entry.target, input.host);
    return new KilnError('E_NO_CANDIDATE', `cannot install ${name}: no variant runs on this host (${problem ?? 'incompatible target'})`, { hint: 'ask the repository maintainer for a build for this host' });
  }
  const versions = [...new Set(compatible.map((candidate) => `${fullVersion(candidate.entry)} (${candidate.remote})`))].slice(0, 8).join(', ');
  return new KilnError('E_NO_CANDIDATE', `cannot find a version of ${name} that satisfies every range: ${describe(list)}; available: ${versions}`, {
    hint: 'relax the version range, or upgrade or remove the packages that constrain it',
  });
}

export function parseRequest(text: string): Request {
  const match = /^([A-Za-z0-9_][A-Za-z0-9+_-]*?)((?:[<>=!~].*)?)$/.exec(text.trim());
  if (match === null) {
    throw new KilnError('E_USAGE', `cannot read package request "${text}": expected NAME or NAME followed by a version range`, { hint: 'for example: zlib, "zlib>=1.3", "openssl>=3 <4"' });
  }
  const range = match[2]!.trim();
  return { name: match[1]!, range: range === '' ? '' : formatRange(parseRange(range)) };
}
