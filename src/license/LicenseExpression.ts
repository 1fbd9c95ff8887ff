/**
 * SPDX license expressions (SPDX specification, annex "SPDX License
 * Expressions"), checked for syntax only: ids are not looked up in the SPDX
 * license list.
 *
 * Vocabulary:
 * - **license id**: an SPDX short identifier such as `MIT` or `GPL-2.0-only`,
 *   or a user-defined reference `LicenseRef-foo` / `DocumentRef-doc:LicenseRef-foo`;
 * - **or later**: the `+` suffix (`GPL-2.0+`), "this version or any later one";
 * - **exception**: the id after `WITH` (`Classpath-exception-2.0`), which adds
 *   permissions to one license;
 * - **compound**: `AND` (all must be complied with) and `OR` (a choice).
 */

/**
 * One license, optionally with `+` and a `WITH` exception: the SPDX
 * "simple expression", possibly with an exception attached.
 *
 * @example
 * parseLicense('GPL-2.0+ WITH Classpath-exception-2.0');
 * // { type: 'license', id: 'GPL-2.0', orLater: true, exception: 'Classpath-exception-2.0' }
 */
export interface LicenseLeaf {
  readonly type: 'license';
  /** The id as written, without `+`; a reference keeps its whole text (`DocumentRef-d:LicenseRef-x`). */
  readonly id: string;
  readonly orLater: boolean;
  readonly exception: string | undefined;
}

/**
 * Two or more expressions joined by one operator. The parser flattens nested
 * groups of the same operator, so `A AND (B AND C)` gives one `and` with three
 * operands and no operand has its parent's type.
 *
 * @example
 * parseLicense('MIT OR Apache-2.0');
 * // { type: 'or', operands: [<MIT>, <Apache-2.0>] }
 */
export interface LicenseCompound {
  readonly type: 'and' | 'or';
  readonly operands: readonly LicenseExpression[];
}

/**
 * A parsed SPDX license expression. Make one with `parseLicense`.
 *
 * @example
 * parseLicense('(MIT OR Apache-2.0) AND BSD-3-Clause').type; // 'and'
 */
export type LicenseExpression = LicenseLeaf | LicenseCompound;
