import { parseSignature } from './parseSignature.js';
import { readTextFile } from './readTextFile.js';
import { prehashFile } from './signFile.js';
import type { PublicKey, Signature } from './types.js';
import { prehashedCandidates, verifyPrehashed } from './verifyData.js';

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
 * against the `trusted` keys, reading the file as a stream so it is never held
 * in memory whole. Returns the signature (for its trusted comment) and the key
 * that made it.
 *
 * Only prehashed (`ED`) signatures can be checked from a stream; a legacy `Ed`
 * signature is E_SIGNATURE_FORMAT (use `verifyData` on the data instead).
 * E_IO when a file cannot be read, E_SIGNATURE_FORMAT for a malformed
 * signature, E_SIGNATURE_UNTRUSTED and E_SIGNATURE_INVALID as `verifyData`.
 *
 * @example
 * const { signature, publicKey } = await verifyFile('hello.tar', 'hello.tar.minisig', trusted);
 * console.log(`signed by ${publicKey.keyId}: ${signature.trustedComment}`);
 */
export async function verifyFile(path: string, signaturePath: string, trusted: readonly PublicKey[]): Promise<VerifiedFile> {
  const signature = parseSignature(await readTextFile(signaturePath, 'signature', 'E_SIGNATURE_FORMAT'), signaturePath);
  const options = { source: `${signaturePath} for ${path}` };
  // Refuse an untrusted or legacy signature before reading what may be a large file.
  prehashedCandidates(signature, trusted, options);
  const publicKey = verifyPrehashed(await prehashFile(path), signature, trusted, options);
  return { signature, publicKey };
}
