/**
 * Version range cases, run by satisfies.test.ts and parseRange.test.ts.
 */

/** `[range, version, whether the version satisfies the range]`. */
export const satisfiesCases: readonly (readonly [range: string, version: string, expected: boolean])[] = [
  // Any version.
  ['', '1.0', true],
  ['*', '0', true],
  ['  ', '5_alpha-r2', true],

  // <, <=
  ['<2', '1.9', true],
  ['<2', '2', false],
  ['<2', '2_rc1', true],
  ['<2', '2-r1', false],
  ['<=2', '2-r0', true],
  ['<=2', '2-r1', false],
  ['<=2', '1', true],

  // =
  ['=1.0', '1.0-r0', true],
  ['=1.0', '1.00', true],
  ['=1.0', '1.0-r1', false],
  ['=1.0', '1.0.0', false],
  ['=1.0-r2', '1.0-r2', true],
  ['=1.0-r2', '1.0', false],

  // >=, >
  ['>=1.2', '1.2', true],
  ['>=1.2', '1.2_rc1', false],
  ['>=1.2', '1.2_p1', true],
  ['>=1.2', '1.10', true],
  ['>1.2', '1.2-r1', true],
  ['>1.2', '1.2', false],
  ['>1.2', '1.1.9', false],

  // !=
  ['!=1.4', '1.4', false],
  ['!=1.4', '1.4-r0', false],
  ['!=1.4', '1.4-r1', true],
  ['!=1.4', '1.4.0', true],

  // ~ ignores only the revision.
  ['~1.2', '1.2', true],
  ['~1.2', '1.2-r3', true],
  ['~1.2', '1.2.0', false],
  ['~1.2', '1.2_p1', false],
  ['~1.2', '1.3', false],
  ['~1.2_rc1', '1.2_rc1-r5', true],

  // =V* compares only the components V gives.
  ['=1.2*', '1.2', true],
  ['=1.2*', '1.2.3', true],
  ['=1.2*', '1.2_rc1', true],
  ['=1.2*', '1.2b', true],
  ['=1.2*', '1.2-r4', true],
  ['=1.2*', '1.2.3b_p4-r2', true],
  ['=1.2*', '1.20', false],
  ['=1.2*', '1.3', false],
  ['=1.2*', '1', false],
  ['=2*', '2_alpha', true],
  ['=2*', '2.1.3', true],
  ['=2*', '21', false],
  ['=01*', '1.5', true],
  ['=1.0*', '1.00.1', true],
  ['=1.0*', '1.01', false],
  ['=1.2b*', '1.2b_p1', true],
  ['=1.2b*', '1.2c', false],
  ['=1.2b*', '1.2.3b', false],
  ['=1.2_rc*', '1.2_rc', true],
  ['=1.2_rc*', '1.2_rc5', true],
  ['=1.2_rc*', '1.2_rc1_p1', true],
  ['=1.2_rc*', '1.2b_rc1', false],
  ['=1.2_rc*', '1.2.0_rc1', false],
  ['=1.2_rc*', '1.2_beta1', false],
  ['=1.2_rc*', '1.2', false],
  ['=1.2_rc1*', '1.2_rc1-r2', true],
  ['=1.2_rc1*', '1.2_rc01', true],
  ['=1.2_rc1*', '1.2_rc10', false],
  ['=1.0_alpha_p*', '1.0_alpha_p3', true],
  ['=1.0_alpha_p*', '1.0_alpha0_p', true],
  ['=1.0_alpha_p*', '1.0_alpha2_p3', false],

  // Clauses combine with AND.
  ['>=1.2 <2', '1.9.9', true],
  ['>=1.2 <2', '2', false],
  ['>=1.2 <2', '1.1', false],
  ['>=1.2 <2 !=1.5', '1.5', false],
  ['>=1.2 <2 !=1.5', '1.5-r1', true],
  ['=1* !=1.3', '1.3', false],
  ['=1* !=1.3', '1.4', true],
  ['=1* !=1.3', '2', false],
  [' >=1.0\t<1.1 ', '1.0.5', true],
  ['>1 <1', '1', false],
  ['~1.0 >1.0', '1.0-r1', true],
  ['~1.0 >1.0', '1.0', false],
];

/** Ranges that do not parse, each with a fragment its error message must contain. */
export const invalidRangeCases: readonly (readonly [range: string, messageFragment: string])[] = [
  ['1.0', 'clause "1.0" does not start with an operator (write =1.0 for exactly this version)'],
  ['^1.0', 'clause "^1.0" does not start with an operator'],
  ['>= 1.0', 'clause ">=" has no version'],
  ['>=', 'clause ">=" has no version'],
  ['=>1.0', 'clause "=>1.0" has an invalid version: expected a digit at the start, not ">"'],
  ['==1.0', 'clause "==1.0" has an invalid version'],
  ['<>1', 'clause "<>1" has an invalid version'],
  ['>=v1', 'clause ">=v1" has an invalid version'],
  ['>=1.0_foo', 'unknown suffix "_foo"'],
  ['>=1.0,<2', 'clause ">=1.0,<2" has an invalid version'],
  ['<1.0*', 'clause "<1.0*" uses "*", which only goes with "="'],
  ['~1.0*', 'clause "~1.0*" uses "*"'],
  ['!=1.0*', 'clause "!=1.0*" uses "*"'],
  ['=1.0-r1*', 'clause "=1.0-r1*" puts "*" after a revision'],
  ['=*', 'clause "=*" has no version before "*"'],
  ['=1.2**', 'clause "=1.2**" has an invalid version'],
  ['* >=1.0', 'clause "*" (any version) cannot be combined with other clauses'],
  ['>=1.0 *', 'clause "*" (any version) cannot be combined'],
  ['~1.0-r1', 'clause "~1.0-r1" gives a revision, but "~" matches every revision (write ~1.0 or =1.0-r1)'],
  ['>=1.0 <2 x', 'clause "x" does not start with an operator'],
];

/** `[range, canonical form]` for formatRange. */
export const formatRangeCases: readonly (readonly [range: string, formatted: string])[] = [
  ['', ''],
  ['*', ''],
  [' * ', ''],
  ['>=1.2', '>=1.2'],
  ['  >=1.2   <2 ', '>=1.2 <2'],
  ['=1.2*', '=1.2*'],
  ['~1.0_rc1', '~1.0_rc1'],
  ['>1.0-r0\t!=1.5b_p2-r3', '>1.0-r0 !=1.5b_p2-r3'],
];
