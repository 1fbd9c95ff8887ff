/**
 * The client's resolver: turns what a prefix knows (installed packages,
 * candidates of every synced remote, the host, the prefix's settings) into
 * the solver's problem (problem.ts), solves it, and maps the steps back to
 * plan actions on candidates. Pure.
 *
 * Recipes (when given) are buildable candidates: a step that builds becomes
 * a `PlannedBuild`, which `install/` carries out before it installs.
 */
import { shellQuote } from '../util/shellQuote.js';
import type { InstalledPackage, InstallReason } from '../db/types.js';
import { KilnError } from '../errors/index.js';
import { fullVersion } from '../format/metadata.js';
import { didYouMean, suggest } from '../util/suggest.js';
import { compareVersions, parseRange, parseVersion, formatRange } from '../version/index.js';
import type { InstallRequest, ProblemPackage, Requirement, SolverProblem } from './problem.js';
import { DEFAULT_CONFIG } from './problem.js';
import { solveDetailed } from './pubgrub.js';
import type { Candidate, Plan, PlanAction, ResolveInput, Resolver } from './types.js';

/** Where an installed package is listed among the remotes when it is not offered by one. */
const INSTALLED_REMOTE = '@installed';

function requirement(name: string, range: string): Requirement {
  const parsed = parseRange(range);
  const canonical = formatRange(parsed);
  return { name, range: parsed, text: canonical === '' ? name : `${name} ${canonical}` };
}

