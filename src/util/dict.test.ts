import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { dict, own } from './dict.js';

const SUSPECTS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__'];

describe('dict', () => {
  it('keeps every suspect as an ordinary entry', () => {
    const table = dict<number>();
    SUSPECTS.forEach((key, i) => {
      table[key] = i;
    });
    assert.deepEqual(Object.keys(table), SUSPECTS);
    SUSPECTS.forEach((key, i) => {
      assert.equal(table[key], i);
    });
    assert.equal(Object.getPrototypeOf(table), null);
    assert.deepEqual(JSON.parse(JSON.stringify(table)), Object.fromEntries(SUSPECTS.map((key, i) => [key, i])));
  });

  it('is filled from entries', () => {
    assert.deepEqual(
      Object.entries(
        dict([
          ['a', 1],
          ['__proto__', 2],
        ]),
      ),
      [
        ['a', 1],
        ['__proto__', 2],
      ],
    );
  });
});

describe('own', () => {
  it('never answers with what a prototype inherits', () => {
    const plain: Record<string, boolean> = { ssl: true };
    for (const key of SUSPECTS) assert.equal(own(plain, key), undefined, key);
    assert.equal(own(plain, 'ssl'), true);
    assert.equal(own(JSON.parse('{"__proto__": true}') as Record<string, boolean>, '__proto__'), true);
  });
});
