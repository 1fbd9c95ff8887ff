/**
 * Candidate sets as bitsets over a name's slots: one bit per candidate
 * (index 0 is the newest) and a last bit for "absent". Sets are immutable
 * once made; every operation returns a new one. All sets of one name have
 * the same length, so operations never mix sizes.
 */
export type Bits = Uint32Array;

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
  if (rest !== 0) bits[bits.length - 1] = (1 << rest) - 1 >>> 0;
  return bits;
}

export function singleBit(slots: number, index: number): Bits {
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
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) & (b[i] ?? 0);
  return out;
}

export function or(a: Bits, b: Bits): Bits {
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) | (b[i] ?? 0);
  return out;
}

/** The complement within `full` (the name's full set). */
export function not(a: Bits, full: Bits): Bits {
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = ~(a[i] ?? 0) & (full[i] ?? 0);
  return out;
}

export function isSubset(a: Bits, b: Bits): boolean {
  for (let i = 0; i < a.length; i++) if (((a[i] ?? 0) & ~(b[i] ?? 0)) !== 0) return false;
  return true;
}

export function isDisjoint(a: Bits, b: Bits): boolean {
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
