import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchSearch, searchRows } from './searchList.js';
import type { RemoteRow } from './searchList.js';

const TEXT = [
  'nginx\t1.24\tdefault\tWeb server',
  'zlib\t1.3\tdefault\tCompression library',
  'zstd\t1.5\tdefault\tFast compression',
  'broken line without tabs',
  'İnci\t2.0\tdefault\tA name whose lower case is longer',
].join('\n');

test('searchRows: every well-formed line, or only the lines holding the term', () => {
  assert.deepEqual(
    searchRows(TEXT).map((row) => row[0]),
    ['nginx', 'zlib', 'zstd', 'İnci'],
  );
  assert.deepEqual(searchRows('').length, 0);
  // "İ" lower-cases to two code units: positions would drift, so every line is split instead.
  assert.deepEqual(
    searchRows(TEXT, 'compress').map((row) => row[0]),
    ['nginx', 'zlib', 'zstd', 'İnci'],
  );
  const plain = TEXT.split('\n').slice(0, 3).join('\n');
  assert.deepEqual(
    searchRows(plain, 'compress').map((row) => row[0]),
    ['zlib', 'zstd'],
  );
  assert.deepEqual(
    searchRows(plain, 'web').map((row) => row[0]),
    ['nginx'],
  );
  assert.deepEqual(searchRows(plain, 'qwerty'), []);
  // A term found twice on one line gives that line once; one found in the version only is kept here, dropped by matchSearch.
  assert.deepEqual(
    searchRows(plain, 'z').map((row) => row[0]),
    ['zlib', 'zstd'],
  );
  assert.deepEqual(
    searchRows(plain, '1.5').map((row) => row[0]),
    ['zstd'],
  );
});

test('matchSearch on the filtered rows answers as on all rows', () => {
  const plain = TEXT.split('\n').slice(0, 3).join('\n');
  const offered = (rows: ReturnType<typeof searchRows>): RemoteRow[] => rows.map((row) => ({ row, remote: 'main' }));
  for (const term of ['compress', 'COMPRESS', 'web', '1.5', 'z', 'default', 'qwerty']) {
    assert.deepEqual(
      matchSearch(term, offered(searchRows(plain, term.toLowerCase())), []),
      matchSearch(term, offered(searchRows(plain)), []),
      term,
    );
  }
  assert.deepEqual(matchSearch('1.5', offered(searchRows(plain)), []), [], 'versions are not searched');
});
