/**
 * Candidate sets as bitsets over a name's slots: one bit per candidate
 * (index 0 is the newest) and a last bit for "absent". Sets are immutable
 * once made: never write into one. All sets of one name have the same
 * length, so operations never mix sizes.
 *
 * Most names have few candidates, so their sets fit one 32-bit word. The
 * operations return a shared set for a one-word result of 16 bits or fewer
 * (`wordBits`) instead of allocating one: the solver makes millions of them.
 */
export type Bits = Uint32Array;

/** Shared one-word sets by value, for values below 2^16. */
const SHARED: (Bits | undefined)[] = [];
const SHARED_LIMIT = 0x10000;

/** The one-word set with this value (shared when small; callers never write into sets). */
export function wordBits(word: number): Bits {
  const value = word >>> 0;
  if (value >= SHARED_LIMIT) return Uint32Array.of(value);
  let bits = SHARED[value];
  if (bits === undefined) SHARED[value] = bits = Uint32Array.of(value);
  return bits;
}

export function wordsFor(slots: number): number {
  return (slots + 31) >>> 5;
}

export function emptyBits(slots: number): Bits {
  return new Uint32Array(wordsFor(slots));
}

export function fullBits(slots: number): Bits {
  const bits = new Uint32Array(wordsFor(slots));
  bits.fill(0xffffffff);
  const rest = slots & 31;
  if (rest !== 0) bits[bits.length - 1] = ((1 << rest) - 1) >>> 0;
  return bits;
}

export function singleBit(slots: number, index: number): Bits {
  if (slots <= 32) return wordBits(1 << index);
  const bits = emptyBits(slots);
  bits[index >>> 5] = (1 << (index & 31)) >>> 0;
  return bits;
}

export function hasBit(bits: Bits, index: number): boolean {
  return ((bits[index >>> 5] ?? 0) & (1 << (index & 31))) !== 0;
}

export function withBit(bits: Bits, index: number): Bits {
  const out = bits.slice();
  out[index >>> 5] = ((out[index >>> 5] ?? 0) | (1 << (index & 31))) >>> 0;
  return out;
}

export function and(a: Bits, b: Bits): Bits {
  if (a.length === 1) return wordBits((a[0] as number) & (b[0] as number));
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) & (b[i] ?? 0);
  return out;
}

export function or(a: Bits, b: Bits): Bits {
  if (a.length === 1) return wordBits((a[0] as number) | (b[0] as number));
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) | (b[i] ?? 0);
  return out;
}

/** The complement within `full` (the name's full set). */
export function not(a: Bits, full: Bits): Bits {
  if (a.length === 1) return wordBits(~(a[0] as number) & (full[0] as number));
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = ~(a[i] ?? 0) & (full[i] ?? 0);
  return out;
}

export function isSubset(a: Bits, b: Bits): boolean {
  if (a.length === 1) return ((a[0] as number) & ~(b[0] as number)) === 0;
  for (let i = 0; i < a.length; i++) if (((a[i] ?? 0) & ~(b[i] ?? 0)) !== 0) return false;
  return true;
}

export function isDisjoint(a: Bits, b: Bits): boolean {
  if (a.length === 1) return ((a[0] as number) & (b[0] as number)) === 0;
  for (let i = 0; i < a.length; i++) if (((a[i] ?? 0) & (b[i] ?? 0)) !== 0) return false;
  return true;
}

export function isEmpty(a: Bits): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i] ?? 0) !== 0) return false;
  return true;
}

export function equalBits(a: Bits, b: Bits): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function countBits(a: Bits): number {
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    let w = a[i] ?? 0;
    while (w !== 0) {
      w &= w - 1;
      count++;
    }
  }
  return count;
}

/** The set bits in ascending order (newest candidate first). */
export function bitIndices(a: Bits): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    let w = a[i] ?? 0;
    while (w !== 0) {
      const low = w & -w;
      out.push(i * 32 + 31 - Math.clz32(low));
      w = (w ^ low) >>> 0;
    }
  }
  return out;
}

/** The lowest set bit (the newest candidate), or -1. */
export function firstBit(a: Bits): number {
  for (let i = 0; i < a.length; i++) {
    const w = a[i] ?? 0;
    if (w !== 0) return i * 32 + 31 - Math.clz32(w & -w);
  }
  return -1;
}

/** A map key for a set. */
export function bitsKey(a: Bits): string {
  return Array.from(a, (w) => w.toString(36)).join(',');
}
