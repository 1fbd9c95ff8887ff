/**
 * Ed25519 on raw 32-byte seeds and public keys, through Node's `crypto`.
 * Node takes raw Ed25519 keys only as JWK, so keys are imported that way.
 * OpenSSL derives the public half from the seed on import, so the `x` given
 * with a private key does not matter.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Importing a key costs more than signing or verifying with it, and a
 * repository signs and checks thousands of packages with one key: keep the
 * few KeyObjects in use (keys already live in memory as bytes anyway).
 */
const MAX_CACHED_KEYS = 32;
const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject>();

function cached(cache: Map<string, KeyObject>, id: string, make: () => KeyObject): KeyObject {
  let key = cache.get(id);
  if (key === undefined) {
    if (cache.size >= MAX_CACHED_KEYS) cache.delete(cache.keys().next().value as string);
    key = make();
    cache.set(id, key);
  }
  return key;
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) {
    throw new Error(`Assertion failed: an Ed25519 seed is 32 bytes, got ${seed.length}`);
  }
  const d = Buffer.from(seed).toString('base64url');
  return cached(privateKeys, d, () =>
    createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x: d }, format: 'jwk' }),
  );
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32) {
    throw new Error(`Assertion failed: an Ed25519 public key is 32 bytes, got ${publicKey.length}`);
  }
  const x = Buffer.from(publicKey).toString('base64url');
  return cached(publicKeys, x, () => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
}

/**
 * The 32-byte public key of a 32-byte seed.
 *
 * @example
 * const publicKey = ed25519PublicKey(randomBytes(32));
 */
export function ed25519PublicKey(seed: Uint8Array): Buffer {
  const jwk = createPublicKey(privateKeyObject(seed)).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') {
    throw new Error('Assertion failed: an exported Ed25519 JWK has an "x"');
  }
  return Buffer.from(jwk.x, 'base64url');
}

/**
 * The 64-byte Ed25519 signature of `data` by the key with this seed.
 *
 * @example
 * const sig = ed25519Sign(seed, Buffer.from('hello'));
 */
export function ed25519Sign(seed: Uint8Array, data: Uint8Array): Buffer {
  return sign(null, data, privateKeyObject(seed));
}

/**
 * Whether `signature` is a valid Ed25519 signature of `data` by `publicKey`.
 *
 * @example
 * ed25519Verify(ed25519PublicKey(seed), data, ed25519Sign(seed, data)); // true
 */
export function ed25519Verify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  return signature.length === 64 && verify(null, data, publicKeyObject(publicKey), signature);
}
