import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { decodeBase64Strict } from './decodeBase64Strict.js';

describe('decodeBase64Strict', () => {
  it('decodes canonical base64 of every length modulo 3', () => {
    for (let length = 0; length < 80; length++) {
      const bytes = randomBytes(length);
      assert.deepEqual(decodeBase64Strict(bytes.toString('base64')), bytes);
    }
  });

  it('refuses a set padding bit', () => {
    assert.deepEqual(decodeBase64Strict('RWQ='), Buffer.from('Ed'));
    assert.equal(decodeBase64Strict('RWR='), undefined);
    assert.deepEqual(decodeBase64Strict('RQ=='), Buffer.from('E'));
    assert.equal(decodeBase64Strict('RR=='), undefined);
  });

  it('refuses every text that is not canonical padded standard base64', () => {
    for (const text of [
      'RWQ', // padding missing
      'RQ', // padding missing
      'RQ=', // padding short
      'RWQ==', // padding too long
      'RW=Q', // padding inside
      ' RWQ=', // space
      'RWQ=\n', // newline
      'RWQ=\r', // carriage return
      'RW Q=', // space inside
      'RW-_', // base64url alphabet
      'RWQ=RWQ=', // padding in the middle
      'R', // one character
      'RWQ=====',
      'é===',
    ]) {
      assert.equal(decodeBase64Strict(text), undefined, JSON.stringify(text));
    }
  });

  it('decodes the empty string to no bytes', () => {
    assert.deepEqual(decodeBase64Strict(''), Buffer.alloc(0));
  });
});
