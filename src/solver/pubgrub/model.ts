/**
 * The solver's view of a problem: every name with its finite candidate list
 * (newest first), requirement ranges turned into candidate sets once per
 * (name, range), and the incompatibilities each candidate brings.
 *
 * Names come in three kinds:
 * - `root`: the problem itself, with one candidate; requests are its
 *   dependencies.
 * - `package`: a real package name; its candidates are its versions. A name
 *   that is only mentioned (never packaged) has no candidates.
 * - `virtual`: one per requirement `N RANGE` when some package provides N.
 *   Its candidates are the versions of N in RANGE and the providers whose
 *   provide matches; each depends on exactly what it stands for. Keeping one
 *   such name per requirement (not per N) lets two requirements on N be met
 *   by two different providers.
 *
 * Candidates come from the policy (policy.ts), most preferred first, when a
 * name is first met: names reachable from the request are the only ones
 * looked at. Several candidates may share a version (binaries from two
 * remotes, a recipe); a range selects all of them.
 */
import { formatVersion, isAnyRange, satisfies } from '../../version/index.js';
import type { ProblemPackage, Provide, Requirement, SolverProblem } from '../problem.js';
import { Policy, type SolverCandidate } from '../policy.js';
import { formatSettings } from '../problem.js';
import { bitsKey, emptyBits, fullBits, hasBit, not, singleBit, withBit, type Bits } from './bits.js';
import type { Cause, Incompatibility, Term } from './incompatibility.js';

export interface CandidateInfo {
  /** How a person reads this candidate: `1.0` for a package name, `a 1.0` or `b 2.0 (provides a =1.0)` for a virtual one. */
  readonly label: string;
  /** The package, for `package` names. */
  readonly pkg: ProblemPackage | undefined;
  /** How it would be put in place, for `package` names. */
  readonly candidate: SolverCandidate | undefined;
  /** What a `virtual` candidate stands for. */
  readonly target: { readonly name: number; readonly candidate: number } | undefined;
}

export interface NameInfo {
  readonly index: number;
  readonly kind: 'root' | 'package' | 'virtual';
  /** The package name (for a virtual name, the name required). */
  readonly display: string;
  /** For a virtual name: the requirement text, `N RANGE`. */
  readonly requirement: string;
  readonly candidates: CandidateInfo[];
  /** candidates.length + 1; the last slot is "absent". */
  slots: number;
  full: Bits;
  /** Every candidate, without "absent". */
  present: Bits;
  /** The installed candidate, or -1. */
  installed: number;
}

export const ROOT = 0;

export class Model {
  readonly names: NameInfo[] = [];
  readonly incompatibilities: Incompatibility[] = [];
  private readonly byKey = new Map<string, number>();
  /** Per name: requirement text → candidate set. */
  private readonly rangeCache: Map<string, Bits>[] = [];
  private readonly versionText = new Map<ProblemPackage, string>();
  /** Per name: a candidate set's key → the first range text that produced it, to word derived terms. */
  private readonly rangeNames: Map<string, string>[] = [];
  private readonly providers = new Map<string, { candidate: SolverCandidate; provide: Provide }[]>();
  private nextId = 0;

  readonly policy: Policy;

  constructor(
    readonly problem: SolverProblem,
    policy?: Policy,
  ) {
    this.policy = policy ?? new Policy(problem);
    this.addName('\u0000root', 'root', 'root', '', [
      { label: 'root', pkg: undefined, candidate: undefined, target: undefined },
    ]);
    for (const entry of problem.installed) this.packageName(entry.name);
  }

  private providersOf(name: string): { candidate: SolverCandidate; provide: Provide }[] | undefined {
    let found = this.providers.get(name);
    if (found === undefined) {
      found = [];
      for (const candidate of this.policy.providers(name)) {
        for (const provide of candidate.pkg.provides) if (provide.name === name) found.push({ candidate, provide });
      }
      this.providers.set(name, found);
    }
    return found.length === 0 ? undefined : found;
  }

  private addName(
    key: string,
    kind: NameInfo['kind'],
    display: string,
    requirement: string,
    candidates: CandidateInfo[],
  ): number {
    const slots = candidates.length + 1;
    const full = fullBits(slots);
    const index = this.names.length;
    // The policy puts the installed candidate first unless it is to be upgraded; then nothing is kept on purpose.
    const installed = kind === 'package' && candidates[0]?.candidate?.kind === 'installed' ? 0 : -1;
    this.names.push({
      index,
      kind,
      display,
      requirement,
      candidates,
      slots,
      full,
      present: not(singleBit(slots, slots - 1), full),
      installed,
    });
    this.rangeNames.push(new Map());
    this.byKey.set(key, index);
    return index;
  }

