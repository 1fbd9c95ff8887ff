import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { deriveKeyStream } from './deriveKeyStream.js';
import { pickScryptParams } from './pickScryptParams.js';

// Cases worked out by hand from libsodium's pickparams; `stream` is the 32-byte
// output of libsodium's own crypto_pwhash_scryptsalsa208sha256 for password
// "kiln" and salt 00 01 … 1f with these limits (computed once through ctypes).
const CASES = [
  {
    name: "minisign's default (SENSITIVE)",
    opslimit: 33554432n,
    memlimit: 1073741824n,
    params: { log2N: 20, r: 8, p: 1 },
    stream: undefined, // 1 GiB: checked end to end against minisign instead
  },
  {
    name: 'INTERACTIVE',
    opslimit: 524288n,
    memlimit: 16777216n,
    params: { log2N: 14, r: 8, p: 1 },
    stream: 'b8fce2abd660aa54fc5652007ec93add076f24223189ee9226a89a3e7e80f804',
  },
  {
    name: 'opslimit below the floor of 32768, memory plenty (p = 1 branch)',
    opslimit: 1000n,
    memlimit: 1073741824n,
    params: { log2N: 10, r: 8, p: 1 },
    stream: '44c9a46c97fcbbde735581b4bb74fda767d0751c94924ab35d40477c97453246',
  },
  {
    name: 'memory-bound, so p grows',
    opslimit: 2097152n,
    memlimit: 1048576n,
    params: { log2N: 10, r: 8, p: 64 },
    stream: '0022f6c50964fe1264c9a8646f5d591be60a7a9310239416c3cc3ed51e98f573',
  },
  {
    name: 'limits that are not powers of two',
    opslimit: 100000n,
    memlimit: 10000000n,
    params: { log2N: 11, r: 8, p: 1 },
    stream: 'd32f4de328f853b26f071e4a0b205e1971e4874954c73a7d595948c584c5d800',
  },
  {
    name: 'zero limits',
    opslimit: 0n,
    memlimit: 0n,
    params: { log2N: 1, r: 8, p: 512 },
    stream: '2a704e848d111ecc8ea03ce4d3cfa6c65343fb2395b39706c98ab33182bbbf5f',
  },
];

const SALT = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

describe('pickScryptParams', () => {
  for (const { name, opslimit, memlimit, params } of CASES) {
    it(`turns ${name} into N=2^${params.log2N}, r=${params.r}, p=${params.p}`, () => {
      assert.deepEqual(pickScryptParams(opslimit, memlimit), params);
    });
  }

  it('caps p at 0x3fffffff / r for huge opslimits', () => {
    assert.deepEqual(pickScryptParams(2n ** 62n, 1024n * 8n), { log2N: 3, r: 8, p: Math.floor(0x3fffffff / 8) });
  });
});

describe('deriveKeyStream', () => {
  for (const { name, opslimit, memlimit, stream } of CASES) {
    if (stream === undefined) {
      continue;
    }
    it(`gives libsodium's output for ${name}`, async () => {
      const out = await deriveKeyStream('kiln', SALT, { opslimit, memlimit }, 32, 'decrypt secret key test.key');
      assert.equal(out.toString('hex'), stream);
    });
  }

  it('refuses limits that need too much memory, without computing', async () => {
    await assert.rejects(
      deriveKeyStream('kiln', SALT, { opslimit: 2n ** 40n, memlimit: 2n ** 40n }, 32, 'decrypt secret key big.key'),
      { name: 'KilnError', code: 'E_KEY_FORMAT', message: /^cannot decrypt secret key big\.key: .*needs 1024\.0 GiB/ },
    );
  });

  it('refuses limits that ask for too much work, without computing', async () => {
    await assert.rejects(
      deriveKeyStream('kiln', SALT, { opslimit: 2n ** 30n, memlimit: 2n ** 22n }, 32, 'decrypt secret key slow.key'),
      { name: 'KilnError', code: 'E_KEY_FORMAT', message: /more work than Kiln allows/ },
    );
  });
});
