/**
 * Minisign's comment lines. Comments are single lines of UTF-8 text; their
 * lengths are bounded by the fixed buffers minisign reads lines into, so a
 * longer comment would be cut or rejected by minisign.
 */

export const UNTRUSTED_COMMENT_PREFIX = 'untrusted comment: ';
export const TRUSTED_COMMENT_PREFIX = 'trusted comment: ';

/** Minisign reads an untrusted comment line into 1024 bytes: prefix, comment, `\n` and a NUL. */
export const MAX_UNTRUSTED_COMMENT_BYTES = 1024 - 1 - 1 - UNTRUSTED_COMMENT_PREFIX.length;
/** Minisign reads a trusted comment line into 8192 bytes: prefix, comment, `\n` and a NUL. */
export const MAX_TRUSTED_COMMENT_BYTES = 8192 - 1 - 1 - TRUSTED_COMMENT_PREFIX.length;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `comment` cannot be a minisign comment of at most `maxBytes` UTF-8
 * bytes, or `undefined` when it can. Line breaks and NULs are refused because
 * minisign would cut the comment there and sign something else.
 *
 * @example
 * commentProblem('timestamp:1700000000', MAX_TRUSTED_COMMENT_BYTES); // undefined
 * commentProblem('two\nlines', MAX_TRUSTED_COMMENT_BYTES);           // 'it contains a line break'
 */
export function commentProblem(comment: string, maxBytes: number): string | undefined {
  if (/[\r\n]/.test(comment)) {
    return 'it contains a line break';
  }
  if (comment.includes('\0')) {
    return 'it contains a NUL character';
  }
  if (LONE_SURROGATE.test(comment)) {
    return 'it is not valid Unicode text (a lone surrogate)';
  }
  const bytes = Buffer.byteLength(comment, 'utf8');
  if (bytes > maxBytes) {
    return `it is ${bytes} bytes long, more than the ${maxBytes} minisign accepts`;
  }
  return undefined;
}
