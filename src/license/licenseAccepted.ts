import type { LicenseExpression } from './LicenseExpression.js';

/**
 * Whether an expression can be complied with using only accepted licenses:
 * an `OR` needs one accepted branch, an `AND` needs all of them. `X+` and
 * `X WITH E` are accepted when `X` is (the `+` only widens the choice, and an
 * exception only adds permissions), so the predicate is asked about the bare
 * id, or a reference's full text such as `LicenseRef-ours`.
 *
 * @example
 * const ok = new Set(['MIT', 'Apache-2.0']);
 * licenseAccepted(parseLicense('MIT OR GPL-3.0-only'), (id) => ok.has(id));  // true
 * licenseAccepted(parseLicense('MIT AND GPL-3.0-only'), (id) => ok.has(id)); // false
 */
export function licenseAccepted(expression: LicenseExpression, accepted: (id: string) => boolean): boolean {
  switch (expression.type) {
    case 'license':
      return accepted(expression.id);
    case 'and':
      return expression.operands.every((o) => licenseAccepted(o, accepted));
    case 'or':
      return expression.operands.some((o) => licenseAccepted(o, accepted));
  }
}
