import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestPath } from './requestPath.js';

test('requestPath: segments decoded one by one; ., .., NUL, slashes and backslashes refused', () => {
  assert.deepEqual(requestPath('/packages/app-misc/a%20b/x.kpkg?x=1'), {
    ok: true,
    segments: ['packages', 'app-misc', 'a b', 'x.kpkg'],
    directory: false,
  });
  assert.deepEqual(requestPath('/'), { ok: true, segments: [], directory: true });
  assert.deepEqual(requestPath('/keys/'), { ok: true, segments: ['keys'], directory: true });
  for (const bad of [
    '/../x',
    '/%2e%2e/x',
    '/a/%2E/b',
    '/a%2fb',
    '/a%5cb',
    '/a\\b',
    '/a%00b',
    '//x',
    '/a//b',
    '/%c0%ae',
    '/%',
    'x',
    'http://host/x',
    `/${'a'.repeat(5000)}`,
  ]) {
    const answer = requestPath(bad);
    assert.equal(answer.ok, false, bad.slice(0, 40));
  }
});
