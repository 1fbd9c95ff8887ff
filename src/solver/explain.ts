/**
 * Turns the derivation of a failure (the incompatibility that says "the
 * root is impossible" and the tree of incompatibilities it was learned
 * from) into sentences a person can act on, after PubGrub's error reporting:
 * each derived incompatibility is written as "Because X and Y, Z."; one that
 * is used more than once gets a number, "(1)", and is cited by it later.
 *
 * @example
 * // 1. Because a 1.0 depends on b >=2 and no version of b satisfies >=2 (b has 1.0), a 1.0 is forbidden.
 * // 2. So, because you asked for a, version solving failed.
 */
import { countBits, equalBits, hasBit, bitIndices, not, type Bits } from './pubgrub/bits.js';
import type { Incompatibility, Term } from './pubgrub/incompatibility.js';
import { ROOT, type Model } from './pubgrub/model.js';
import type { ExclusionKind } from './policy.js';
import { satisfies, tryParseRange } from '../version/index.js';

interface Line {
  text: string;
  number: number | undefined;
}

/** The explanation lines and a hint for a failure incompatibility. */
export function explainFailure(
  model: Model,
  failure: Incompatibility,
): { explanation: string[]; hint: string; advisories?: true } {
  const writer = new Writer(model);
  writer.explain(failure);
  const { hint, advisories } = hintFor(model, failure);
  return {
    explanation: writer.lines.map((line) => (line.number === undefined ? line.text : `(${line.number}) ${line.text}`)),
    hint,
    ...(advisories ? { advisories: true as const } : {}),
  };
}

class Writer {
  readonly lines: Line[] = [];
  private readonly uses = new Map<Incompatibility, number>();
  private readonly numbers = new Map<Incompatibility, number>();
  private nextNumber = 1;

  constructor(private readonly model: Model) {}

  explain(failure: Incompatibility): void {
    this.countUses(failure, new Set());
    if (failure.cause.kind !== 'derived') {
      this.write(failure, `Because ${this.describe(failure)}, version solving failed.`, false);
      return;
    }
    this.visit(failure, false);
    const last = this.lines[this.lines.length - 1];
    if (last !== undefined && this.lines.length > 1)
      last.text = last.text.replace(/^(And because|Because)/, 'So, because');
  }

  private countUses(incompatibility: Incompatibility, seen: Set<Incompatibility>): void {
    const cause = incompatibility.cause;
    if (cause.kind !== 'derived') return;
    for (const child of [cause.conflict, cause.other]) {
      this.uses.set(child, (this.uses.get(child) ?? 0) + 1);
      if (!seen.has(child)) {
        seen.add(child);
        this.countUses(child, seen);
      }
    }
  }

  private write(incompatibility: Incompatibility, text: string, numbered: boolean): void {
    const line: Line = { text, number: undefined };
    if (numbered || (this.uses.get(incompatibility) ?? 0) > 1) {
      line.number = this.nextNumber++;
      this.numbers.set(incompatibility, line.number);
    }
    this.lines.push(line);
  }

  private cite(incompatibility: Incompatibility): string {
    const number = this.numbers.get(incompatibility);
    return number === undefined ? this.describe(incompatibility) : `${this.describe(incompatibility)} (${number})`;
  }

