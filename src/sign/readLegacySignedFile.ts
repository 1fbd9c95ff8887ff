import { open } from 'node:fs/promises';

import { KilnError } from '../errors/index.js';
import { ioError } from '../util/ioError.js';
import type { Signature } from './types.js';

/**
 * The largest file a legacy (`Ed`) signature is checked over: minisign makes
 * and checks legacy signatures only of data up to 1 GiB (it holds the data in
 * memory, as Kiln must), so no legacy signature of a larger file exists.
 */
export const MAX_LEGACY_SIGNED_BYTES = 2 ** 30;

/**
 * The whole content of the file at `path`, for checking the legacy signature
 * `signature` (named `source` in errors). A legacy signature signs the data
 * itself, and Ed25519 cannot be checked over a stream, so the file is read
 * into memory. E_IO when it cannot be read; E_SIGNATURE_INVALID when it is
 * larger than `MAX_LEGACY_SIGNED_BYTES`, before more than that is read.
 *
 * @example
 * const signer = verifyData(await readLegacySignedFile(path, sig, source), sig, trusted, { source });
 */
export async function readLegacySignedFile(path: string, signature: Signature, source: string): Promise<Buffer> {
  const tooLarge = (): KilnError =>
    new KilnError(
      'E_SIGNATURE_INVALID',
      `cannot verify signature ${source} by key ${signature.keyId}: it is a legacy minisign signature (algorithm "Ed"), ` +
        `which minisign makes only of files up to 1 GiB, and ${path} is larger`,
      {
        hint: 'the file may have been altered or replaced; large files are signed prehashed (kiln sign, or minisign without -l)',
      },
    );
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    const handle = await open(path, 'r');
    try {
      if ((await handle.stat()).size > MAX_LEGACY_SIGNED_BYTES) {
        throw tooLarge();
      }
      // One byte past the limit (`end` is inclusive), in case the file grew since the stat.
      for await (const chunk of handle.createReadStream({ end: MAX_LEGACY_SIGNED_BYTES, autoClose: false })) {
        chunks.push(chunk as Buffer);
        length += (chunk as Buffer).length;
      }
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw ioError(error, 'read file', path) ?? error;
  }
  if (length > MAX_LEGACY_SIGNED_BYTES) {
    throw tooLarge();
  }
  return Buffer.concat(chunks, length);
}
