import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isKilnError } from '../errors/index.js';
import { formatLicense } from './formatLicense.js';
import { invalidLicenseCases, licenseAstCases, validLicenseCases } from './licenseCases.js';
import { parseLicense, tryParseLicense } from './parseLicense.js';

describe('parseLicense', () => {
  for (const [input, formatted] of validLicenseCases) {
    it(`parses ${JSON.stringify(input)} as ${formatted}`, () => {
      const ast = parseLicense(input);
      assert.equal(formatLicense(ast), formatted);
      // The canonical form is a fixed point and means the same thing.
      assert.deepEqual(parseLicense(formatted), ast);
      assert.deepEqual(tryParseLicense(input), ast);
    });
  }

  for (const [input, ast] of licenseAstCases) {
    it(`builds the tree for ${input}`, () => {
      assert.deepEqual(parseLicense(input), ast);
    });
  }

  for (const [input, fragment] of invalidLicenseCases) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.equal(tryParseLicense(input), undefined);
      assert.throws(
        () => parseLicense(input),
        (e: unknown) => {
          assert.ok(isKilnError(e, 'E_LICENSE'), `expected E_LICENSE, got ${String(e)}`);
          assert.ok(
            e.message.startsWith(`cannot parse license ${JSON.stringify(input)}: `),
            `message does not name the input: ${e.message}`,
          );
          assert.ok(
            e.message.includes(fragment),
            `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(fragment)}`,
          );
          assert.match(e.hint ?? '', /MIT OR Apache-2\.0/);
          return true;
        },
      );
    });
  }

  it('has enough cases to mean something', () => {
    assert.ok(validLicenseCases.length + invalidLicenseCases.length >= 25);
  });
});
