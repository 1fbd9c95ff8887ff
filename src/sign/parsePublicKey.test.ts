import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { formatKeyId } from './formatKeyId.js';
import { encodePublicKey, formatPublicKey } from './formatPublicKey.js';
import { generateKeyPair, publicKeyOf } from './generateKeyPair.js';
import { parsePublicKey, tryParsePublicKey } from './parsePublicKey.js';

// Written by `minisign -G -W` (0.11).
const MINISIGN_PUB =
  'untrusted comment: minisign public key B9F07B7CAB53C31D\n' +
  'RWQdw1OrfHvwubh1rDRV+YqDJ3og70BDP+dootHAzy3DWI1uyX7LIR9l\n';
const MINISIGN_LINE = 'RWQdw1OrfHvwubh1rDRV+YqDJ3og70BDP+dootHAzy3DWI1uyX7LIR9l';

const FORMAT_ERROR = { name: 'KilnError', code: 'E_KEY_FORMAT' };

describe('formatKeyId', () => {
  it('prints the key number as a little-endian u64 in 16 upper-case hex digits', () => {
    assert.equal(formatKeyId(Buffer.from('1dc353ab7c7bf0b9', 'hex')), 'B9F07B7CAB53C31D');
    assert.equal(formatKeyId(Buffer.from('0100000000000000', 'hex')), '0000000000000001');
  });

  it('refuses anything but 8 bytes', () => {
    assert.throws(() => formatKeyId(Buffer.alloc(7)), /Assertion failed/);
  });
});

describe('parsePublicKey', () => {
  it("reads minisign's public key file", () => {
    const pk = parsePublicKey(MINISIGN_PUB, 'fixture.pub');
    assert.equal(pk.keyId, 'B9F07B7CAB53C31D');
    assert.equal(pk.keyNumber.toString('hex'), '1dc353ab7c7bf0b9');
    assert.equal(pk.publicKey.length, 32);
    assert.equal(formatPublicKey(pk), MINISIGN_PUB);
  });

  it('reads the bare base64 line, with or without a newline', () => {
    const pk = parsePublicKey(MINISIGN_PUB, 'fixture.pub');
    assert.deepEqual(parsePublicKey(MINISIGN_LINE, '-P'), pk);
    assert.deepEqual(parsePublicKey(`${MINISIGN_LINE}\n`, '-P'), pk);
    assert.equal(encodePublicKey(pk), MINISIGN_LINE);
  });

  it('round-trips generated keys', () => {
    for (let i = 0; i < 20; i++) {
      const pk = publicKeyOf(generateKeyPair());
      assert.deepEqual(parsePublicKey(formatPublicKey(pk), 'generated'), pk);
    }
  });

  it('accepts any single-line comment, and an old minisign key id without leading zeros', () => {
    const line = encodePublicKey({
      keyId: formatKeyId(Buffer.from('ff00000000000000', 'hex')),
      keyNumber: Buffer.from('ff00000000000000', 'hex'),
      publicKey: Buffer.alloc(32, 7),
    });
    assert.equal(parsePublicKey(`untrusted comment: release key 2025\n${line}\n`, 'x').keyId, '00000000000000FF');
    assert.equal(parsePublicKey(`untrusted comment: minisign public key FF\n${line}\n`, 'x').keyId, '00000000000000FF');
    assert.equal(parsePublicKey(`untrusted comment: \n${line}\n`, 'x').keyId, '00000000000000FF');
  });

  const malformed: [string, string, RegExp][] = [
    ['empty text', '', /0 bytes long/],
    ['three lines', `${MINISIGN_PUB}extra\n`, /3 lines, not 2/],
    ['no final newline', MINISIGN_PUB.slice(0, -1), /does not end in a newline/],
    ['CRLF line ends', MINISIGN_PUB.replace(/\n/g, '\r\n'), /line break|base64/],
    [
      'a bad comment prefix',
      MINISIGN_PUB.replace('untrusted comment: ', 'untrusted comment:'),
      /line 1 does not start/,
    ],
    [
      'a trusted comment prefix',
      MINISIGN_PUB.replace('untrusted comment: ', 'trusted comment: '),
      /line 1 does not start/,
    ],
    [
      'a comment naming another key',
      MINISIGN_PUB.replace('B9F07B7CAB53C31D', 'B9F07B7CAB53C31E'),
      /names key B9F07B7CAB53C31E but the key is B9F07B7CAB53C31D/,
    ],
    ['a character that is not base64', MINISIGN_PUB.replace('RWQd', 'RWQ!'), /line 2 is not canonical base64/],
    ['a space in the base64', MINISIGN_PUB.replace('RWQd', 'RWQ d'), /not canonical base64/],
    ['a trailing space', MINISIGN_PUB.replace('R9l\n', 'R9l \n'), /not canonical base64/],
    ['a truncated line', MINISIGN_PUB.replace('uyX7LIR9l', 'uyX7LIR9'), /not canonical base64/],
    ['a line with padding added', MINISIGN_PUB.replace('uyX7LIR9l', 'uyX7LIR9l='), /not canonical base64/],
    ['a bare line that is not base64', 'not a key', /it is not canonical base64/],
    [
      'a secret key',
      `untrusted comment: x\n${Buffer.alloc(158).toString('base64')}\n`,
      /it is a secret key, not a public key/,
    ],
    [
      'a short key',
      `untrusted comment: x\n${Buffer.concat([Buffer.from('Ed'), Buffer.alloc(39)]).toString('base64')}\n`,
      /41 bytes long/,
    ],
    [
      'an unknown algorithm',
      `untrusted comment: x\n${Buffer.concat([Buffer.from('ED'), Buffer.alloc(40)]).toString('base64')}\n`,
      /unsupported signature algorithm "ED"/,
    ],
  ];
  for (const [name, text, message] of malformed) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parsePublicKey(text, 'bad.pub'), { ...FORMAT_ERROR, message });
      assert.throws(() => parsePublicKey(text, 'bad.pub'), { message: /^cannot read public key bad\.pub: / });
      assert.equal(tryParsePublicKey(text), undefined);
    });
  }
});
