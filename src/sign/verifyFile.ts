import { parseSignature } from './parseSignature.js';
import { readLegacySignedFile } from './readLegacySignedFile.js';
import { readTextFile } from './readTextFile.js';
import { prehashFile } from './signFile.js';
import type { PublicKey, Signature } from './types.js';
import { candidateKeys, verifyData, verifyPrehashed } from './verifyData.js';

/**
 * What `verifyFile` found: the signature and the trusted key that made it.
 *
 * @example
 * const { signature, publicKey }: VerifiedFile = await verifyFile(path, `${path}.minisig`, trusted);
 */
export interface VerifiedFile {
  readonly signature: Signature;
  readonly publicKey: PublicKey;
}

/**
 * Checks the minisign signature at `signaturePath` for the file at `path`
 * against the `trusted` keys. Returns the signature (for its trusted comment)
 * and the key that made it.
 *
 * Both algorithms are accepted, as `minisign -V` accepts them: a prehashed
 * (`ED`) signature is checked over the file read as a stream, so the file is
 * never held in memory whole; a legacy (`Ed`) signature signs the file itself
 * and is checked over the file read whole, which minisign limits to 1 GiB
 * (see `readLegacySignedFile`). E_IO when a file cannot be read,
 * E_SIGNATURE_FORMAT for a malformed signature, E_SIGNATURE_UNTRUSTED and
 * E_SIGNATURE_INVALID as `verifyData`.
 *
 * @example
 * const { signature, publicKey } = await verifyFile('hello.tar', 'hello.tar.minisig', trusted);
 * console.log(`signed by ${publicKey.keyId}: ${signature.trustedComment}`);
 */
export async function verifyFile(
  path: string,
  signaturePath: string,
  trusted: readonly PublicKey[],
): Promise<VerifiedFile> {
  const signature = parseSignature(await readTextFile(signaturePath, 'signature', 'E_SIGNATURE_FORMAT'), signaturePath);
  const options = { source: `${signaturePath} for ${path}` };
  // Refuse an untrusted signature before reading what may be a large file.
  candidateKeys(signature, trusted, options);
  const publicKey =
    signature.algorithm === 'ED'
      ? verifyPrehashed(await prehashFile(path), signature, trusted, options)
      : verifyData(await readLegacySignedFile(path, signature, options.source), signature, trusted, options);
  return { signature, publicKey };
}
