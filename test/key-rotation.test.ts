/**
 * Key rotation by TUF's root rule: a client offline through three rotations
 * walks root by root from the key it was given to the newest and installs a
 * package signed before them all; a root signed only by a retired key is
 * refused; with threshold 2, one stolen key can neither rotate through Kiln
 * nor get a forged root past a client; an expired root is refused.
 */
import * as assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeRoot, rootComment, rootPath, rootSignaturePath } from '../src/repo/keyRoot.js';
import type { KeyRoot } from '../src/repo/keyRoot.js';
import { encodePublicKey, formatSignature, readPublicKeyFile, readSecretKeyFile, signData } from '../src/sign/index.js';
import { fails, ok, packAll, publish } from './helpers/client.js';
import { kiln, tempDir } from './helpers/kiln.js';

async function keyId(dir: string, name: string): Promise<string> {
  return (await readPublicKeyFile(join(dir, name, 'kiln.pub'))).keyId;
}

/** A root written by hand (a forger's), signed by the given secret keys only. */
async function forgeRoot(
  dir: string,
  root: Omit<KeyRoot, 'format' | 'formatVersion' | 'created' | 'expires'>,
  signers: string[],
) {
  const full: KeyRoot = {
    format: 'kiln-root',
    formatVersion: 1,
    created: '2026-12-01T00:00:00Z',
    expires: '2030-01-01T00:00:00Z',
    ...root,
  };
  const bytes = encodeRoot(full);
  const published = join(dir, 'repo', 'public');
  for (const signer of signers) {
    const secret = await readSecretKeyFile(join(dir, signer, 'kiln.key'));
    await writeFile(
      join(published, rootSignaturePath(full.version, secret.keyId)),
      formatSignature(signData(bytes, secret, { trustedComment: rootComment(full) })),
    );
  }
  await writeFile(join(published, rootPath(full.version)), bytes);
}

async function publicLine(dir: string, name: string): Promise<string> {
  return encodePublicKey(await readPublicKeyFile(join(dir, name, 'kiln.pub')));
}

test('a client offline through three rotations catches up root by root; a root signed by a retired key is refused', async (t) => {
  const dir = await tempDir(t);
  for (const name of ['b', 'c', 'd', 'e']) await ok(['key', 'generate', '--out', name], { cwd: dir });
  // packAll makes keys/ (the first key, "a" below) and signs the package with it.
  await publish(dir, await packAll(dir, [{ name: 'alpha', version: '1.0', tree: { 'share/alpha/a': 'a\n' } }]));
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'repo', 'public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });

  let previous = 'keys';
  for (const next of ['b', 'c', 'd']) {
    await ok(
      [
        'repo',
        'key',
        'rotate',
        'repo',
        '--add',
        `${next}/kiln.pub`,
        '--retire',
        await keyId(dir, previous),
        '--key',
        `${previous}/kiln.key`,
        '--key',
        `${next}/kiln.key`,
        '--signing-key',
        `${next}/kiln.key`,
      ],
      { cwd: dir },
    );
    previous = next;
  }
  const caught = await kiln(['--prefix', prefix, 'sync'], { cwd: dir });
  assert.equal(caught.code, 0, caught.stderr);
  assert.match(caught.stderr, new RegExp(`key root 0 -> 3, .*trusted now: ${await keyId(dir, 'd')}`));
  const config = await readFile(join(prefix, 'etc', 'kiln', 'config.toml'), 'utf8');
  assert.match(config, /root-version = 3/);
  // The package was signed by the first key, retired since: the signed index pins it, so it installs.
  await ok(['--prefix', prefix, 'install', 'alpha', '-y'], { cwd: dir });

  // Root 4 signed only by c, which root 3 retired: refused, and the keys trusted stay.
  await forgeRoot(dir, { name: 'main', version: 4, threshold: 1, keys: [await publicLine(dir, 'e')] }, ['c']);
  await fails(
    ['--prefix', prefix, 'sync'],
    'E_SIGNATURE_UNTRUSTED',
    /version 4 needs 1 signature\(s\) by the keys of version 3/,
    {
      cwd: dir,
    },
  );
  assert.match(await readFile(join(prefix, 'etc', 'kiln', 'config.toml'), 'utf8'), /root-version = 3/);
});

test('threshold 2: one stolen key can neither rotate nor pass a forged root; an expired root is refused', async (t) => {
  const dir = await tempDir(t);
  for (const name of ['b', 'e']) await ok(['key', 'generate', '--out', name], { cwd: dir });
  await publish(dir, await packAll(dir, [{ name: 'alpha', version: '1.0', tree: { 'share/alpha/a': 'a\n' } }]));
  await ok(
    ['repo', 'key', 'add', 'repo', 'b/kiln.pub', '--threshold', '2', '--key', 'keys/kiln.key', '--key', 'b/kiln.key'],
    { cwd: dir },
  );
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'repo', 'public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  assert.match(await readFile(join(prefix, 'etc', 'kiln', 'config.toml'), 'utf8'), /root-threshold = 2/);

  // The holder of the first key alone: Kiln refuses to publish the rotation.
  await fails(
    [
      'repo',
      'key',
      'rotate',
      'repo',
      '--add',
      'e/kiln.pub',
      '--retire',
      await keyId(dir, 'b'),
      '--key',
      'keys/kiln.key',
    ],
    'E_SIGNATURE_UNTRUSTED',
    /needs 2 signature\(s\) by the keys of version 1 .* and has 1/,
    { cwd: dir },
  );
  // And a root 2 forged with that key alone does not get past the client.
  await forgeRoot(dir, { name: 'main', version: 2, threshold: 1, keys: [await publicLine(dir, 'e')] }, ['keys', 'e']);
  await fails(
    ['--prefix', prefix, 'sync'],
    'E_SIGNATURE_UNTRUSTED',
    /needs 2 signature\(s\) by the keys of version 1/,
    {
      cwd: dir,
    },
  );

  // A root past its expiry is refused.
  const fresh = join(dir, 'fresh');
  const other = await tempDir(t);
  await publish(other, await packAll(other, [{ name: 'beta', version: '1.0', tree: { 'share/b': 'b\n' } }]));
  await ok(['key', 'generate', '--out', 'n'], { cwd: other });
  await ok(
    ['repo', 'key', 'add', 'repo', 'n/kiln.pub', '--key', 'keys/kiln.key', '--key', 'n/kiln.key', '--expire-days', '1'],
    { cwd: other },
  );
  await ok(['--prefix', fresh, 'init'], { cwd: other });
  await ok(['--prefix', fresh, 'remote', 'add', 'main', join(other, 'repo', 'public'), '--key', 'keys/kiln.pub'], {
    cwd: other,
  });
  const later = new Date(Date.now() + 3 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await fails(['--prefix', fresh, 'sync'], 'E_INDEX_EXPIRED', /key root .* expired/, {
    cwd: other,
    env: { KILN_NOW: later },
  });
  // The maintainer is told before, and cannot publish under an expired root.
  const soon = await kiln(['repo', 'commit', 'repo', '--allow-empty'], { cwd: other });
  assert.equal(soon.code, 0, soon.stderr);
  assert.match(soon.stderr, /note: key root 1 expires at .*: renew it with "kiln repo key rotate/);
  await fails(['repo', 'commit', 'repo', '--allow-empty'], 'E_INDEX_EXPIRED', /key root 1 expired/, {
    cwd: other,
    env: { KILN_NOW: later },
  });
});
