/**
 * The PubGrub loop (Natalie Weizenbaum's algorithm, over exact finite
 * candidate sets): unit propagation, conflict resolution that learns new
 * incompatibilities and backtracks, and decision making.
 *
 * The partial solution keeps, per name, the intersection of its assignments
 * (`current`), so checking a term is one subset test. Incompatibilities are
 * indexed by name with each term's set as a word, so that when a name
 * changes, propagation evaluates only those whose term on it has just come
 * to hold: no other can have become unit or broken.
 *
 * Two departures from the textbook loop keep large problems near linear in
 * the number of names (measured with `npm run bench:solve`):
 *
 * - A name's candidates bring their incompatibilities when the name must be
 *   present, not when a candidate is decided (those it can no longer take
 *   wait until backtracking allows them again). A dependency that rules a
 *   candidate out is then a derivation as soon as the name matters, instead
 *   of a conflict found many decisions later, when going back costs most.
 * - Chronological backtracking (Nadel and Ryvchin, SAT 2018): a derivation
 *   takes the highest level among the assignments that force it (not the
 *   current level), and when conflict resolution would jump back over more
 *   than `MAX_JUMP` levels, it goes back only below the level of the conflict
 *   and adds the learned derivation at its own lower level. Unrelated
 *   decisions made in between stay; a plain backjump would throw them away
 *   and redo them. The trail is then not sorted by level, but each name's
 *   own assignments are (a derivation is raised to the level of the name's
 *   latest assignment if that is higher), so undoing the levels above some
 *   level removes a tail of each name's assignments and keeps every `after`
 *   valid. A raised derivation that is undone while what forced it stays is
 *   evaluated again (`reforce`).
 */
import {
  and,
  countBits,
  firstBit,
  hasBit,
  isDisjoint,
  isSubset,
  not,
  or,
  singleBit,
  equalBits,
  type Bits,
} from './bits.js';
import type { Incompatibility, Term } from './incompatibility.js';
import { ROOT, type Model } from './model.js';

interface Assignment {
  readonly name: number;
  /** The assignment's own term (for a decision, a single candidate). */
  readonly bits: Bits;
  /** The name's candidate set after this assignment. */
  readonly after: Bits;
  /** `after` as a word, for a name whose sets fit one (0 otherwise). */
  readonly word: number;
  /** The decision level it belongs to: it is undone when the solver goes back below it. */
  readonly level: number;
  /** The incompatibility that forced it; `undefined` for a decision. */
  readonly cause: Incompatibility | undefined;
  /** The number of `cause` in the solver's list (-1 for a decision). */
  readonly causeNumber: number;
  /** For a derivation, the highest level among what forced it (at most `level`). */
  readonly forcedAt: number;
  /** The previous assignment of the same name. */
  readonly previous: Assignment | undefined;
  /** Position in assignment order; the trail stays sorted by it. */
  readonly seq: number;
}

/** Thrown inside the solver when the root itself is shown impossible. */
export class SolveFailure {
  constructor(readonly incompatibility: Incompatibility) {}
}

/** The chosen candidate per name; -1 where the name is absent. */
export type Choice = Int32Array;

/**
 * How many levels a backjump may skip before the solver backtracks
 * chronologically instead. Small problems (the case files) rarely go back
 * that far, and there the solver backjumps as PubGrub does.
 */
const MAX_JUMP = 30;

/** `evaluate` results besides a derived name. */
const NONE = -1;
const CONFLICT = -2;

/** A growable list of 32-bit integers in one typed array. */
class IntList {
  data = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
}

