import { scrypt } from 'node:crypto';

import { KilnError } from '../errors/index.js';
import { pickScryptParams } from './pickScryptParams.js';

/** Minisign's default key derivation limits (libsodium's `..._SENSITIVE`): N = 2^20, r = 8, p = 1, 1 GiB. */
export const DEFAULT_KDF_LIMITS: KdfLimits = { opslimit: 33554432n, memlimit: 1073741824n };

/** The most memory a key file may make Kiln spend on scrypt: twice minisign's default. */
export const MAX_SCRYPT_MEMORY = 2 * 1024 * 1024 * 1024;
/** The most work (N·r·p) a key file may ask for: 16 times minisign's default. */
export const MAX_SCRYPT_WORK = 2 ** 27;

/**
 * Libsodium's scrypt limits as stored in a minisign secret key.
 *
 * @example
 * const fast: KdfLimits = { opslimit: 1000n, memlimit: 1n << 30n }; // N=2^10, for tests only
 */
export interface KdfLimits {
  readonly opslimit: bigint;
  readonly memlimit: bigint;
}

/**
 * The scrypt output minisign XORs over a secret key (libsodium's
 * `crypto_pwhash_scryptsalsa208sha256`). A key file comes from outside, and its
 * limits must not make Kiln allocate or compute without bound: limits beyond
 * MAX_SCRYPT_MEMORY or MAX_SCRYPT_WORK are E_KEY_FORMAT, whose message starts
 * `cannot <action>:`.
 *
 * @example
 * const stream = await deriveKeyStream('pw', salt, DEFAULT_KDF_LIMITS, 104, 'decrypt secret key kiln.key');
 */
export async function deriveKeyStream(
  password: string,
  salt: Uint8Array,
  limits: KdfLimits,
  length: number,
  action: string,
): Promise<Buffer> {
  const { log2N, r, p } = pickScryptParams(limits.opslimit, limits.memlimit);
  const N = 2 ** log2N;
  // OpenSSL's own bound on the memory scrypt uses: 128·r·(N + 2) for V plus 128·r·p for B.
  const memory = 128 * r * (N + 2 + p);
  const kdf = `scrypt N=2^${log2N}, r=${r}, p=${p}`;
  const refuse = (state: string): KilnError =>
    new KilnError('E_KEY_FORMAT', `cannot ${action}: ${state}`, {
      hint: "the key file was altered or made by another tool; minisign's own keys use N=2^20, r=8, p=1",
    });
  if (memory > MAX_SCRYPT_MEMORY) {
    throw refuse(
      `its key derivation (${kdf}) needs ${formatBytes(memory)}, more than the ${formatBytes(MAX_SCRYPT_MEMORY)} Kiln allows`,
    );
  }
  if (p < 1 || N * r * p > MAX_SCRYPT_WORK) {
    throw refuse(`its key derivation (${kdf}) asks for more work than Kiln allows`);
  }
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(password, 'utf8'), salt, length, { N, r, p, maxmem: memory }, (error, key) => {
      if (error !== null) {
        reject(error);
      } else {
        resolve(key);
      }
    });
  });
}

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
