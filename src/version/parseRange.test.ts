import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isKilnError } from '../errors/index.js';
import { formatRange } from './formatRange.js';
import { parseRange, tryParseRange } from './parseRange.js';
import { formatRangeCases, invalidRangeCases } from './rangeCases.js';
import { RANGE_OPERATORS } from './VersionRange.js';

describe('parseRange', () => {
  it('reads each operator', () => {
    const range = parseRange('<1 <=2 =3 >=4 >5 !=6 ~7 =8*');
    assert.deepEqual(
      range.clauses.map((c) => c.operator),
      RANGE_OPERATORS,
    );
    assert.deepEqual(
      range.clauses.map((c) => c.version.raw),
      ['1', '2', '3', '4', '5', '6', '7', '8'],
    );
    assert.equal(range.raw, '<1 <=2 =3 >=4 >5 !=6 ~7 =8*');
  });

  for (const [input, fragment] of invalidRangeCases) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.equal(tryParseRange(input), undefined);
      assert.throws(
        () => parseRange(input),
        (e: unknown) => {
          assert.ok(isKilnError(e, 'E_RANGE'), `expected E_RANGE, got ${String(e)}`);
          assert.ok(
            e.message.startsWith(`cannot parse range ${JSON.stringify(input)}: `),
            `message does not name the input: ${e.message}`,
          );
          assert.ok(
            e.message.includes(fragment),
            `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(fragment)}`,
          );
          assert.match(e.hint ?? '', /<=1\.0, =1\.0, >=1\.0/);
          return true;
        },
      );
    });
  }

  it('has enough invalid cases to mean something', () => {
    assert.ok(invalidRangeCases.length >= 10);
  });
});

describe('formatRange', () => {
  for (const [input, formatted] of formatRangeCases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(formatted)}`, () => {
      assert.equal(formatRange(parseRange(input)), formatted);
      // The canonical form parses back to the same clauses.
      assert.deepEqual(parseRange(formatted).clauses, parseRange(input).clauses);
    });
  }
});