export class PubGrubSolver {
  private readonly trail: Assignment[] = [];
  private readonly current: Bits[] = [];
  /** `current` as a word for names whose sets fit one (`narrow`); 0 for the others. */
  private currentWord = new Int32Array(1024);
  private narrow = new Uint8Array(1024);
  private readonly last: (Assignment | undefined)[] = [];
  /** Decided candidate, -1 when not decided, -2 when decided absent. */
  private readonly decided: number[] = [];
  /** Every incompatibility added, by number. */
  private readonly incompatibilities: Incompatibility[] = [];
  /**
   * The terms of every incompatibility in flat lists, so that evaluating one
   * reads a few integers: its first term's position, its term count, and
   * per term the name and the set as a word (0 for a name that is not narrow).
   */
  private readonly termStart = new IntList();
  private readonly termCount = new IntList();
  private readonly termName = new IntList();
  private readonly termWord = new IntList();
  /**
   * Per name, the incompatibilities with a term on it, as pairs in one flat
   * list: the incompatibility's number and the term's word. Propagation
   * skips those whose term on the name does not hold without reading them.
   */
  private readonly watches: number[][] = [];
  /** Per name and candidate, whether the candidate has brought its incompatibilities. */
  private readonly added: (Uint8Array | undefined)[] = [];
  /** Whether every candidate of the name has brought them. */
  private readonly loaded: boolean[] = [];
  /**
   * Names that must be present and are not decided yet, bucketed by how many
   * candidates they have left (`frontier[count]`), so the next decision is
   * found without scanning every name.
   */
  private readonly frontier: Set<number>[] = [];
  /** The bucket each name is in, or -1. */
  private readonly bucket: number[] = [];
  /** Trail position of each level's decision (`decisionAt[level]`). */
  private readonly decisionAt: number[] = [0];
  /** Incompatibilities (numbers) to evaluate again: they forced derivations that backtracking removed though their reasons stayed. */
  private readonly reforce: number[] = [];
  /** Names waiting for propagation, and whether each is waiting. */
  private readonly queue: number[] = [];
  private readonly queued: boolean[] = [];
  private level = 0;
  private seq = 0;
  /** Counters for tests and benchmarks. */
  readonly stats = { decisions: 0, conflicts: 0, learned: 0 };

  constructor(private readonly model: Model) {}

  /** Solves, or throws `SolveFailure` with the incompatibility that proves there is no solution. */
  solve(): Choice {
    this.addAll(this.model.rootIncompatibilities());
    this.propagate(ROOT);
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
    const count = this.model.names.length;
    if (count > this.narrow.length) {
      const size = Math.max(count, this.narrow.length * 2);
      const word = new Int32Array(size);
      word.set(this.currentWord);
      this.currentWord = word;
      const narrow = new Uint8Array(size);
      narrow.set(this.narrow);
      this.narrow = narrow;
    }
    for (let name = this.current.length; name < count; name++) {
      const full = this.model.info(name).full;
      this.current.push(full);
      if (full.length === 1) {
        this.narrow[name] = 1;
        this.currentWord[name] = full[0] as number;
      }
      this.last.push(undefined);
      this.decided.push(-1);
      this.watches.push([]);
      this.added.push(undefined);
      this.loaded.push(false);
      this.bucket.push(-1);
      this.queued.push(false);
    }
  }

  /** Adds incompatibilities; returns the number of the first. */
  private addAll(list: readonly Incompatibility[]): number {
    this.ensure();
    const first = this.incompatibilities.length;
    for (const incompatibility of list) this.add(incompatibility);
    return first;
  }

  /** Adds an incompatibility; returns its number. */
  private add(incompatibility: Incompatibility): number {
    this.model.incompatibilities.push(incompatibility);
    const number = this.incompatibilities.length;
    this.incompatibilities.push(incompatibility);
    this.termStart.push(this.termName.length);
    this.termCount.push(incompatibility.terms.length);
    for (const term of incompatibility.terms) {
      const word = this.narrow[term.name] === 1 ? (term.bits[0] as number) | 0 : 0;
      this.termName.push(term.name);
      this.termWord.push(word);
      (this.watches[term.name] as number[]).push(number, word);
    }
    return number;
  }

  /** Adds the incompatibilities of every candidate of the name that has not brought them yet. */
  private load(name: number): void {
    const count = this.model.info(name).candidates.length;
    const bits = this.current[name] as Bits;
    let added = this.added[name];
    if (added === undefined) this.added[name] = added = new Uint8Array(count);
    let all = true;
    for (let candidate = 0; candidate < count; candidate++) {
      if (added[candidate] !== 0) continue;
      // A candidate ruled out now brings nothing its own term could use; it is added if backtracking allows it again.
      if (!hasBit(bits, candidate)) {
        all = false;
        continue;
      }
      added[candidate] = 1;
      this.addAll(this.model.candidateIncompatibilities(name, candidate));
    }
    this.loaded[name] = all;
  }

