import { timingSafeEqual } from 'node:crypto';

import { KilnError } from '../errors/index.js';
import { commentProblem, MAX_UNTRUSTED_COMMENT_BYTES, UNTRUSTED_COMMENT_PREFIX } from './commentProblem.js';
import { decodeBase64Strict } from './decodeBase64Strict.js';
import { deriveKeyStream } from './deriveKeyStream.js';
import { KEY_ALGORITHM } from './formatPublicKey.js';
import { secretKeyFrom } from './generateKeyPair.js';
import {
  CHECKSUM_ALGORITHM,
  KDF_NONE,
  KDF_SCRYPT,
  KEYNUM_SK_BYTES,
  OFFSET,
  SECRET_KEY_BYTES,
  secretKeyChecksum,
} from './secretKeyLayout.js';
import { tryParsePublicKey } from './parsePublicKey.js';
import { splitLines } from './splitLines.js';
import type { SecretKey } from './types.js';

/**
 * Options for `parseSecretKey`.
 *
 * @example
 * const options: ParseSecretKeyOptions = { password, source: 'kiln.key' };
 */
export interface ParseSecretKeyOptions {
  /** The password of an encrypted key; ignored for an unencrypted one. */
  password?: string | undefined;
  /** Where the text came from (a path or a description), for error messages. */
  source: string;
}

const HINT = 'a minisign secret key file has two lines, "untrusted comment: …" and the base64 key';

/**
 * Reads a secret key in minisign's secret key file format, decrypting it with
 * `password` when it is encrypted.
 *
 * Throws E_KEY_PASSWORD when the key is encrypted and the password is missing
 * or wrong (told apart by the key's checksum), E_KEY_FORMAT when the text is
 * not such a key, uses an unknown algorithm, or its seed does not give its
 * public key. Minisign 0.11 writes unencrypted keys (`-W`) with an all-zero
 * checksum and never checks it, so a zero checksum is accepted there.
 *
 * @example
 * const text = await readFile('kiln.key', 'utf8');
 * const password = isSecretKeyEncrypted(text) ? await askPassword() : undefined;
 * const sk = await parseSecretKey(text, { password, source: 'kiln.key' });
 */
export async function parseSecretKey(text: string, options: ParseSecretKeyOptions): Promise<SecretKey> {
  const { source } = options;
  const fail = (state: string): KilnError =>
    new KilnError('E_KEY_FORMAT', `cannot read secret key ${source}: ${state}`, { hint: HINT });

  const decoded = decodeSecretKey(text);
  if (decoded === PUBLIC_KEY) {
    throw new KilnError('E_KEY_FORMAT', `cannot read secret key ${source}: it is a public key, not a secret key`, {
      hint: 'signing needs the secret key file (kiln.key from "kiln key generate"), not its .pub',
    });
  }
  if (typeof decoded === 'string') {
    throw fail(decoded);
  }
  const bytes = decoded;
  const algorithm = bytes.toString('latin1', OFFSET.sigAlg, OFFSET.sigAlg + 2);
  if (algorithm !== KEY_ALGORITHM) {
    throw fail(`unsupported signature algorithm ${JSON.stringify(algorithm)} (only "Ed" is known)`);
  }
  const checksumAlgorithm = bytes.toString('latin1', OFFSET.chkAlg, OFFSET.chkAlg + 2);
  if (checksumAlgorithm !== CHECKSUM_ALGORITHM) {
    throw fail(`unsupported checksum algorithm ${JSON.stringify(checksumAlgorithm)} (only "B2" is known)`);
  }
  const kdf = bytes.toString('latin1', OFFSET.kdfAlg, OFFSET.kdfAlg + 2);
  if (kdf !== KDF_SCRYPT && kdf !== KDF_NONE) {
    throw fail(`unsupported key derivation ${JSON.stringify(kdf)} (only "Sc" and none are known)`);
  }

  if (kdf === KDF_SCRYPT) {
    if (options.password === undefined) {
      throw new KilnError(
        'E_KEY_PASSWORD',
        `cannot read secret key ${source}: it is encrypted and no password was given`,
        {
          hint: 'give the password the key was encrypted with',
        },
      );
    }
    const limits = {
      opslimit: bytes.readBigUInt64LE(OFFSET.opslimit),
      memlimit: bytes.readBigUInt64LE(OFFSET.memlimit),
    };
    const salt = bytes.subarray(OFFSET.salt, OFFSET.salt + 32);
    const stream = await deriveKeyStream(
      options.password,
      salt,
      limits,
      KEYNUM_SK_BYTES,
      `decrypt secret key ${source}`,
    );
    for (let i = 0; i < KEYNUM_SK_BYTES; i++) {
      bytes[OFFSET.keynumSk + i]! ^= stream[i]!;
    }
    stream.fill(0);
  }

  try {
    const keyNumber = bytes.subarray(OFFSET.keyNumber, OFFSET.keyNumber + 8);
    const seed = bytes.subarray(OFFSET.seed, OFFSET.seed + 32);
    const publicKey = bytes.subarray(OFFSET.publicKey, OFFSET.publicKey + 32);
    const checksum = bytes.subarray(OFFSET.chk, OFFSET.chk + 32);
    const checksumMatches = timingSafeEqual(checksum, secretKeyChecksum(keyNumber, seed, publicKey));
    if (kdf === KDF_SCRYPT && !checksumMatches) {
      throw new KilnError('E_KEY_PASSWORD', `cannot decrypt secret key ${source}: the password is wrong`, {
        hint: 'give the password the key was encrypted with',
      });
    }
    if (kdf === KDF_NONE && !checksumMatches && checksum.some((byte) => byte !== 0)) {
      throw fail('its checksum does not match its contents (the key is corrupt)');
    }
    const secretKey = secretKeyFrom(keyNumber, seed);
    if (!secretKey.publicKey.equals(publicKey)) {
      // Minisign (libsodium) signs with the stored public key: such a key would make bad signatures.
      throw fail('its public key does not match its seed (the key is corrupt)');
    }
    return secretKey;
  } finally {
    bytes.fill(0);
  }
}

