import { KilnError, isKilnError } from '../errors/index.js';
import { commentProblem, MAX_UNTRUSTED_COMMENT_BYTES, UNTRUSTED_COMMENT_PREFIX } from './commentProblem.js';
import { decodeBase64Strict } from './decodeBase64Strict.js';
import { formatKeyId } from './formatKeyId.js';
import { KEY_ALGORITHM } from './formatPublicKey.js';
import { SECRET_KEY_BYTES } from './secretKeyLayout.js';
import { splitLines } from './splitLines.js';
import type { PublicKey } from './types.js';

const HINT =
  'a minisign public key file has two lines, "untrusted comment: …" and the base64 key; ' +
  'the bare base64 line (what "minisign -P" takes) is accepted too';

/**
 * Reads a public key from minisign's public key file format, or from the bare
 * base64 line `minisign -P` takes (with or without a final newline). `source`
 * names where the text came from (a path or a description) in error messages.
 * Throws E_KEY_FORMAT for anything else.
 *
 * @example
 * const pk = parsePublicKey(await readFile('kiln.pub', 'utf8'), 'kiln.pub');
 * const same = parsePublicKey('RWSleUkgZ79EZ9gYe4MhQCs1hFE7ezzPySSebOOdiszu6CDYAIDyVlBZ', '--key');
 */
export function parsePublicKey(text: string, source: string): PublicKey {
  const fail = (state: string): KilnError =>
    new KilnError('E_KEY_FORMAT', `cannot read public key ${source}: ${state}`, { hint: HINT });

  let comment: string | undefined;
  let line: string;
  const bare = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (!bare.includes('\n')) {
    line = bare;
  } else {
    const lines = splitLines(text);
    if (lines === undefined || lines.length !== 2) {
      throw fail(
        lines === undefined ? 'the last line does not end in a newline' : `it has ${lines.length} lines, not 2`,
      );
    }
    const [first, second] = lines as [string, string];
    if (!first.startsWith(UNTRUSTED_COMMENT_PREFIX)) {
      throw fail(`line 1 does not start with "${UNTRUSTED_COMMENT_PREFIX}"`);
    }
    comment = first.slice(UNTRUSTED_COMMENT_PREFIX.length);
    const problem = commentProblem(comment, MAX_UNTRUSTED_COMMENT_BYTES);
    if (problem !== undefined) {
      throw fail(`its comment is not valid: ${problem}`);
    }
    line = second;
  }

  const bytes = decodeBase64Strict(line);
  if (bytes === undefined) {
    throw fail(`${comment === undefined ? 'it' : 'line 2'} is not canonical base64`);
  }
  if (bytes.length === SECRET_KEY_BYTES) {
    // Said plainly: a secret key given where the public one belongs must not be taken for a damaged file.
    throw new KilnError('E_KEY_FORMAT', `cannot read public key ${source}: it is a secret key, not a public key`, {
      hint: 'give the public key (the .pub file beside it, or what "kiln key show" prints); never hand out the secret key',
    });
  }
  if (bytes.length !== 42) {
    throw fail(`the key is ${bytes.length} bytes long, not 42`);
  }
  if (bytes.toString('latin1', 0, 2) !== KEY_ALGORITHM) {
    throw fail(
      `unsupported signature algorithm ${JSON.stringify(bytes.toString('latin1', 0, 2))} (only "Ed" is known)`,
    );
  }
  const keyNumber = Buffer.from(bytes.subarray(2, 10));
  const keyId = formatKeyId(keyNumber);
  // A comment naming another key would mislead whoever reads the file.
  const named = comment === undefined ? undefined : /^minisign public key ([0-9A-Fa-f]{1,16})$/.exec(comment);
  if (named != null && BigInt(`0x${named[1]!}`) !== BigInt(`0x${keyId}`)) {
    throw fail(`its comment names key ${named[1]!.toUpperCase()} but the key is ${keyId}`);
  }
  return { keyId, keyNumber, publicKey: Buffer.from(bytes.subarray(10, 42)) };
}

/**
 * Like `parsePublicKey`, but `undefined` instead of an E_KEY_FORMAT error.
 *
 * @example
 * const pk = tryParsePublicKey(flagValue) ?? parsePublicKey(await readFile(flagValue, 'utf8'), flagValue);
 */
export function tryParsePublicKey(text: string): PublicKey | undefined {
  try {
    return parsePublicKey(text, 'text');
  } catch (error) {
    if (isKilnError(error, 'E_KEY_FORMAT')) {
      return undefined;
    }
    throw error;
  }
}