export const pubgrubResolver: Resolver = {
  resolve(input: ResolveInput): Plan {
    const installed = new Map(input.installed.map((pkg) => [pkg.name, pkg]));
    const packages: ProblemPackage[] = [];
    const candidateOf = new Map<number, Candidate>();
    const remotes = new Map<string, number>();
    const offered = new Set<string>();
    for (const candidate of input.available) {
      const entry = candidate.entry;
      // Another architecture or C library is never a candidate; CPU level and glibc are the policy's.
      if (entry.target.arch !== input.host.arch || entry.target.libc !== input.host.libc) continue;
      offered.add(entry.name);
      remotes.set(candidate.remote, Math.max(remotes.get(candidate.remote) ?? -Infinity, candidate.priority));
      candidateOf.set(packages.length, candidate);
      packages.push({
        index: packages.length,
        name: entry.name,
        version: parseVersion(fullVersion(entry)),
        depends: entry.depends.map((dep) => requirement(dep.name, dep.range)),
        conflicts: [],
        provides: [],
        options: { ...entry.options },
        ...(entry.defaults === undefined ? {} : { defaults: { ...entry.defaults } }),
        remote: candidate.remote,
        recipe: undefined,
        cost: 1,
        cpu: entry.target.cpu,
        libc: input.host.libc === 'glibc' ? parseVersion(entry.target.libcVersion) : undefined,
        license: entry.license,
        role: entry.role,
        ...(candidate.advisories === undefined || candidate.advisories.length === 0
          ? {}
          : {
              advisories: candidate.advisories.map((advisory) =>
                advisory.fixed === undefined ? { id: advisory.id } : { id: advisory.id, fixed: advisory.fixed },
              ),
            }),
      });
    }
    for (const recipe of input.recipes ?? []) {
      offered.add(recipe.name);
      packages.push({
        index: packages.length,
        name: recipe.name,
        version: parseVersion(recipe.version),
        depends: recipe.depends.map((dep) => ({
          ...requirement(dep.name, dep.range),
          when: dep.when === undefined ? undefined : { option: dep.when.option, value: dep.when.enabled },
        })),
        conflicts: [],
        provides: [],
        options: { ...recipe.options },
        remote: undefined,
        recipe: recipe.id,
        cost: 1,
        cpu: undefined,
        libc: undefined,
        license: recipe.license,
        role: undefined,
        ...(recipe.advisories === undefined || recipe.advisories.length === 0
          ? {}
          : { advisories: recipe.advisories.map((advisory) => ({ ...advisory })) }),
      });
    }
    const known = (name: string): boolean => offered.has(name) || installed.has(name);
    for (const request of input.install) {
      if (!known(request.name)) {
        const elsewhere = input.available.some((candidate) => candidate.entry.name === request.name);
        throw new KilnError(
          'E_NO_CANDIDATE',
          elsewhere
            ? `cannot install ${request.name}: no variant runs on this host (it is built for ${input.available.find((c) => c.entry.name === request.name)?.entry.target.arch ?? '?'} with another C library or architecture; this host is ${input.host.arch} ${input.host.libc})`
            : `cannot find package ${request.name} in any remote`,
          {
            hint: didYouMean(suggest(request.name, offered)) ?? 'check the name with "kiln search", or run "kiln sync"',
          },
        );
      }
    }
    for (const name of input.remove) {
      if (!installed.has(name))
        throw new KilnError('E_NOT_INSTALLED', `cannot remove ${name}: it is not installed`, {
          hint: didYouMean(suggest(name, installed.keys())) ?? 'see "kiln list --installed"',
        });
    }
    const upgrade = input.upgrade === 'all' ? 'all' : [...input.upgrade];
    for (const name of upgrade === 'all' ? [] : upgrade) {
      if (!installed.has(name))
        throw new KilnError('E_NOT_INSTALLED', `cannot upgrade ${name}: it is not installed`, {
          hint: didYouMean(suggest(name, installed.keys())) ?? `install it with "kiln install ${shellQuote(name)}"`,
        });
    }
    if (!input.cascade && input.remove.length > 0) {
      const removing = new Set(input.remove);
      for (const name of input.remove) {
        const needing = input.installed
          .filter((pkg) => !removing.has(pkg.name) && pkg.metadata.depends.some((dep) => dep.name === name))
          .map((pkg) => pkg.name);
        if (needing.length > 0) {
          throw new KilnError(
            'E_REMOVE_NEEDED',
            `cannot remove ${name}: ${needing.join(', ')} ${needing.length === 1 ? 'needs' : 'need'} it`,
            { hint: 'remove those too, or pass --cascade to remove everything that needs it' },
          );
        }
      }
    }

    // Installed packages are packages of the problem too; the one a remote still offers is matched to it.
    const binariesByName = new Map<string, ProblemPackage[]>();
    for (const p of packages) {
      if (p.recipe !== undefined) continue;
      const same = binariesByName.get(p.name);
      if (same === undefined) binariesByName.set(p.name, [p]);
      else same.push(p);
    }
    const installedEntries: SolverProblem['installed'] = [];
    for (const pkg of input.installed) {
      const version = parseVersion(fullVersion(pkg));
      let match = (binariesByName.get(pkg.name) ?? []).find((p) => {
        const offered = candidateOf.get(p.index);
        return (
          offered !== undefined &&
          offered.entry.variant === pkg.variant &&
          offered.remote === pkg.remote &&
          fullVersion(offered.entry) === fullVersion(pkg)
        );
      });
      if (match === undefined) {
        remotes.set(INSTALLED_REMOTE, -1_000_000);
        match = {
          index: packages.length,
          name: pkg.name,
          version,
          depends: pkg.metadata.depends.map((dep) => requirement(dep.name, dep.range)),
          conflicts: [],
          provides: [],
          options: { ...pkg.metadata.options },
          remote: INSTALLED_REMOTE,
          recipe: undefined,
          cost: 1,
          cpu: undefined,
          libc: undefined,
          license: undefined,
          role: pkg.metadata.role,
        };
        packages.push(match);
      }
      installedEntries.push({ name: pkg.name, version, pkg: match, reason: pkg.reason, protected: false });
    }

    const settings = input.settings ?? {};
    const requests: InstallRequest[] = input.install.map((request) => ({
      ...requirement(request.name, request.range),
      options: { ...(request.options ?? {}) },
    }));
    const problem: SolverProblem = {
      packages,
      installed: installedEntries,
      remotes: [...remotes].map(([name, priority]) => ({ name, priority })),
      config: {
        ...DEFAULT_CONFIG,
        ...settings,
        cpuLevels: input.host.cpuLevels,
        glibc: input.host.libc === 'glibc' ? parseVersion(input.host.libcVersion) : undefined,
        buildPolicy: input.buildPolicy ?? ((input.recipes ?? []).length > 0 ? 'missing' : 'never'),
        packageBuildPolicy: [],
        protected: settings.protected ?? [],
        allowAdvisories: settings.allowAdvisories ?? [],
        binaryDeny: settings.binaryDeny ?? [],
        packageOptions: settings.packageOptions ?? [],
        options: settings.options ?? {},
      },
      request: {
        install: requests,
        remove: [...input.remove],
        upgrade,
        cascade: input.cascade,
        autoremove: input.autoremove === true,
        reinstall: input.reinstall === true ? input.install.map((r) => r.name) : [],
      },
    };
    const result = solveDetailed(problem);
    if (!result.solved) {
      throw new KilnError(
        result.advisories === true ? 'E_ADVISORY' : 'E_NO_CANDIDATE',
        `cannot plan the change: no set of package versions satisfies it\n${result.explanation.join('\n')}`,
        { hint: result.hint },
      );
    }

    const requested = new Set(input.install.map((request) => request.name));
    const allowed = new Set(problem.config.allowAdvisories);
    // The packages an advisory left out, by name: usually none, and never a scan of every package per action.
    const advised = new Map<string, ProblemPackage[]>();
    for (const pkg of packages)
      if (pkg.advisories !== undefined && pkg.advisories.length > 0) {
        const list = advised.get(pkg.name);
        if (list === undefined) advised.set(pkg.name, [pkg]);
        else list.push(pkg);
      }
    const actions: PlanAction[] = [];
    const builds: Plan['builds'] = [];
    const reasonChanges: Plan['reasonChanges'] = [];
    for (const step of result.steps) {
      if ('from' in step && step.from === 'build') {
        builds.push({
          name: step.name,
          recipe: step.recipe,
          version: step.version,
          options: { ...(step.options ?? {}) },
          why: step.reason,
        });
        continue;
      }
      const current = installed.get(step.name);
      if (step.action === 'keep') {
        if (current !== undefined && requested.has(step.name) && current.reason !== 'requested')
          reasonChanges.push({ name: step.name, reason: 'requested' });
        continue;
      }
      if (step.action === 'remove') {
        actions.push({ kind: 'remove', name: step.name, installed: current as InstalledPackage, why: step.reason });
        continue;
      }
      const chosen = result.chosen.get(step.name);
      const candidate = chosen === undefined ? undefined : candidateOf.get(chosen.pkg.index);
      if (candidate === undefined)
        throw new Error(`Assertion failed: step ${step.action} ${step.name} has no candidate`);
      const reason: InstallReason = requested.has(step.name) ? 'requested' : (current?.reason ?? 'dependency');
      const why = withAdvisoriesPassed(step.reason, chosen!.pkg, advised.get(step.name) ?? [], allowed);
      if (current === undefined || step.action === 'install')
        actions.push({ kind: 'install', name: step.name, candidate, reason, why });
      else if (
        step.action === 'reinstall' &&
        input.reinstall !== true &&
        candidate.entry.variant === current.variant &&
        candidate.remote === current.remote
      )
        continue;
      else actions.push({ kind: step.action, name: step.name, candidate, installed: current, reason, why });
    }
    return { builds, actions, reasonChanges };
  },
};

/** The solver's reason, and the newer versions of the same name (`sameName`, those with advisories) passed over because advisories affect them. */
function withAdvisoriesPassed(
  reason: string | undefined,
  chosen: ProblemPackage,
  sameName: readonly ProblemPackage[],
  allowed: ReadonlySet<string>,
): string | undefined {
  const passed = new Map<string, Set<string>>();
  for (const pkg of sameName) {
    if (compareVersions(pkg.version, chosen.version) <= 0) continue;
    // A recipe's advisory with a variant condition may not concern the build that would have been made.
    const open = (pkg.advisories ?? []).filter((advisory) => !allowed.has(advisory.id) && advisory.when === undefined);
    if (open.length === 0) continue;
    const ids = passed.get(pkg.version.raw) ?? new Set<string>();
    for (const advisory of open) ids.add(advisory.id);
    passed.set(pkg.version.raw, ids);
  }
  if (passed.size === 0) return reason;
  const said = [...passed].map(
    ([version, ids]) => `${chosen.name} ${version} passed over: affected by ${[...ids].join(', ')}`,
  );
  return [reason, ...said].filter((part) => part !== undefined && part !== '').join('; ');
}
