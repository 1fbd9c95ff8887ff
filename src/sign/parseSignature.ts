import { KilnError, isKilnError } from '../errors/index.js';
import {
  commentProblem,
  MAX_TRUSTED_COMMENT_BYTES,
  MAX_UNTRUSTED_COMMENT_BYTES,
  TRUSTED_COMMENT_PREFIX,
  UNTRUSTED_COMMENT_PREFIX,
} from './commentProblem.js';
import { decodeBase64Strict } from './decodeBase64Strict.js';
import { formatKeyId } from './formatKeyId.js';
import { splitLines } from './splitLines.js';
import type { Signature, SignatureAlgorithm } from './types.js';

const HINT =
  'a minisign signature file has four lines: "untrusted comment: …", the base64 signature, ' +
  '"trusted comment: …" and the base64 comment signature';

/**
 * Reads a signature in minisign's signature file format. Parsing is strict:
 * exactly four lines each ending in `\n`, canonical base64 of the right
 * lengths, a known algorithm (`ED` or legacy `Ed`). `source` names where the
 * text came from in error messages. Throws E_SIGNATURE_FORMAT otherwise.
 *
 * @example
 * const sig = parseSignature(await readFile('hello.txt.minisig', 'utf8'), 'hello.txt.minisig');
 */
export function parseSignature(text: string, source: string): Signature {
  const fail = (state: string): KilnError =>
    new KilnError('E_SIGNATURE_FORMAT', `cannot read signature ${source}: ${state}`, { hint: HINT });

  const lines = splitLines(text);
  if (lines === undefined) {
    throw fail(text === '' ? 'the file is empty' : 'the last line does not end in a newline');
  }
  if (lines.length !== 4) {
    throw fail(`it has ${lines.length} lines, not 4`);
  }
  const [untrustedLine, signatureLine, trustedLine, globalLine] = lines as [string, string, string, string];

  if (!untrustedLine.startsWith(UNTRUSTED_COMMENT_PREFIX)) {
    throw fail(`line 1 does not start with "${UNTRUSTED_COMMENT_PREFIX}"`);
  }
  const untrustedComment = untrustedLine.slice(UNTRUSTED_COMMENT_PREFIX.length);
  const untrustedProblem = commentProblem(untrustedComment, MAX_UNTRUSTED_COMMENT_BYTES);
  if (untrustedProblem !== undefined) {
    throw fail(`its untrusted comment is not valid: ${untrustedProblem}`);
  }

  const head = decodeBase64Strict(signatureLine);
  if (head === undefined) {
    throw fail('line 2 is not canonical base64');
  }
  if (head.length !== 74) {
    throw fail(`line 2 holds ${head.length} bytes, not 74`);
  }
  const algorithm = head.toString('latin1', 0, 2);
  if (!isSignatureAlgorithm(algorithm)) {
    throw fail(`unsupported signature algorithm ${JSON.stringify(algorithm)} (only "ED" and legacy "Ed" are known)`);
  }

  if (!trustedLine.startsWith(TRUSTED_COMMENT_PREFIX)) {
    throw fail(`line 3 does not start with "${TRUSTED_COMMENT_PREFIX}"`);
  }
  const trustedComment = trustedLine.slice(TRUSTED_COMMENT_PREFIX.length);
  const trustedProblem = commentProblem(trustedComment, MAX_TRUSTED_COMMENT_BYTES);
  if (trustedProblem !== undefined) {
    throw fail(`its trusted comment is not valid: ${trustedProblem}`);
  }

  const globalSignature = decodeBase64Strict(globalLine);
  if (globalSignature === undefined) {
    throw fail('line 4 is not canonical base64');
  }
  if (globalSignature.length !== 64) {
    throw fail(`line 4 holds ${globalSignature.length} bytes, not 64`);
  }

  const keyNumber = Buffer.from(head.subarray(2, 10));
  return {
    algorithm,
    keyId: formatKeyId(keyNumber),
    keyNumber,
    signature: Buffer.from(head.subarray(10, 74)),
    untrustedComment,
    trustedComment,
    globalSignature,
  };
}

/**
 * Like `parseSignature`, but `undefined` instead of an E_SIGNATURE_FORMAT error.
 *
 * @example
 * const sig = tryParseSignature(text);
 * if (sig === undefined) console.error('not a signature');
 */
export function tryParseSignature(text: string): Signature | undefined {
  try {
    return parseSignature(text, 'text');
  } catch (error) {
    if (isKilnError(error, 'E_SIGNATURE_FORMAT')) {
      return undefined;
    }
    throw error;
  }
}

function isSignatureAlgorithm(value: string): value is SignatureAlgorithm {
  return value === 'ED' || value === 'Ed';
}
