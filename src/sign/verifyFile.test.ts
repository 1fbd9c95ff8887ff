import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { formatSignature } from './formatSignature.js';
import { generateKeyPair, publicKeyOf } from './generateKeyPair.js';
import { parseSignature } from './parseSignature.js';
import { signData } from './signData.js';
import { signFile } from './signFile.js';
import { verifyFile } from './verifyFile.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-sign-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LEGACY_SIG = 'untrusted comment: fixture Ed\n'
  + 'RWQdw1OrfHvwuZBhE/NzrnZJm00FuMy18aHSdKr3kbkK6JcxhaO9JGv9YF5gi+DK+r/dZFXsbi4xNxENbrI2YqMzMTMBWFFDpAc=\n'
  + 'trusted comment: kiln fixture Ed\n'
  + 'ywdU0lifZaLDj8dIoPY08ALyq72eZAJ41L0sdrg7DjmP1Bql5Th5gBl/K4HcxxKwDdDtBN/xGneK2aG9rwFTCQ==\n';

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
    await writeFile(path, randomBytes(200_000));
    await writeFile(`${path}.minisig`, formatSignature(await signFile(path, sk, { trustedComment: '' })));
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from([0x5a]), 0, 1, 123_456);
    await handle.close();
    const invalid = { code: 'E_SIGNATURE_INVALID', message: `cannot verify signature ${path}.minisig for ${path} by key ${sk.keyId}: it does not match the data, which may have been altered or truncated` };
    await assert.rejects(verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]), invalid);
    await writeFile(`${path}.minisig`, formatSignature(await signFile(path, sk, { trustedComment: '' })));
    await truncate(path, 199_999);
    await assert.rejects(verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]), invalid);
  });

  it('refuse a legacy or untrusted signature before reading the file', async () => {
    const missing = join(dir, 'never-read.bin');
    const sigPath = join(dir, 'legacy.minisig');
    await writeFile(sigPath, LEGACY_SIG);
    const fixtureKey = { ...publicKeyOf(generateKeyPair()), keyNumber: parseSignature(LEGACY_SIG, 'x').keyNumber };
    await assert.rejects(verifyFile(missing, sigPath, [fixtureKey]), { code: 'E_SIGNATURE_FORMAT', message: /legacy minisign signature/ });
    await assert.rejects(verifyFile(missing, sigPath, [publicKeyOf(generateKeyPair())]), { code: 'E_SIGNATURE_UNTRUSTED' });
  });

  it('report missing files as E_IO and a bad signature file as E_SIGNATURE_FORMAT', async () => {
    const sk = generateKeyPair();
    const path = join(dir, 'data.bin');
    await assert.rejects(signFile(path, sk, { trustedComment: '' }), { code: 'E_IO', message: `cannot read file ${path}: no such file or directory` });
    await writeFile(path, 'data');
    await assert.rejects(verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]), { code: 'E_IO', message: `cannot read signature ${path}.minisig: no such file or directory` });
    await writeFile(`${path}.minisig`, (await readFile(path)));
    await assert.rejects(verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]), { code: 'E_SIGNATURE_FORMAT', message: /^cannot read signature .*data\.bin\.minisig: / });
    await writeFile(`${path}.minisig`, formatSignature(await signFile(path, sk, { trustedComment: '' })));
    await rm(path);
    await assert.rejects(verifyFile(path, `${path}.minisig`, [publicKeyOf(sk)]), { code: 'E_IO', message: `cannot read file ${path}: no such file or directory` });
  });
});
