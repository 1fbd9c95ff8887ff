import type { LicenseExpression } from './LicenseExpression.js';

/**
 * Spells an expression canonically: upper-case operators, single spaces, and
 * parentheses only around an `OR` inside an `AND` (the one place precedence
 * needs them). Ids are kept as written.
 *
 * @example
 * formatLicense(parseLicense('(mit or Apache-2.0)  and (Zlib)')); // '(mit OR Apache-2.0) AND Zlib'
 * formatLicense(parseLicense('(MIT AND Zlib) OR BSD-3-Clause'));  // 'MIT AND Zlib OR BSD-3-Clause'
 */
export function formatLicense(expression: LicenseExpression): string {
  switch (expression.type) {
    case 'license': {
      const license = expression.id + (expression.orLater ? '+' : '');
      return expression.exception === undefined ? license : `${license} WITH ${expression.exception}`;
    }
    case 'and':
      return expression.operands
        .map((o) => (o.type === 'or' ? `(${formatLicense(o)})` : formatLicense(o)))
        .join(' AND ');
    case 'or':
      // AND binds tighter than OR, so no operand of an OR needs parentheses.
      return expression.operands.map(formatLicense).join(' OR ');
  }
}