  private visit(incompatibility: Incompatibility, numbered: boolean): void {
    const cause = incompatibility.cause;
    if (cause.kind !== 'derived') return;
    const conclusion = this.describe(incompatibility);
    let left = cause.conflict;
    let right = cause.other;
    // "The root is present" carries no information for a person: leave it out.
    if (right.cause.kind === 'root') [left, right] = [right, left];
    if (left.cause.kind === 'root') {
      if (right.cause.kind === 'derived') {
        if (!this.numbers.has(right)) this.visit(right, false);
        this.write(incompatibility, `Thus, ${conclusion}.`, numbered);
      } else {
        this.write(incompatibility, `Because ${this.describe(right)}, ${conclusion}.`, numbered);
      }
      return;
    }
    const leftDerived = left.cause.kind === 'derived';
    const rightDerived = right.cause.kind === 'derived';
    if (leftDerived && rightDerived) {
      const leftNumber = this.numbers.get(left);
      const rightNumber = this.numbers.get(right);
      if (leftNumber !== undefined && rightNumber !== undefined) {
        this.write(incompatibility, `Because ${this.cite(left)} and ${this.cite(right)}, ${conclusion}.`, numbered);
      } else if (leftNumber !== undefined || rightNumber !== undefined) {
        const cited = leftNumber !== undefined ? left : right;
        const other = leftNumber !== undefined ? right : left;
        this.visit(other, false);
        this.write(incompatibility, `And because ${this.cite(cited)}, ${conclusion}.`, numbered);
      } else {
        const leftSimple = isSimple(left);
        const rightSimple = isSimple(right);
        if (leftSimple || rightSimple) {
          const first = leftSimple ? right : left;
          const second = leftSimple ? left : right;
          this.visit(first, false);
          this.visit(second, false);
          this.write(incompatibility, `Thus, ${conclusion}.`, numbered);
        } else {
          this.visit(left, true);
          this.visit(right, false);
          this.write(incompatibility, `And because ${this.cite(left)}, ${conclusion}.`, numbered);
        }
      }
    } else if (leftDerived || rightDerived) {
      const derived = leftDerived ? left : right;
      const external = leftDerived ? right : left;
      const derivedCause = derived.cause;
      if (this.numbers.has(derived)) {
        this.write(
          incompatibility,
          `Because ${this.describe(external)} and ${this.cite(derived)}, ${conclusion}.`,
          numbered,
        );
      } else if (derivedCause.kind === 'derived' && (this.uses.get(derived) ?? 0) <= 1 && isCollapsible(derived)) {
        const inner = derivedCause.conflict.cause.kind === 'derived' ? derivedCause.conflict : derivedCause.other;
        const innerExternal = inner === derivedCause.conflict ? derivedCause.other : derivedCause.conflict;
        this.visit(inner, false);
        this.write(
          incompatibility,
          `And because ${this.describe(innerExternal)} and ${this.describe(external)}, ${conclusion}.`,
          numbered,
        );
      } else {
        this.visit(derived, false);
        this.write(incompatibility, `And because ${this.describe(external)}, ${conclusion}.`, numbered);
      }
    } else {
      this.write(
        incompatibility,
        `Because ${this.describe(left)} and ${this.describe(right)}, ${conclusion}.`,
        numbered,
      );
    }
  }

  /** One incompatibility in words. */
  describe(incompatibility: Incompatibility): string {
    const cause = incompatibility.cause;
    const target = incompatibility.terms.find(
      (term) => term.name !== ROOT && this.model.info(term.name).kind !== 'root' && !isOwner(incompatibility, term),
    );
    switch (cause.kind) {
      case 'root':
        return 'the request is solved';
      case 'request':
        return `you asked for ${cause.text}${this.unavailable(cause.text, target)}`;
      case 'keep':
        return `${cause.package} ${cause.version} is installed and you did not ask to remove it${this.keptUnavailable(cause.package)}`;
      case 'remove':
        return `you asked to remove ${cause.package}`;
      case 'dependency':
        return `${cause.package} ${cause.version} depends on ${cause.text}${this.unavailable(cause.text, target)}`;
      case 'conflict':
        return cause.via === undefined
          ? `${cause.package} ${cause.version} conflicts with ${cause.text}`
          : `${cause.package} ${cause.version} conflicts with ${cause.text} (${cause.via} provides it)`;
      case 'provider':
        return `${cause.text} can be met by ${cause.provider} only if that package is installed`;
      case 'derived':
        return this.describeTerms(incompatibility.terms);
    }
  }

  /** For an installed package that may not stay as it is: why each of its packages was left out. */
  private keptUnavailable(name: string): string {
    const real = this.model.names.find((other) => other.kind === 'package' && other.display === name);
    if (real === undefined || real.candidates.length > 0) return '';
    const left = this.model.policy.excluded(name);
    return left.length === 0 ? '' : ` (no usable package of ${name}; left out: ${left.map((e) => e.why).join('; ')})`;
  }

