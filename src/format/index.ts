/** Package format v1: metadata, the container, packing, reading and verifying. */
export * from './metadata.js';
export { assertSafeManifest, assertSafePath, linkEscapes, pathProblem } from './manifestSafety.js';
export { readPackInput, parsePackInput } from './packInput.js';
export type { PackInput, PermissionSpec } from './packInput.js';
export { pack } from './pack.js';
export { DEFAULT_SYSTEM_LIBRARIES, hostSonames } from './systemLibraries.js';
export type { PackOptions, PackResult } from './pack.js';
export { openPackage } from './openPackage.js';
export type { PackageFile } from './openPackage.js';
export { readPayload, readPayloadBytes, readPayloadFileSync } from './readPayload.js';
export type { PayloadSource, PayloadVisitor } from './readPayload.js';
export { verifyPackage } from './verifyPackage.js';
export type { VerifiedPackage, VerifyPackageOptions } from './verifyPackage.js';
export {
  packageTrustedComment,
  parsePackageSignature,
  verifyPackageSignature,
  PACKAGE_SIGNATURE_COMMENT,
} from './packageSignature.js';
export { TarParser, encodeTarHeader, tarPadding, TAR_BLOCK, TAR_END } from './tar.js';
export type { TarEvent, TarHeader, TarEntryType } from './tar.js';
export { signPackage } from './signPackage.js';
