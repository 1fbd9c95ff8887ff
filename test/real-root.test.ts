/**
 * Root into `/` of a real distribution: a minimal Debian root of this
 * machine's release (mmdebstrap, cached by scripts/rootfs.sh), where `bin`,
 * `sbin`, `lib` and `lib64` are links into `usr` and `var/run` one to `/run`,
 * with its own dpkg database and accounts. Inside it, as root, Kiln makes `/`
 * its prefix, installs a package of a real ELF program and its shared library
 * (built here with gcc), runs it, verifies, upgrades, removes — and the
 * distribution's own files (`/usr`, `/etc` but for the accounts Kiln declared,
 * the dpkg database) are as they were, apart from what Kiln installed.
 *
 * nginx built from source the same way: `npm run e2e:full` (scripts/e2e-full.sh).
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { packAll, publish } from './helpers/client.js';
import type { PackageSpec } from './helpers/client.js';
import { tempDir } from './helpers/kiln.js';
import { digestChanges, digestTree, rootfsTarball, unpackRoot } from './helpers/realRoot.js';

/** The greet program and its library, version `version`, compiled here. */
async function greetPackage(dir: string, version: string): Promise<PackageSpec> {
  const src = join(dir, `src-${version}`);
  execFileSync('mkdir', ['-p', src]);
  await writeFile(join(src, 'libgreet.c'), `const char *greet_word(void) { return "${version}"; }\n`);
  await writeFile(
    join(src, 'greet.c'),
    '#include <stdio.h>\nextern const char *greet_word(void);\nint main(void) { printf("greet %s\\n", greet_word()); return 0; }\n',
  );
  execFileSync('gcc', [
    '-shared',
    '-fPIC',
    '-Wl,-soname,libgreet.so.1',
    '-o',
    join(src, 'libgreet.so.1'),
    join(src, 'libgreet.c'),
  ]);
  execFileSync('gcc', [
    '-o',
    join(src, 'greet'),
    join(src, 'greet.c'),
    join(src, 'libgreet.so.1'),
    '-Wl,-rpath,$ORIGIN/../lib',
    '-Wl,--disable-new-dtags',
  ]);
  return {
    name: 'greet',
    version,
    tree: {
      'bin/greet': { content: await readFile(join(src, 'greet')), mode: 0o755 },
      'lib/libgreet.so.1': { content: await readFile(join(src, 'libgreet.so.1')), mode: 0o755 },
      'lib/libgreet.so': { symlink: 'libgreet.so.1' },
      'sbin/greetd': { content: '#!/bin/sh\nexec greet\n', mode: 0o755 },
      'etc/greet.conf': `word=${version}\n`,
    },
    extra: {
      configFiles: ['etc/greet.conf'],
      users: [{ name: 'greetd', group: 'greetd', home: 'var/run/greet', system: true }],
      groups: [{ name: 'greetd', system: true }],
      directories: [{ path: 'var/run/greet', owner: 'greetd', group: 'greetd', mode: '0750' }],
      provides: { sonames: ['libgreet.so.1'] },
      needs: { sonames: ['libc.so.6'] },
    },
  };
}

const found = rootfsTarball();

