/**
 * The policy layer between the packages on offer and the solver: for each
 * name, which candidates may be chosen, in which order of preference, and
 * why the others were left out (vocabulary in problem.ts).
 *
 * Packages reach it only through a `CandidateSource` (all packages of a
 * name, all providers of a name), so remote indexes, the installed database
 * and a recipe tree are just sources.
 *
 * Rules, in the order they are applied to a package:
 * - **Installed**: the installed package is a candidate whatever the rules
 *   below say (it is already there); it is left out only when a request
 *   names the package with options it does not have and respect-options is on.
 * - **License**: a package whose license is not accepted is left out.
 * - **Build policy** (`never | missing | always`, per package by name glob,
 *   later entries winning): `never` leaves recipes out, `always` binaries.
 * - **Binary allow/deny lists** (name globs): a denied binary, or one not
 *   allowed when an allow list is set, is left out.
 * - **CPU level**: a binary for a level the host does not run is left out.
 * - **glibc**: a binary needing a newer glibc than the host's is left out.
 * - **Advisories**: a binary an open security advisory affects is left out,
 *   unless the advisory is allowed (`--allow-advisory ID`).
 * - **Options**: the wanted settings of a name are, from weakest to strongest,
 *   the defaults of what the binary was built from (the index carries them;
 *   else a recipe of that version's), the global options, the per-package
 *   options, the options of the installed package (an upgrade or a reinstall
 *   keeps them), and those in the request. With
 *   respect-options a binary is taken only when every wanted setting it has
 *   matches (and it has every option the request names); without, any
 *   binary of the version will do, those that match first. A recipe is built
 *   with its defaults overridden by the wanted settings, and is left out when
 *   the request names an option it does not have.
 *
 * Preference (most preferred first): the installed package unless it is to
 * be upgraded; then binaries — (when reinstalling, the installed version first;
 * when upgrading, none older than the installed version first) higher remote priority, newer version, options matching,
 * higher CPU level, remote name; then recipes — newer version,
 * lower cost. So a recipe is built only where no binary will do: that is the
 * `missing` policy.
 */
import { tryParseLicense, licenseAccepted } from '../license/index.js';
import { firstMatchingPattern, matchesNamePattern } from '../util/namePattern.js';
import { compareVersions, formatVersion } from '../version/index.js';
import type { BuildPolicy, ProblemPackage, Requirement, SolverProblem } from './problem.js';
import { formatSettings } from './problem.js';
import { dict, own } from '../util/dict.js';

/** Where packages come from, by name. */
export interface CandidateSource {
  /** Every package of this name (binaries of every remote, recipes), in any order. */
  packages(name: string): readonly ProblemPackage[];
  /** Every package that provides `name`. */
  providers(name: string): readonly ProblemPackage[];
}

/** A package the solver may choose, as it would be put in place. */
export interface SolverCandidate {
  readonly pkg: ProblemPackage;
  readonly kind: 'installed' | 'binary' | 'build';
  /** The options it has (a build: the ones it is built with). */
  readonly options: Readonly<Record<string, boolean>>;
  /** Its dependencies (a recipe's, for the options it is built with). */
  readonly depends: readonly Requirement[];
}

export type ExclusionKind = 'license' | 'policy' | 'deny' | 'allow' | 'cpu' | 'libc' | 'options' | 'advisory';

/** A package left out, and why in words. */
export interface Exclusion {
  readonly pkg: ProblemPackage;
  readonly kind: ExclusionKind;
  readonly why: string;
}

/** The packages of a problem, as a source. */
export function problemSource(problem: SolverProblem): CandidateSource {
  const byName = new Map<string, ProblemPackage[]>();
  const byProvide = new Map<string, ProblemPackage[]>();
  for (const pkg of problem.packages) {
    const same = byName.get(pkg.name);
    if (same === undefined) byName.set(pkg.name, [pkg]);
    else same.push(pkg);
    for (const provide of pkg.provides) {
      const list = byProvide.get(provide.name) ?? [];
      if (!list.includes(pkg)) list.push(pkg);
      byProvide.set(provide.name, list);
    }
  }
  return {
    packages: (name) => byName.get(name) ?? [],
    providers: (name) => byProvide.get(name) ?? [],
  };
}

