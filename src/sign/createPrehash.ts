import { createHash, type Hash } from 'node:crypto';

/**
 * An incremental BLAKE2b-512 hash, the prehash that `ED` signatures sign.
 * Feed it the data in pieces, then pass `digest()` to `signPrehashed` or
 * `verifyPrehashed`.
 *
 * @example
 * const prehash = createPrehash();
 * for await (const chunk of createReadStream(path)) prehash.update(chunk);
 * const sig = signPrehashed(prehash.digest(), sk, { trustedComment: 'file:big.tar' });
 */
export function createPrehash(): Hash {
  return createHash('blake2b512');
}
