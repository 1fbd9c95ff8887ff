/**
 * Package versions, as defined by the Gentoo Package Manager Specification
 * (PMS, "Version Specifications" and "Version Comparison").
 *
 * Vocabulary used throughout `src/version/`:
 * - **numeric components**: the dot-separated digit strings at the start
 *   (`1`, `2`, `3` in `1.2.3b_rc1-r2`);
 * - **letter**: at most one lower-case letter right after them (`b`);
 * - **suffixes**: zero or more of `_alpha`, `_beta`, `_pre`, `_rc`, `_p`, each
 *   with an optional unsigned integer (`_rc1`);
 * - **revision**: the trailing `-rN` (`-r2`); a version without one has revision 0.
 *
 * Digit strings are kept as written because the comparison rules depend on
 * leading zeros and because PMS sets no limit on their length.
 */

/** The suffix kinds in ascending order, as PMS orders them: `_alpha` < `_beta` < `_pre` < `_rc` < `_p`. */
export const SUFFIX_TYPES = ['alpha', 'beta', 'pre', 'rc', 'p'] as const;

/** One suffix kind, without its leading underscore. */
export type SuffixType = (typeof SUFFIX_TYPES)[number];

/**
 * One version suffix, such as `_rc1` (`{ type: 'rc', number: '1' }`) or `_p`
 * (`{ type: 'p', number: undefined }`, which compares like `_p0`).
 */
export interface VersionSuffix {
  readonly type: SuffixType;
  /** The digits as written (leading zeros kept), or `undefined` when none follow the name. */
  readonly number: string | undefined;
}

/**
 * A parsed version. Make one with `parseVersion`; compare with `compareVersions`,
 * never with `===` on `raw` (`1.0-r0` and `1.00` equal `1.0`).
 *
 * @example
 * parseVersion('1.2.3b_p4-r2');
 * // { raw: '1.2.3b_p4-r2', numbers: ['1', '2', '3'], letter: 'b',
 * //   suffixes: [{ type: 'p', number: '4' }], revision: '2', hasRevision: true }
 */
export interface Version {
  /** The string this version was parsed from. */
  readonly raw: string;
  /** The numeric components as digit strings, at least one. */
  readonly numbers: readonly string[];
  /** The letter, or `''` when there is none. */
  readonly letter: string;
  readonly suffixes: readonly VersionSuffix[];
  /**
   * The revision's digits without leading zeros (`'0'` when none is written).
   * A string, as the numeric components are, because PMS sets no limit on its
   * length: `1-r1000000000000000000` is a valid version and compares exactly.
   */
  readonly revision: string;
  /** Whether `-rN` was written (so that `1.0-r0` formats back as written). */
  readonly hasRevision: boolean;
}
