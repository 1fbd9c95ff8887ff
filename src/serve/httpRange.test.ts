import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { byteRange } from './httpRange.js';

test('byteRange: one well-formed range is honoured, clipped to the file; anything else is the whole file', () => {
  assert.deepEqual(byteRange(undefined, 100), { kind: 'whole' });
  assert.deepEqual(byteRange('bytes=0-9', 100), { kind: 'part', start: 0, end: 9 });
  assert.deepEqual(byteRange('bytes=90-', 100), { kind: 'part', start: 90, end: 99 });
  assert.deepEqual(byteRange('bytes=90-1000', 100), { kind: 'part', start: 90, end: 99 });
  assert.deepEqual(byteRange('bytes=-10', 100), { kind: 'part', start: 90, end: 99 });
  assert.deepEqual(byteRange('bytes=-1000', 100), { kind: 'part', start: 0, end: 99 });
  assert.deepEqual(byteRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(byteRange('bytes=999999999999999-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(byteRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(byteRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  for (const ignored of ['bytes=5-2', 'bytes=0-1,3-4', 'bytes=-', 'items=0-1', 'bytes=1e3-', 'bytes=9999999999999999-'])
    assert.deepEqual(byteRange(ignored, 100), { kind: 'whole' }, ignored);
});
