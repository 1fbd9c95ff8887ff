import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { isKilnError } from '../errors/index.js';
import { MAX_TRUSTED_COMMENT_BYTES } from './commentProblem.js';
import { createPrehash } from './createPrehash.js';
import { ed25519Sign } from './ed25519.js';
import { formatSignature } from './formatSignature.js';
import { generateKeyPair, publicKeyOf } from './generateKeyPair.js';
import {
  FIXTURE_LEGACY_SIGNATURE,
  FIXTURE_MESSAGE,
  FIXTURE_PUBLIC_KEY,
  FIXTURE_SIGNATURE,
} from './minisignFixtures.js';
import { parsePublicKey } from './parsePublicKey.js';
import { parseSignature } from './parseSignature.js';
import { DEFAULT_UNTRUSTED_COMMENT, signData, signPrehashed } from './signData.js';
import type { PublicKey, SecretKey, Signature, SignOptions } from './types.js';
import { verifyData, verifyPrehashed } from './verifyData.js';

const MESSAGE = Buffer.from(FIXTURE_MESSAGE);
const FIXTURE_PUBLIC = parsePublicKey(FIXTURE_PUBLIC_KEY, 'fixture');
const MINISIGN_SIG = parseSignature(FIXTURE_SIGNATURE, 'fixture.minisig');
const MINISIGN_LEGACY_SIG = parseSignature(FIXTURE_LEGACY_SIGNATURE, 'legacy.minisig');

const SOURCE = { source: 'test.minisig' };
const DATA_ALTERED = {
  name: 'KilnError',
  code: 'E_SIGNATURE_INVALID',
  message:
    /^cannot verify signature test\.minisig by key [0-9A-F]{16}: it does not match the data, which may have been altered or truncated$/,
};
const COMMENT_ALTERED = {
  name: 'KilnError',
  code: 'E_SIGNATURE_INVALID',
  message: /its trusted comment does not match its comment signature, so the comment may have been altered/,
};

/**
 * A legacy signature as `minisign -S -l` makes it: Ed25519 over the data itself,
 * which Kiln never writes but must check like its own.
 */
function signLegacy(data: Uint8Array, sk: SecretKey, options: SignOptions): Signature {
  const signature = ed25519Sign(sk.seed, data);
  const globalSignature = ed25519Sign(sk.seed, Buffer.concat([signature, Buffer.from(options.trustedComment, 'utf8')]));
  return { ...signData(data, sk, options), algorithm: 'Ed', signature, globalSignature };
}

/** Every check of a signature runs for both algorithms: a legacy signature is refused exactly as a prehashed one is. */
const SIGNERS = [
  ['ED', signData],
  ['Ed', signLegacy],
] as const;

function prehash(data: Uint8Array): Buffer {
  return createPrehash().update(data).digest();
}