  /** For a requirement nothing meets: why, including the packages the policy left out. */
  private unavailable(text: string, term: Term | undefined): string {
    if (term === undefined) return '';
    const info = this.model.info(term.name);
    if (!equalBits(term.bits, info.full)) return '';
    const name = info.display;
    const real = this.model.names.find((other) => other.kind === 'package' && other.display === name);
    const versions = real === undefined ? [] : real.candidates.map((c) => c.label);
    const rangeText = text
      .slice(name.length)
      .replace(/^\[[^\]]*\]/, '')
      .trim();
    const range = tryParseRange(rangeText);
    const left = this.model.policy.excluded(name).filter((e) => range === undefined || satisfies(e.pkg.version, range));
    const leftOut = left.length === 0 ? '' : `; left out: ${left.map((e) => e.why).join('; ')}`;
    if (versions.length === 0) {
      if (left.length > 0) return ` (no usable package of ${name}${leftOut})`;
      return ` (no package is named ${name}${this.model.names.some((other) => other.kind === 'virtual' && other.display === name) ? ' and no provider matches' : ''})`;
    }
    return ` (no version of ${name} satisfies ${rangeText}${info.kind === 'virtual' ? ' and no provider matches' : ''}; ${name} has ${versions.join(', ')}${leftOut})`;
  }

  private describeTerms(terms: readonly Term[]): string {
    const you = terms.some((term) => term.name === ROOT && !hasBit(term.bits, 1));
    const rest = terms.filter((term) => term.name !== ROOT);
    const positive = rest.filter((term) => !hasBit(term.bits, this.model.info(term.name).slots - 1));
    const negative = rest.filter((term) => hasBit(term.bits, this.model.info(term.name).slots - 1));
    const wanted = negative.map((term) => this.describeSet(term.name, not(term.bits, this.model.info(term.name).full)));
    const had = positive.map((term) => this.describeSet(term.name, term.bits));
    if (rest.length === 0) return 'version solving failed';
    if (you) {
      if (positive.length === 0) return `you need ${wanted.join(' or ')}`;
      if (negative.length === 0) return `${joinAnd(had)} ${had.length === 1 ? 'is' : 'are'} forbidden`;
      return `you cannot have ${joinAnd(had)} unless you also have ${wanted.join(' or ')}`;
    }
    if (positive.length === 0) return `${wanted.join(' or ')} ${wanted.length === 1 ? 'is' : 'are'} required`;
    if (negative.length === 0) return had.length === 1 ? `${had[0]} is forbidden` : `${joinAnd(had)} are incompatible`;
    return `${joinAnd(had)} ${had.length === 1 ? 'requires' : 'require'} ${wanted.join(' or ')}`;
  }

  /** A positive candidate set of a name in words: `b`, `b >=2`, `b 1.0`, `b (2.0, 1.5 or 1.0)`. */
  private describeSet(name: number, bits: Bits): string {
    const info = this.model.info(name);
    const present = countBits(bits) - (hasBit(bits, info.slots - 1) ? 1 : 0);
    if (info.kind === 'virtual') {
      if (present === info.candidates.length) return info.requirement;
      const labels = bitIndices(bits)
        .filter((i) => i < info.candidates.length)
        .map((i) => info.candidates[i]?.label ?? '?');
      return labels.length === 1
        ? `${labels[0]} for ${info.requirement}`
        : `one of ${joinOr(labels)} for ${info.requirement}`;
    }
    if (present === 0) return `no version of ${info.display}`;
    if (present === info.candidates.length) return info.display;
    const range = this.model.rangeTextFor(name, bits);
    if (range !== undefined) return range;
    const labels = bitIndices(bits)
      .filter((i) => i < info.candidates.length)
      .map((i) => info.candidates[i]?.label ?? '?');
    return labels.length === 1 ? `${info.display} ${labels[0]}` : `${info.display} (${joinOr(labels)})`;
  }
}

/** The owner's term of an external incompatibility (its first term) is not where the "unavailable" remark goes. */
function isOwner(incompatibility: Incompatibility, term: Term): boolean {
  return (
    incompatibility.terms[0] === term &&
    incompatibility.cause.kind !== 'request' &&
    incompatibility.cause.kind !== 'keep'
  );
}

/** Both causes external. */
function isSimple(incompatibility: Incompatibility): boolean {
  const cause = incompatibility.cause;
  return cause.kind === 'derived' && cause.conflict.cause.kind !== 'derived' && cause.other.cause.kind !== 'derived';
}

/** One cause derived and one external. */
function isCollapsible(incompatibility: Incompatibility): boolean {
  const cause = incompatibility.cause;
  if (cause.kind !== 'derived') return false;
  const leftDerived = cause.conflict.cause.kind === 'derived';
  const rightDerived = cause.other.cause.kind === 'derived';
  return leftDerived !== rightDerived && cause.conflict.cause.kind !== 'root' && cause.other.cause.kind !== 'root';
}