  private decide(name: number, candidate: number): void {
    const info = this.model.info(name);
    if (candidate < info.candidates.length) {
      let added = this.added[name];
      if (added === undefined) this.added[name] = added = new Uint8Array(info.candidates.length);
      if (added[candidate] === 0) {
        added[candidate] = 1;
        const list = this.model.candidateIncompatibilities(name, candidate);
        const first = this.addAll(list);
        // As PubGrub does: a candidate whose own incompatibilities already hold apart from itself is not decided;
        // propagation rules it out instead of backtracking later.
        if (list.some((incompatibility) => this.holdsExcept(incompatibility, name))) {
          this.propagate(name, first);
          return;
        }
      }
    }
    this.stats.decisions++;
    this.level++;
    this.decisionAt[this.level] = this.trail.length;
    this.assign(name, singleBit(info.slots, candidate), undefined, -1, this.level);
    this.propagate(name);
  }

  /** Records an assignment; its level is raised to the name's latest so that each name's assignments stay sorted by level. */
  private assign(
    name: number,
    bits: Bits,
    cause: Incompatibility | undefined,
    causeNumber: number,
    level: number,
  ): void {
    const previous = this.last[name];
    const forcedAt = level;
    if (previous !== undefined && previous.level > level) level = previous.level;
    const after = and(this.current[name] as Bits, bits);
    const word = this.narrow[name] === 1 ? (after[0] as number) | 0 : 0;
    const assignment: Assignment = {
      name,
      bits,
      after,
      word,
      level,
      cause,
      causeNumber,
      forcedAt,
      previous,
      seq: this.seq++,
    };
    this.trail.push(assignment);
    this.last[name] = assignment;
    this.current[name] = after;
    this.currentWord[name] = word;
    if (cause === undefined) {
      const slots = this.model.info(name).slots;
      const chosen = firstBit(bits);
      this.decided[name] = chosen === slots - 1 ? -2 : chosen;
    }
    this.updateFrontier(name);
  }

  private updateFrontier(name: number): void {
    const info = this.model.info(name);
    const bits = this.current[name] as Bits;
    const wanted = this.decided[name] === -1 && !hasBit(bits, info.slots - 1) ? countBits(bits) : -1;
    const now = this.bucket[name] as number;
    if (wanted === now) return;
    if (now >= 0) this.frontier[now]?.delete(name);
    if (wanted >= 0) {
      while (this.frontier.length <= wanted) this.frontier.push(new Set());
      this.frontier[wanted]?.add(name);
    }
    this.bucket[name] = wanted;
  }

  private enqueue(name: number): void {
    if (this.queued[name] === true) return;
    this.queued[name] = true;
    this.queue.push(name);
  }

  private clearQueue(): void {
    for (const name of this.queue) this.queued[name] = false;
    this.queue.length = 0;
  }

  /**
   * Unit propagation from a name that changed. Incompatibilities numbered
   * from `fresh` on were just added: they are evaluated whatever their
   * terms, as they may be unit already.
   */
  private propagate(start: number, fresh = this.incompatibilities.length): void {
    for (let number = fresh, end = this.incompatibilities.length; number < end; number++)
      if (!this.check(number)) break;
    this.enqueue(start);
    for (;;) {
      if (this.reforce.length > 0) {
        this.check(this.reforce.pop() as number);
        continue;
      }
      if (this.queue.length === 0) break;
      const name = this.queue.pop() as number;
      this.queued[name] = false;
      let from = Infinity;
      if (this.loaded[name] === false && !hasBit(this.current[name] as Bits, this.model.info(name).slots - 1)) {
        // A name that must be present brings its candidates' incompatibilities now (see the top of the file).
        from = (this.watches[name] as number[]).length;
        this.load(name);
      }
      // Only a term that has just become satisfied can make an incompatibility unit or broken (new ones excepted).
      const narrow = this.narrow[name] === 1;
      const word = this.currentWord[name] as number;
      const watches = this.watches[name] as number[];
      for (let i = watches.length - 2; i >= 0; i -= 2) {
        if (
          i < from &&
          (narrow ? (word & ~(watches[i + 1] as number)) !== 0 : !this.termHolds(watches[i] as number, name))
        )
          continue;
        if (!this.check(watches[i] as number)) break;
      }
    }
  }

