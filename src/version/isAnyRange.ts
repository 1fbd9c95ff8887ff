import type { VersionRange } from './VersionRange.js';

/**
 * Whether a range has no clauses and so holds for every version (it was written
 * as `''` or `*`). A range such as `>=0` that happens to hold for every
 * version is not recognised.
 *
 * @example
 * isAnyRange(parseRange('*'));    // true
 * isAnyRange(parseRange('>=1.0')); // false
 */
export function isAnyRange(range: VersionRange): boolean {
  return range.clauses.length === 0;
}
