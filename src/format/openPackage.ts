/**
 * Open a package and read its metadata without decompressing the payload.
 * The metadata is fully validated (see `parsePackageMetadata`) and must be in
 * canonical form; the signature is read but not checked here. The reads are
 * synchronous (a few kilobytes; see readContainer); the promise is kept for
 * callers.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { KilnError, isErrno } from '../errors/index.js';
import { readContainer } from './container.js';
import type { PackageMetadata } from './metadata.js';
import { parsePackageMetadata, serializeMetadata } from './metadata.js';

export interface PackageFile {
  path: string;
  fileSize: number;
  metadata: PackageMetadata;
  /** The exact bytes of metadata.json (what the signature covers). */
  metadataBytes: Buffer;
  /** The signature entry's exact bytes, and its text. */
  signatureBytes: Buffer | undefined;
  signatureText: string | undefined;
  payloadOffset: number;
  payloadSize: number;
}

/**
 * @example const pkg = await openPackage('zlib-1.3.1-5d1c7f3a2b90.kpkg'); console.log(pkg.metadata.files.length)
 */
export async function openPackage(path: string): Promise<PackageFile> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT'))
      throw new KilnError('E_IO', `cannot read package ${path}: no such file`, { cause: error });
    if (isErrno(error, 'EISDIR'))
      throw new KilnError('E_IO', `cannot read package ${path}: it is a directory`, { cause: error });
    throw error;
  }
  try {
    const { size } = fstatSync(fd);
    const layout = readContainer(fd, size, path);
    let json: unknown;
    try {
      json = JSON.parse(layout.metadataBytes.toString('utf8')) as unknown;
    } catch (error) {
      throw new KilnError('E_PACKAGE_FORMAT', `cannot read package ${path}: its metadata is not valid JSON`, {
        cause: error,
        hint: 'the package was altered or is corrupt',
      });
    }
    const metadata = parsePackageMetadata(json, path);
    if (!serializeMetadata(metadata).equals(layout.metadataBytes)) {
      throw new KilnError('E_PACKAGE_FORMAT', `cannot read package ${path}: its metadata is not in canonical form`, {
        hint: 'the package was altered or was not made by Kiln',
      });
    }
    if (layout.payloadSize !== metadata.payload.size) {
      throw new KilnError(
        'E_PACKAGE_HASH',
        `cannot read package ${path}: its payload is ${layout.payloadSize} bytes but its metadata declares ${metadata.payload.size}`,
        {
          hint: 'the package was altered or is corrupt',
        },
      );
    }
    return {
      path,
      fileSize: size,
      metadata,
      metadataBytes: layout.metadataBytes,
      signatureBytes: layout.signatureBytes,
      signatureText: layout.signatureText,
      payloadOffset: layout.payloadOffset,
      payloadSize: layout.payloadSize,
    };
  } finally {
    closeSync(fd);
  }
}
