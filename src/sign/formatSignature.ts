import {
  commentProblem,
  MAX_TRUSTED_COMMENT_BYTES,
  MAX_UNTRUSTED_COMMENT_BYTES,
  TRUSTED_COMMENT_PREFIX,
  UNTRUSTED_COMMENT_PREFIX,
} from './commentProblem.js';
import type { Signature } from './types.js';

/**
 * A signature in minisign's signature file format (what `minisign -V` reads):
 *
 *     untrusted comment: <text>
 *     base64(algorithm || key number || signature)
 *     trusted comment: <text>
 *     base64(global signature)
 *
 * @example
 * await writeFile(`${path}.minisig`, formatSignature(signData(data, sk, { trustedComment: 'file:hello.txt' })));
 */
export function formatSignature(signature: Signature): string {
  const untrustedProblem = commentProblem(signature.untrustedComment, MAX_UNTRUSTED_COMMENT_BYTES);
  const trustedProblem = commentProblem(signature.trustedComment, MAX_TRUSTED_COMMENT_BYTES);
  if (untrustedProblem !== undefined || trustedProblem !== undefined) {
    throw new Error(`Assertion failed: a Signature holds valid comments (${untrustedProblem ?? trustedProblem})`);
  }
  if (
    signature.keyNumber.length !== 8 ||
    signature.signature.length !== 64 ||
    signature.globalSignature.length !== 64
  ) {
    throw new Error('Assertion failed: a Signature holds an 8-byte key number and 64-byte signatures');
  }
  const head = Buffer.concat([Buffer.from(signature.algorithm, 'latin1'), signature.keyNumber, signature.signature]);
  return (
    `${UNTRUSTED_COMMENT_PREFIX}${signature.untrustedComment}\n${head.toString('base64')}\n` +
    `${TRUSTED_COMMENT_PREFIX}${signature.trustedComment}\n${signature.globalSignature.toString('base64')}\n`
  );
}
