import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { blake2b } from './blake2b.js';

// Computed with Python's hashlib.blake2b(data, digest_size=n), an independent implementation.
const VECTORS: { data: Buffer; length: number; hex: string }[] = [
  { data: Buffer.alloc(0), length: 32, hex: '0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8' },
  { data: Buffer.from('abc'), length: 32, hex: 'bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319' },
  {
    data: Buffer.from(Array.from({ length: 128 }, (_, i) => i)),
    length: 32,
    hex: 'c3582f71ebb2be66fa5dd750f80baae97554f3b015663c8be377cfcb2488c1d1',
  },
  {
    data: Buffer.from(Array.from({ length: 129 }, (_, i) => i)),
    length: 32,
    hex: 'f7f3c46ba2564ff4c4c162da1f5b605f9f1c4aa6a20652a9f9a337c1a2f5b9c9',
  },
  {
    data: Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256)),
    length: 32,
    hex: '540b20132d8aeae54057cb69c24f95d26a1c472cc700dd450defe9bb796d4f14',
  },
  { data: Buffer.from('abc'), length: 1, hex: '6b' },
  { data: Buffer.from('abc'), length: 20, hex: '384264f676f39536840523f284921cdc68b6846b' },
  {
    data: Buffer.from('abc'),
    length: 48,
    hex: '6f56a82c8e7ef526dfe182eb5212f7db9df1317e57815dbda46083fc30f54ee6c66ba83be64b302d7cba6ce15bb556f4',
  },
  // RFC 7693 appendix A: BLAKE2b-512("abc").
  {
    data: Buffer.from('abc'),
    length: 64,
    hex:
      'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1' +
      '7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923',
  },
];

describe('blake2b', () => {
  it('matches known digests of several lengths', () => {
    for (const { data, length, hex } of VECTORS) {
      assert.equal(blake2b(data, length).toString('hex'), hex, `${data.length} bytes, ${length}-byte digest`);
    }
  });

  it('is not a truncated BLAKE2b-512', () => {
    const data = Buffer.from('abc');
    assert.notDeepEqual(blake2b(data, 32), blake2b(data, 64).subarray(0, 32));
  });

  it("matches Node's blake2b512 on random inputs of every length from 0 to 300 bytes", () => {
    for (let length = 0; length <= 300; length++) {
      const data = randomBytes(length);
      assert.equal(
        blake2b(data, 64).toString('hex'),
        createHash('blake2b512').update(data).digest('hex'),
        `${length} bytes`,
      );
    }
  });

  it("matches Node's blake2b512 around many block boundaries", () => {
    for (const blocks of [1, 2, 3, 7, 8, 31]) {
      for (const delta of [-1, 0, 1]) {
        const data = randomBytes(blocks * 128 + delta);
        assert.equal(
          blake2b(data, 64).toString('hex'),
          createHash('blake2b512').update(data).digest('hex'),
          `${data.length} bytes`,
        );
      }
    }
  });

  it('hashes a subarray as its own bytes', () => {
    const data = randomBytes(300);
    assert.deepEqual(blake2b(data.subarray(17, 250), 32), blake2b(Buffer.from(data.subarray(17, 250)), 32));
  });

  it('refuses output lengths outside 1 to 64', () => {
    for (const length of [0, 65, 1.5, -1]) {
      assert.throws(() => blake2b(Buffer.from('abc'), length), /Assertion failed/);
    }
  });
});
