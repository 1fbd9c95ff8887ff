/**
 * The byte layout of a minisign secret key (the base64 line of the file):
 *
 *     sig_alg "Ed" | kdf_alg "Sc" or 0 0 | chk_alg "B2" | kdf_salt (32)
 *     | kdf_opslimit u64le | kdf_memlimit u64le
 *     | keynum_sk = key number (8) | sk (64: seed (32) | public key (32)) | chk (32)
 *
 * `chk` is BLAKE2b-256 of `sig_alg || key number || sk`. When the key is
 * encrypted, all of `keynum_sk` is XORed with 104 bytes of scrypt output, so a
 * wrong password shows as a wrong `chk`.
 */
import { blake2b } from './blake2b.js';
import { KEY_ALGORITHM } from './formatPublicKey.js';

export const SECRET_KEY_BYTES = 158;
export const KDF_SCRYPT = 'Sc';
export const KDF_NONE = '\0\0';
export const CHECKSUM_ALGORITHM = 'B2';

export const OFFSET = {
  sigAlg: 0,
  kdfAlg: 2,
  chkAlg: 4,
  salt: 6,
  opslimit: 38,
  memlimit: 46,
  keynumSk: 54,
  keyNumber: 54,
  seed: 62,
  publicKey: 94,
  chk: 126,
} as const;
export const KEYNUM_SK_BYTES = SECRET_KEY_BYTES - OFFSET.keynumSk;

/**
 * The checksum minisign stores with a secret key.
 *
 * @example
 * const chk = secretKeyChecksum(sk.keyNumber, sk.seed, sk.publicKey); // 32 bytes
 */
export function secretKeyChecksum(keyNumber: Uint8Array, seed: Uint8Array, publicKey: Uint8Array): Buffer {
  return blake2b(Buffer.concat([Buffer.from(KEY_ALGORITHM, 'latin1'), keyNumber, seed, publicKey]), 32);
}