test("root into / of a real Debian root (merged /usr): install, run, verify, upgrade, remove; the distribution's files untouched", {
  skip: 'missing' in found ? found.missing : false,
}, async (t) => {
  if (!('path' in found)) return;
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, [await greetPackage(dir, '1.0'), await greetPackage(dir, '2.0')]));
  const root = unpackRoot(t, found.path, await tempDir(t), dir);
  const usrBefore = digestTree(root.dir, 'usr');
  const etcBefore = digestTree(root.dir, 'etc');
  const dpkgBefore = digestTree(root.dir, 'var/lib/dpkg');
  const accountsBefore = new Map(
    await Promise.all(
      ['etc/passwd', 'etc/group'].map(async (file) => [file, await readFile(join(root.dir, file), 'utf8')] as const),
    ),
  );
  const kiln = async (...args: string[]): Promise<string> => {
    const result = await root.kiln(args);
    assert.equal(result.code, 0, `kiln ${args.join(' ')} in the root\n${result.stdout}${result.stderr}`);
    return result.stdout;
  };

  assert.match(await kiln('init'), /created prefix \//);
  await kiln('remote', 'add', 'main', `file://${root.shared}/repo/public`, '--key', `${root.shared}/keys/kiln.pub`);
  await kiln('sync');
  await kiln('install', 'greet=1.0', '-y');
  assert.equal(
    (await root.run('/bin/greet', [])).stdout,
    'greet 1.0\n',
    'the program runs, its library found through its run path',
  );
  assert.equal((await root.run('/usr/sbin/greetd', [])).stdout, 'greet 1.0\n');
  assert.match(
    await kiln('verify'),
    /^ok: \d+ entries match the database/m,
    'verify: nothing wrong, and the distribution\'s own files are not "unowned"',
  );
  for (const path of ['/bin/greet', '/usr/bin/greet', '/lib/libgreet.so.1', '/usr/lib/libgreet.so.1'])
    assert.match(await kiln('owns', path), /owned by greet 1\.0/, path);
  const usrInstalled = digestChanges(usrBefore, digestTree(root.dir, 'usr'));
  assert.deepEqual(
    usrInstalled.added,
    ['usr/bin/greet', 'usr/lib/libgreet.so', 'usr/lib/libgreet.so.1', 'usr/sbin/greetd'],
    'bin, lib and sbin went through the links into usr',
  );
  assert.deepEqual([...usrInstalled.removed, ...usrInstalled.changed], []);
  const passwd = await readFile(join(root.dir, 'etc/passwd'), 'utf8');
  assert.match(passwd, /^greetd:x:\d+:\d+::\/var\/run\/greet:/m, "the declared account, in the root's own /etc/passwd");
  const uid = Number(/^greetd:x:(\d+):/m.exec(passwd)?.[1]);
  const spool = await lstat(join(root.dir, 'run/greet'));
  assert.ok(
    spool.isDirectory() && spool.uid === uid && (spool.mode & 0o777) === 0o750,
    'var/run/greet was made where var/run leads (/run), owned by greetd',
  );

  await kiln('upgrade', '-y');
  assert.equal((await root.run('/bin/greet', [])).stdout, 'greet 2.0\n');
  assert.match(await kiln('verify'), /^ok:/m);
  await kiln('remove', 'greet', '-y');
  assert.match(await kiln('verify'), /^ok: 0 entries match the database/m);

  // The distribution's files: as before, but for the accounts Kiln declared (kept, as Debian keeps them).
  const usr = digestChanges(usrBefore, digestTree(root.dir, 'usr'));
  assert.deepEqual(usr, { added: [], removed: [], changed: [] }, '/usr is as it was');
  const etc = digestChanges(etcBefore, digestTree(root.dir, 'etc'));
  assert.deepEqual(etc.removed, []);
  assert.deepEqual(
    etc.added.filter((path) => !path.startsWith('etc/kiln')),
    [],
    'only /etc/kiln was added',
  );
  assert.deepEqual(
    etc.changed,
    ['etc/group', 'etc/gshadow', 'etc/passwd', 'etc/shadow'].filter((path) => etcBefore.has(path)),
    'the account files, and nothing else, changed',
  );
  for (const [file, before] of accountsBefore) {
    const after = (await readFile(join(root.dir, file), 'utf8'))
      .split('\n')
      .filter((line) => !line.startsWith('greetd:'))
      .join('\n');
    assert.equal(after, before, `${file}: the distribution's lines as they were, one greetd line added`);
  }
  assert.deepEqual(
    digestChanges(dpkgBefore, digestTree(root.dir, 'var/lib/dpkg')),
    { added: [], removed: [], changed: [] },
    'the dpkg database is untouched',
  );
  for (const link of ['bin', 'sbin', 'lib', 'lib64']) assert.equal(await readlink(join(root.dir, link)), `usr/${link}`);
});
