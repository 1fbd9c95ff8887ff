import type { LicenseExpression } from './LicenseExpression.js';

/**
 * The distinct license ids an expression mentions, in order of first
 * appearance. Ids come without `+` and without their `WITH` exception, as
 * `licenseAccepted` passes them to its predicate; exceptions are not listed.
 *
 * @example
 * licenseIds(parseLicense('(MIT OR GPL-2.0+) AND MIT')); // ['MIT', 'GPL-2.0']
 */
export function licenseIds(expression: LicenseExpression): string[] {
  const ids = new Set<string>();
  const visit = (e: LicenseExpression): void => {
    if (e.type === 'license') ids.add(e.id);
    else e.operands.forEach(visit);
  };
  visit(expression);
  return [...ids];
}
