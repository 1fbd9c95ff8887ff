import { parseSecretKey } from './parseSecretKey.js';
import { readTextFile } from './readTextFile.js';
import type { SecretKey } from './types.js';

/**
 * Options for `readSecretKeyFile`.
 *
 * @example
 * const options: ReadSecretKeyFileOptions = { password };
 */
export interface ReadSecretKeyFileOptions {
  /** The password of an encrypted key; ignored for an unencrypted one. */
  password?: string | undefined;
}

/**
 * Reads a minisign secret key file, decrypting it with `password` when it is
 * encrypted. E_IO when it cannot be read, E_KEY_PASSWORD when the password is
 * missing or wrong, E_KEY_FORMAT when it is not a secret key.
 *
 * @example
 * const sk = await readSecretKeyFile('kiln.key', { password: process.env.KILN_KEY_PASSWORD });
 */
export async function readSecretKeyFile(path: string, options: ReadSecretKeyFileOptions = {}): Promise<SecretKey> {
  const text = await readTextFile(path, 'secret key', 'E_KEY_FORMAT');
  return parseSecretKey(text, { password: options.password, source: path });
}
