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
 */
import { compareVersions, formatVersion, isAnyRange, satisfies, type Version } from '../../version/index.js';
import type { ProblemPackage, Provide, Requirement, SolverProblem } from '../problem.js';
import { bitsKey, emptyBits, fullBits, hasBit, not, singleBit, withBit, type Bits } from './bits.js';
import type { Cause, Incompatibility, Term } from './incompatibility.js';

export interface CandidateInfo {
  /** How a person reads this candidate: `1.0` for a package name, `a 1.0` or `b 2.0 (provides a =1.0)` for a virtual one. */
  readonly label: string;
  /** The package, for `package` names. */
  readonly pkg: ProblemPackage | undefined;
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
  private readonly rangeCache = new Map<string, Bits>();
  /** Per name: a candidate set's key → the first range text that produced it, to word derived terms. */
  private readonly rangeNames: Map<string, string>[] = [];
  private readonly providers = new Map<string, { pkg: ProblemPackage; provide: Provide }[]>();
  private nextId = 0;

  constructor(readonly problem: SolverProblem) {
    this.addName('\u0000root', 'root', 'root', '', [{ label: 'root', pkg: undefined, target: undefined }]);
    const byName = new Map<string, ProblemPackage[]>();
    for (const pkg of problem.packages) {
      const list = byName.get(pkg.name) ?? [];
      list.push(pkg);
      byName.set(pkg.name, list);
      for (const provide of pkg.provides) {
        const providers = this.providers.get(provide.name) ?? [];
        providers.push({ pkg, provide });
        this.providers.set(provide.name, providers);
      }
    }
    // Names in a fixed order (sorted) so that the answer never depends on input order beyond the data itself.
    for (const name of [...byName.keys()].sort()) {
      const versions = (byName.get(name) ?? []).slice().sort((a, b) => compareDesc(a.version, b.version));
      this.addName(name, 'package', name, '', versions.map((pkg) => ({ label: formatVersion(pkg.version), pkg, target: undefined })));
    }
    for (const entry of problem.installed) {
      const info = this.names[this.packageName(entry.name)];
      if (info === undefined) throw new Error('Assertion failed: installed name has no entry');
      info.installed = info.candidates.findIndex((c) => c.pkg !== undefined && compareDesc(c.pkg.version, entry.version) === 0);
    }
  }

  private addName(key: string, kind: NameInfo['kind'], display: string, requirement: string, candidates: CandidateInfo[]): number {
    const slots = candidates.length + 1;
    const full = fullBits(slots);
    const index = this.names.length;
    this.names.push({ index, kind, display, requirement, candidates, slots, full, present: not(singleBit(slots, slots - 1), full), installed: -1 });
    this.rangeNames.push(new Map());
    this.byKey.set(key, index);
    return index;
  }

  /** The index of a package name, made (with no candidates) when only mentioned. */
  packageName(name: string): number {
    return this.byKey.get(name) ?? this.addName(name, 'package', name, '', []);
  }

  newIncompatibility(terms: Term[], cause: Cause): Incompatibility {
    return { id: this.nextId++, terms, cause };
  }