export class Policy {
  private readonly cache = new Map<string, { candidates: SolverCandidate[]; excluded: Exclusion[] }>();
  private readonly requested = new Map<string, Record<string, boolean>>();
  private readonly installed = new Map<string, ProblemPackage>();
  private readonly priority = new Map<string, number>();
  private readonly upgrading: (name: string) => boolean;

  constructor(
    readonly problem: SolverProblem,
    private readonly source: CandidateSource = problemSource(problem),
  ) {
    for (const request of problem.request.install) {
      this.requested.set(request.name, { ...(this.requested.get(request.name) ?? {}), ...request.options });
    }
    for (const entry of problem.installed) this.installed.set(entry.name, entry.pkg);
    for (const remote of problem.remotes) this.priority.set(remote.name, remote.priority);
    const upgrade = problem.request.upgrade;
    this.upgrading = upgrade === 'all' ? () => true : (name) => upgrade.includes(name);
  }

  /** The chosen-able candidates of a name, most preferred first. */
  candidates(name: string): readonly SolverCandidate[] {
    return this.compute(name).candidates;
  }

  /** Packages of this name that were left out, and why. */
  excluded(name: string): readonly Exclusion[] {
    return this.compute(name).excluded;
  }

  /** Candidates of other names that provide `name`. */
  providers(name: string): readonly SolverCandidate[] {
    const owners = new Set(this.source.providers(name).map((pkg) => pkg.name));
    return [...owners]
      .sort()
      .flatMap((owner) =>
        this.candidates(owner).filter((candidate) => candidate.pkg.provides.some((p) => p.name === name)),
      );
  }

  /** The option settings someone set for a name: global, then per package, then the installed package's, then the request. */
  wantedSettings(name: string): Record<string, boolean> {
    const config = this.problem.config;
    let settings: Record<string, boolean> = { ...config.options };
    for (const entry of config.packageOptions)
      if (matchesNamePattern(entry.pattern, name)) settings = { ...settings, ...entry.options };
    return { ...settings, ...(this.installed.get(name)?.options ?? {}), ...(this.requested.get(name) ?? {}) };
  }

  /** The build policy of a name. */
  buildPolicy(name: string): BuildPolicy {
    let policy = this.problem.config.buildPolicy;
    for (const entry of this.problem.config.packageBuildPolicy)
      if (matchesNamePattern(entry.pattern, name)) policy = entry.policy;
    return policy;
  }

  /** The host's CPU levels, lowest first, when known. */
  cpuLevels(): readonly string[] | undefined {
    return this.problem.config.cpuLevels;
  }

