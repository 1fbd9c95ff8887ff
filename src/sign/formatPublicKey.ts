import { UNTRUSTED_COMMENT_PREFIX } from './commentProblem.js';
import type { PublicKey } from './types.js';

/** The signature algorithm bytes of minisign keys: Ed25519. */
export const KEY_ALGORITHM = 'Ed';

/**
 * A public key in minisign's public key file format: a comment line naming the
 * key id, then base64 of `"Ed" || key number || public key`.
 *
 * @example
 * await writeFile('kiln.pub', formatPublicKey(publicKeyOf(sk)));
 * // untrusted comment: minisign public key 6744BF67204979A5
 * // RWSleUkgZ79EZ9gYe4MhQCs1hFE7ezzPySSebOOdiszu6CDYAIDyVlBZ
 */
export function formatPublicKey(publicKey: PublicKey): string {
  return `${UNTRUSTED_COMMENT_PREFIX}minisign public key ${publicKey.keyId}\n${encodePublicKey(publicKey)}\n`;
}

/**
 * The base64 line of a public key alone, as `minisign -P` takes it.
 *
 * @example
 * execFile('minisign', ['-Vm', file, '-P', encodePublicKey(pk)]);
 */
export function encodePublicKey(publicKey: PublicKey): string {
  return Buffer.concat([Buffer.from(KEY_ALGORITHM, 'latin1'), publicKey.keyNumber, publicKey.publicKey]).toString(
    'base64',
  );
}
