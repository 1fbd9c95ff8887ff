/**
 * The vocabulary of signing, shared by every module in `sign/` and by callers.
 *
 * - **key number**: 8 random bytes that name a key pair; a signature carries
 *   the key number of the key that made it.
 * - **key id**: the key number as minisign prints it (a little-endian u64 in
 *   16 upper-case hex digits), e.g. `6744BF67204979A5`.
 * - **public key** / **secret key**: an Ed25519 key pair; the secret key is
 *   kept as its 32-byte seed.
 * - **prehash**: the BLAKE2b-512 digest of the signed data. Minisign's default
 *   signature algorithm `ED` signs the prehash; the legacy `Ed` signs the data.
 * - **trusted comment**: a line of text signed together with the signature
 *   (the *global signature*); the **untrusted comment** is not signed.
 *
 * Files use minisign's formats byte for byte, so `minisign -V` checks Kiln's
 * signatures and Kiln checks minisign's.
 */

/**
 * A key id as minisign prints it: 16 upper-case hex digits. Made only by
 * `formatKeyId`.
 *
 * @example
 * const id: KeyId = formatKeyId(Buffer.from('a579492067bf4467', 'hex')); // '6744BF67204979A5'
 */
export type KeyId = string & { readonly __brand: 'KeyId' };

/**
 * An Ed25519 public key with its key number.
 *
 * @example
 * const pk: PublicKey = parsePublicKey(await readFile('kiln.pub', 'utf8'), 'kiln.pub');
 * console.log(pk.keyId);
 */
export interface PublicKey {
  readonly keyId: KeyId;
  /** 8 bytes. */
  readonly keyNumber: Buffer;
  /** 32 bytes. */
  readonly publicKey: Buffer;
}

/**
 * An Ed25519 key pair: the public key plus the 32-byte seed it derives from.
 *
 * @example
 * const sk: SecretKey = generateKeyPair();
 * const pk: PublicKey = publicKeyOf(sk);
 */
export interface SecretKey extends PublicKey {
  /** 32 bytes; the secret. */
  readonly seed: Buffer;
}

/**
 * The algorithm of a signature: `ED` signs the BLAKE2b-512 prehash of the data
 * (what minisign and Kiln write), `Ed` is minisign's legacy algorithm that signs
 * the data itself (still accepted when verifying).
 *
 * @example
 * const algorithm: SignatureAlgorithm = 'ED';
 */
export type SignatureAlgorithm = 'ED' | 'Ed';

/**
 * A parsed minisign signature.
 *
 * @example
 * const sig: Signature = parseSignature(text, 'pkg.kiln.minisig');
 * console.log(sig.keyId, sig.trustedComment);
 */
export interface Signature {
  readonly algorithm: SignatureAlgorithm;
  readonly keyId: KeyId;
  /** 8 bytes: the key number of the key that made the signature. */
  readonly keyNumber: Buffer;
  /** 64 bytes: Ed25519 over the prehash (`ED`) or the data (`Ed`). */
  readonly signature: Buffer;
  /** Not covered by any signature; for people only. */
  readonly untrustedComment: string;
  /** Covered by `globalSignature`. */
  readonly trustedComment: string;
  /** 64 bytes: Ed25519 over `signature` followed by the trusted comment's UTF-8 bytes. */
  readonly globalSignature: Buffer;
}

/**
 * Options for making a signature.
 *
 * @example
 * const options: SignOptions = { trustedComment: 'hello-1.0.0-x86_64.kiln' };
 */
export interface SignOptions {
  /** A single line, signed together with the signature. */
  trustedComment: string;
  /** A single line, not signed; defaults to `signature from kiln secret key`. */
  untrustedComment?: string | undefined;
}