  /** The index of a package name, made with its candidates from the policy when first met. */
  packageName(name: string): number {
    const known = this.byKey.get(name);
    if (known !== undefined) return known;
    const candidates = this.policy.candidates(name);
    const plain =
      candidates.every((c) => c.kind !== 'build' && (c.pkg.remote ?? '') === '') &&
      new Set(candidates.map((c) => formatVersion(c.pkg.version))).size === candidates.length;
    return this.addName(
      name,
      'package',
      name,
      '',
      candidates.map((candidate) => ({
        label: plain ? formatVersion(candidate.pkg.version) : candidateLabel(candidate),
        pkg: candidate.pkg,
        candidate,
        target: undefined,
      })),
    );
  }

  newIncompatibility(terms: Term[], cause: Cause): Incompatibility {
    return { id: this.nextId++, terms, cause };
  }

  /** The candidates of a package name whose version satisfies the range. */
  private rangeBits(name: number, requirement: Requirement): Bits {
    let cache = this.rangeCache[name];
    if (cache === undefined) this.rangeCache[name] = cache = new Map();
    const cached = cache.get(requirement.text);
    if (cached !== undefined) return cached;
    const info = this.info(name);
    let bits = emptyBits(info.slots);
    info.candidates.forEach((candidate, i) => {
      if (candidate.pkg !== undefined && satisfies(candidate.pkg.version, requirement.range)) bits = withBit(bits, i);
    });
    cache.set(requirement.text, bits);
    const names = this.rangeNames[name];
    const bitsName = bitsKey(bits);
    if (names !== undefined && !names.has(bitsName)) names.set(bitsName, requirement.text);
    return bits;
  }

  info(name: number): NameInfo {
    const info = this.names[name];
    if (info === undefined) throw new Error(`Assertion failed: no name ${name}`);
    return info;
  }

  /** A range text that selects exactly these candidates of the name, when one was seen. */
  rangeTextFor(name: number, bits: Bits): string | undefined {
    return this.rangeNames[name]?.get(bitsKey(bits));
  }

  /**
   * The name and positive candidate set that meet a requirement: the package
   * name itself, or the requirement's virtual name when N has providers.
   */
  requirementTerm(requirement: Requirement): Term {
    const real = this.packageName(requirement.name);
    const providers = this.providersOf(requirement.name);
    if (providers === undefined) return { name: real, bits: this.rangeBits(real, requirement) };
    const key = `\u0000virtual ${requirement.text}`;
    let name = this.byKey.get(key);
    if (name === undefined) {
      const realInfo = this.info(real);
      const realBits = this.rangeBits(real, requirement);
      const candidates: CandidateInfo[] = [];
      realInfo.candidates.forEach((candidate, i) => {
        if ((realBits[i >>> 5] ?? 0) & (1 << (i & 31)))
          candidates.push({
            label: `${requirement.name} ${candidate.label}`,
            pkg: undefined,
            candidate: undefined,
            target: { name: real, candidate: i },
          });
      });
      const matching = providers.filter(({ provide }) =>
        provide.version === undefined ? isAnyRange(requirement.range) : satisfies(provide.version, requirement.range),
      );
      for (const { candidate: provider, provide } of matching) {
        const pkg = provider.pkg;
        const providerName = this.packageName(pkg.name);
        const candidate = this.info(providerName).candidates.findIndex((c) => c.candidate === provider);
        candidates.push({
          label: `${pkg.name} ${formatVersion(pkg.version)} (provides ${provide.text})`,
          pkg: undefined,
          candidate: undefined,
          target: { name: providerName, candidate },
        });
      }
      name = this.addName(key, 'virtual', requirement.name, requirement.text, candidates);
    }
    return { name, bits: this.info(name).present };
  }

