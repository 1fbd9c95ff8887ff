import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CatalogName } from './loadCatalog.js';
import { MAX_QUERY, searchCatalog } from './searchCatalog.js';

function named(name: string, summary: string): CatalogName {
  return { name, category: 'c', summary, homepage: '', license: 'MIT', versions: [{ version: '1', variants: [] }] };
}

const NAMES = [
  named('libnginx-mod-http', 'an nginx module'),
  named('nginx', 'a web server'),
  named('nginx-extras', 'nginx with every module'),
  named('zlib', 'compression library used by Nginx'),
  named('zstd', 'fast compression'),
].sort((a, b) => (a.name < b.name ? -1 : 1));

test('searchCatalog: exact name, then prefix, then substring, then summary; every word must match', () => {
  const names = (query: string) => searchCatalog(NAMES, query).results.map((item) => item.name);
  assert.deepEqual(names('nginx'), ['nginx', 'nginx-extras', 'libnginx-mod-http', 'zlib']);
  assert.deepEqual(names('NGINX'), names('nginx'), 'case does not matter');
  assert.deepEqual(names('compression'), ['zlib', 'zstd']);
  assert.deepEqual(names('compression fast'), ['zstd']);
  assert.deepEqual(
    names('mod'),
    ['libnginx-mod-http', 'nginx-extras'],
    'a name that contains it before a summary that does',
  );
  assert.deepEqual(names('nothing-like-this'), []);
});

test('searchCatalog: an empty query lists every name in order; offset and limit page; a huge query is cut, not refused', () => {
  assert.equal(searchCatalog(NAMES, '  ').total, 5);
  assert.deepEqual(
    searchCatalog(NAMES, '', 1, 2).results.map((item) => item.name),
    ['nginx', 'nginx-extras'],
  );
  const page = searchCatalog(NAMES, 'nginx', 2, 10);
  assert.equal(page.total, 4);
  assert.deepEqual(
    page.results.map((item) => item.name),
    ['libnginx-mod-http', 'zlib'],
  );
  assert.equal(searchCatalog(NAMES, 'x'.repeat(MAX_QUERY * 50)).total, 0);
});
