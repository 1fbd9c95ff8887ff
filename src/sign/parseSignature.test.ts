import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { MAX_TRUSTED_COMMENT_BYTES, MAX_UNTRUSTED_COMMENT_BYTES } from './commentProblem.js';
import { formatSignature } from './formatSignature.js';
import { generateKeyPair } from './generateKeyPair.js';
import { FIXTURE_LEGACY_SIGNATURE, FIXTURE_SIGNATURE } from './minisignFixtures.js';
import { parseSignature, tryParseSignature } from './parseSignature.js';
import { signData } from './signData.js';

const LINES = FIXTURE_SIGNATURE.split('\n').slice(0, 4) as [string, string, string, string];

function withLine(index: number, line: string): string {
  const lines = [...LINES];
  lines[index] = line;
  return `${lines.join('\n')}\n`;
}

function headWith(algorithm: string, length = 74): string {
  const head = Buffer.from(LINES[1], 'base64');
  head.write(algorithm, 0, 'latin1');
  return Buffer.concat([head, Buffer.alloc(Math.max(0, length - 74))])
    .subarray(0, length)
    .toString('base64');
}

describe('parseSignature', () => {
  it("reads minisign's prehashed signature and writes it back byte for byte", () => {
    const sig = parseSignature(FIXTURE_SIGNATURE, 'fixture.minisig');
    assert.equal(sig.algorithm, 'ED');
    assert.equal(sig.keyId, 'B9F07B7CAB53C31D');
    assert.equal(sig.keyNumber.toString('hex'), '1dc353ab7c7bf0b9');
    assert.equal(sig.untrustedComment, 'fixture ED');
    assert.equal(sig.trustedComment, 'kiln fixture ED');
    assert.equal(sig.signature.length, 64);
    assert.equal(sig.globalSignature.length, 64);
    assert.equal(formatSignature(sig), FIXTURE_SIGNATURE);
  });

  it("reads minisign's legacy signature", () => {
    const sig = parseSignature(FIXTURE_LEGACY_SIGNATURE, 'legacy.minisig');
    assert.equal(sig.algorithm, 'Ed');
    assert.equal(formatSignature(sig), FIXTURE_LEGACY_SIGNATURE);
  });

  it('round-trips signatures with empty, Unicode and longest comments', () => {
    const sk = generateKeyPair();
    for (const [trustedComment, untrustedComment] of [
      ['', ''],
      ['timestamp:1700000000\tfile:hello.tar\thashed', undefined],
      ['naïve ✓ 日本語 🙂', 'ünïcode'],
      ['t'.repeat(MAX_TRUSTED_COMMENT_BYTES), 'u'.repeat(MAX_UNTRUSTED_COMMENT_BYTES)],
    ] as const) {
      const sig = signData(Buffer.from('data'), sk, { trustedComment, untrustedComment });
      assert.deepEqual(parseSignature(formatSignature(sig), 'x'), sig);
    }
  });

  const malformed: [string, string, RegExp][] = [
    ['an empty file', '', /the file is empty/],
    ['a missing final newline', FIXTURE_SIGNATURE.slice(0, -1), /does not end in a newline/],
    ['three lines', `${LINES.slice(0, 3).join('\n')}\n`, /3 lines, not 4/],
    ['five lines', `${FIXTURE_SIGNATURE}\n`, /5 lines, not 4/],
    ['a blank line', FIXTURE_SIGNATURE.replace('\n', '\n\n'), /5 lines, not 4/],
    ['CRLF line ends', FIXTURE_SIGNATURE.replace(/\n/g, '\r\n'), /line break|base64/],
    [
      'a bad untrusted comment prefix',
      withLine(0, 'untrusted comment:fixture'),
      /line 1 does not start with "untrusted comment: "/,
    ],
    ['a trusted comment on line 1', withLine(0, 'trusted comment: fixture'), /line 1 does not start/],
    [
      'a bad trusted comment prefix',
      withLine(2, 'Trusted comment: kiln fixture ED'),
      /line 3 does not start with "trusted comment: "/,
    ],
    ['an untrusted comment on line 3', withLine(2, 'untrusted comment: kiln fixture ED'), /line 3 does not start/],
    [
      'swapped base64 lines',
      withLine(3, LINES[1]).replace(LINES[1], LINES[3]),
      /line 2 holds 64 bytes|line 4 holds 74 bytes/,
    ],
    [
      'a character that is not base64 on line 2',
      withLine(1, LINES[1].replace('R', '@')),
      /line 2 is not canonical base64/,
    ],
    [
      'a character that is not base64 on line 4',
      withLine(3, LINES[3].replace('u', '-')),
      /line 4 is not canonical base64/,
    ],
    ['a changed padding bit on line 2', withLine(1, LINES[1].replace('gE=', 'gF=')), /line 2 is not canonical base64/],
    [
      'a changed padding bit on line 4',
      withLine(3, LINES[3].replace('AQ==', 'AR==')),
      /line 4 is not canonical base64/,
    ],
    ['missing padding on line 4', withLine(3, LINES[3].replace('==', '')), /line 4 is not canonical base64/],
    ['a space after line 2', withLine(1, `${LINES[1]} `), /line 2 is not canonical base64/],
    ['a short line 2', withLine(1, headWith('ED', 73)), /line 2 holds 73 bytes, not 74/],
    ['a long line 2', withLine(1, headWith('ED', 75)), /line 2 holds 75 bytes, not 74/],
    ['a short line 4', withLine(3, Buffer.alloc(63).toString('base64')), /line 4 holds 63 bytes, not 64/],
    ['an unknown algorithm', withLine(1, headWith('EE')), /unsupported signature algorithm "EE"/],
    ['a lower-case algorithm', withLine(1, headWith('ed')), /unsupported signature algorithm "ed"/],
    [
      'a NUL in the trusted comment',
      withLine(2, 'trusted comment: a\0b'),
      /trusted comment is not valid: it contains a NUL/,
    ],
    [
      'a carriage return in the trusted comment',
      withLine(2, 'trusted comment: a\rb'),
      /trusted comment is not valid: it contains a line break/,
    ],
    [
      'a trusted comment minisign would cut',
      withLine(2, `trusted comment: ${'t'.repeat(MAX_TRUSTED_COMMENT_BYTES + 1)}`),
      /more than the 8173 minisign accepts/,
    ],
    [
      'an untrusted comment minisign would cut',
      withLine(0, `untrusted comment: ${'u'.repeat(MAX_UNTRUSTED_COMMENT_BYTES + 1)}`),
      /more than the 1003 minisign accepts/,
    ],
    ['a byte order mark', `\uFEFF${FIXTURE_SIGNATURE}`, /line 1 does not start/],
  ];
  for (const [name, text, message] of malformed) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseSignature(text, 'bad.minisig'), {
        name: 'KilnError',
        code: 'E_SIGNATURE_FORMAT',
        message,
      });
      assert.throws(() => parseSignature(text, 'bad.minisig'), { message: /^cannot read signature bad\.minisig: / });
      assert.equal(tryParseSignature(text), undefined);
    });
  }
});
