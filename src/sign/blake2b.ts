/**
 * BLAKE2b (RFC 7693) with a variable output length and no key.
 *
 * Node's `crypto` only offers BLAKE2b-512, and BLAKE2b-256 is a different
 * function (the output length is mixed into the initial state), not a truncated
 * BLAKE2b-512. Minisign checksums secret keys with BLAKE2b-256, so Kiln needs
 * its own. Inputs here are a few hundred bytes at most; large data goes through
 * Node's `blake2b512` (see `createPrehash`).
 *
 * 64-bit words are held as pairs of 32-bit halves (low word first) because
 * plain numbers cannot hold them and BigInt is slow.
 */

const BLOCK_BYTES = 128;

/** The BLAKE2b initial vector (SHA-512's), as 32-bit halves, low word first. */
const IV = new Uint32Array([
  0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85, 0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a, 0xade682d1,
  0x510e527f, 0x2b3e6c1f, 0x9b05688c, 0xfb41bd6b, 0x1f83d9ab, 0x137e2179, 0x5be0cd19,
]);

/** Message word schedule for the 12 rounds (rounds 10 and 11 repeat 0 and 1). */
const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

/**
 * The BLAKE2b hash of `data`, `outputLength` bytes long (1 to 64).
 *
 * @example
 * blake2b(Buffer.from('abc'), 32).toString('hex');
 * // 'bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319'
 */
export function blake2b(data: Uint8Array, outputLength: number): Buffer {
  if (!Number.isInteger(outputLength) || outputLength < 1 || outputLength > 64) {
    throw new Error(`Assertion failed: BLAKE2b output length must be 1 to 64 bytes, got ${outputLength}`);
  }
  const h = new Uint32Array(IV);
  // Parameter block word 0: digest length, key length 0, fanout 1, depth 1.
  h[0] = h[0]! ^ (0x01010000 | outputLength);

  const v = new Uint32Array(32);
  const m = new Uint32Array(32);
  const block = new Uint8Array(BLOCK_BYTES);
  let offset = 0;
  // Every block but the last is compressed as it is; the last (possibly empty,
  // possibly full) is zero-padded and flagged final.
  while (data.length - offset > BLOCK_BYTES) {
    block.set(data.subarray(offset, offset + BLOCK_BYTES));
    offset += BLOCK_BYTES;
    compress(h, v, m, block, offset, false);
  }
  block.fill(0);
  block.set(data.subarray(offset));
  compress(h, v, m, block, data.length, true);

  const out = Buffer.alloc(64);
  for (let i = 0; i < 16; i++) {
    out.writeUInt32LE(h[i]!, i * 4);
  }
  return out.subarray(0, outputLength);
}

function compress(
  h: Uint32Array,
  v: Uint32Array,
  m: Uint32Array,
  block: Uint8Array,
  counter: number,
  last: boolean,
): void {
  for (let i = 0; i < 32; i++) {
    m[i] = block[i * 4]! | (block[i * 4 + 1]! << 8) | (block[i * 4 + 2]! << 16) | (block[i * 4 + 3]! << 24);
  }
  v.set(h, 0);
  v.set(IV, 16);
  // The byte counter is 128 bits; Kiln never hashes 2^53 bytes, so only the low 64 matter.
  v[24] = v[24]! ^ (counter >>> 0);
  v[25] = v[25]! ^ Math.floor(counter / 0x100000000);
  if (last) {
    v[28] = ~v[28]!;
    v[29] = ~v[29]!;
  }
  for (let round = 0; round < 12; round++) {
    const s = SIGMA[round % 10]!;
    mix(v, m, 0, 8, 16, 24, s[0]!, s[1]!);
    mix(v, m, 2, 10, 18, 26, s[2]!, s[3]!);
    mix(v, m, 4, 12, 20, 28, s[4]!, s[5]!);
    mix(v, m, 6, 14, 22, 30, s[6]!, s[7]!);
    mix(v, m, 0, 10, 20, 30, s[8]!, s[9]!);
    mix(v, m, 2, 12, 22, 24, s[10]!, s[11]!);
    mix(v, m, 4, 14, 16, 26, s[12]!, s[13]!);
    mix(v, m, 6, 8, 18, 28, s[14]!, s[15]!);
  }
  for (let i = 0; i < 16; i++) {
    h[i] = h[i]! ^ v[i]! ^ v[i + 16]!;
  }
}

/** `v[a] += v[b]` on 64-bit words stored as 32-bit halves at `a`, `a + 1`. */
function add(v: Uint32Array, a: number, b: number): void {
  addWord(v, a, v[b]!, v[b + 1]!);
}

function addWord(v: Uint32Array, a: number, low: number, high: number): void {
  const sumLow = v[a]! + low;
  v[a] = sumLow;
  v[a + 1] = v[a + 1]! + high + (sumLow >= 0x100000000 ? 1 : 0);
}

/** The G mixing function; `a`, `b`, `c`, `d` index low halves in `v`, `x`, `y` message words. */
function mix(v: Uint32Array, m: Uint32Array, a: number, b: number, c: number, d: number, x: number, y: number): void {
  add(v, a, b);
  addWord(v, a, m[x * 2]!, m[x * 2 + 1]!);
  // d = (d ^ a) >>> 32
  let low = v[d]! ^ v[a]!;
  let high = v[d + 1]! ^ v[a + 1]!;
  v[d] = high;
  v[d + 1] = low;
  add(v, c, d);
  // b = (b ^ c) >>> 24
  low = v[b]! ^ v[c]!;
  high = v[b + 1]! ^ v[c + 1]!;
  v[b] = (low >>> 24) | (high << 8);
  v[b + 1] = (high >>> 24) | (low << 8);
  add(v, a, b);
  addWord(v, a, m[y * 2]!, m[y * 2 + 1]!);
  // d = (d ^ a) >>> 16
  low = v[d]! ^ v[a]!;
  high = v[d + 1]! ^ v[a + 1]!;
  v[d] = (low >>> 16) | (high << 16);
  v[d + 1] = (high >>> 16) | (low << 16);
  add(v, c, d);
  // b = (b ^ c) >>> 63, that is a left rotation by 1
  low = v[b]! ^ v[c]!;
  high = v[b + 1]! ^ v[c + 1]!;
  v[b] = (high >>> 31) | (low << 1);
  v[b + 1] = (low >>> 31) | (high << 1);
}