  /** The incompatibilities that hold when `name` takes `candidate` (dependencies, conflicts, what a virtual candidate stands for). */
  candidateIncompatibilities(name: number, candidate: number): Incompatibility[] {
    const info = this.info(name);
    const self: Term = { name, bits: singleBit(info.slots, candidate) };
    const found = info.candidates[candidate];
    if (found === undefined) throw new Error('Assertion failed: no such candidate');
    const out: Incompatibility[] = [];
    if (found.target !== undefined) {
      const target = this.info(found.target.name);
      out.push(
        this.newIncompatibility(
          [self, { name: target.index, bits: not(singleBit(target.slots, found.target.candidate), target.full) }],
          { kind: 'provider', text: info.requirement, provider: found.label },
        ),
      );
      return out;
    }
    const pkg = found.pkg;
    if (pkg === undefined || found.candidate === undefined) return out;
    let version = this.versionText.get(pkg);
    if (version === undefined) {
      version = formatVersion(pkg.version);
      this.versionText.set(pkg, version);
    }
    for (const requirement of found.candidate.depends) {
      const term = this.requirementTerm(requirement);
      const target = this.info(term.name);
      const needed = not(term.bits, target.full);
      if (term.name === name) {
        // A dependency on its own name: met by itself, or it rules itself out.
        if (!hasBit(needed, candidate)) continue;
        out.push(
          this.newIncompatibility([self], { kind: 'dependency', package: pkg.name, version, text: requirement.text }),
        );
        continue;
      }
      out.push(
        this.newIncompatibility([self, { name: term.name, bits: needed }], {
          kind: 'dependency',
          package: pkg.name,
          version,
          text: requirement.text,
        }),
      );
    }
    for (const requirement of pkg.conflicts) {
      if (requirement.name === pkg.name) continue; // one version per name already: a package never conflicts with its own name
      const other = this.packageName(requirement.name);
      const bits = this.rangeBits(other, requirement);
      if (bits.some((w) => w !== 0)) {
        out.push(
          this.newIncompatibility([self, { name: other, bits }], {
            kind: 'conflict',
            package: pkg.name,
            version,
            text: requirement.text,
            via: undefined,
          }),
        );
      }
      for (const { candidate: providerCandidate, provide } of this.providersOf(requirement.name) ?? []) {
        const provider = providerCandidate.pkg;
        if (provider.name === pkg.name) continue;
        if (
          provide.version === undefined
            ? !isAnyRange(requirement.range)
            : !satisfies(provide.version, requirement.range)
        )
          continue;
        const providerName = this.packageName(provider.name);
        const providerInfo = this.info(providerName);
        const index = providerInfo.candidates.findIndex((c) => c.candidate === providerCandidate);
        out.push(
          this.newIncompatibility([self, { name: providerName, bits: singleBit(providerInfo.slots, index) }], {
            kind: 'conflict',
            package: pkg.name,
            version,
            text: requirement.text,
            via: `${provider.name} ${formatVersion(provider.version)}`,
          }),
        );
      }
    }
    return out;
  }

  /** The incompatibilities of the root: it is present, and the requests (install, keep, remove) are its dependencies. */
  rootIncompatibilities(): Incompatibility[] {
    const root = this.info(ROOT);
    const rootPresent: Term = { name: ROOT, bits: singleBit(root.slots, 0) };
    const out: Incompatibility[] = [
      this.newIncompatibility([{ name: ROOT, bits: singleBit(root.slots, 1) }], { kind: 'root' }),
    ];
    for (const requirement of this.problem.request.install) {
      const term = this.requirementTerm(requirement);
      const options = formatSettings(requirement.options);
      const text =
        options === ''
          ? requirement.text
          : `${requirement.name}[${options}]${requirement.text.slice(requirement.name.length)}`;
      out.push(
        this.newIncompatibility([rootPresent, { name: term.name, bits: not(term.bits, this.info(term.name).full) }], {
          kind: 'request',
          text,
        }),
      );
    }
    const removing = new Set(this.problem.request.remove);
    for (const entry of this.problem.installed) {
      if (removing.has(entry.name)) continue;
      const name = this.info(this.packageName(entry.name));
      out.push(
        this.newIncompatibility([rootPresent, { name: name.index, bits: singleBit(name.slots, name.slots - 1) }], {
          kind: 'keep',
          package: entry.name,
          version: formatVersion(entry.version),
        }),
      );
    }
    for (const removed of this.problem.request.remove) {
      const name = this.info(this.packageName(removed));
      if (name.candidates.length === 0) continue;
      out.push(
        this.newIncompatibility([rootPresent, { name: name.index, bits: name.present }], {
          kind: 'remove',
          package: removed,
        }),
      );
    }
    return out;
  }
}

/** `1.22.1 from main (x86-64-v2)`, `1.22.1 built from source`, `1.0 (installed)`. */
function candidateLabel(candidate: SolverCandidate): string {
  const pkg = candidate.pkg;
  const version = formatVersion(pkg.version);
  if (candidate.kind === 'installed') return `${version} (installed)`;
  if (candidate.kind === 'build') return `${version} built from source`;
  const where = (pkg.remote ?? '') === '' ? '' : ` from ${pkg.remote}`;
  return `${version}${where}${pkg.cpu === undefined ? '' : ` (${pkg.cpu})`}`;
}
