import { KilnError } from '../errors/index.js';
import { createPrehash } from './createPrehash.js';
import { ed25519Verify } from './ed25519.js';
import type { PublicKey, Signature } from './types.js';

/**
 * Options for `verifyData` and `verifyPrehashed`.
 *
 * @example
 * const options: VerifyOptions = { source: 'hello-1.0.kiln.minisig' };
 */
export interface VerifyOptions {
  /** What is being verified (the signature's path, a package name…), for error messages. */
  source: string;
}

/**
 * Checks that `signature` signs `data` and its trusted comment, by one of the
 * `trusted` keys, and returns that key. Both algorithms are accepted: `ED`
 * (prehashed, the default of minisign and Kiln) and legacy `Ed`.
 *
 * Throws E_SIGNATURE_UNTRUSTED when no trusted key has the signature's key
 * number, E_SIGNATURE_INVALID when the signature or the trusted comment's
 * signature does not verify.
 *
 * @example
 * const signer = verifyData(await readFile('hello.txt'), parseSignature(sigText, 'hello.txt.minisig'), [pk], {
 *   source: 'hello.txt.minisig',
 * });
 */
export function verifyData(
  data: Uint8Array,
  signature: Signature,
  trusted: readonly PublicKey[],
  options: VerifyOptions,
): PublicKey {
  const candidates = candidateKeys(signature, trusted, options);
  const message = signature.algorithm === 'ED' ? createPrehash().update(data).digest() : data;
  return verifyWith(message, signature, candidates, options.source);
}

/**
 * Like `verifyData`, given the BLAKE2b-512 digest of the data (from
 * `createPrehash`) instead of the data. A legacy `Ed` signature signs the data
 * itself and cannot be checked this way: that is E_SIGNATURE_FORMAT (a caller
 * that can read the data checks it with `verifyData`, as `verifyFile` does).
 *
 * @example
 * const prehash = createPrehash();
 * for await (const chunk of createReadStream(path)) prehash.update(chunk);
 * const signer = verifyPrehashed(prehash.digest(), sig, trusted, { source: `${path}.minisig` });
 */
export function verifyPrehashed(
  digest: Uint8Array,
  signature: Signature,
  trusted: readonly PublicKey[],
  options: VerifyOptions,
): PublicKey {
  if (digest.length !== 64) {
    throw new Error(`Assertion failed: a BLAKE2b-512 digest is 64 bytes, got ${digest.length}`);
  }
  const candidates = candidateKeys(signature, trusted, options);
  if (signature.algorithm === 'Ed') {
    throw new KilnError(
      'E_SIGNATURE_FORMAT',
      `cannot verify signature ${options.source}: it is a legacy minisign signature (algorithm "Ed"), which signs the whole data ` +
        'and cannot be checked from a prehash',
      {
        hint: 'sign the data again with Kiln, or with minisign without -l (prehashed signatures are its default)',
      },
    );
  }
  return verifyWith(digest, signature, candidates, options.source);
}

/**
 * The trusted keys that may have made `signature` (those with its key
 * number); E_SIGNATURE_UNTRUSTED when there are none. Lets a caller refuse an
 * untrusted signature before reading a large file.
 *
 * @example
 * candidateKeys(sig, trusted, { source }); // throws before the file is read
 */
export function candidateKeys(
  signature: Signature,
  trusted: readonly PublicKey[],
  options: VerifyOptions,
): PublicKey[] {
  const candidates = trusted.filter((key) => key.keyNumber.equals(signature.keyNumber));
  if (candidates.length === 0) {
    const known = trusted.length === 0 ? 'no key is trusted' : `trusted: ${trusted.map((key) => key.keyId).join(', ')}`;
    throw new KilnError(
      'E_SIGNATURE_UNTRUSTED',
      `cannot verify signature ${options.source}: it was made by key ${signature.keyId}, which is not trusted here (${known})`,
      {
        hint: `if you trust key ${signature.keyId}, add its public key to the trusted keys`,
      },
    );
  }
  return candidates;
}

function verifyWith(
  message: Uint8Array,
  signature: Signature,
  candidates: readonly PublicKey[],
  source: string,
): PublicKey {
  const signed = Buffer.concat([signature.signature, Buffer.from(signature.trustedComment, 'utf8')]);
  let dataMatched = false;
  for (const key of candidates) {
    if (ed25519Verify(key.publicKey, message, signature.signature)) {
      dataMatched = true;
      if (ed25519Verify(key.publicKey, signed, signature.globalSignature)) {
        return key;
      }
    }
  }
  if (dataMatched) {
    throw new KilnError(
      'E_SIGNATURE_INVALID',
      `cannot verify signature ${source} by key ${signature.keyId}: its trusted comment does not match its comment signature, so the comment may have been altered`,
      {
        hint: 'do not rely on this signature; fetch the signature again from a source you trust',
      },
    );
  }
  throw new KilnError(
    'E_SIGNATURE_INVALID',
    `cannot verify signature ${source} by key ${signature.keyId}: it does not match the data, which may have been altered or truncated`,
    {
      hint: 'do not use the data; fetch it and its signature again from a source you trust',
    },
  );
}