  /** The candidates of a package name whose version satisfies the range. */
  private rangeBits(name: number, requirement: Requirement): Bits {
    const key = `${name} ${requirement.text}`;
    const cached = this.rangeCache.get(key);
    if (cached !== undefined) return cached;
    const info = this.info(name);
    let bits = emptyBits(info.slots);
    info.candidates.forEach((candidate, i) => {
      if (candidate.pkg !== undefined && satisfies(candidate.pkg.version, requirement.range)) bits = withBit(bits, i);
    });
    this.rangeCache.set(key, bits);
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
    const providers = this.providers.get(requirement.name);
    if (providers === undefined) return { name: real, bits: this.rangeBits(real, requirement) };
    const key = `\u0000virtual ${requirement.text}`;
    let name = this.byKey.get(key);
    if (name === undefined) {
      const realInfo = this.info(real);
      const realBits = this.rangeBits(real, requirement);
      const candidates: CandidateInfo[] = [];
      realInfo.candidates.forEach((candidate, i) => {
        if ((realBits[i >>> 5] ?? 0) & (1 << (i & 31))) candidates.push({ label: `${requirement.name} ${candidate.label}`, pkg: undefined, target: { name: real, candidate: i } });
      });
      const matching = providers
        .filter(({ provide }) => (provide.version === undefined ? isAnyRange(requirement.range) : satisfies(provide.version, requirement.range)))
        .sort((a, b) => (a.pkg.name < b.pkg.name ? -1 : a.pkg.name > b.pkg.name ? 1 : compareDesc(a.pkg.version, b.pkg.version)));
      for (const { pkg, provide } of matching) {
        const providerName = this.packageName(pkg.name);
        const candidate = this.info(providerName).candidates.findIndex((c) => c.pkg === pkg);
        candidates.push({ label: `${pkg.name} ${formatVersion(pkg.version)} (provides ${provide.text})`, pkg: undefined, target: { name: providerName, candidate } });
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
      out.push(this.newIncompatibility([self, { name: target.index, bits: not(singleBit(target.slots, found.target.candidate), target.full) }], { kind: 'provider', text: info.requirement, provider: found.label }));
      return out;
    }
    const pkg = found.pkg;
    if (pkg === undefined) return out;
    const version = formatVersion(pkg.version);
    for (const requirement of pkg.depends) {
      const term = this.requirementTerm(requirement);
      const target = this.info(term.name);
      const needed = not(term.bits, target.full);
      if (term.name === name) {
        // A dependency on its own name: met by itself, or it rules itself out.
        if (!hasBit(needed, candidate)) continue;
        out.push(this.newIncompatibility([self], { kind: 'dependency', package: pkg.name, version, text: requirement.text }));
        continue;
      }
      out.push(this.newIncompatibility([self, { name: term.name, bits: needed }], { kind: 'dependency', package: pkg.name, version, text: requirement.text }));
    }
    for (const requirement of pkg.conflicts) {
      if (requirement.name === pkg.name) continue; // one version per name already: a package never conflicts with its own name
      const other = this.packageName(requirement.name);
      const bits = this.rangeBits(other, requirement);
      if (bits.some((w) => w !== 0)) {
        out.push(this.newIncompatibility([self, { name: other, bits }], { kind: 'conflict', package: pkg.name, version, text: requirement.text, via: undefined }));
      }
      for (const { pkg: provider, provide } of this.providers.get(requirement.name) ?? []) {
        if (provider.name === pkg.name) continue;
        if (provide.version === undefined ? !isAnyRange(requirement.range) : !satisfies(provide.version, requirement.range)) continue;
        const providerName = this.packageName(provider.name);
        const providerInfo = this.info(providerName);
        const index = providerInfo.candidates.findIndex((c) => c.pkg === provider);
        out.push(this.newIncompatibility([self, { name: providerName, bits: singleBit(providerInfo.slots, index) }], {
          kind: 'conflict', package: pkg.name, version, text: requirement.text, via: `${provider.name} ${formatVersion(provider.version)}`,
        }));
      }
    }
    return out;
  }

  /** The incompatibilities of the root: it is present, and the requests (install, keep, remove) are its dependencies. */
  rootIncompatibilities(): Incompatibility[] {
    const root = this.info(ROOT);
    const rootPresent: Term = { name: ROOT, bits: singleBit(root.slots, 0) };
    const out: Incompatibility[] = [this.newIncompatibility([{ name: ROOT, bits: singleBit(root.slots, 1) }], { kind: 'root' })];
    for (const requirement of this.problem.request.install) {
      const term = this.requirementTerm(requirement);
      out.push(this.newIncompatibility([rootPresent, { name: term.name, bits: not(term.bits, this.info(term.name).full) }], { kind: 'request', text: requirement.text }));
    }
    const removing = new Set(this.problem.request.remove);
    for (const entry of this.problem.installed) {
      if (removing.has(entry.name)) continue;
      const name = this.info(this.packageName(entry.name));
      out.push(this.newIncompatibility([rootPresent, { name: name.index, bits: singleBit(name.slots, name.slots - 1) }], { kind: 'keep', package: entry.name, version: formatVersion(entry.version) }));
    }
    for (const removed of this.problem.request.remove) {
      const name = this.info(this.packageName(removed));
      if (name.candidates.length === 0) continue;
      out.push(this.newIncompatibility([rootPresent, { name: name.index, bits: name.present }], { kind: 'remove', package: removed }));
    }
    return out;
  }
}

/** Newest first. */
function compareDesc(a: Version, b: Version): number {
  return compareVersions(b, a);
}
