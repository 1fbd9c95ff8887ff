/**
 * License expression cases, run by parseLicense.test.ts and licenseAccepted.test.ts.
 */
import type { LicenseExpression } from './LicenseExpression.js';

/** Valid expressions and their canonical form. */
export const validLicenseCases: readonly (readonly [input: string, formatted: string])[] = [
  ['MIT', 'MIT'],
  ['mit', 'mit'],
  ['0BSD', '0BSD'],
  ['GPL-2.0+', 'GPL-2.0+'],
  ['LGPL-2.1-or-later', 'LGPL-2.1-or-later'],
  ['LicenseRef-foo.bar-1', 'LicenseRef-foo.bar-1'],
  ['DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2', 'DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2'],
  ['MIT OR Apache-2.0', 'MIT OR Apache-2.0'],
  ['MIT or Apache-2.0', 'MIT OR Apache-2.0'],
  ['MIT and BSD-3-Clause', 'MIT AND BSD-3-Clause'],
  ['GPL-2.0-or-later WITH Classpath-exception-2.0', 'GPL-2.0-or-later WITH Classpath-exception-2.0'],
  ['GPL-2.0+ with Classpath-exception-2.0', 'GPL-2.0+ WITH Classpath-exception-2.0'],
  ['MIT AND BSD-2-Clause OR Apache-2.0', 'MIT AND BSD-2-Clause OR Apache-2.0'],
  ['MIT OR BSD-2-Clause AND Apache-2.0', 'MIT OR BSD-2-Clause AND Apache-2.0'],
  ['(MIT OR BSD-2-Clause) AND Apache-2.0', '(MIT OR BSD-2-Clause) AND Apache-2.0'],
  ['(MIT AND BSD-2-Clause) OR Apache-2.0', 'MIT AND BSD-2-Clause OR Apache-2.0'],
  ['((MIT))', 'MIT'],
  ['MIT AND (BSD-2-Clause AND Zlib)', 'MIT AND BSD-2-Clause AND Zlib'],
  ['MIT OR (BSD-2-Clause OR (Apache-2.0))', 'MIT OR BSD-2-Clause OR Apache-2.0'],
  ['  MIT\tOR\nApache-2.0  ', 'MIT OR Apache-2.0'],
  ['MIT AND(Apache-2.0 OR BSD-2-Clause)', 'MIT AND (Apache-2.0 OR BSD-2-Clause)'],
  ['(GPL-2.0 WITH Classpath-exception-2.0)', 'GPL-2.0 WITH Classpath-exception-2.0'],
  [
    '(GPL-2.0+ WITH Bison-exception-2.2 OR MIT) and (LicenseRef-a OR LicenseRef-b) AND Zlib',
    '(GPL-2.0+ WITH Bison-exception-2.2 OR MIT) AND (LicenseRef-a OR LicenseRef-b) AND Zlib',
  ],
  ['constructor OR toString', 'constructor OR toString'],
  ['((MIT OR Zlib) AND (BSD-3-Clause OR (ISC AND X11)))', '(MIT OR Zlib) AND (BSD-3-Clause OR ISC AND X11)'],
];

/** Full syntax trees for a few inputs, to pin down the shape of the AST. */
export const licenseAstCases: readonly (readonly [input: string, ast: LicenseExpression])[] = [
  ['MIT', { type: 'license', id: 'MIT', orLater: false, exception: undefined }],
  [
    'GPL-2.0+ WITH Classpath-exception-2.0',
    { type: 'license', id: 'GPL-2.0', orLater: true, exception: 'Classpath-exception-2.0' },
  ],
  [
    'MIT AND Zlib OR Apache-2.0',
    {
      type: 'or',
      operands: [
        {
          type: 'and',
          operands: [
            { type: 'license', id: 'MIT', orLater: false, exception: undefined },
            { type: 'license', id: 'Zlib', orLater: false, exception: undefined },
          ],
        },
        { type: 'license', id: 'Apache-2.0', orLater: false, exception: undefined },
      ],
    },
  ],
  [
    'A AND (B AND C)',
    {
      type: 'and',
      operands: [
        { type: 'license', id: 'A', orLater: false, exception: undefined },
        { type: 'license', id: 'B', orLater: false, exception: undefined },
        { type: 'license', id: 'C', orLater: false, exception: undefined },
      ],
    },
  ],
];

