import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProblem, readRequirement } from './problem.js';

test('a bad requirement is named by its place, though its range and the good ones around it were read before', () => {
  const problem = (depends: string[]) =>
    JSON.stringify({
      packages: [
        { name: 'a', version: '1.0', depends: ['b >=1.0', 'c'] },
        { name: 'b', version: '1.0', depends },
        { name: 'c', version: '1.0' },
      ],
      request: { install: ['a'] },
    });
  assert.equal(parseProblem(problem(['c >=1.0'])).packages[1]?.depends[0]?.text, 'c >=1.0');
  assert.throws(
    () => parseProblem(problem(['c >=1.0', 'c >=x'])),
    /packages\[1\]\.depends\[1\] "c >=x" has a bad range/,
  );
  assert.throws(
    () => parseProblem(problem(['c >=1.0', 'B! >=1.0'])),
    /packages\[1\]\.depends\[1\] "B!" is not a package name/,
  );
  assert.throws(
    () => parseProblem(problem(['c >=1.0', 7 as unknown as string])),
    /packages\[1\]\.depends\[1\] must be a string/,
  );
});

test('a requirement read twice gives the same canonical text, written however it was', () => {
  assert.equal(readRequirement('zlib  >=1.2', 'x').text, 'zlib >=1.2');
  assert.equal(readRequirement('zlib >=1.2', 'x').text, 'zlib >=1.2');
  assert.equal(readRequirement('other >=1.2', 'x').text, 'other >=1.2');
  assert.equal(readRequirement('zlib', 'x').text, 'zlib');
  assert.throws(
    () => readRequirement('zlib >=1.2 when ssl', () => 'lazy place'),
    /lazy place "zlib >=1.2 when ssl": only a recipe/,
  );
  assert.deepEqual(readRequirement('zlib >=1.2 when !ssl', 'x', true).when, { option: 'ssl', value: false });
});
