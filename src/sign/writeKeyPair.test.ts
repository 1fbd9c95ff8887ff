import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { ioError } from '../util/ioError.js';
import { isSecretKeyEncrypted } from './parseSecretKey.js';
import { readPublicKeyFile } from './readPublicKeyFile.js';
import { readSecretKeyFile } from './readSecretKeyFile.js';
import { writeKeyPair } from './writeKeyPair.js';

let dir: string;
let umask: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-sign-'));
  // A permissive umask shows the modes are set, not inherited.
  umask = process.umask(0o000);
});

afterEach(async () => {
  process.umask(umask);
  await rm(dir, { recursive: true, force: true });
});

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('writeKeyPair', () => {
  it('writes kiln.pub (0644) and kiln.key (0600) that read back as one key pair', async () => {
    const written = await writeKeyPair(dir);
    assert.deepEqual(written, {
      keyId: written.keyId,
      publicKeyPath: join(dir, 'kiln.pub'),
      secretKeyPath: join(dir, 'kiln.key'),
    });
    assert.equal(await mode(written.publicKeyPath), 0o644);
    assert.equal(await mode(written.secretKeyPath), 0o600);
    assert.deepEqual((await readdir(dir)).sort(), ['kiln.key', 'kiln.pub']);
    const pk = await readPublicKeyFile(written.publicKeyPath);
    const sk = await readSecretKeyFile(written.secretKeyPath);
    assert.equal(pk.keyId, written.keyId);
    assert.deepEqual(sk.publicKey, pk.publicKey);
    assert.equal(isSecretKeyEncrypted(await readFile(written.secretKeyPath, 'utf8')), false);
    assert.match(
      await readFile(written.publicKeyPath, 'utf8'),
      new RegExp(`^untrusted comment: minisign public key ${written.keyId}\n`),
    );
  });

  it('uses the basename and creates a missing directory (0700)', async () => {
    const keys = join(dir, 'a', 'keys');
    const written = await writeKeyPair(keys, { basename: 'release' });
    assert.equal(written.publicKeyPath, join(keys, 'release.pub'));
    assert.equal(written.secretKeyPath, join(keys, 'release.key'));
    assert.equal(await mode(keys), 0o700);
  });

  it('refuses to overwrite either file without force, writing nothing', async () => {
    for (const existing of ['kiln.pub', 'kiln.key']) {
      await rm(dir, { recursive: true, force: true });
      await writeKeyPair(dir).then(() => rm(join(dir, existing === 'kiln.pub' ? 'kiln.key' : 'kiln.pub')));
      const before = await readFile(join(dir, existing), 'utf8');
      await assert.rejects(writeKeyPair(dir), {
        name: 'KilnError',
        code: 'E_KEY_EXISTS',
        message: `cannot write key pair: ${join(dir, existing)} already exists`,
      });
      assert.deepEqual(await readdir(dir), [existing]);
      assert.equal(await readFile(join(dir, existing), 'utf8'), before);
    }
  });

  it('overwrites with force, leaving the secret key 0600 even if it was readable', async () => {
    const first = await writeKeyPair(dir);
    await writeFile(first.secretKeyPath, 'old', { mode: 0o644 });
    const second = await writeKeyPair(dir, { force: true });
    assert.notEqual(second.keyId, first.keyId);
    assert.equal(await mode(second.secretKeyPath), 0o600);
    assert.equal((await readSecretKeyFile(second.secretKeyPath)).keyId, second.keyId);
    assert.deepEqual((await readdir(dir)).sort(), ['kiln.key', 'kiln.pub']);
  });

  it('says when the directory is a file', async () => {
    await writeFile(join(dir, 'file'), '');
    await assert.rejects(writeKeyPair(join(dir, 'file')), {
      code: 'E_IO',
      message: /^cannot create key directory .*file: it exists and is not a directory$/,
    });
    await assert.rejects(writeKeyPair(join(dir, 'file', 'sub')), {
      code: 'E_IO',
      message: /a part of the path is not a directory/,
    });
  });
});

describe('readPublicKeyFile and readSecretKeyFile', () => {
  it('report a missing file or a directory as E_IO naming the path', async () => {
    const missing = join(dir, 'missing.pub');
    await assert.rejects(readPublicKeyFile(missing), {
      code: 'E_IO',
      message: `cannot read public key ${missing}: no such file or directory`,
    });
    await assert.rejects(readSecretKeyFile(missing), {
      code: 'E_IO',
      message: `cannot read secret key ${missing}: no such file or directory`,
    });
    await assert.rejects(readPublicKeyFile(dir), {
      code: 'E_IO',
      message: `cannot read public key ${dir}: it is a directory`,
    });
  });

  it('refuse text that is not UTF-8, and files far too large to be keys', async () => {
    const latin1 = join(dir, 'latin1.pub');
    await writeFile(latin1, Buffer.from('untrusted comment: caf\xe9\n', 'latin1'));
    await assert.rejects(readPublicKeyFile(latin1), {
      code: 'E_KEY_FORMAT',
      message: `cannot read public key ${latin1}: it is not UTF-8 text`,
    });
    const large = join(dir, 'large.key');
    await writeFile(large, Buffer.alloc(100_000));
    await assert.rejects(readSecretKeyFile(large), {
      code: 'E_KEY_FORMAT',
      message: /it is 100000 bytes long, too large to be a secret key/,
    });
  });
});

describe('ioError', () => {
  it('wraps only the errors a person can act on', () => {
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const error = ioError(denied, 'read public key', '/k.pub');
    assert.equal(error?.code, 'E_IO');
    assert.equal(error.message, 'cannot read public key /k.pub: permission denied');
    assert.equal(error.cause, denied);
    assert.match(error.hint ?? '', /owner/);
    assert.equal(ioError(Object.assign(new Error('x'), { code: 'EINVAL' }), 'read', '/x'), undefined);
    assert.equal(ioError(new Error('plain'), 'read', '/x'), undefined);
  });
});
