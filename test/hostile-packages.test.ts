/**
 * Hostile and broken packages: each is refused by `kiln inspect` (and the
 * library) with a clear error that names the file and the reason. One test per
 * case, as the package format promises (docs/security.md).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { TestContext } from 'node:test';
import { isKilnError } from '../src/errors/index.js';
import { openPackage, verifyPackage } from '../src/format/index.js';
import type { SecretKey } from '../src/sign/index.js';
import { formatPublicKey, generateKeyPair, publicKeyOf } from '../src/sign/index.js';
import type { CraftOptions } from './helpers/craft.js';
import { charDeviceHeader, craftPackage, dirEntry, fileEntry, linkEntry } from './helpers/craft.js';
import { makeTree, writeMeta } from './helpers/fixtures.js';
import { kiln, tempDir } from './helpers/kiln.js';

let key: SecretKey;
let other: SecretKey;

before(() => {
  key = generateKeyPair();
  other = generateKeyPair();
});

const GOOD: CraftOptions['entries'] = [
  dirEntry('bin'),
  fileEntry('bin/tool', '#!/bin/sh\necho tool\n', 0o755),
  dirEntry('etc'),
  fileEntry('etc/tool.conf', 'x=1\n'),
];

/** Write `bytes` as a package, run `kiln inspect --trust`, expect refusal with `code` and `reason`. */
async function expectRefused(t: TestContext, bytes: Buffer, code: string, reason: RegExp): Promise<void> {
  const dir = await tempDir(t);
  const path = join(dir, 'hostile.kpkg');
  const pub = join(dir, 'trusted.pub');
  await writeFile(path, bytes);
  await writeFile(pub, formatPublicKey(publicKeyOf(key)));
  const result = await kiln(['inspect', path, '--trust', pub], { cwd: dir });
  assert.equal(result.code, 1, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '', 'nothing printed as data');
  assert.ok(result.stderr.includes(`error[${code}]`), `code ${code} in: ${result.stderr}`);
  assert.ok(result.stderr.includes(path), `the file is named in: ${result.stderr}`);
  assert.match(result.stderr, reason);
  assert.match(result.stderr, /\nhint: /);
}

test('a well-formed crafted package passes (the baseline for every case below)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'good.kpkg');
  await writeFile(path, craftPackage({ entries: GOOD, key }));
  const pkg = await verifyPackage(path, { trusted: [publicKeyOf(key)] });
  assert.equal(pkg.signer?.keyId, key.keyId);
});

test('truncated package: refused wherever it is cut', async (t) => {
  const good = craftPackage({ entries: GOOD, key });
  for (const cut of [100, 512 + 256, 2048, good.length - 1100, good.length - 1]) {
    await expectRefused(t, good.subarray(0, cut), 'E_PACKAGE_TRUNCATED', /ends at byte|ended while|ends after/);
  }
});

test('badly signed package: a signature over other data', async (t) => {
  const good = craftPackage({ entries: GOOD, key });
  const forged = craftPackage({ entries: GOOD, key, mutate: (meta) => (meta.summary = 'changed after signing') });
  // Put the signature of the original metadata into the altered package.
  const signatureStart = good.indexOf('untrusted comment:');
  const forgedStart = forged.indexOf('untrusted comment:');
  const bytes = Buffer.from(forged);
  good.copy(bytes, forgedStart, signatureStart, signatureStart + 300);
  await expectRefused(t, bytes, 'E_SIGNATURE_INVALID', /signature|altered/);
});

test('package signed by an untrusted key', async (t) => {
  await expectRefused(t, craftPackage({ entries: GOOD, key: other }), 'E_SIGNATURE_UNTRUSTED', new RegExp(other.keyId));
});

test('package whose payload does not match its sha256', async (t) => {
  const bytes = Buffer.from(craftPackage({ entries: GOOD, key }));
  const dir = await tempDir(t);
  await writeFile(join(dir, 'good.kpkg'), bytes);
  const { payloadOffset, payloadSize } = await openPackage(join(dir, 'good.kpkg'));
  bytes[payloadOffset + Math.floor(payloadSize / 2)]! ^= 0x01;
  await expectRefused(t, bytes, 'E_PACKAGE_HASH', /payload does not match the sha256/);
});

test('package whose file does not match its sha256 (metadata signed by a trusted key)', async (t) => {
  const entry = fileEntry('bin/tool', 'real content\n', 0o755);
  entry.manifest!.sha256 = 'f'.repeat(64) as never;
  await expectRefused(
    t,
    craftPackage({ entries: [dirEntry('bin'), entry], key }),
    'E_PACKAGE_HASH',
    /content of bin\/tool does not match its sha256/,
  );
});

test('package listing a path twice', async (t) => {
  await expectRefused(
    t,
    craftPackage({ entries: [dirEntry('bin'), fileEntry('bin/a', '1'), fileEntry('bin/a', '2')], key }),
    'E_PACKAGE_DUPLICATE',
    /"bin\/a" is listed twice/,
  );
});

test('package with a ".." path', async (t) => {
  await expectRefused(
    t,
    craftPackage({ entries: [dirEntry('bin'), fileEntry('bin/../../etc/cron.d/evil', '* * * * * root sh\n')], key }),
    'E_PACKAGE_PATH',
    /has a "\.\." component/,
  );
});

test('package with an absolute path', async (t) => {
  await expectRefused(
    t,
    craftPackage({ entries: [fileEntry('/etc/passwd', 'root::0:0::/:/bin/sh\n')], key }),
    'E_PACKAGE_PATH',
    /is absolute/,
  );
});

