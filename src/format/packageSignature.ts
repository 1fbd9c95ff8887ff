/**
 * A package's own signature: a minisign signature of its `metadata.json`
 * (which pins the payload by size and sha256), stored inside the package so
 * that a copy outside its repository is still verifiable. Its trusted comment
 * names the package, so a signature cannot be moved to another package's
 * metadata unnoticed.
 */
import { KilnError } from '../errors/index.js';
import type { PublicKey, Signature } from '../sign/types.js';
import { formatSignature } from '../sign/formatSignature.js';
import { parseSignature } from '../sign/parseSignature.js';
import { verifyData } from '../sign/verifyData.js';
import type { PackageMetadata } from './metadata.js';
import { packageSpec } from './metadata.js';

export const PACKAGE_SIGNATURE_COMMENT = 'signature from kiln secret key';

/** The trusted comment of a package signature: `kiln package NAME-VERSION variant ID`. */
export function packageTrustedComment(
  meta: Pick<PackageMetadata, 'name' | 'version' | 'revision' | 'variant'>,
): string {
  return `kiln package ${packageSpec(meta)} variant ${meta.variant}`;
}

/** Parse the embedded signature, insisting on the exact form Kiln writes. */
export function parsePackageSignature(text: string, source: string): Signature {
  const signature = parseSignature(text, `the signature in ${source}`);
  if (signature.untrustedComment !== PACKAGE_SIGNATURE_COMMENT || formatSignature(signature) !== text) {
    throw new KilnError(
      'E_SIGNATURE_FORMAT',
      `cannot read the signature in package ${source}: it is not in the form Kiln writes`,
      {
        hint: 'the package was altered; download or copy it again',
      },
    );
  }
  return signature;
}

/**
 * Verify the embedded signature of a package against trusted keys; returns the
 * key that made it. E_PACKAGE_UNSIGNED when there is none.
 */
export function verifyPackageSignature(
  source: string,
  metadata: PackageMetadata,
  metadataBytes: Buffer,
  signatureText: string | undefined,
  trusted: readonly PublicKey[],
): PublicKey {
  if (signatureText === undefined) {
    throw new KilnError('E_PACKAGE_UNSIGNED', `cannot verify package ${source}: it carries no signature`, {
      hint: 'sign it when packing (kiln pack --key SECRETKEY) or when adding it to a repository (kiln repo add --sign)',
    });
  }
  const signature = parsePackageSignature(signatureText, source);
  const key = verifyData(metadataBytes, signature, trusted, { source: `package ${source}` });
  if (signature.trustedComment !== packageTrustedComment(metadata)) {
    throw new KilnError(
      'E_SIGNATURE_INVALID',
      `cannot verify package ${source}: its signature was made for "${signature.trustedComment}", not for this package`,
      {
        hint: 'the signature was moved from another package; the package is not trustworthy',
      },
    );
  }
  return key;
}
