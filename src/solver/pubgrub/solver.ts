/**
 * The PubGrub loop (Natalie Weizenbaum's algorithm, over exact finite
 * candidate sets): unit propagation, conflict resolution that learns new
 * incompatibilities and backjumps, and decision making.
 *
 * The partial solution keeps, per name, the intersection of its assignments
 * (`current`), so checking a term is one subset test; incompatibilities are
 * indexed by name, so propagation only looks at those that mention a name
 * that changed. A candidate's own incompatibilities are added when it is
 * first decided, as PubGrub does.
 */
import { and, countBits, firstBit, hasBit, isDisjoint, isSubset, not, or, singleBit, equalBits, type Bits } from './bits.js';
import type { Incompatibility, Term } from './incompatibility.js';
import { ROOT, type Model } from './model.js';

interface Assignment {
  readonly name: number;
  /** The assignment's own term (for a decision, a single candidate). */
  readonly bits: Bits;
  /** The name's candidate set after this assignment. */
  readonly after: Bits;
  readonly level: number;
  /** The incompatibility that forced it; `undefined` for a decision. */
  readonly cause: Incompatibility | undefined;
  /** The previous assignment of the same name, or -1. */
  readonly previous: number;
}

/** Thrown inside the solver when the root itself is shown impossible. */
export class SolveFailure {
  constructor(readonly incompatibility: Incompatibility) {}
}

/** The chosen candidate per name; -1 where the name is absent. */
export type Choice = Int32Array;

export class PubGrubSolver {
  private readonly trail: Assignment[] = [];
  private readonly current: Bits[] = [];
  private readonly last: number[] = [];
  /** Decided candidate, -1 when not decided, -2 when decided absent. */
  private readonly decided: number[] = [];
  private readonly index: Incompatibility[][] = [];
  private readonly added: (Uint8Array | undefined)[] = [];
  /**
   * Names that must be present and are not decided yet, bucketed by how many
   * candidates they have left (`frontier[count]`), so the next decision is
   * found without scanning every name.
   */
  private readonly frontier: Set<number>[] = [];
  /** The bucket each name is in, or -1. */
  private readonly bucket: number[] = [];
  private level = 0;
  /** Counters for tests and benchmarks. */
  readonly stats = { decisions: 0, conflicts: 0, learned: 0 };

  constructor(private readonly model: Model) {}

  /** Solves, or throws `SolveFailure` with the incompatibility that proves there is no solution. */
  solve(): Choice {
    this.addAll(this.model.rootIncompatibilities());
    this.propagate([ROOT]);
    for (;;) {
      const name = this.pickName();
      if (name === undefined) {
        const undecided = this.unsettledName();
        if (undecided === undefined) break;
        // No name must be present, yet leaving every undecided name absent breaks an incompatibility: decide one absent and go on.
        this.decide(undecided, this.model.info(undecided).slots - 1);
        continue;
      }
      const candidate = this.pickCandidate(name);
      this.decide(name, candidate);
    }
    const choice = new Int32Array(this.model.names.length).fill(-1);
    for (let name = 0; name < this.decided.length; name++) choice[name] = Math.max(-1, this.decided[name] ?? -1);
    return choice;
  }

  private ensure(): void {
    for (let name = this.current.length; name < this.model.names.length; name++) {
      this.current.push(this.model.info(name).full);
      this.last.push(-1);
      this.decided.push(-1);
      this.index.push([]);
      this.added.push(undefined);
      this.bucket.push(-1);
    }
  }

  private addAll(list: readonly Incompatibility[]): void {
    this.ensure();
    for (const incompatibility of list) this.add(incompatibility);
  }

  private add(incompatibility: Incompatibility): void {
    this.model.incompatibilities.push(incompatibility);
    for (const term of incompatibility.terms) this.index[term.name]?.push(incompatibility);
  }

  private decide(name: number, candidate: number): void {
    const info = this.model.info(name);
    if (candidate < info.candidates.length) {
      let added = this.added[name];
      if (added === undefined) this.added[name] = added = new Uint8Array(info.candidates.length);
      if (added[candidate] === 0) {
        added[candidate] = 1;
        const list = this.model.candidateIncompatibilities(name, candidate);
        this.addAll(list);
        // As PubGrub does: a candidate whose own incompatibilities already hold apart from itself is not decided;
        // propagation rules it out at this level instead of backjumping later.
        if (list.some((incompatibility) => this.holdsExcept(incompatibility, name))) {
          this.propagate([name]);
          return;
        }
      }
    }
    this.stats.decisions++;
    this.level++;
    this.assign(name, singleBit(info.slots, candidate), undefined);
    this.propagate([name]);
  }