test('package with a symbolic link pointing outside the tree', async (t) => {
  await expectRefused(
    t,
    craftPackage({ entries: [dirEntry('lib'), linkEntry('lib/evil', '../../../etc/shadow')], key }),
    'E_PACKAGE_LINK',
    /points outside the package tree/,
  );
});

test('package with an absolute symbolic link', async (t) => {
  await expectRefused(
    t,
    craftPackage({ entries: [dirEntry('lib'), linkEntry('lib/evil', '/etc/shadow')], key }),
    'E_PACKAGE_LINK',
    /is absolute/,
  );
});

test('package with a symbolic link escaping through another link', async (t) => {
  await expectRefused(
    t,
    craftPackage({ entries: [dirEntry('a'), linkEntry('a/up', '..'), linkEntry('a/evil', 'up/../etc')], key }),
    'E_PACKAGE_LINK',
    /a\/evil.*points outside/,
  );
});

test('package writing through its own symbolic link', async (t) => {
  await expectRefused(
    t,
    craftPackage({ entries: [dirEntry('etc'), linkEntry('lib', 'etc'), fileEntry('lib/x', 'x')], key }),
    'E_PACKAGE_PATH',
    /lies under "lib", which is a symlink/,
  );
});

test('package with a hard link pointing outside the tree', async (t) => {
  await expectRefused(
    t,
    craftPackage({ entries: [dirEntry('bin'), linkEntry('bin/evil', '../../etc/shadow', 'hardlink')], key }),
    'E_PACKAGE_LINK',
    /hard link "bin\/evil"/,
  );
});

test('package holding a device node', async (t) => {
  const entry = fileEntry('dev-null', '');
  entry.tarBytes = charDeviceHeader('dev-null');
  await expectRefused(t, craftPackage({ entries: [entry], key }), 'E_PACKAGE_FILETYPE', /"dev-null" is a device node/);
});

test('package whose payload decompresses to more than it declares', async (t) => {
  await expectRefused(
    t,
    craftPackage({ entries: GOOD, key, trailingPayload: Buffer.alloc(8 << 20) }),
    'E_PACKAGE_SIZE',
    /decompresses to more than/,
  );
});

test('package whose payload entries differ from its manifest', async (t) => {
  const swapped = fileEntry('bin/tool', 'same size!');
  swapped.tar = { ...swapped.tar!, path: 'bin/loot' };
  await expectRefused(
    t,
    craftPackage({ entries: [dirEntry('bin'), swapped], key }),
    'E_PACKAGE_MANIFEST',
    /payload entry 2 is "bin\/loot" but the manifest lists "bin\/tool"/,
  );
  const missing = fileEntry('bin/gone', 'x');
  delete missing.tar;
  delete missing.content;
  await expectRefused(
    t,
    craftPackage({ entries: [dirEntry('bin'), missing], key }),
    'E_PACKAGE_MANIFEST',
    /ends after 1 of the 2 entries/,
  );
});

test('a file that is not a package at all', async (t) => {
  await expectRefused(t, Buffer.from('#!/bin/sh\nrm -rf /\n'.repeat(100)), 'E_PACKAGE_FORMAT', /not a Kiln package/);
});

test('a package of an unknown future format version', async (t) => {
  const bytes = Buffer.from(craftPackage({ entries: GOOD, key }));
  const at = bytes.indexOf('kiln-package 1\n');
  bytes.write('kiln-package 2\n', at, 'latin1');
  await expectRefused(t, bytes, 'E_PACKAGE_FORMAT', /format version 2 is not supported/);
});

test('changing any single byte of a package makes verification fail', async (t) => {
  const dir = await tempDir(t);
  const good = craftPackage({ entries: GOOD, key });
  const path = join(dir, 'p.kpkg');
  const trusted = [publicKeyOf(key)];
  let checked = 0;
  for (let at = 0; at < good.length; at++) {
    const bytes = Buffer.from(good);
    bytes[at]! ^= 0x20;
    await writeFile(path, bytes);
    await assert.rejects(
      verifyPackage(path, { trusted }),
      (error: unknown) => isKilnError(error),
      `byte ${at} changed, yet the package verified`,
    );
    checked++;
  }
  assert.equal(checked, good.length);
});

test('pack refuses a FIFO in the staged tree', async (t) => {
  const dir = await tempDir(t);
  await makeTree(join(dir, 'stage'), { 'bin/tool': 'x' });
  assert.equal(spawnSync('mkfifo', [join(dir, 'stage', 'bin', 'pipe')]).status, 0);
  const result = await kiln(['pack', 'stage', '--meta', await writeMeta(join(dir, 'meta.json')), '--out', 'out'], {
    cwd: dir,
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /error\[E_PACKAGE_FILETYPE\]: cannot pack stage: bin\/pipe is a FIFO/);
});

test('pack refuses a staged symbolic link that escapes the tree', async (t) => {
  const dir = await tempDir(t);
  await makeTree(join(dir, 'stage'), { 'lib/libfoo.so': { symlink: '/usr/lib/x86_64-linux-gnu/libc.so.6' } });
  const result = await kiln(['pack', 'stage', '--meta', await writeMeta(join(dir, 'meta.json')), '--out', 'out'], {
    cwd: dir,
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /error\[E_PACKAGE_LINK\]: cannot pack stage: symbolic link "lib\/libfoo.so" -> "\/usr\/lib\/x86_64-linux-gnu\/libc.so.6" is absolute/,
  );
});
