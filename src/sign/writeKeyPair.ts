import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { KilnError, isErrno } from '../errors/index.js';
import { formatPublicKey } from './formatPublicKey.js';
import { formatSecretKey } from './formatSecretKey.js';
import { generateKeyPair, publicKeyOf } from './generateKeyPair.js';
import { ioError } from '../util/ioError.js';
import type { KeyId } from './types.js';

/**
 * Options for `writeKeyPair`.
 *
 * @example
 * const options: WriteKeyPairOptions = { password, basename: 'release' };
 */
export interface WriteKeyPairOptions {
  /** Encrypt the secret key with this password (minisign's default scrypt limits); unencrypted without one. */
  password?: string | undefined;
  /** Overwrite existing key files instead of refusing with E_KEY_EXISTS. */
  force?: boolean | undefined;
  /** The files are `<basename>.pub` and `<basename>.key`; `kiln` unless given. */
  basename?: string | undefined;
}

/**
 * What `writeKeyPair` wrote.
 *
 * @example
 * const { keyId, publicKeyPath, secretKeyPath }: WrittenKeyPair = await writeKeyPair(dir);
 */
export interface WrittenKeyPair {
  readonly keyId: KeyId;
  readonly publicKeyPath: string;
  readonly secretKeyPath: string;
}

/**
 * Generates a key pair and writes it to `dir` (created, mode 0700, when
 * missing) as `<basename>.pub` (mode 0644) and `<basename>.key` (mode 0600),
 * in minisign's formats. The secret key is created with mode 0600, so it is
 * never readable by others, even while being written; each file is written
 * under a temporary name and moved into place whole.
 *
 * E_KEY_EXISTS when either file exists and `force` is not set (nothing is
 * written then); E_IO when the directory cannot be written.
 *
 * @example
 * const { keyId, publicKeyPath } = await writeKeyPair(join(home, '.config/kiln'), { password });
 * console.error(`wrote key ${keyId}; publish ${publicKeyPath}`);
 */
export async function writeKeyPair(dir: string, options: WriteKeyPairOptions = {}): Promise<WrittenKeyPair> {
  const basename = options.basename ?? 'kiln';
  if (basename === '' || basename.includes('/') || basename.includes('\\') || basename === '.' || basename === '..') {
    throw new Error(`Assertion failed: a key basename is a plain file name, got ${JSON.stringify(basename)}`);
  }
  const force = options.force === true;
  const publicKeyPath = join(dir, `${basename}.pub`);
  const secretKeyPath = join(dir, `${basename}.key`);

  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    if (isErrno(error, 'EEXIST')) {
      throw new KilnError('E_IO', `cannot create key directory ${dir}: it exists and is not a directory`, {
        cause: error,
      });
    }
    throw ioError(error, 'create key directory', dir) ?? error;
  }
  if (!force) {
    for (const path of [secretKeyPath, publicKeyPath]) {
      if (await exists(path)) {
        throw keyExists(path);
      }
    }
  }

  const secretKey = generateKeyPair();
  const secretText = await formatSecretKey(secretKey, { password: options.password });
  const publicText = formatPublicKey(publicKeyOf(secretKey));
  await writeWhole(secretKeyPath, secretText, 0o600, force);
  try {
    await writeWhole(publicKeyPath, publicText, 0o644, force);
  } catch (error) {
    if (!force) {
      // Do not leave half a key pair behind; with force the old secret key is already gone.
      await unlink(secretKeyPath);
    }
    throw error;
  }
  return { keyId: secretKey.keyId, publicKeyPath, secretKeyPath };
}

function keyExists(path: string): KilnError {
  return new KilnError('E_KEY_EXISTS', `cannot write key pair: ${path} already exists`, {
    hint: 'choose another name or directory, or force overwriting it (the old key is then lost)',
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) {
      return false;
    }
    throw ioError(error, 'check key file', path) ?? error;
  }
}

/**
 * Writes `text` to `path` with exactly `mode`: first to a new temporary file
 * created with that mode (so it is never more readable than `mode`), synced,
 * then moved into place. Without `overwrite` it is linked into place, which
 * fails if `path` exists even when it appeared a moment ago.
 */
async function writeWhole(path: string, text: string, mode: number, overwrite: boolean): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', mode);
    try {
      // The umask may have taken bits away; set the mode exactly.
      await handle.chmod(mode);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (overwrite) {
      await rename(temporary, path);
    } else {
      await link(temporary, path);
    }
  } catch (error) {
    if (isErrno(error, 'EEXIST') && !overwrite) {
      throw keyExists(path);
    }
    throw ioError(error, 'write key file', path) ?? error;
  } finally {
    await unlink(temporary).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) {
        throw error;
      }
    });
  }
}
