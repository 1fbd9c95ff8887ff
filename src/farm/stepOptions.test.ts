import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStepOptions, parseStepOptions } from './stepOptions.js';

test('step options: one text for the same flips, read back as they were', () => {
  assert.equal(formatStepOptions({ ssl: false, uwsgi: true }), '-ssl,+uwsgi');
  assert.equal(formatStepOptions({ uwsgi: true, ssl: false }), '-ssl,+uwsgi');
  assert.equal(formatStepOptions({}), '');
  assert.deepEqual(parseStepOptions('-ssl,+uwsgi'), { enable: ['uwsgi'], disable: ['ssl'] });
  assert.deepEqual(parseStepOptions(''), { enable: [], disable: [] });
});

test('step options: malformed text from a catalog is refused', () => {
  for (const text of ['ssl', '+', '+SSL', '+a,,-b', '+../x', `+${'a'.repeat(80)}`])
    assert.throws(() => parseStepOptions(text), /options are malformed/, text);
});