  /** Whether the incompatibility's term on the name holds. */
  private termHolds(number: number, name: number): boolean {
    const bits = this.current[name] as Bits;
    for (const term of (this.incompatibilities[number] as Incompatibility).terms)
      if (term.name === name) return isSubset(bits, term.bits);
    return false;
  }

  /**
   * Evaluates one incompatibility: queues the name it derives, or resolves
   * the conflict it shows and queues what the learned incompatibility
   * derives. False after a conflict (the partial solution changed under the caller).
   */
  private check(number: number): boolean {
    const result = this.evaluate(number);
    if (result === NONE) return true;
    if (result !== CONFLICT) {
      this.enqueue(result);
      return true;
    }
    this.stats.conflicts++;
    const learned = this.resolveConflict(number);
    this.clearQueue();
    const derived = this.evaluate(learned);
    if (derived < 0)
      throw new Error('Assertion failed: a learned incompatibility does not propagate after backtracking');
    this.enqueue(derived);
    return false;
  }

  /** CONFLICT when every term holds; the name derived when all but one hold (after deriving it); NONE otherwise. */
  private evaluate(number: number): number {
    const start = this.termStart.data[number] as number;
    const end = start + (this.termCount.data[number] as number);
    const names = this.termName.data;
    const words = this.termWord.data;
    let unsatisfied = -1;
    for (let at = start; at < end; at++) {
      const name = names[at] as number;
      let subset: boolean;
      let disjoint: boolean;
      if (this.narrow[name] === 1) {
        const word = this.currentWord[name] as number;
        const termWord = words[at] as number;
        subset = (word & ~termWord) === 0;
        disjoint = (word & termWord) === 0;
      } else {
        const bits = this.current[name] as Bits;
        const termBits = ((this.incompatibilities[number] as Incompatibility).terms[at - start] as Term).bits;
        subset = isSubset(bits, termBits);
        disjoint = isDisjoint(bits, termBits);
      }
      if (subset) continue;
      if (disjoint || unsatisfied >= 0) return NONE;
      unsatisfied = at;
    }
    if (unsatisfied < 0) return CONFLICT;
    const incompatibility = this.incompatibilities[number] as Incompatibility;
    let level = 0;
    for (let at = start; at < end; at++) {
      if (at === unsatisfied) continue;
      const name = names[at] as number;
      const satisfier =
        this.narrow[name] === 1
          ? this.wordSatisfier(name, words[at] as number)
          : this.satisfier(name, (incompatibility.terms[at - start] as Term).bits);
      if (satisfier !== undefined && satisfier.level > level) level = satisfier.level;
    }
    const term = incompatibility.terms[unsatisfied - start] as Term;
    this.assign(term.name, not(term.bits, this.model.info(term.name).full), incompatibility, number, level);
    return term.name;
  }

  /** Whether every term of the incompatibility but those on `name` is satisfied. */
  private holdsExcept(incompatibility: Incompatibility, name: number): boolean {
    return incompatibility.terms.every(
      (term) => term.name === name || isSubset(this.current[term.name] as Bits, term.bits),
    );
  }

  /** The earliest assignment after which the name's set lies within `bits`; `undefined` if none. */
  private satisfier(name: number, bits: Bits): Assignment | undefined {
    if (this.narrow[name] === 1) return this.wordSatisfier(name, (bits[0] as number) | 0);
    let found: Assignment | undefined;
    for (let at = this.last[name]; at !== undefined && isSubset(at.after, bits); at = at.previous) found = at;
    return found;
  }

  /** `satisfier` for a narrow name, with the term's set as a word. */
  private wordSatisfier(name: number, termWord: number): Assignment | undefined {
    let found: Assignment | undefined;
    for (let at = this.last[name]; at !== undefined && (at.word & ~termWord) === 0; at = at.previous) found = at;
    return found;
  }

