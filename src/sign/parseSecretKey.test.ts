import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { DEFAULT_KDF_LIMITS } from './deriveKeyStream.js';
import { formatSecretKey } from './formatSecretKey.js';
import { generateKeyPair, publicKeyOf } from './generateKeyPair.js';
import { isSecretKeyEncrypted, parseSecretKey } from './parseSecretKey.js';
import { parsePublicKey } from './parsePublicKey.js';
import { OFFSET, secretKeyChecksum } from './secretKeyLayout.js';

// Written by `minisign -G -W` (0.11): unencrypted, with an all-zero checksum.
const MINISIGN_KEY =
  'untrusted comment: minisign fixture key\n' +
  'RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAHcNTq3x78Lk+p00YZOz8E1UnnW6X6n5AMnfLDVJceGg5M1Yc' +
  'mFRJBLh1rDRV+YqDJ3og70BDP+dootHAzy3DWI1uyX7LIR9lAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
// The same key with its checksum filled in (by Python's hashlib.blake2b, digest_size=32).
const CHECKSUMMED_LINE =
  'RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAHcNTq3x78Lk+p00YZOz8E1UnnW6X6n5AMnfLDVJceGg5M1Yc' +
  'mFRJBLh1rDRV+YqDJ3og70BDP+dootHAzy3DWI1uyX7LIR9lEz+1uo9OyOHws0E4f2uLR1lUmI9EFcoMk6d6TsfoRzE=';
// The same key encrypted with password "kiln" by libsodium's crypto_pwhash_scryptsalsa208sha256,
// with small limits (opslimit 1000, memlimit 1 GiB: N=2^10) so the test is fast. `minisign -S` signs with it.
const ENCRYPTED_KEY =
  'untrusted comment: small-limit fixture\n' +
  'RWRTY0IyZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoPoAwAAAAAAAAAAAEAAAAAAt/jHNO097pO0XBWvaGczJV3gBlfUy7ktILq73hb19QA7uY2h' +
  '1HWQgMZjh6rg+V8us1AdGOSwr7r8vhMKbYCnz/MuHTGxj1fsAHX6+E+MZJeq8J/mV6eQWk3lhNEP8YUF1drwRZhQztg=\n';
const FIXTURE_PUBLIC = parsePublicKey('RWQdw1OrfHvwubh1rDRV+YqDJ3og70BDP+dootHAzy3DWI1uyX7LIR9l', 'fixture');
const SMALL_LIMITS = { opslimit: 1000n, memlimit: 1n << 30n };

function keyBytes(text: string): Buffer {
  return Buffer.from(text.split('\n')[1]!, 'base64');
}

function keyText(bytes: Uint8Array): string {
  return `untrusted comment: edited\n${Buffer.from(bytes).toString('base64')}\n`;
}

