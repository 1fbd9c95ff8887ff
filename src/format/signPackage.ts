/**
 * Sign (or re-sign) an existing package: same metadata and payload, new
 * embedded signature. The package is verified against its own hashes first,
 * so a corrupt package is never given a valid signature.
 */
import type { SecretKey } from '../sign/index.js';
import { formatSignature, signData } from '../sign/index.js';
import { openPackage } from './openPackage.js';
import { packageTrustedComment } from './packageSignature.js';
import { readPayload } from './readPayload.js';
import { writeContainer } from './writeContainer.js';

/**
 * Write `outPath` (default: in place) as `path` signed by `key`.
 * @example await signPackage('out/zlib-1.3.1-5d1c7f3a2b90.kpkg', key)
 */
export async function signPackage(path: string, key: SecretKey, outPath: string = path, durable = true): Promise<void> {
  const pkg = await openPackage(path);
  await readPayload(pkg);
  const signature = formatSignature(
    signData(pkg.metadataBytes, key, { trustedComment: packageTrustedComment(pkg.metadata) }),
  );
  await writeContainer(outPath, {
    metadata: pkg.metadataBytes,
    signature: Buffer.from(signature, 'utf8'),
    payloadPath: path,
    payloadOffset: pkg.payloadOffset,
    payloadSize: pkg.payloadSize,
    durable,
  });
}
