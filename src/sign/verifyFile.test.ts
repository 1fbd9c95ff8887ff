import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { formatSignature } from './formatSignature.js';
import { generateKeyPair, publicKeyOf } from './generateKeyPair.js';
import {
  FIXTURE_LEGACY_SIGNATURE,
  FIXTURE_MESSAGE,
  FIXTURE_PUBLIC_KEY,
  FIXTURE_SIGNATURE,
} from './minisignFixtures.js';
import { parsePublicKey } from './parsePublicKey.js';
import { MAX_LEGACY_SIGNED_BYTES } from './readLegacySignedFile.js';
import { signData } from './signData.js';
import { signFile } from './signFile.js';
import type { PublicKey } from './types.js';
import { verifyFile } from './verifyFile.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-sign-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FIXTURE_KEY = parsePublicKey(FIXTURE_PUBLIC_KEY, 'fixture');

/** Writes the minisign fixture's data and `signatureText` into the test directory; returns their paths. */
async function writeFixture(
  signatureText: string,
  data: string | Buffer = FIXTURE_MESSAGE,
): Promise<{ path: string; sigPath: string }> {
  const path = join(dir, 'fixture.txt');
  await writeFile(path, data);
  await writeFile(`${path}.minisig`, signatureText);
  return { path, sigPath: `${path}.minisig` };
}

