import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isKilnError } from '../errors/index.js';
import { isAnyRange } from './isAnyRange.js';
import { parseRange } from './parseRange.js';
import { parseVersion } from './parseVersion.js';
import { satisfiesCases } from './rangeCases.js';
import { satisfies } from './satisfies.js';

describe('satisfies', () => {
  for (const [range, version, expected] of satisfiesCases) {
    it(`${version} ${expected ? 'satisfies' : 'does not satisfy'} ${JSON.stringify(range)}`, () => {
      assert.equal(satisfies(version, range), expected);
      assert.equal(satisfies(parseVersion(version), parseRange(range)), expected);
    });
  }

  it('has enough cases to mean something', () => {
    assert.ok(satisfiesCases.length >= 40, `only ${satisfiesCases.length} cases`);
  });

  it('rejects a bad version with E_VERSION and a bad range with E_RANGE', () => {
    assert.throws(
      () => satisfies('x', '>=1'),
      (e: unknown) => isKilnError(e, 'E_VERSION'),
    );
    assert.throws(
      () => satisfies('1', '1'),
      (e: unknown) => isKilnError(e, 'E_RANGE'),
    );
  });
});

describe('isAnyRange', () => {
  it('is true only for ranges without clauses', () => {
    assert.equal(isAnyRange(parseRange('')), true);
    assert.equal(isAnyRange(parseRange('*')), true);
    assert.equal(isAnyRange(parseRange('>=0')), false);
  });
});
