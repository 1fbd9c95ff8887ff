import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isKilnError } from '../errors/index.js';
import { compareCases } from './compareCases.js';
import { compareVersions, versionsEqual } from './compareVersions.js';
import { parseVersion } from './parseVersion.js';

const ORDERING = { '<': -1, '=': 0, '>': 1 } as const;

describe('compareVersions', () => {
  for (const [a, op, b] of compareCases) {
    it(`${a} ${op} ${b}`, () => {
      const expected = ORDERING[op];
      assert.equal(compareVersions(a, b), expected);
      // Antisymmetry: the reverse comparison must agree (and never yield -0).
      assert.equal(compareVersions(b, a), expected === 0 ? 0 : -expected);
      assert.equal(compareVersions(parseVersion(a), parseVersion(b)), expected);
      assert.equal(versionsEqual(a, b), expected === 0);
      assert.equal(compareVersions(a, a), 0);
      assert.equal(compareVersions(b, b), 0);
    });
  }

  it('has enough cases to mean something', () => {
    assert.ok(compareCases.length >= 60, `only ${compareCases.length} cases`);
  });

  it('rejects a string that is not a version with E_VERSION', () => {
    assert.throws(
      () => compareVersions('1.0', 'v1.0'),
      (e: unknown) => isKilnError(e, 'E_VERSION'),
    );
  });
});