describe('parseSecretKey', () => {
  it('reads an unencrypted minisign key with a zero checksum', async () => {
    const sk = await parseSecretKey(MINISIGN_KEY, { source: 'fixture.key' });
    assert.deepEqual(publicKeyOf(sk), FIXTURE_PUBLIC);
    assert.equal(sk.seed.length, 32);
    assert.equal(isSecretKeyEncrypted(MINISIGN_KEY), false);
  });

  it('reads an unencrypted key with a correct checksum, and ignores a password for it', async () => {
    const text = `untrusted comment: x\n${CHECKSUMMED_LINE}\n`;
    const sk = await parseSecretKey(text, { source: 'fixture.key', password: 'unused' });
    assert.deepEqual(publicKeyOf(sk), FIXTURE_PUBLIC);
  });

  it('refuses an unencrypted key whose non-zero checksum is wrong', async () => {
    const bytes = keyBytes(`x\n${CHECKSUMMED_LINE}`);
    bytes[OFFSET.chk + 5]! ^= 1;
    await assert.rejects(parseSecretKey(keyText(bytes), { source: 'bad.key' }), {
      code: 'E_KEY_FORMAT',
      message: 'cannot read secret key bad.key: its checksum does not match its contents (the key is corrupt)',
    });
  });

  it('refuses a key whose public key does not match its seed', async () => {
    const bytes = keyBytes(MINISIGN_KEY);
    bytes[OFFSET.publicKey]! ^= 1;
    await assert.rejects(parseSecretKey(keyText(bytes), { source: 'bad.key' }), {
      code: 'E_KEY_FORMAT',
      message: /public key does not match its seed/,
    });
    // …also when the checksum vouches for the wrong public key.
    const chk = secretKeyChecksum(
      bytes.subarray(OFFSET.keyNumber, OFFSET.seed),
      bytes.subarray(OFFSET.seed, OFFSET.publicKey),
      bytes.subarray(OFFSET.publicKey, OFFSET.chk),
    );
    chk.copy(bytes, OFFSET.chk);
    await assert.rejects(parseSecretKey(keyText(bytes), { source: 'bad.key' }), {
      code: 'E_KEY_FORMAT',
      message: /public key does not match its seed/,
    });
  });

  it('decrypts a key libsodium encrypted', async () => {
    assert.equal(isSecretKeyEncrypted(ENCRYPTED_KEY), true);
    const sk = await parseSecretKey(ENCRYPTED_KEY, { source: 'enc.key', password: 'kiln' });
    assert.deepEqual(publicKeyOf(sk), FIXTURE_PUBLIC);
    assert.deepEqual(sk, await parseSecretKey(MINISIGN_KEY, { source: 'fixture.key' }));
  });

  it('refuses a wrong or missing password with E_KEY_PASSWORD', async () => {
    await assert.rejects(parseSecretKey(ENCRYPTED_KEY, { source: 'enc.key', password: 'Kiln' }), {
      code: 'E_KEY_PASSWORD',
      message: 'cannot decrypt secret key enc.key: the password is wrong',
    });
    await assert.rejects(parseSecretKey(ENCRYPTED_KEY, { source: 'enc.key', password: '' }), {
      code: 'E_KEY_PASSWORD',
    });
    await assert.rejects(parseSecretKey(ENCRYPTED_KEY, { source: 'enc.key' }), {
      code: 'E_KEY_PASSWORD',
      message: 'cannot read secret key enc.key: it is encrypted and no password was given',
    });
  });

  it('refuses key derivation limits beyond what Kiln allows', async () => {
    const bytes = keyBytes(ENCRYPTED_KEY);
    bytes.writeBigUInt64LE(1n << 40n, OFFSET.opslimit);
    bytes.writeBigUInt64LE(1n << 40n, OFFSET.memlimit);
    await assert.rejects(parseSecretKey(keyText(bytes), { source: 'huge.key', password: 'kiln' }), {
      code: 'E_KEY_FORMAT',
      message: /more than the 2\.0 GiB Kiln allows/,
    });
  });

  const variants: [string, (text: string) => string, RegExp][] = [
    ['an empty file', () => '', /the file is empty/],
    ['one line', (text) => `${text.split('\n')[1]!}\n`, /1 lines, not 2/],
    ['three lines', (text) => `${text}\n`, /3 lines, not 2/],
    ['no final newline', (text) => text.slice(0, -1), /does not end in a newline/],
    ['CRLF line ends', (text) => text.replace(/\n/g, '\r\n'), /line break/],
    [
      'a bad comment prefix',
      (text) => text.replace('untrusted comment: ', 'Untrusted comment: '),
      /line 1 does not start with "untrusted comment: "/,
    ],
    ['a character that is not base64', (text) => text.replace('RWQA', 'RWQ*'), /not canonical base64/],
    ['a changed padding bit', (text) => text.replace('AAA=\n', 'AAB=\n'), /not canonical base64/],
    ['a missing padding character', (text) => text.replace('AAA=\n', 'AAA\n'), /not canonical base64/],
    ['a truncated key', (text) => keyText(keyBytes(text).subarray(0, 155)), /155 bytes long, not 158/],
    [
      'a public key',
      () => 'untrusted comment: x\nRWQdw1OrfHvwubh1rDRV+YqDJ3og70BDP+dootHAzy3DWI1uyX7LIR9l\n',
      /it is a public key, not a secret key/,
    ],
    [
      'an unknown signature algorithm',
      (text) => keyText(Buffer.concat([Buffer.from('ED'), keyBytes(text).subarray(2)])),
      /unsupported signature algorithm "ED"/,
    ],
    [
      'an unknown key derivation',
      (text) => {
        const b = keyBytes(text);
        b.write('Ar', OFFSET.kdfAlg, 'latin1');
        return keyText(b);
      },
      /unsupported key derivation "Ar"/,
    ],
    [
      'an unknown checksum',
      (text) => {
        const b = keyBytes(text);
        b.write('B3', OFFSET.chkAlg, 'latin1');
        return keyText(b);
      },
      /unsupported checksum algorithm "B3"/,
    ],
  ];
  for (const [name, change, message] of variants) {
    it(`refuses ${name}`, async () => {
      const text = change(MINISIGN_KEY);
      await assert.rejects(parseSecretKey(text, { source: 'bad.key' }), {
        name: 'KilnError',
        code: 'E_KEY_FORMAT',
        message,
      });
      assert.equal(isSecretKeyEncrypted(text), false);
    });
  }
});

