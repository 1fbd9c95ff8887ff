/**
 * Scrypt parameters from libsodium-style limits.
 *
 * Minisign stores `opslimit` and `memlimit` in a secret key, not scrypt's
 * N, r and p; libsodium's `crypto_pwhash_scryptsalsa208sha256` turns them into
 * N, r, p with its private `pickparams`, which this follows exactly (in u64
 * arithmetic, hence BigInt).
 */

/**
 * Scrypt's cost parameters: N = 2^log2N, block size r, parallelism p.
 *
 * @example
 * const { log2N, r, p }: ScryptParams = pickScryptParams(opslimit, memlimit);
 */
export interface ScryptParams {
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * The scrypt parameters libsodium uses for these limits.
 *
 * @example
 * pickScryptParams(33554432n, 1073741824n); // { log2N: 20, r: 8, p: 1 }, minisign's default
 */
export function pickScryptParams(opslimit: bigint, memlimit: bigint): ScryptParams {
  const ops = opslimit < 32768n ? 32768n : opslimit;
  const r = 8n;
  if (ops < memlimit / 32n) {
    return { log2N: smallestLog2Above(ops / (r * 4n) / 2n), r: Number(r), p: 1 };
  }
  const log2N = smallestLog2Above(memlimit / (r * 128n) / 2n);
  let maxrp = ops / 4n / (1n << BigInt(log2N));
  if (maxrp > 0x3fffffffn) {
    maxrp = 0x3fffffffn;
  }
  return { log2N, r: Number(r), p: Number(maxrp / r) };
}

/** The smallest n in 1..62 with 2^n > limit, or 63 when there is none (as libsodium's loop ends). */
function smallestLog2Above(limit: bigint): number {
  let n = 1;
  while (n < 63 && 1n << BigInt(n) <= limit) {
    n++;
  }
  return n;
}
