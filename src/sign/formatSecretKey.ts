import { randomBytes } from 'node:crypto';

import { UNTRUSTED_COMMENT_PREFIX } from './commentProblem.js';
import { DEFAULT_KDF_LIMITS, deriveKeyStream, type KdfLimits } from './deriveKeyStream.js';
import { KEY_ALGORITHM } from './formatPublicKey.js';
import {
  CHECKSUM_ALGORITHM,
  KDF_NONE,
  KDF_SCRYPT,
  KEYNUM_SK_BYTES,
  OFFSET,
  SECRET_KEY_BYTES,
  secretKeyChecksum,
} from './secretKeyLayout.js';
import type { SecretKey } from './types.js';

/**
 * Options for `formatSecretKey`.
 *
 * @example
 * const options: FormatSecretKeyOptions = { password: 'correct horse battery staple' };
 */
export interface FormatSecretKeyOptions {
  /**
   * Encrypt the key with this password (the empty string included, as minisign
   * allows); leave it out to write the key unencrypted.
   */
  password?: string | undefined;
  /**
   * Scrypt limits for encryption; minisign's default (1 GiB, a few seconds)
   * unless given. Only tests should make them smaller.
   */
  kdfLimits?: KdfLimits | undefined;
}

/**
 * A secret key in minisign's secret key file format, encrypted with scrypt
 * when a password is given. Minisign signs with either kind (it needs no `-W`
 * to read an unencrypted key).
 *
 * @example
 * const text = await formatSecretKey(sk, { password });
 * await writeFile('kiln.key', text, { mode: 0o600, flag: 'wx' });
 */
export async function formatSecretKey(secretKey: SecretKey, options: FormatSecretKeyOptions = {}): Promise<string> {
  const bytes = Buffer.alloc(SECRET_KEY_BYTES);
  const encrypted = options.password !== undefined;
  bytes.write(KEY_ALGORITHM, OFFSET.sigAlg, 'latin1');
  bytes.write(encrypted ? KDF_SCRYPT : KDF_NONE, OFFSET.kdfAlg, 'latin1');
  bytes.write(CHECKSUM_ALGORITHM, OFFSET.chkAlg, 'latin1');
  secretKey.keyNumber.copy(bytes, OFFSET.keyNumber);
  secretKey.seed.copy(bytes, OFFSET.seed);
  secretKey.publicKey.copy(bytes, OFFSET.publicKey);
  secretKeyChecksum(secretKey.keyNumber, secretKey.seed, secretKey.publicKey).copy(bytes, OFFSET.chk);
  if (options.password !== undefined) {
    const limits = options.kdfLimits ?? DEFAULT_KDF_LIMITS;
    const salt = randomBytes(32);
    salt.copy(bytes, OFFSET.salt);
    bytes.writeBigUInt64LE(limits.opslimit, OFFSET.opslimit);
    bytes.writeBigUInt64LE(limits.memlimit, OFFSET.memlimit);
    const stream = await deriveKeyStream(
      options.password,
      salt,
      limits,
      KEYNUM_SK_BYTES,
      `encrypt secret key ${secretKey.keyId}`,
    );
    for (let i = 0; i < KEYNUM_SK_BYTES; i++) {
      bytes[OFFSET.keynumSk + i]! ^= stream[i]!;
    }
    stream.fill(0);
  }
  const comment = encrypted ? 'kiln encrypted secret key' : 'kiln unencrypted secret key';
  const text = `${UNTRUSTED_COMMENT_PREFIX}${comment}\n${bytes.toString('base64')}\n`;
  bytes.fill(0);
  return text;
}
