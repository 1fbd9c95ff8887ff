import type { KeyId } from './types.js';

/**
 * The key id of an 8-byte key number, as minisign prints it: the bytes read as
 * a little-endian u64, in 16 upper-case hex digits.
 *
 * @example
 * formatKeyId(Buffer.from('a579492067bf4467', 'hex')); // '6744BF67204979A5'
 */
export function formatKeyId(keyNumber: Uint8Array): KeyId {
  if (keyNumber.length !== 8) {
    throw new Error(`Assertion failed: a key number is 8 bytes, got ${keyNumber.length}`);
  }
  return Buffer.from(keyNumber).reverse().toString('hex').toUpperCase() as KeyId;
}
