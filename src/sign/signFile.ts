import { createReadStream } from 'node:fs';

import { createPrehash } from './createPrehash.js';
import { ioError } from '../util/ioError.js';
import { signPrehashed } from './signData.js';
import type { SecretKey, Signature, SignOptions } from './types.js';

/**
 * Signs the file at `path` like `signData`, reading it as a stream so it is
 * never held in memory whole. Returns the signature; write it with
 * `formatSignature` (minisign looks for `<path>.minisig`). E_IO when the file
 * cannot be read.
 *
 * @example
 * const sig = await signFile('hello.tar', sk, { trustedComment: 'file:hello.tar' });
 * await writeFile('hello.tar.minisig', formatSignature(sig));
 */
export async function signFile(path: string, secretKey: SecretKey, options: SignOptions): Promise<Signature> {
  return signPrehashed(await prehashFile(path), secretKey, options);
}

/**
 * The BLAKE2b-512 digest of a file, read as a stream. E_IO when it cannot be read.
 *
 * @example
 * const digest = await prehashFile('hello.tar');
 */
export async function prehashFile(path: string): Promise<Buffer> {
  const prehash = createPrehash();
  try {
    for await (const chunk of createReadStream(path)) {
      prehash.update(chunk as Buffer);
    }
  } catch (error) {
    throw ioError(error, 'read file', path) ?? error;
  }
  return prehash.digest();
}