/** Expressions that do not parse, each with a fragment its error message must contain. */
export const invalidLicenseCases: readonly (readonly [input: string, messageFragment: string])[] = [
  ['', 'it is empty'],
  ['   ', 'it is empty'],
  ['MIT OR', 'expected a license id, but the expression ends there'],
  ['MIT AND', 'expected a license id, but the expression ends there'],
  ['OR MIT', 'expected a license id, found "OR" at column 1'],
  ['MIT AND AND Zlib', 'expected a license id, found "AND" at column 9'],
  ['MIT Apache-2.0', 'expected AND or OR, found "Apache-2.0" at column 5'],
  ['(MIT Apache-2.0)', 'expected AND, OR or ")", found "Apache-2.0" at column 6'],
  ['(MIT', '"(" at column 1 is never closed'],
  ['((MIT)', '"(" at column 1 is never closed'],
  ['MIT)', 'unmatched ")" at column 4'],
  ['()', 'expected a license id, found ")" at column 2'],
  ['MIT OR (Apache-2.0 AND)', 'expected a license id, found ")" at column 23'],
  ['MIT WITH', 'expected an exception id after "WITH", but the expression ends there'],
  ['MIT WITH OR Zlib', 'expected an exception id after "WITH", found "OR" at column 10'],
  ['MIT WITH (Zlib)', 'expected an exception id after "WITH", found "(" at column 10'],
  ['GPL-2.0 WITH Classpath+', '"Classpath+" at column 14 is not an exception id'],
  ['MIT WITH A WITH B', '"WITH" at column 12 must follow a single license id'],
  ['(MIT) WITH Classpath-exception-2.0', '"WITH" at column 7 must follow a single license id'],
  ['WITH MIT', 'expected a license id, found "WITH" at column 1'],
  ['MIT And Zlib', 'operator "And" at column 5 must be written AND or and'],
  ['Or MIT', 'operator "Or" at column 1 must be written OR or or'],
  ['MIT/Apache-2.0', 'unexpected character "/" at column 4'],
  ['MIT, Zlib', 'unexpected character "," at column 4'],
  ['MIT OR Zlib;', 'unexpected character ";" at column 12'],
  ['GPL-2.0++', '"GPL-2.0++" at column 1 is not a license id'],
  ['MIT +', '"+" at column 5 must be written right after a license id'],
  ['+', '"+" at column 1 is not a license id'],
  ['foo:bar', '"foo:bar" at column 1 is not a license id'],
  ['LicenseRef-', '"LicenseRef-" at column 1 is not a license reference'],
  ['LicenseRef-foo+', '"LicenseRef-foo+" at column 1 is not a license reference'],
  ['DocumentRef-doc:MIT', 'is not a license reference'],
  ['DocumentRef-:LicenseRef-x', 'is not a license reference'],
];

/** `[expression, expected]` with MIT, Apache-2.0, GPL-2.0 and LicenseRef-ours accepted. */
export const acceptedCases: readonly (readonly [input: string, expected: boolean])[] = [
  ['MIT', true],
  ['GPL-3.0', false],
  ['mit', false],
  ['MIT OR GPL-3.0', true],
  ['GPL-3.0 OR MIT', true],
  ['MIT AND GPL-3.0', false],
  ['MIT AND Apache-2.0', true],
  ['GPL-2.0+', true],
  ['GPL-3.0+', false],
  ['GPL-2.0 WITH Classpath-exception-2.0', true],
  ['GPL-2.0+ WITH Classpath-exception-2.0', true],
  ['GPL-3.0 WITH Classpath-exception-2.0', false],
  ['(MIT OR GPL-3.0) AND (BSD-3-Clause OR Apache-2.0)', true],
  ['(MIT OR GPL-3.0) AND (BSD-3-Clause OR Zlib)', false],
  ['MIT AND BSD-3-Clause OR Apache-2.0', true],
  ['MIT OR BSD-3-Clause AND Zlib', true],
  ['GPL-3.0 OR BSD-3-Clause AND Zlib', false],
  ['GPL-3.0 OR BSD-3-Clause AND MIT', false],
  ['LicenseRef-ours', true],
  ['DocumentRef-other:LicenseRef-ours', false],
];