describe('formatSecretKey', () => {
  it('writes an unencrypted key with its checksum, as minisign -C -W would', async () => {
    const sk = await parseSecretKey(MINISIGN_KEY, { source: 'fixture.key' });
    assert.equal(await formatSecretKey(sk), `untrusted comment: kiln unencrypted secret key\n${CHECKSUMMED_LINE}\n`);
  });

  it('round-trips generated keys, unencrypted and encrypted', async () => {
    const sk = generateKeyPair();
    assert.deepEqual(await parseSecretKey(await formatSecretKey(sk), { source: 'x' }), sk);
    const text = await formatSecretKey(sk, { password: 'correct horse', kdfLimits: SMALL_LIMITS });
    assert.equal(isSecretKeyEncrypted(text), true);
    assert.match(text, /^untrusted comment: kiln encrypted secret key\n/);
    assert.deepEqual(await parseSecretKey(text, { source: 'x', password: 'correct horse' }), sk);
    await assert.rejects(parseSecretKey(text, { source: 'x', password: 'correct horse ' }), { code: 'E_KEY_PASSWORD' });
  });

  it('encrypts with an empty password when one is given, as minisign allows', async () => {
    const sk = generateKeyPair();
    const text = await formatSecretKey(sk, { password: '', kdfLimits: SMALL_LIMITS });
    assert.equal(isSecretKeyEncrypted(text), true);
    assert.deepEqual(await parseSecretKey(text, { source: 'x', password: '' }), sk);
  });

  it('stores the limits and a fresh salt, and hides the key number and seed', async () => {
    const sk = generateKeyPair();
    const first = keyBytes(await formatSecretKey(sk, { password: 'pw', kdfLimits: SMALL_LIMITS }));
    const second = keyBytes(await formatSecretKey(sk, { password: 'pw', kdfLimits: SMALL_LIMITS }));
    assert.equal(first.toString('latin1', 0, 6), 'EdScB2');
    assert.equal(first.readBigUInt64LE(OFFSET.opslimit), 1000n);
    assert.equal(first.readBigUInt64LE(OFFSET.memlimit), 1n << 30n);
    assert.notDeepEqual(first.subarray(OFFSET.salt, OFFSET.opslimit), second.subarray(OFFSET.salt, OFFSET.opslimit));
    assert.equal(first.includes(sk.seed), false);
    assert.equal(first.includes(sk.keyNumber), false);
  });

  it("uses minisign's default limits unless told otherwise", () => {
    assert.deepEqual(DEFAULT_KDF_LIMITS, { opslimit: 33554432n, memlimit: 1073741824n });
  });
});