  private assign(name: number, bits: Bits, cause: Incompatibility | undefined): void {
    const info = this.model.info(name);
    const before = this.current[name] ?? info.full;
    const after = and(before, bits);
    this.trail.push({ name, bits, after, level: this.level, cause, previous: this.last[name] ?? -1 });
    this.last[name] = this.trail.length - 1;
    this.current[name] = after;
    if (cause === undefined) this.decided[name] = firstBit(bits) === info.slots - 1 ? -2 : firstBit(bits);
    this.updateFrontier(name);
  }

  private updateFrontier(name: number): void {
    const info = this.model.info(name);
    const bits = this.current[name] ?? info.full;
    const wanted = (this.decided[name] ?? -1) === -1 && !hasBit(bits, info.slots - 1) ? countBits(bits) : -1;
    const now = this.bucket[name] ?? -1;
    if (wanted === now) return;
    if (now >= 0) this.frontier[now]?.delete(name);
    if (wanted >= 0) {
      while (this.frontier.length <= wanted) this.frontier.push(new Set());
      this.frontier[wanted]?.add(name);
    }
    this.bucket[name] = wanted;
  }

  private propagate(start: number[]): void {
    const queue = start.slice();
    const queued = new Set(queue);
    while (queue.length > 0) {
      const name = queue.pop() as number;
      queued.delete(name);
      const list = this.index[name] ?? [];
      for (let i = list.length - 1; i >= 0; i--) {
        const incompatibility = list[i] as Incompatibility;
        const result = this.evaluate(incompatibility);
        if (result === 'conflict') {
          this.stats.conflicts++;
          const learned = this.resolveConflict(incompatibility);
          const derived = this.evaluate(learned);
          if (typeof derived !== 'number') throw new Error('Assertion failed: a learned incompatibility does not propagate after backjumping');
          queue.length = 0;
          queued.clear();
          queue.push(derived);
          queued.add(derived);
          break;
        }
        if (typeof result === 'number' && !queued.has(result)) {
          queue.push(result);
          queued.add(result);
        }
      }
    }
  }

  /** 'conflict' when satisfied; the name derived when almost satisfied (after deriving it); 'none' otherwise. */
  private evaluate(incompatibility: Incompatibility): 'conflict' | 'none' | number {
    let unsatisfied: Term | undefined;
    for (const term of incompatibility.terms) {
      const bits = this.current[term.name] as Bits;
      if (isSubset(bits, term.bits)) continue;
      if (isDisjoint(bits, term.bits)) return 'none';
      if (unsatisfied !== undefined) return 'none';
      unsatisfied = term;
    }
    if (unsatisfied === undefined) return 'conflict';
    this.assign(unsatisfied.name, not(unsatisfied.bits, this.model.info(unsatisfied.name).full), incompatibility);
    return unsatisfied.name;
  }

  /** Whether every term of the incompatibility but those on `name` is satisfied. */
  private holdsExcept(incompatibility: Incompatibility, name: number): boolean {
    return incompatibility.terms.every((term) => term.name === name || isSubset(this.current[term.name] as Bits, term.bits));
  }

  /** The earliest assignment index after which the name's set lies within `bits`; -1 if none is needed. */
  private satisfier(name: number, bits: Bits): number {
    let found = -1;
    for (let i = this.last[name] ?? -1; i >= 0; ) {
      const assignment = this.trail[i] as Assignment;
      if (!isSubset(assignment.after, bits)) break;
      found = i;
      i = assignment.previous;
    }
    return found;
  }

  private resolveConflict(conflict: Incompatibility): Incompatibility {
    let incompatibility = conflict;
    for (;;) {
      if (isFailure(incompatibility)) throw new SolveFailure(incompatibility);
      let latest = -1;
      let latestTerm: Term | undefined;
      let previousLevel = 0;
      for (const term of incompatibility.terms) {
        const at = this.satisfier(term.name, term.bits);
        if (at > latest) {
          if (latest >= 0) previousLevel = Math.max(previousLevel, (this.trail[latest] as Assignment).level);
          latest = at;
          latestTerm = term;
        } else if (at >= 0) {
          previousLevel = Math.max(previousLevel, (this.trail[at] as Assignment).level);
        }
      }
      if (latestTerm === undefined) throw new Error('Assertion failed: a conflict with no satisfier');
      const satisfier = this.trail[latest] as Assignment;
      if (!isSubset(satisfier.bits, latestTerm.bits)) {
        // The satisfier needed earlier assignments of the same name: the earliest of them that suffices counts too.
        let found = -1;
        for (let i = satisfier.previous; i >= 0; ) {
          const assignment = this.trail[i] as Assignment;
          if (!isSubset(and(assignment.after, satisfier.bits), latestTerm.bits)) break;
          found = i;
          i = assignment.previous;
        }
        if (found >= 0) previousLevel = Math.max(previousLevel, (this.trail[found] as Assignment).level);
      }
      if (satisfier.cause === undefined || previousLevel < satisfier.level) {
        if (incompatibility !== conflict) {
          this.add(incompatibility);
          this.stats.learned++;
        }
        this.backjump(previousLevel);
        return incompatibility;
      }
      incompatibility = this.resolve(incompatibility, satisfier.cause, latestTerm.name);
    }
  }

