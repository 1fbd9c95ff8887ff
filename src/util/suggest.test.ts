import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { didYouMean, editDistance, suggest } from './suggest.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and transpositions', () => {
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('abc', ''), 3);
    assert.equal(editDistance('instal', 'install'), 1);
    assert.equal(editDistance('ngnix', 'nginx'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('ca', 'abc'), 3);
  });

  it('stops early past the limit', () => {
    assert.equal(editDistance('aaaaaaaa', 'bbbbbbbb', 2), 3);
    assert.equal(editDistance('a', 'abcdef', 2), 3);
  });
});

describe('suggest', () => {
  const commands = ['install', 'info', 'init', 'list', 'remove', 'search', 'sync', 'upgrade', 'autoremove'];
  it('finds the command a typo meant, closest first', () => {
    assert.deepEqual(suggest('instal', commands), ['install']);
    assert.deepEqual(suggest('isntall', commands), ['install']);
    assert.deepEqual(suggest('serach', commands), ['search']);
    assert.deepEqual(suggest('upgarde', commands), ['upgrade']);
    assert.deepEqual(suggest('remvoe', commands), ['remove']);
    assert.deepEqual(suggest('snyc', commands), ['sync']);
  });

  it('finds package names and takes abbreviations', () => {
    assert.deepEqual(suggest('ngnix', ['nginx', 'zlib', 'pcre2']), ['nginx']);
    assert.deepEqual(suggest('pcre', ['nginx', 'zlib', 'pcre2']), ['pcre2']);
    assert.deepEqual(suggest('Zlib', ['nginx', 'zlib']), ['zlib']);
  });

  it('says nothing when nothing is close', () => {
    assert.deepEqual(suggest('frobnicate', commands), []);
    assert.deepEqual(suggest('x', ['nginx']), []);
  });

  it('keeps at most max, without repeats', () => {
    assert.deepEqual(suggest('ab', ['aa', 'ac', 'ad', 'ae', 'ac']), ['aa', 'ac', 'ad']);
  });
});

describe('didYouMean', () => {
  it('lists one, two or more', () => {
    assert.equal(didYouMean([]), undefined);
    assert.equal(didYouMean(['nginx']), 'did you mean nginx?');
    assert.equal(
      didYouMean(['a', 'b', 'c'], (s) => `"${s}"`),
      'did you mean "a", "b" or "c"?',
    );
  });
});