function joinAnd(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function joinOr(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** What to do, from the external facts the failure rests on. */
function hintFor(model: Model, failure: Incompatibility): { hint: string; advisories: boolean } {
  const facts: Incompatibility[] = [];
  const seen = new Set<Incompatibility>();
  const walk = (incompatibility: Incompatibility): void => {
    if (seen.has(incompatibility)) return;
    seen.add(incompatibility);
    const cause = incompatibility.cause;
    if (cause.kind === 'derived') {
      walk(cause.conflict);
      walk(cause.other);
    } else {
      facts.push(incompatibility);
    }
  };
  walk(failure);
  const hints: string[] = [];
  const missing = new Set<string>();
  const leftOut = new Map<ExclusionKind, Set<string>>();
  for (const fact of facts) {
    if (fact.cause.kind === 'keep') {
      for (const exclusion of model.policy.excluded(fact.cause.package))
        leftOut.set(exclusion.kind, (leftOut.get(exclusion.kind) ?? new Set()).add(fact.cause.package));
    }
    if (fact.cause.kind !== 'request' && fact.cause.kind !== 'dependency') continue;
    for (const term of fact.terms) {
      const info = model.info(term.name);
      if (term.name === ROOT || !equalBits(term.bits, info.full) || info.kind === 'root') continue;
      const excluded = model.policy.excluded(info.display);
      for (const exclusion of excluded)
        leftOut.set(exclusion.kind, (leftOut.get(exclusion.kind) ?? new Set()).add(info.display));
      const real = model.names.find((other) => other.kind === 'package' && other.display === info.display);
      if ((real === undefined || real.candidates.length === 0) && excluded.length === 0) missing.add(info.display);
    }
  }
  const names = (kind: ExclusionKind): string => [...(leftOut.get(kind) ?? [])].sort().join(', ');
  if (leftOut.has('deny') || leftOut.has('allow'))
    hints.push(
      `allow binaries of ${names('deny') || names('allow')} (config binaryDeny / binaryAllow), or let Kiln build ${(names('deny') || names('allow')).includes(',') ? 'them' : 'it'} (build policy missing)`,
    );
  if (leftOut.has('policy'))
    hints.push(
      `change the build policy of ${names('policy')} (never: binaries only; always: recipes only; missing: build what has no binary)`,
    );
  if (leftOut.has('options'))
    hints.push(
      `ask for the options the binaries of ${names('options')} have, allow building from a recipe, or turn respect-options off`,
    );
  if (leftOut.has('cpu') || leftOut.has('libc'))
    hints.push(
      `the binaries of ${[names('cpu'), names('libc')].filter((n) => n !== '').join(', ')} do not run on this host: publish binaries built for it, or build from the recipe`,
    );
  if (leftOut.has('license'))
    hints.push(`accept the license of ${names('license')} (config acceptLicenses) if you may`);
  if (leftOut.has('advisory'))
    hints.push(
      `the versions of ${names('advisory')} on offer are affected by security advisories: wait for a fixed version, or take the risk with --allow-advisory ID ("kiln info ${[...(leftOut.get('advisory') ?? [])].sort()[0] ?? 'NAME'}" shows them)`,
    );
  if (missing.size > 0)
    hints.push(
      `no package is named ${[...missing].sort().join(', ')}: check the spelling, or add a repository that has ${missing.size === 1 ? 'it' : 'them'}`,
    );
  const removed = facts.flatMap((fact) => (fact.cause.kind === 'remove' ? [fact.cause.package] : [])).sort();
  if (removed.length > 0)
    hints.push(
      `other packages still need ${removed.join(', ')}: remove them too (add them to request.remove), or keep ${removed.length === 1 ? 'it' : 'them'}`,
    );
  const kept = facts.flatMap((fact) => (fact.cause.kind === 'keep' ? [fact.cause.package] : [])).sort();
  if (kept.length > 0)
    hints.push(
      `installed packages stay installed unless you ask to remove them: remove ${kept.join(', ')} (request.remove) if ${kept.length === 1 ? 'it' : 'they'} may go`,
    );
  if (hints.length === 0) hints.push('relax a version range you asked for, or ask for fewer packages at once');
  return { hint: hints.join('; '), advisories: leftOut.has('advisory') };
}
