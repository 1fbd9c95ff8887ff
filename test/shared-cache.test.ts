/**
 * A package cache shared between prefixes (KILN_CACHE or `cache` in the
 * config): packages are downloaded once, unpacked once into the cache's store,
 * and hard-linked into each prefix on the same file system. Relocated files
 * and configuration files are never linked (each prefix gets its own), and a
 * prefix's files are exactly what an install without the cache gives.
 */
import * as assert from 'node:assert/strict';
import { lstat, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fails, ok, packAll, publish } from './helpers/client.js';
import { tempDir } from './helpers/kiln.js';

test('a shared cache: the second prefix links the files the first unpacked; relocated and configuration files are copies', async (t) => {
  const dir = await tempDir(t);
  const placeholder = `/opt/kiln-placeholder-${'x'.repeat(64)}`;
  await publish(dir, await packAll(dir, [
    { name: 'lib', version: '1.0', tree: { 'lib/libx.so.1': 'binary-ish\n'.repeat(100), 'lib/libx.so': { symlink: 'libx.so.1' }, 'share/lib/a': 'a\n', 'share/lib/b': { hardlink: 'share/lib/a' } } },
    {
      name: 'app', version: '1.0', depends: ['lib >=1.0'],
      tree: { 'bin/app': { content: '#!/bin/sh\necho app\n', mode: 0o755 }, 'bin/where': { content: `#!/bin/sh\necho ${placeholder}/share\n`, mode: 0o755 }, 'etc/app.conf': 'x=1\n' },
      extra: { configFiles: ['etc/app.conf'], placeholder },
    },
  ]));
  const cache = join(dir, 'shared-cache');
  const prefixes = [join(dir, 'one'), join(dir, 'two')];
  for (const prefix of prefixes) {
    const env = { KILN_PREFIX: prefix, KILN_CACHE: cache };
    await ok(['init'], { cwd: dir, env });
    await ok(['remote', 'add', 'main', `file://${join(dir, 'repo')}`, '--key', 'keys/kiln.pub'], { cwd: dir, env });
    await ok(['sync'], { cwd: dir, env });
    await ok(['install', 'app', '-y'], { cwd: dir, env });
    await ok(['verify'], { cwd: dir, env });
  }
  assert.deepEqual(await readdir(join(prefixes[1]!, 'var/cache/kiln/packages')), [], 'packages are downloaded into the shared cache, not the prefix');
  assert.equal((await readdir(join(cache, 'packages'))).filter((name) => name.endsWith('.kpkg')).length, 2);
  const store = (await readdir(join(cache, 'unpacked'))).filter((name) => !name.includes('.tmp-'));
  assert.equal(store.length, 2, 'one store entry per package');

  const [one, two] = prefixes as [string, string];
  const inode = async (path: string) => (await lstat(path)).ino;
  assert.equal(await inode(join(one, 'lib/libx.so.1')), await inode(join(two, 'lib/libx.so.1')), 'a plain file is one inode in both prefixes');
  assert.equal(await inode(join(one, 'bin/app')), await inode(join(two, 'bin/app')));
  assert.equal(await inode(join(two, 'share/lib/b')), await inode(join(two, 'share/lib/a')), 'a hard link of the package stays one');
  assert.notEqual(await inode(join(one, 'etc/app.conf')), await inode(join(two, 'etc/app.conf')), 'configuration files are copies');
  assert.notEqual(await inode(join(one, 'bin/where')), await inode(join(two, 'bin/where')), 'relocated files are written per prefix');
  assert.equal(await readFile(join(one, 'bin/where'), 'utf8'), `#!/bin/sh\necho ${one}/share\n`);
  assert.equal(await readFile(join(two, 'bin/where'), 'utf8'), `#!/bin/sh\necho ${two}/share\n`);
  assert.equal((await lstat(join(two, 'bin/app'))).mode & 0o777, 0o755);

  // Editing one prefix's configuration file changes nothing elsewhere.
  await writeFile(join(one, 'etc/app.conf'), 'mine\n');
  assert.equal(await readFile(join(two, 'etc/app.conf'), 'utf8'), 'x=1\n');

  // Removing from one prefix leaves the other and the store alone.
  await ok(['remove', 'app', 'lib', '-y'], { cwd: dir, env: { KILN_PREFIX: one, KILN_CACHE: cache } });
  await ok(['verify'], { cwd: dir, env: { KILN_PREFIX: two, KILN_CACHE: cache } });
  assert.equal((await readdir(join(cache, 'unpacked'))).filter((name) => !name.includes('.tmp-')).length, 2);

  // A stored package needs no package file any more.
  for (const name of await readdir(join(cache, 'packages'))) await rm(join(cache, 'packages', name));
  // The same through the config file, and a relative cache path is refused there.
  const three = join(dir, 'three');
  await ok(['init'], { cwd: dir, env: { KILN_PREFIX: three } });
  const config = join(three, 'etc/kiln/config.toml');
  // Top-level keys go before the first table.
  await writeFile(config, `cache = "relative/dir"\n${await readFile(config, 'utf8')}`);
  await fails(['remote', 'list'], 'E_CONFIG', /cache must be an absolute path/, { cwd: dir, env: { KILN_PREFIX: three } });
  await writeFile(config, (await readFile(config, 'utf8')).replace('cache = "relative/dir"', `cache = "${cache}"`));
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo')}`, '--key', 'keys/kiln.pub'], { cwd: dir, env: { KILN_PREFIX: three } });
  await ok(['sync'], { cwd: dir, env: { KILN_PREFIX: three } });
  await ok(['install', 'app', '-y'], { cwd: dir, env: { KILN_PREFIX: three } });
  assert.equal(await inode(join(three, 'bin/app')), await inode(join(two, 'bin/app')));
  assert.match(await readFile(config, 'utf8'), /cache = /, 'Kiln keeps the setting when it rewrites the file');
  assert.deepEqual(await readdir(join(cache, 'packages')), [], 'nothing was downloaded: the store had both packages');
  await ok(['verify'], { cwd: dir, env: { KILN_PREFIX: three } });
});
