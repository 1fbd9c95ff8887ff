/**
 * Versions and version ranges, following the Gentoo Package Manager
 * Specification. Pure: no I/O. See `Version.ts` for the vocabulary and
 * `VersionRange.ts` for the range operators.
 */
export type { Version, VersionSuffix, SuffixType } from './Version.js';
export { SUFFIX_TYPES } from './Version.js';
export { parseVersion, tryParseVersion } from './parseVersion.js';
export { formatVersion } from './formatVersion.js';
export { compareVersions, versionsEqual } from './compareVersions.js';
export type { Ordering } from './compareVersions.js';
export { sortVersions } from './sortVersions.js';
export { withoutRevision } from './withoutRevision.js';
export { splitNameVersion } from './splitNameVersion.js';
export type { VersionRange, RangeClause, RangeOperator } from './VersionRange.js';
export { RANGE_OPERATORS } from './VersionRange.js';
export { parseRange, tryParseRange } from './parseRange.js';
export { formatRange } from './formatRange.js';
export { satisfies } from './satisfies.js';
export { isAnyRange } from './isAnyRange.js';
