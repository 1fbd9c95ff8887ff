import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify } from './catalogHistory.js';

test('classify: a name both added and retired is a replacement; the rest are added or removed', () => {
  assert.deepEqual(
    classify(['nginx 1.26 aaa', 'nginx 1.26 bbb', 'zstd 1.5 ccc'], ['nginx 1.24 aaa', 'pcre 8.45 ddd']),
    {
      added: ['zstd 1.5 ccc'],
      removed: ['pcre 8.45 ddd'],
      replaced: [{ name: 'nginx', from: ['1.24 aaa'], to: ['1.26 aaa', '1.26 bbb'] }],
    },
  );
  assert.deepEqual(classify([], []), { added: [], removed: [], replaced: [] });
});