describe('signFile and verifyFile', () => {
  it('sign and verify a file of several stream chunks, as signData would', async () => {
    const sk = generateKeyPair();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const path = join(dir, 'big.bin');
    await writeFile(path, data);
    const sig = await signFile(path, sk, { trustedComment: 'file:big.bin' });
    assert.deepEqual(sig, signData(data, sk, { trustedComment: 'file:big.bin' }));
    await writeFile(`${path}.minisig`, formatSignature(sig));
    const verified = await verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]);
    assert.deepEqual(verified, { signature: sig, publicKey: publicKeyOf(sk) });
  });

  it('reject a file with one byte changed or cut short, naming both files', async () => {
    const sk = generateKeyPair();
    const path = join(dir, 'data.bin');
    const data = randomBytes(200_000);
    await writeFile(path, data);
    await writeFile(`${path}.minisig`, formatSignature(await signFile(path, sk, { trustedComment: '' })));
    // Flip the byte's bits: writing a fixed value would leave the file unchanged once in 256 runs.
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from([data[123_456]! ^ 0xff]), 0, 1, 123_456);
    await handle.close();
    const invalid = {
      code: 'E_SIGNATURE_INVALID',
      message: `cannot verify signature ${path}.minisig for ${path} by key ${sk.keyId}: it does not match the data, which may have been altered or truncated`,
    };
    await assert.rejects(verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]), invalid);
    await writeFile(`${path}.minisig`, formatSignature(await signFile(path, sk, { trustedComment: '' })));
    await truncate(path, 199_999);
    await assert.rejects(verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]), invalid);
  });

  it("verify minisign's legacy signature over the whole file, as minisign -V does", async () => {
    const { path, sigPath } = await writeFixture(FIXTURE_LEGACY_SIGNATURE);
    const { signature, publicKey } = await verifyFile(path, sigPath, [publicKeyOf(generateKeyPair()), FIXTURE_KEY]);
    assert.deepEqual(publicKey, FIXTURE_KEY);
    assert.equal(signature.algorithm, 'Ed');
    assert.equal(signature.trustedComment, 'kiln fixture Ed');
  });

  for (const [algorithm, text] of [
    ['ED', FIXTURE_SIGNATURE],
    ['Ed', FIXTURE_LEGACY_SIGNATURE],
  ] as const) {
    it(`refuse a changed file, a changed trusted comment and a wrong key with the same codes (${algorithm})`, async () => {
      const source = `${join(dir, 'fixture.txt')}.minisig for ${join(dir, 'fixture.txt')}`;
      const dataAltered = {
        code: 'E_SIGNATURE_INVALID',
        message: `cannot verify signature ${source} by key ${FIXTURE_KEY.keyId}: it does not match the data, which may have been altered or truncated`,
      };
      for (const data of ['kiln fixture!\n', 'kiln fixture', `${FIXTURE_MESSAGE}\n`, '']) {
        const { path, sigPath } = await writeFixture(text, data);
        await assert.rejects(verifyFile(path, sigPath, [FIXTURE_KEY]), dataAltered, JSON.stringify(data));
      }
      const { path, sigPath } = await writeFixture(
        text.replace('trusted comment: kiln fixture', 'trusted comment: kiln fixturE'),
      );
      await assert.rejects(verifyFile(path, sigPath, [FIXTURE_KEY]), {
        code: 'E_SIGNATURE_INVALID',
        message: /its trusted comment does not match its comment signature/,
      });
      await writeFile(sigPath, text);
      const impostor: PublicKey = {
        ...publicKeyOf(generateKeyPair()),
        keyId: FIXTURE_KEY.keyId,
        keyNumber: FIXTURE_KEY.keyNumber,
      };
      await assert.rejects(verifyFile(path, sigPath, [impostor]), dataAltered);
      await assert.rejects(verifyFile(path, sigPath, [publicKeyOf(generateKeyPair())]), {
        code: 'E_SIGNATURE_UNTRUSTED',
        message: /made by key B9F07B7CAB53C31D, which is not trusted here/,
      });
    });

    it(`refuse an untrusted signature before reading the file (${algorithm})`, async () => {
      const sigPath = join(dir, 'fixture.minisig');
      await writeFile(sigPath, text);
      await assert.rejects(verifyFile(join(dir, 'never-read.bin'), sigPath, [publicKeyOf(generateKeyPair())]), {
        code: 'E_SIGNATURE_UNTRUSTED',
      });
      await assert.rejects(verifyFile(join(dir, 'missing.bin'), sigPath, [FIXTURE_KEY]), {
        code: 'E_IO',
        message: `cannot read file ${join(dir, 'missing.bin')}: no such file or directory`,
      });
    });
  }

  it('refuse a legacy signature of a file larger than minisign signs that way, before reading it', async () => {
    const { path, sigPath } = await writeFixture(FIXTURE_LEGACY_SIGNATURE);
    // Sparse, so no gigabyte is written: the size alone refuses it.
    await truncate(path, MAX_LEGACY_SIGNED_BYTES + 1);
    await assert.rejects(verifyFile(path, sigPath, [FIXTURE_KEY]), {
      code: 'E_SIGNATURE_INVALID',
      message:
        `cannot verify signature ${sigPath} for ${path} by key ${FIXTURE_KEY.keyId}: it is a legacy minisign signature (algorithm "Ed"), ` +
        `which minisign makes only of files up to 1 GiB, and ${path} is larger`,
    });
  });

  it('report missing files as E_IO and a bad signature file as E_SIGNATURE_FORMAT', async () => {
    const sk = generateKeyPair();
    const path = join(dir, 'data.bin');
    await assert.rejects(signFile(path, sk, { trustedComment: '' }), {
      code: 'E_IO',
      message: `cannot read file ${path}: no such file or directory`,
    });
    await writeFile(path, 'data');
    await assert.rejects(verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]), {
      code: 'E_IO',
      message: `cannot read signature ${path}.minisig: no such file or directory`,
    });
    await writeFile(`${path}.minisig`, await readFile(path));
    await assert.rejects(verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]), {
      code: 'E_SIGNATURE_FORMAT',
      message: /^cannot read signature .*data\.bin\.minisig: /,
    });
    await writeFile(`${path}.minisig`, formatSignature(await signFile(path, sk, { trustedComment: '' })));
    await rm(path);
    await assert.rejects(verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]), {
      code: 'E_IO',
      message: `cannot read file ${path}: no such file or directory`,
    });
  });
});
