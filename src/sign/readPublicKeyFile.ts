import { parsePublicKey } from './parsePublicKey.js';
import { readTextFile } from './readTextFile.js';
import type { PublicKey } from './types.js';

/**
 * Reads a minisign public key file. E_IO when it cannot be read, E_KEY_FORMAT
 * when it is not a public key.
 *
 * @example
 * const trusted = [await readPublicKeyFile('/etc/kiln/keys/release.pub')];
 */
export async function readPublicKeyFile(path: string): Promise<PublicKey> {
  return parsePublicKey(await readTextFile(path, 'public key', 'E_KEY_FORMAT'), path);
}