  /** Resolves a conflict and backtracks; returns the number of the incompatibility learned (or of the conflict itself). */
  private resolveConflict(conflictNumber: number): number {
    const conflict = this.incompatibilities[conflictNumber] as Incompatibility;
    let incompatibility = conflict;
    for (;;) {
      if (isFailure(incompatibility)) throw new SolveFailure(incompatibility);
      // The conflict's level: the highest level among its satisfiers. Levels above it played no part.
      // (A term with no satisfier holds from the start: the name has no candidate it excludes.)
      let conflictLevel = 0;
      for (const term of incompatibility.terms) {
        const at = this.satisfier(term.name, term.bits);
        if (at !== undefined && at.level > conflictLevel) conflictLevel = at.level;
      }
      if (conflictLevel < this.level) this.backtrack(conflictLevel);
      // The latest satisfier at that level is resolved away, until it is the only one left at that level.
      let latest: Assignment | undefined;
      let latestTerm: Term | undefined;
      let previousLevel = 0;
      for (const term of incompatibility.terms) {
        const at = this.satisfier(term.name, term.bits);
        if (at === undefined) continue;
        if (at.level === conflictLevel && (latest === undefined || at.seq > latest.seq)) {
          if (latest !== undefined) previousLevel = Math.max(previousLevel, latest.level);
          latest = at;
          latestTerm = term;
        } else {
          previousLevel = Math.max(previousLevel, at.level);
        }
      }
      if (latest === undefined || latestTerm === undefined)
        throw new Error('Assertion failed: a conflict with no satisfier');
      if (!isSubset(latest.bits, latestTerm.bits)) {
        // The satisfier needed earlier assignments of the same name: the earliest of them that suffices counts too.
        let found: Assignment | undefined;
        for (
          let at = latest.previous;
          at !== undefined && isSubset(and(at.after, latest.bits), latestTerm.bits);
          at = at.previous
        )
          found = at;
        if (found !== undefined) previousLevel = Math.max(previousLevel, found.level);
      }
      if (latest.cause === undefined || previousLevel < conflictLevel) {
        let number = conflictNumber;
        if (incompatibility !== conflict) {
          number = this.add(incompatibility);
          this.stats.learned++;
        }
        this.backtrack(conflictLevel - previousLevel > MAX_JUMP ? conflictLevel - 1 : previousLevel);
        return number;
      }
      incompatibility = this.resolve(incompatibility, latest.cause, latestTerm.name);
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

  /**
   * Undoes every assignment above `level`. They all come after that level's
   * next decision; assignments of lower levels among them stay, in order.
   */
  private backtrack(level: number): void {
    if (level >= this.level) return;
    const start = this.decisionAt[level + 1] as number;
    const kept: Assignment[] = [];
    for (let i = this.trail.length - 1; i >= start; i--) {
      const top = this.trail[i] as Assignment;
      if (top.level <= level) {
        kept.push(top);
        continue;
      }
      // A derivation raised above what forced it is lost with the level it was raised to; what forced it still holds.
      if (top.cause !== undefined && top.forcedAt <= level) this.reforce.push(top.causeNumber);
      const previous = top.previous;
      this.last[top.name] = previous;
      const bits = previous === undefined ? this.model.info(top.name).full : previous.after;
      this.current[top.name] = bits;
      this.currentWord[top.name] = this.narrow[top.name] === 1 ? (bits[0] as number) | 0 : 0;
      if (top.cause === undefined) this.decided[top.name] = -1;
      this.updateFrontier(top.name);
    }
    this.trail.length = start;
    for (let i = kept.length - 1; i >= 0; i--) this.trail.push(kept[i] as Assignment);
    this.decisionAt.length = level + 1;
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
    for (const incompatibility of this.incompatibilities) {
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
        if (decided === -1 && undecided === undefined && countBits(this.current[term.name] as Bits) > 1)
          undecided = term.name;
      }
      if (broken) {
        if (undecided === undefined)
          throw new Error('Assertion failed: the partial solution breaks an incompatibility');
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