  private compute(name: string): { candidates: SolverCandidate[]; excluded: Exclusion[] } {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const config = this.problem.config;
    const excluded: Exclusion[] = [];
    const binaries: { candidate: SolverCandidate; matches: boolean }[] = [];
    const builds: SolverCandidate[] = [];
    let installed: SolverCandidate | undefined;
    const packages = this.source.packages(name);
    const installedPkg = this.installed.get(name);
    const requestedOptions = this.requested.get(name) ?? {};
    const settings = this.wantedSettings(name);
    const policy = this.buildPolicy(name);
    const levels = config.cpuLevels;
    const accepted = config.acceptLicenses === undefined ? undefined : new Set(config.acceptLicenses);
    const leaveOut = (pkg: ProblemPackage, kind: ExclusionKind, why: string): void => {
      excluded.push({ pkg, kind, why });
    };

    for (const pkg of packages) {
      const label = describePackage(pkg);
      if (pkg === installedPkg && !this.problem.request.reinstall.includes(name)) {
        const missing = mismatches(pkg.options, requestedOptions, true);
        if (config.respectOptions && missing.length > 0) {
          leaveOut(
            pkg,
            'options',
            `${label} is installed with ${describeOptions(pkg.options, missing)}, and you asked for ${formatSettings(pick(requestedOptions, missing))}`,
          );
          continue;
        }
        installed = { pkg, kind: 'installed', options: pkg.options, depends: pkg.depends };
        continue;
      }
      if (accepted !== undefined && pkg.license !== undefined) {
        const expression = tryParseLicense(pkg.license);
        if (expression === undefined || !licenseAccepted(expression, (id) => accepted.has(id))) {
          leaveOut(pkg, 'license', `${label} is under ${pkg.license}, which is not among the accepted licenses`);
          continue;
        }
      }
      if (pkg.recipe !== undefined) {
        if (policy === 'never') {
          leaveOut(pkg, 'policy', `${label} is not built: the build policy for ${name} is never`);
          continue;
        }
        const unknown = Object.keys(requestedOptions).filter((option) => own(pkg.options, option) === undefined);
        if (unknown.length > 0) {
          leaveOut(pkg, 'options', `${label} has no option ${unknown.join(', ')}`);
          continue;
        }
        const options: Record<string, boolean> = dict();
        for (const option of Object.keys(pkg.options).sort())
          options[option] = own(settings, option) ?? (pkg.options[option] as boolean);
        // A build of an affected version (with the options it would have) is refused like an affected binary.
        const affecting = openAdvisories(pkg, options, config.allowAdvisories);
        if (affecting.length > 0) {
          leaveOut(pkg, 'advisory', `${label} would be built ${describeAdvisories(affecting)}`);
          continue;
        }
        const depends = pkg.depends.filter(
          (requirement) =>
            requirement.when === undefined ||
            (own(options, requirement.when.option) ?? false) === requirement.when.value,
        );
        builds.push({ pkg, kind: 'build', options, depends });
        continue;
      }
      if (policy === 'always') {
        leaveOut(pkg, 'policy', `${label} is not taken: the build policy for ${name} is always`);
        continue;
      }
      const denied = firstMatchingPattern(config.binaryDeny, name);
      if (denied !== undefined) {
        leaveOut(pkg, 'deny', `${label} is not taken: binaries of ${name} are denied (binary deny list: ${denied})`);
        continue;
      }
      if (config.binaryAllow !== undefined && firstMatchingPattern(config.binaryAllow, name) === undefined) {
        leaveOut(
          pkg,
          'allow',
          `${label} is not taken: ${name} is not on the binary allow list (${config.binaryAllow.join(', ')})`,
        );
        continue;
      }
      if (levels !== undefined && pkg.cpu !== undefined && !levels.includes(pkg.cpu)) {
        leaveOut(pkg, 'cpu', `${label} is built for ${pkg.cpu}, and this host runs ${levels.join(', ')}`);
        continue;
      }
      if (config.glibc !== undefined && pkg.libc !== undefined && compareVersions(pkg.libc, config.glibc) > 0) {
        leaveOut(
          pkg,
          'libc',
          `${label} needs glibc ${formatVersion(pkg.libc)}, and this host has ${formatVersion(config.glibc)}`,
        );
        continue;
      }
      const open = openAdvisories(pkg, pkg.options, config.allowAdvisories);
      if (open.length > 0) {
        leaveOut(pkg, 'advisory', `${label} is ${describeAdvisories(open)}`);
        continue;
      }
      const wanted = this.wantedFor(pkg, settings, packages);
      const differ = mismatches(pkg.options, wanted, false).concat(
        Object.keys(requestedOptions).filter((option) => own(pkg.options, option) === undefined),
      );
      if (differ.length > 0 && config.respectOptions) {
        leaveOut(
          pkg,
          'options',
          `${label} is built with ${describeOptions(pkg.options, differ)}, and ${formatSettings(pick(wanted, differ))} is wanted`,
        );
        continue;
      }
      binaries.push({
        candidate: { pkg, kind: 'binary', options: pkg.options, depends: pkg.depends },
        matches: differ.length === 0,
      });
    }

    const priority = (pkg: ProblemPackage): number => this.priority.get(pkg.remote ?? '') ?? 0;
    const level = (pkg: ProblemPackage): number =>
      pkg.cpu === undefined || levels === undefined ? -1 : levels.indexOf(pkg.cpu);
    const ordered = binaries.slice();
    const upgrading = this.upgrading(name);
    if (installed !== undefined && upgrading) ordered.push({ candidate: installed, matches: true });
    // An upgrade never moves below the installed version, whatever the remote priorities say.
    const older = (pkg: ProblemPackage): number =>
      upgrading && installed !== undefined && compareVersions(pkg.version, installed.pkg.version) < 0 ? 1 : 0;
    // A reinstall is of the version installed (a newer one would be an upgrade), when one is on offer.
    const reinstalling = installedPkg !== undefined && this.problem.request.reinstall.includes(name);
    const otherVersion = (pkg: ProblemPackage): number =>
      reinstalling && compareVersions(pkg.version, installedPkg.version) !== 0 ? 1 : 0;
    ordered.sort(
      (a, b) =>
        otherVersion(a.candidate.pkg) - otherVersion(b.candidate.pkg) ||
        older(a.candidate.pkg) - older(b.candidate.pkg) ||
        priority(b.candidate.pkg) - priority(a.candidate.pkg) ||
        compareVersions(b.candidate.pkg.version, a.candidate.pkg.version) ||
        // The installed package first among equals: replacing it by its twin would change nothing.
        Number(b.candidate.kind === 'installed') - Number(a.candidate.kind === 'installed') ||
        Number(b.matches) - Number(a.matches) ||
        level(b.candidate.pkg) - level(a.candidate.pkg) ||
        compareText(a.candidate.pkg.remote ?? '', b.candidate.pkg.remote ?? '') ||
        a.candidate.pkg.index - b.candidate.pkg.index,
    );
    builds.sort(
      (a, b) => compareVersions(b.pkg.version, a.pkg.version) || a.pkg.cost - b.pkg.cost || a.pkg.index - b.pkg.index,
    );
    const candidates = [
      ...(installed !== undefined && !upgrading ? [installed] : []),
      ...ordered.map((entry) => entry.candidate),
      ...builds,
    ];
    const result = { candidates, excluded };
    this.cache.set(name, result);
    return result;
  }

