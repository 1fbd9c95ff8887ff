/**
 * SPDX license expressions: parse, format and evaluate. Pure: no I/O and no
 * copy of the SPDX license list. See `LicenseExpression.ts` for the vocabulary.
 */
export type { LicenseExpression, LicenseLeaf, LicenseCompound } from './LicenseExpression.js';
export { parseLicense, tryParseLicense } from './parseLicense.js';
export { formatLicense } from './formatLicense.js';
export { licenseIds } from './licenseIds.js';
export { licenseAccepted } from './licenseAccepted.js';
