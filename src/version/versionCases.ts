/**
 * Version syntax cases, run by parseVersion.test.ts.
 */
import type { Version } from './Version.js';

/** Valid versions and what they parse to (`raw` is the input itself). */
export const validVersionCases: readonly (readonly [input: string, parsed: Omit<Version, 'raw'>])[] = [
  ['1.0', { numbers: ['1', '0'], letter: '', suffixes: [], revision: '0', hasRevision: false }],
  ['0', { numbers: ['0'], letter: '', suffixes: [], revision: '0', hasRevision: false }],
  ['2.4.52', { numbers: ['2', '4', '52'], letter: '', suffixes: [], revision: '0', hasRevision: false }],
  ['1.1.1w', { numbers: ['1', '1', '1'], letter: 'w', suffixes: [], revision: '0', hasRevision: false }],
  [
    '1.0_rc60',
    { numbers: ['1', '0'], letter: '', suffixes: [{ type: 'rc', number: '60' }], revision: '0', hasRevision: false },
  ],
  [
    '1.2.3b_p4-r2',
    { numbers: ['1', '2', '3'], letter: 'b', suffixes: [{ type: 'p', number: '4' }], revision: '2', hasRevision: true },
  ],
  ['1.0-r0', { numbers: ['1', '0'], letter: '', suffixes: [], revision: '0', hasRevision: true }],
  ['007.010', { numbers: ['007', '010'], letter: '', suffixes: [], revision: '0', hasRevision: false }],
  [
    '1.0_alpha_beta2_pre_rc03_p',
    {
      numbers: ['1', '0'],
      letter: '',
      suffixes: [
        { type: 'alpha', number: undefined },
        { type: 'beta', number: '2' },
        { type: 'pre', number: undefined },
        { type: 'rc', number: '03' },
        { type: 'p', number: undefined },
      ],
      revision: '0',
      hasRevision: false,
    },
  ],
  [
    '5.4.1_p2-r1',
    { numbers: ['5', '4', '1'], letter: '', suffixes: [{ type: 'p', number: '2' }], revision: '1', hasRevision: true },
  ],
  [
    '1-r9007199254740991',
    { numbers: ['1'], letter: '', suffixes: [], revision: '9007199254740991', hasRevision: true },
  ],
  ['1.0-r01', { numbers: ['1', '0'], letter: '', suffixes: [], revision: '1', hasRevision: true }],
  // PMS sets no limit on a number's length: revisions past 2^53 parse exactly.
  [
    '1-r1000000000000000000',
    { numbers: ['1'], letter: '', suffixes: [], revision: '1000000000000000000', hasRevision: true },
  ],
  [
    '1.0-r99999999999999999999999',
    { numbers: ['1', '0'], letter: '', suffixes: [], revision: '99999999999999999999999', hasRevision: true },
  ],
  ['1.0-r000', { numbers: ['1', '0'], letter: '', suffixes: [], revision: '0', hasRevision: true }],
];

/** Strings that are not versions, each with a fragment its error message must contain. */
export const invalidVersionCases: readonly (readonly [input: string, messageFragment: string])[] = [
  ['', 'it is empty'],
  ['1.', 'expected a digit after "1.", but it ends there'],
  ['.1', 'expected a digit at the start, not "."'],
  ['1..2', 'expected a digit after "1.", not "."'],
  ['1.0.', 'expected a digit after "1.0.", but it ends there'],
  ['a1', 'expected a digit at the start, not "a"'],
  ['ab', 'expected a digit at the start'],
  ['v1.0', 'expected a digit at the start, not "v"'],
  ['-1.0', 'expected a digit at the start, not "-"'],
  ['*', 'expected a digit at the start, not "*"'],
  [' 1.0', 'leading or trailing whitespace'],
  ['1.0 ', 'leading or trailing whitespace'],
  ['1.0\t', 'leading or trailing whitespace'],
  ['1 .0', 'unexpected " .0" after "1"'],
  ['1.0-r', 'expected the revision number after "1.0-r", but it ends there'],
  ['1.0-rc1', 'expected the revision number after "1.0-r", not "c"'],
  ['1.0-r-1', 'expected the revision number after "1.0-r", not "-"'],
  ['1.0-r1-r2', 'unexpected "-r2" after "1.0-r1" (the revision must come last)'],
  ['1.0-r1a', 'the revision must come last'],
  ['1.0-1', 'unexpected "-1" after "1.0" (a revision is written -r1)'],
  ['1.0-x', 'unexpected "-x" after "1.0"'],
  ['1.0--r1', 'unexpected "--r1" after "1.0"'],
  ['1.0_foo', 'unknown suffix "_foo" after "1.0"'],
  ['1.0_', 'unknown suffix "_" after "1.0"'],
  ['1.0_RC1', 'unknown suffix "_RC" after "1.0"'],
  ['1.0_p1_', 'unknown suffix "_" after "1.0_p1"'],
  ['1.0_alpha-', 'unexpected "-" after "1.0_alpha"'],
  ['1.0_rc-1', 'unexpected "-1" after "1.0_rc"'],
  ['1.0_pre1.2', 'unexpected ".2" after "1.0_pre1"'],
  ['1.0A', 'unexpected "A" after "1.0" (the letter must be lower case)'],
  ['1.0ab', 'unexpected "b" after "1.0a" (only one letter may follow the numbers)'],
  ['1.0_rc1a', 'unexpected "a" after "1.0_rc1" (the letter must come right after the numbers)'],
  ['1.0a.1', 'unexpected ".1" after "1.0a"'],
  ['1.0.a', 'expected a digit after "1.0.", not "a"'],
  ['1,0', 'unexpected ",0" after "1"'],
  ['1.0+', 'unexpected "+" after "1.0"'],
  ['1.0~rc1', 'unexpected "~rc1" after "1.0"'],
  ['\uff11.0', 'expected a digit at the start'],
  ['1.0-r1 ', 'leading or trailing whitespace'],
];
