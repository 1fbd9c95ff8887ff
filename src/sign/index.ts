/**
 * Ed25519 signatures in minisign's file formats, with Node's `crypto` only.
 * Keys and signatures Kiln writes are read by `minisign` 0.11 and the other
 * way round; see `types.ts` for the vocabulary.
 *
 * @example
 * const sk = generateKeyPair();
 * const sig = signData(data, sk, { trustedComment: 'file:hello.txt' });
 * const signer = verifyData(data, parseSignature(formatSignature(sig), 'hello.txt.minisig'), [publicKeyOf(sk)], {
 *   source: 'hello.txt.minisig',
 * });
 */
export type { KeyId, PublicKey, SecretKey, Signature, SignatureAlgorithm, SignOptions } from './types.js';
export { formatKeyId } from './formatKeyId.js';
export { generateKeyPair, publicKeyOf } from './generateKeyPair.js';
export { encodePublicKey, formatPublicKey } from './formatPublicKey.js';
export { parsePublicKey, tryParsePublicKey } from './parsePublicKey.js';
export { formatSecretKey } from './formatSecretKey.js';
export type { FormatSecretKeyOptions } from './formatSecretKey.js';
export { isSecretKeyEncrypted, isSecretKeyText, parseSecretKey } from './parseSecretKey.js';
export type { ParseSecretKeyOptions } from './parseSecretKey.js';
export { formatSignature } from './formatSignature.js';
export { parseSignature, tryParseSignature } from './parseSignature.js';
export { createPrehash } from './createPrehash.js';
export { DEFAULT_UNTRUSTED_COMMENT, signData, signPrehashed } from './signData.js';
export { verifyData, verifyPrehashed } from './verifyData.js';
export type { VerifyOptions } from './verifyData.js';
export { prehashFile, signFile } from './signFile.js';
export { verifyFile } from './verifyFile.js';
export type { VerifiedFile } from './verifyFile.js';
export { readPublicKeyFile } from './readPublicKeyFile.js';
export { readSecretKeyFile } from './readSecretKeyFile.js';
export type { ReadSecretKeyFileOptions } from './readSecretKeyFile.js';
export { writeKeyPair } from './writeKeyPair.js';
export type { WriteKeyPairOptions, WrittenKeyPair } from './writeKeyPair.js';
export { blake2b } from './blake2b.js';
export type { KdfLimits } from './deriveKeyStream.js';
export { MAX_TRUSTED_COMMENT_BYTES, MAX_UNTRUSTED_COMMENT_BYTES } from './commentProblem.js';