  /** The settings a binary must have: those set, then (for options nobody set) its defaults, or those of a recipe of its version. */
  private wantedFor(
    pkg: ProblemPackage,
    settings: Record<string, boolean>,
    packages: readonly ProblemPackage[],
  ): Record<string, boolean> {
    const defaults =
      pkg.defaults ??
      packages.find((other) => other.recipe !== undefined && compareVersions(other.version, pkg.version) === 0)
        ?.options ??
      {};
    return dict([...Object.entries(defaults), ...Object.entries(settings)]);
  }
}

/**
 * Options on which `has` differs from `wanted`. An option `has` lacks counts
 * only with `strict` (a request naming an option the package does not have).
 */
function mismatches(
  has: Readonly<Record<string, boolean>>,
  wanted: Readonly<Record<string, boolean>>,
  strict: boolean,
): string[] {
  return Object.keys(wanted)
    .sort()
    .filter((option) => (own(has, option) === undefined ? strict : own(has, option) !== wanted[option]));
}

function pick(settings: Readonly<Record<string, boolean>>, keys: readonly string[]): Record<string, boolean> {
  const out: Record<string, boolean> = dict();
  for (const key of keys) if (own(settings, key) !== undefined) out[key] = settings[key] as boolean;
  return out;
}

function describeOptions(options: Readonly<Record<string, boolean>>, keys: readonly string[]): string {
  return keys
    .map((key) => (own(options, key) === undefined ? `no option ${key}` : (options[key] ? '+' : '-') + key))
    .join(', ');
}

/** `openssl 3.0.22 from main`, `the recipe dev-libs/openssl 3.0.22`. */
export function describePackage(pkg: ProblemPackage): string {
  const version = formatVersion(pkg.version);
  if (pkg.recipe !== undefined) return `the recipe ${pkg.recipe} ${version}`;
  const where = pkg.remote === undefined || pkg.remote === '' ? '' : ` from ${pkg.remote}`;
  const cpu = pkg.cpu === undefined ? '' : ` (${pkg.cpu})`;
  return `${pkg.name} ${version}${cpu}${where}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The advisories of `pkg` not allowed, whose variant condition (if any) `options` meet. */
function openAdvisories(
  pkg: ProblemPackage,
  options: Readonly<Record<string, boolean>>,
  allowed: readonly string[],
): { id: string; fixed?: string }[] {
  return (pkg.advisories ?? []).filter(
    (advisory) =>
      !allowed.includes(advisory.id) &&
      Object.entries(advisory.when ?? {}).every(([option, setting]) => options[option] === setting),
  );
}

function describeAdvisories(open: readonly { id: string; fixed?: string }[]): string {
  return `affected by ${open.map((advisory) => `${advisory.id}${advisory.fixed === undefined ? '' : ` (fixed in ${advisory.fixed})`}`).join(', ')}`;
}
