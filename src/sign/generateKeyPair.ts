import { randomBytes } from 'node:crypto';

import { ed25519PublicKey } from './ed25519.js';
import { formatKeyId } from './formatKeyId.js';
import type { PublicKey, SecretKey } from './types.js';

/**
 * A new key pair with a random key number and a random seed.
 *
 * @example
 * const sk = generateKeyPair();
 * await writeFile('kiln.pub', formatPublicKey(publicKeyOf(sk)));
 */
export function generateKeyPair(): SecretKey {
  return secretKeyFrom(randomBytes(8), randomBytes(32));
}

/**
 * The public half of a key pair, without the seed.
 *
 * @example
 * const pk = publicKeyOf(generateKeyPair());
 */
export function publicKeyOf(secretKey: SecretKey): PublicKey {
  return { keyId: secretKey.keyId, keyNumber: secretKey.keyNumber, publicKey: secretKey.publicKey };
}

/**
 * The key pair with this key number and seed (the public key is derived).
 *
 * @example
 * const sk = secretKeyFrom(keyNumber, seed);
 */
export function secretKeyFrom(keyNumber: Uint8Array, seed: Uint8Array): SecretKey {
  return {
    keyId: formatKeyId(keyNumber),
    keyNumber: Buffer.from(keyNumber),
    publicKey: ed25519PublicKey(seed),
    seed: Buffer.from(seed),
  };
}