/**
 * Whether `text` is a minisign secret key encrypted with a password, so a
 * caller knows to ask for one. False for an unencrypted key, and also for text
 * that is not a secret key at all (`parseSecretKey` then says what is wrong).
 *
 * @example
 * const password = isSecretKeyEncrypted(text) ? await askPassword() : undefined;
 */
export function isSecretKeyEncrypted(text: string): boolean {
  const decoded = decodeSecretKey(text);
  return Buffer.isBuffer(decoded) && decoded.toString('latin1', OFFSET.kdfAlg, OFFSET.kdfAlg + 2) === KDF_SCRYPT;
}

/**
 * Whether `text` is a minisign secret key file, encrypted or not, without
 * decrypting it: to find one where it must not be (a published tree).
 *
 * @example
 * if (isSecretKeyText(await readFile(path, 'utf8'))) problems.push(`${path} is a secret key`);
 */
export function isSecretKeyText(text: string): boolean {
  const decoded = decodeSecretKey(text);
  if (!Buffer.isBuffer(decoded)) return false;
  decoded.fill(0);
  return true;
}

/** The 158 bytes of a secret key file, or what is wrong with its lines. */
/** What `decodeSecretKey` returns for a public key, in either of its spellings. */
const PUBLIC_KEY = Symbol('public key');

function decodeSecretKey(text: string): Buffer | string | typeof PUBLIC_KEY {
  if (tryParsePublicKey(text) !== undefined) return PUBLIC_KEY;
  const lines = splitLines(text);
  if (lines === undefined) {
    return text === '' ? 'the file is empty' : 'the last line does not end in a newline';
  }
  if (lines.length !== 2) {
    return `it has ${lines.length} lines, not 2`;
  }
  const [comment, line] = lines as [string, string];
  if (!comment.startsWith(UNTRUSTED_COMMENT_PREFIX)) {
    return `line 1 does not start with "${UNTRUSTED_COMMENT_PREFIX}"`;
  }
  const problem = commentProblem(comment.slice(UNTRUSTED_COMMENT_PREFIX.length), MAX_UNTRUSTED_COMMENT_BYTES);
  if (problem !== undefined) {
    return `its comment is not valid: ${problem}`;
  }
  const bytes = decodeBase64Strict(line);
  if (bytes === undefined) {
    return 'line 2 is not canonical base64';
  }
  if (bytes.length !== SECRET_KEY_BYTES) {
    return `the key is ${bytes.length} bytes long, not ${SECRET_KEY_BYTES}`;
  }
  return bytes;
}
