import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { acceptedCases } from './licenseCases.js';
import { licenseAccepted } from './licenseAccepted.js';
import { licenseIds } from './licenseIds.js';
import { parseLicense } from './parseLicense.js';

const ACCEPTED = new Set(['MIT', 'Apache-2.0', 'GPL-2.0', 'LicenseRef-ours']);

describe('licenseAccepted', () => {
  for (const [input, expected] of acceptedCases) {
    it(`${expected ? 'accepts' : 'refuses'} ${input}`, () => {
      assert.equal(
        licenseAccepted(parseLicense(input), (id) => ACCEPTED.has(id)),
        expected,
      );
    });
  }
});

describe('licenseIds', () => {
  const cases: readonly (readonly [string, readonly string[]])[] = [
    ['MIT', ['MIT']],
    ['(MIT OR GPL-2.0+) AND MIT AND GPL-2.0 WITH Classpath-exception-2.0', ['MIT', 'GPL-2.0']],
    ['Zlib AND (LicenseRef-a OR DocumentRef-d:LicenseRef-b)', ['Zlib', 'LicenseRef-a', 'DocumentRef-d:LicenseRef-b']],
  ];
  for (const [input, ids] of cases) {
    it(`lists ${ids.join(', ')} for ${input}`, () => {
      assert.deepEqual(licenseIds(parseLicense(input)), ids);
    });
  }

  it('names every id licenseAccepted may ask about', () => {
    for (const [input] of acceptedCases) {
      const ids = licenseIds(parseLicense(input));
      // Evaluation stops early, so check both ways a constant predicate can steer it.
      for (const answer of [true, false]) {
        licenseAccepted(parseLicense(input), (id) => {
          assert.ok(ids.includes(id), `${input}: asked about ${id}, not in ${ids.join(', ')}`);
          return answer;
        });
      }
    }
  });
});
