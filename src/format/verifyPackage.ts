/**
 * Full verification of one package file: container and metadata (by opening
 * it), the embedded signature against trusted keys, and the payload against
 * the manifest.
 */
import type { PublicKey } from '../sign/index.js';
import type { PackageFile } from './openPackage.js';
import { openPackage } from './openPackage.js';
import { verifyPackageSignature } from './packageSignature.js';
import { readPayload } from './readPayload.js';

export interface VerifyPackageOptions {
  /** Keys whose signature is accepted. */
  trusted: readonly PublicKey[];
  /** When false, an unsigned package passes (its hashes are still checked). Default true. */
  requireSignature?: boolean;
}

export interface VerifiedPackage extends PackageFile {
  /** The key that signed it, when it is signed and a trusted key matched. */
  signer: PublicKey | undefined;
}

/**
 * @example const pkg = await verifyPackage('out/zlib-1.3.1-5d1c7f3a2b90.kpkg', { trusted: [key] })
 */
export async function verifyPackage(path: string, options: VerifyPackageOptions): Promise<VerifiedPackage> {
  const pkg = await openPackage(path);
  let signer: PublicKey | undefined;
  if (pkg.signatureText !== undefined || options.requireSignature !== false) {
    signer = verifyPackageSignature(path, pkg.metadata, pkg.metadataBytes, pkg.signatureText, options.trusted);
  }
  await readPayload(pkg);
  return { ...pkg, signer };
}