describe('verifyData', () => {
  it("verifies minisign's prehashed and legacy signatures", () => {
    assert.deepEqual(verifyData(MESSAGE, MINISIGN_SIG, [FIXTURE_PUBLIC], SOURCE), FIXTURE_PUBLIC);
    assert.deepEqual(verifyData(MESSAGE, MINISIGN_LEGACY_SIG, [FIXTURE_PUBLIC], SOURCE), FIXTURE_PUBLIC);
    assert.throws(() => verifyData(Buffer.from('kiln fixture'), MINISIGN_SIG, [FIXTURE_PUBLIC], SOURCE), DATA_ALTERED);
    assert.throws(
      () => verifyData(Buffer.from('kiln fixture'), MINISIGN_LEGACY_SIG, [FIXTURE_PUBLIC], SOURCE),
      DATA_ALTERED,
    );
  });

  it('verifies what signData signs, and returns the key that made it', () => {
    const sk = generateKeyPair();
    const other = publicKeyOf(generateKeyPair());
    const data = Buffer.from('hello\n');
    const sig = signData(data, sk, { trustedComment: 'file:hello.txt' });
    assert.equal(sig.algorithm, 'ED');
    assert.equal(sig.keyId, sk.keyId);
    assert.equal(sig.untrustedComment, DEFAULT_UNTRUSTED_COMMENT);
    assert.deepEqual(verifyData(data, sig, [other, publicKeyOf(sk)], SOURCE), publicKeyOf(sk));
  });

  it('names the signing key and the trusted keys when the signer is not trusted', () => {
    const sk = generateKeyPair();
    const a = publicKeyOf(generateKeyPair());
    const b = publicKeyOf(generateKeyPair());
    const sig = signData(Buffer.from('data'), sk, { trustedComment: '' });
    assert.throws(() => verifyData(Buffer.from('data'), sig, [a, b], SOURCE), {
      name: 'KilnError',
      code: 'E_SIGNATURE_UNTRUSTED',
      message: `cannot verify signature test.minisig: it was made by key ${sk.keyId}, which is not trusted here (trusted: ${a.keyId}, ${b.keyId})`,
    });
    assert.throws(() => verifyData(Buffer.from('data'), sig, [], SOURCE), {
      code: 'E_SIGNATURE_UNTRUSTED',
      message: /\(no key is trusted\)$/,
    });
    // Trust is checked before the data, so altered data from an untrusted key is still "untrusted".
    assert.throws(() => verifyPrehashed(prehash(Buffer.from('other')), sig, [a], SOURCE), {
      code: 'E_SIGNATURE_UNTRUSTED',
    });
  });

  for (const [algorithm, sign] of SIGNERS) {
    it(`rejects every message with one byte changed, and truncated or extended messages (${algorithm})`, () => {
      const sk = generateKeyPair();
      const data = Buffer.from('a small package payload of some bytes\n');
      const sig = sign(data, sk, { trustedComment: 'payload' });
      const trusted = [publicKeyOf(sk)];
      for (let i = 0; i < data.length; i++) {
        for (const mask of [0x01, 0x80]) {
          const altered = Buffer.from(data);
          altered[i]! ^= mask;
          assert.throws(() => verifyData(altered, sig, trusted, SOURCE), DATA_ALTERED, `byte ${i} ^ ${mask}`);
        }
      }
      assert.throws(() => verifyData(data.subarray(0, -1), sig, trusted, SOURCE), DATA_ALTERED);
      assert.throws(() => verifyData(Buffer.concat([data, Buffer.from('\n')]), sig, trusted, SOURCE), DATA_ALTERED);
      assert.throws(() => verifyData(Buffer.alloc(0), sig, trusted, SOURCE), DATA_ALTERED);
    });

    it(`rejects every trusted comment with one character changed, added or removed (${algorithm})`, () => {
      const sk = generateKeyPair();
      const data = Buffer.from('data');
      const trustedComment = 'timestamp:1700000000\tfile:hello-1.0.kiln ✓';
      const sig = sign(data, sk, { trustedComment });
      const trusted = [publicKeyOf(sk)];
      const altered = (comment: string): Signature => ({ ...sig, trustedComment: comment });
      for (let i = 0; i < trustedComment.length; i++) {
        const code = trustedComment.charCodeAt(i);
        const changed = trustedComment.slice(0, i) + String.fromCharCode(code ^ 1) + trustedComment.slice(i + 1);
        assert.throws(() => verifyData(data, altered(changed), trusted, SOURCE), COMMENT_ALTERED, `character ${i}`);
        assert.throws(
          () => verifyData(data, altered(trustedComment.slice(0, i) + trustedComment.slice(i + 1)), trusted, SOURCE),
          COMMENT_ALTERED,
        );
      }
      assert.throws(() => verifyData(data, altered(`${trustedComment} `), trusted, SOURCE), COMMENT_ALTERED);
      // The untrusted comment is not signed.
      assert.deepEqual(verifyData(data, { ...sig, untrustedComment: 'anything' }, trusted, SOURCE), trusted[0]);
    });

    it(`rejects every signature with one byte changed (${algorithm})`, () => {
      const sk = generateKeyPair();
      const data = Buffer.from('data');
      const sig = sign(data, sk, { trustedComment: 'c' });
      const trusted = [publicKeyOf(sk)];
      for (let i = 0; i < 64; i++) {
        const signature = Buffer.from(sig.signature);
        signature[i]! ^= 1;
        assert.throws(
          () => verifyData(data, { ...sig, signature }, trusted, SOURCE),
          DATA_ALTERED,
          `signature byte ${i}`,
        );
        const globalSignature = Buffer.from(sig.globalSignature);
        globalSignature[i]! ^= 1;
        assert.throws(
          () => verifyData(data, { ...sig, globalSignature }, trusted, SOURCE),
          COMMENT_ALTERED,
          `global signature byte ${i}`,
        );
      }
      // The same signature read as the other algorithm signs something else.
      assert.throws(
        () => verifyData(data, { ...sig, algorithm: algorithm === 'ED' ? 'Ed' : 'ED' }, trusted, SOURCE),
        DATA_ALTERED,
      );
    });

    it(`never accepts a signature file with one bit flipped outside its untrusted comment (${algorithm})`, () => {
      const sk = generateKeyPair();
      const data = Buffer.from('data');
      const text = formatSignature(sign(data, sk, { trustedComment: 'file:data' }));
      const trusted = [publicKeyOf(sk)];
      const firstLineEnd = text.indexOf('\n');
      for (let i = 0; i < text.length; i++) {
        const flipped = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1);
        let accepted = false;
        try {
          verifyData(data, parseSignature(flipped, 'flipped.minisig'), trusted, SOURCE);
          accepted = true;
        } catch (error) {
          assert.ok(
            isKilnError(error, 'E_SIGNATURE_FORMAT', 'E_SIGNATURE_INVALID', 'E_SIGNATURE_UNTRUSTED'),
            String(error),
          );
        }
        if (i >= firstLineEnd) {
          assert.equal(accepted, false, `accepted with character ${i} flipped`);
        }
      }
    });

    it(`rejects a key that has the right key number but another public key (${algorithm})`, () => {
      const sk = generateKeyPair();
      const impostor: PublicKey = { ...publicKeyOf(generateKeyPair()), keyId: sk.keyId, keyNumber: sk.keyNumber };
      const sig = sign(Buffer.from('data'), sk, { trustedComment: '' });
      assert.throws(() => verifyData(Buffer.from('data'), sig, [impostor], SOURCE), DATA_ALTERED);
      // …but another trusted key with that number that does verify is found.
      assert.deepEqual(verifyData(Buffer.from('data'), sig, [impostor, publicKeyOf(sk)], SOURCE), publicKeyOf(sk));
    });
  }
});

