/**
 * Strict standard base64 (RFC 4648 §4, with padding), as minisign writes it.
 *
 * Node's decoder is lenient: it skips foreign characters, accepts missing
 * padding and ignores the unused low bits of the last character. A signature
 * or key is accepted only in its one canonical spelling, so a file that was
 * changed in any way is never silently read as the original.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The bytes `text` encodes, or `undefined` unless `text` is canonical padded
 * standard base64 (re-encoding the bytes gives back exactly `text`).
 *
 * @example
 * decodeBase64Strict('RWQ=');  // <Buffer 45 64>
 * decodeBase64Strict('RWR=');  // undefined: a padding bit is set
 * decodeBase64Strict('RWQ');   // undefined: no padding
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64.test(text)) {
    return undefined;
  }
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
