/**
 * Version ranges: space-separated clauses that must all hold. Each clause is
 * an operator written right before a version, as in PMS dependency atoms:
 *
 * | clause   | holds for versions that are …                                   |
 * |----------|-----------------------------------------------------------------|
 * | `<1.2`   | less than 1.2                                                   |
 * | `<=1.2`  | less than or equal to 1.2                                       |
 * | `=1.2`   | equal to 1.2 (1.2, 1.2-r0; not 1.2-r1, 1.2.0 or 1.20)           |
 * | `>=1.2`  | greater than or equal to 1.2                                    |
 * | `>1.2`   | greater than 1.2                                                |
 * | `!=1.2`  | not equal to 1.2                                                |
 * | `~1.2`   | equal to 1.2 ignoring the revision (1.2, 1.2-r3)                |
 * | `=1.2*`  | those whose leading components are the ones given (1.2.3, 1.2b) |
 *
 * The empty range and `*` hold for every version.
 */
import type { Version } from './Version.js';

/** The clause operators; `=*` is `=` with a trailing `*` on the version. */
export const RANGE_OPERATORS = ['<', '<=', '=', '>=', '>', '!=', '~', '=*'] as const;

export type RangeOperator = (typeof RANGE_OPERATORS)[number];

/**
 * One clause of a range, such as `>=1.2` (`{ operator: '>=', version: <1.2> }`)
 * or `=1.2*` (`{ operator: '=*', version: <1.2> }`).
 */
export interface RangeClause {
  readonly operator: RangeOperator;
  readonly version: Version;
}

/**
 * A parsed version range. Make one with `parseRange`; a range with no clauses
 * holds for every version.
 *
 * @example
 * parseRange('>=1.2 <2');
 * // { raw: '>=1.2 <2', clauses: [{ operator: '>=', version: <1.2> }, { operator: '<', version: <2> }] }
 */
export interface VersionRange {
  /** The string this range was parsed from. */
  readonly raw: string;
  readonly clauses: readonly RangeClause[];
}