  /** The resolvent of two incompatibilities on `name`: other names' terms intersected, `name`'s terms united. */
  private resolve(left: Incompatibility, right: Incompatibility, name: number): Incompatibility {
    const merged = new Map<number, Bits>();
    let united: Bits | undefined;
    for (const term of [...left.terms, ...right.terms]) {
      if (term.name === name) {
        united = united === undefined ? term.bits : or(united, term.bits);
        continue;
      }
      const seen = merged.get(term.name);
      merged.set(term.name, seen === undefined ? term.bits : and(seen, term.bits));
    }
    const terms: Term[] = [];
    if (united !== undefined && !equalBits(united, this.model.info(name).full)) terms.push({ name, bits: united });
    for (const [other, bits] of merged) {
      if (!equalBits(bits, this.model.info(other).full)) terms.push({ name: other, bits });
    }
    terms.sort((a, b) => a.name - b.name);
    return this.model.newIncompatibility(terms, { kind: 'derived', conflict: left, other: right });
  }

  private backjump(level: number): void {
    while (this.trail.length > 0) {
      const top = this.trail[this.trail.length - 1] as Assignment;
      if (top.level <= level) break;
      this.trail.pop();
      this.last[top.name] = top.previous;
      this.current[top.name] = top.previous >= 0 ? (this.trail[top.previous] as Assignment).after : this.model.info(top.name).full;
      if (top.cause === undefined) this.decided[top.name] = -1;
      this.updateFrontier(top.name);
    }
    this.level = level;
  }

  /** The name to decide next: fewest candidates left, then the one that has waited longest. */
  private pickName(): number | undefined {
    for (const names of this.frontier) {
      const first = names.values().next();
      if (first.done !== true) return first.value;
    }
    return undefined;
  }

  /** The installed candidate when still allowed, else for a virtual name the one whose target is chosen or installed, else the newest. */
  private pickCandidate(name: number): number {
    const info = this.model.info(name);
    const bits = this.current[name] as Bits;
    if (info.installed >= 0 && hasBit(bits, info.installed)) return info.installed;
    if (info.kind === 'virtual') {
      const allowed = info.candidates.map((_, i) => i).filter((i) => hasBit(bits, i));
      const chosen = allowed.find((i) => {
        const target = info.candidates[i]?.target;
        return target !== undefined && this.decided[target.name] === target.candidate;
      });
      if (chosen !== undefined) return chosen;
      const installed = allowed.find((i) => {
        const target = info.candidates[i]?.target;
        return target !== undefined && this.model.info(target.name).installed === target.candidate;
      });
      if (installed !== undefined) return installed;
    }
    return firstBit(bits);
  }

  /**
   * With no name left that must be present, every undecided name will be
   * absent. Returns an undecided name of an incompatibility that this would
   * break, or `undefined` when none does.
   */
  private unsettledName(): number | undefined {
    for (const incompatibility of this.model.incompatibilities) {
      let broken = true;
      let undecided: number | undefined;
      for (const term of incompatibility.terms) {
        const info = this.model.info(term.name);
        const decided = this.decided[term.name] ?? -1;
        const value = decided >= 0 ? decided : info.slots - 1;
        if (!hasBit(term.bits, value)) {
          broken = false;
          break;
        }
        if (decided === -1 && undecided === undefined && countBits(this.current[term.name] as Bits) > 1) undecided = term.name;
      }
      if (broken) {
        if (undecided === undefined) throw new Error('Assertion failed: the partial solution breaks an incompatibility');
        return undecided;
      }
    }
    return undefined;
  }
}

/** No terms, or only "the root is present": the problem has no solution. */
function isFailure(incompatibility: Incompatibility): boolean {
  const terms = incompatibility.terms;
  if (terms.length === 0) return true;
  const only = terms[0];
  return terms.length === 1 && only !== undefined && only.name === ROOT && !hasBit(only.bits, 1);
}