describe('signData', () => {
  it('refuses comments minisign could not carry', () => {
    const sk = generateKeyPair();
    const data = Buffer.from('data');
    for (const trustedComment of ['two\nlines', 'cr\r', 'nul\0', 't'.repeat(MAX_TRUSTED_COMMENT_BYTES + 1), '\uD800']) {
      assert.throws(() => signData(data, sk, { trustedComment }), {
        code: 'E_SIGNATURE_FORMAT',
        message: /the trusted comment is not valid/,
      });
    }
    assert.throws(() => signData(data, sk, { trustedComment: '', untrustedComment: 'a\nb' }), {
      code: 'E_SIGNATURE_FORMAT',
      message: /the untrusted comment is not valid: it contains a line break/,
    });
    // The limit is in UTF-8 bytes: 8173 fits, 8174 does not.
    const longest = `${'é'.repeat((MAX_TRUSTED_COMMENT_BYTES - 1) / 2)}a`;
    assert.equal(signData(data, sk, { trustedComment: longest }).trustedComment, longest);
    assert.throws(() => signData(data, sk, { trustedComment: `${longest}a` }), {
      code: 'E_SIGNATURE_FORMAT',
      message: /8174 bytes long/,
    });
  });
});

describe('signPrehashed and verifyPrehashed', () => {
  it('make and check the same signatures as signData and verifyData', () => {
    const sk = generateKeyPair();
    const data = Buffer.from('x'.repeat(1000));
    const options = { trustedComment: 'big', untrustedComment: 'u' };
    const sig = signPrehashed(prehash(data), sk, options);
    assert.deepEqual(sig, signData(data, sk, options));
    assert.deepEqual(verifyPrehashed(prehash(data), sig, [publicKeyOf(sk)], SOURCE), publicKeyOf(sk));
    assert.deepEqual(verifyPrehashed(prehash(MESSAGE), MINISIGN_SIG, [FIXTURE_PUBLIC], SOURCE), FIXTURE_PUBLIC);
    assert.throws(() => verifyPrehashed(prehash(Buffer.from('y')), sig, [publicKeyOf(sk)], SOURCE), DATA_ALTERED);
  });

  it('say clearly that a legacy signature cannot be checked from a prehash', () => {
    assert.throws(() => verifyPrehashed(prehash(MESSAGE), MINISIGN_LEGACY_SIG, [FIXTURE_PUBLIC], SOURCE), {
      name: 'KilnError',
      code: 'E_SIGNATURE_FORMAT',
      message:
        /^cannot verify signature test\.minisig: it is a legacy minisign signature \(algorithm "Ed"\), which signs the whole data and cannot be checked from a prehash$/,
    });
  });

  it('treat a digest of the wrong length as a bug', () => {
    const sk = generateKeyPair();
    assert.throws(() => signPrehashed(Buffer.alloc(32), sk, { trustedComment: '' }), /Assertion failed/);
    assert.throws(() => verifyPrehashed(Buffer.alloc(32), MINISIGN_SIG, [FIXTURE_PUBLIC], SOURCE), /Assertion failed/);
  });
});
