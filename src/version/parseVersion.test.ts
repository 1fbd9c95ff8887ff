import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isKilnError } from '../errors/index.js';
import { compareCases } from './compareCases.js';
import { formatVersion } from './formatVersion.js';
import { parseVersion, tryParseVersion } from './parseVersion.js';
import { invalidVersionCases, validVersionCases } from './versionCases.js';
import { withoutRevision } from './withoutRevision.js';

describe('parseVersion', () => {
  for (const [input, parsed] of validVersionCases) {
    it(`parses ${input}`, () => {
      assert.deepEqual(parseVersion(input), { raw: input, ...parsed });
      assert.deepEqual(tryParseVersion(input), { raw: input, ...parsed });
    });
  }

  for (const [input, fragment] of invalidVersionCases) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.equal(tryParseVersion(input), undefined);
      assert.throws(
        () => parseVersion(input),
        (e: unknown) => {
          assert.ok(isKilnError(e, 'E_VERSION'), `expected E_VERSION, got ${String(e)}`);
          assert.ok(
            e.message.startsWith(`cannot parse version ${JSON.stringify(input)}: `),
            `message does not name the input: ${e.message}`,
          );
          assert.ok(
            e.message.includes(fragment),
            `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(fragment)}`,
          );
          assert.match(e.hint ?? '', /e\.g\. 1\.2\.3/);
          return true;
        },
      );
    });
  }

  it('has enough invalid cases to mean something', () => {
    assert.ok(invalidVersionCases.length >= 25, `only ${invalidVersionCases.length} cases`);
  });

  it('accepts components of any length', () => {
    const long = '1'.repeat(400);
    const v = parseVersion(`${long}.${long}_p${long}`);
    assert.equal(v.numbers[1], long);
    assert.equal(v.suffixes[0]?.number, long);
  });
});

describe('formatVersion', () => {
  const inputs = new Set([...validVersionCases.map(([s]) => s), ...compareCases.flatMap(([a, , b]) => [a, b])]);
  for (const input of inputs) {
    // A revision's leading zeros are not kept, because the revision is held as a number.
    const expected = input.replace(/-r0+(?=\d)/, '-r');
    it(`formats ${input} as ${expected}`, () => {
      assert.equal(formatVersion(parseVersion(input)), expected);
    });
  }
});

describe('withoutRevision', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['1.2_p1-r3', '1.2_p1'],
    ['1.0-r0', '1.0'],
    ['1.0', '1.0'],
    ['1.2.3b_alpha2', '1.2.3b_alpha2'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => {
      const v = withoutRevision(parseVersion(input));
      assert.deepEqual(v, parseVersion(expected));
    });
  }
});
