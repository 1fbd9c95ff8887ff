import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { splitNameVersion } from './splitNameVersion.js';

const cases: readonly (readonly [input: string, expected: readonly [name: string, version: string] | undefined])[] = [
  ['xz-utils-5.4.1', ['xz-utils', '5.4.1']],
  ['foo-1.0-r1', ['foo', '1.0-r1']],
  ['python-3.11.2_p1', ['python', '3.11.2_p1']],
  ['openssl-1.1.1w', ['openssl', '1.1.1w']],
  ['a-1', ['a', '1']],
  ['perl-5-r1', ['perl', '5-r1']],
  ['foo-2-bar-1.0', ['foo-2-bar', '1.0']],
  ['gtk+-3.24.41', ['gtk+', '3.24.41']],
  ['x264-0.0.20231001', ['x264', '0.0.20231001']],
  ['foo--1.0', ['foo-', '1.0']],
  ['foo', undefined],
  ['foo-', undefined],
  ['foo-bar', undefined],
  ['foo-1.0-x', undefined],
  ['foo-v1.0', undefined],
  ['-1.0', undefined],
  ['1.0', undefined],
  ['', undefined],
];

describe('splitNameVersion', () => {
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${expected === undefined ? 'undefined' : expected.join(' + ')}`, () => {
      const result = splitNameVersion(input);
      assert.deepEqual(result === undefined ? undefined : [result.name, result.version.raw], expected);
    });
  }
});
