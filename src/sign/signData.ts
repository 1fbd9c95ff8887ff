import { KilnError } from '../errors/index.js';
import { commentProblem, MAX_TRUSTED_COMMENT_BYTES, MAX_UNTRUSTED_COMMENT_BYTES } from './commentProblem.js';
import { createPrehash } from './createPrehash.js';
import { ed25519Sign } from './ed25519.js';
import type { SecretKey, Signature, SignOptions } from './types.js';

/** The untrusted comment of Kiln's signatures unless another is given. */
export const DEFAULT_UNTRUSTED_COMMENT = 'signature from kiln secret key';

/**
 * Signs `data` the way `minisign -S` does by default: Ed25519 over the
 * BLAKE2b-512 prehash of the data (algorithm `ED`), plus the global signature
 * over the signature and the trusted comment. Throws E_SIGNATURE_FORMAT when a
 * comment is not a single line minisign can read.
 *
 * @example
 * const sig = signData(Buffer.from('hello\n'), sk, { trustedComment: 'file:hello.txt' });
 * await writeFile('hello.txt.minisig', formatSignature(sig));
 */
export function signData(data: Uint8Array, secretKey: SecretKey, options: SignOptions): Signature {
  return signPrehashed(createPrehash().update(data).digest(), secretKey, options);
}

/**
 * Like `signData`, given the BLAKE2b-512 digest of the data (from
 * `createPrehash`) instead of the data, so large inputs can be hashed as a
 * stream.
 *
 * @example
 * const prehash = createPrehash();
 * for await (const chunk of createReadStream(path)) prehash.update(chunk);
 * const sig = signPrehashed(prehash.digest(), sk, { trustedComment: 'file:big.tar' });
 */
export function signPrehashed(digest: Uint8Array, secretKey: SecretKey, options: SignOptions): Signature {
  if (digest.length !== 64) {
    throw new Error(`Assertion failed: a BLAKE2b-512 digest is 64 bytes, got ${digest.length}`);
  }
  const untrustedComment = options.untrustedComment ?? DEFAULT_UNTRUSTED_COMMENT;
  const { trustedComment } = options;
  const hint =
    'a comment is a single line of text; the trusted one at most ' +
    `${MAX_TRUSTED_COMMENT_BYTES} bytes, the untrusted one at most ${MAX_UNTRUSTED_COMMENT_BYTES}`;
  const trustedProblem = commentProblem(trustedComment, MAX_TRUSTED_COMMENT_BYTES);
  if (trustedProblem !== undefined) {
    throw new KilnError(
      'E_SIGNATURE_FORMAT',
      `cannot sign with key ${secretKey.keyId}: the trusted comment is not valid: ${trustedProblem}`,
      { hint },
    );
  }
  const untrustedProblem = commentProblem(untrustedComment, MAX_UNTRUSTED_COMMENT_BYTES);
  if (untrustedProblem !== undefined) {
    throw new KilnError(
      'E_SIGNATURE_FORMAT',
      `cannot sign with key ${secretKey.keyId}: the untrusted comment is not valid: ${untrustedProblem}`,
      { hint },
    );
  }
  const signature = ed25519Sign(secretKey.seed, digest);
  const globalSignature = ed25519Sign(secretKey.seed, Buffer.concat([signature, Buffer.from(trustedComment, 'utf8')]));
  return {
    algorithm: 'ED',
    keyId: secretKey.keyId,
    keyNumber: Buffer.from(secretKey.keyNumber),
    signature,
    untrustedComment,
    trustedComment,
    globalSignature,
  };
}
