/**
 * A package cache shared between prefixes (KILN_CACHE or `cache` in the
 * config): packages are downloaded once, unpacked once into the cache's store,
 * and hard-linked into each prefix on the same file system. Relocated files
 * and configuration files are never linked (each prefix gets its own), and a
 * prefix's files are exactly what an install without the cache gives.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fails, ok, packAll, publish } from './helpers/client.js';
import { kiln, tempDir } from './helpers/kiln.js';

/** A new prefix using the shared cache `cache`, with dir/repo as its synced remote; returns its environment. */
async function syncedWithCache(dir: string, prefix: string, cache: string): Promise<Record<string, string>> {
  const env = { KILN_PREFIX: prefix, KILN_CACHE: cache };
  await ok(['init'], { cwd: dir, env });
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], {
    cwd: dir,
    env,
  });
  await ok(['sync'], { cwd: dir, env });
  return env;
}

test('a shared cache: the second prefix links the files the first unpacked; relocated and configuration files are copies', async (t) => {
  const dir = await tempDir(t);
  const placeholder = `/opt/kiln-placeholder-${'x'.repeat(64)}`;
  await publish(
    dir,
    await packAll(dir, [
      {
        name: 'lib',
        version: '1.0',
        tree: {
          'lib/libx.so.1': 'binary-ish\n'.repeat(100),
          'lib/libx.so': { symlink: 'libx.so.1' },
          'share/lib/a': 'a\n',
          'share/lib/b': { hardlink: 'share/lib/a' },
        },
      },
      {
        name: 'app',
        version: '1.0',
        depends: ['lib >=1.0'],
        tree: {
          'bin/app': { content: '#!/bin/sh\necho app\n', mode: 0o755 },
          'bin/where': { content: `#!/bin/sh\necho ${placeholder}/share\n`, mode: 0o755 },
          'etc/app.conf': 'x=1\n',
        },
        extra: { configFiles: ['etc/app.conf'], placeholder },
      },
    ]),
  );
  const cache = join(dir, 'shared-cache');
  const prefixes = [join(dir, 'one'), join(dir, 'two')];
  for (const prefix of prefixes) {
    const env = await syncedWithCache(dir, prefix, cache);
    await ok(['install', 'app', '-y'], { cwd: dir, env });
    await ok(['verify'], { cwd: dir, env });
  }
  assert.deepEqual(
    await readdir(join(prefixes[1]!, 'var/cache/kiln/packages')),
    [],
    'packages are downloaded into the shared cache, not the prefix',
  );
  assert.equal((await readdir(join(cache, 'packages'))).filter((name) => name.endsWith('.kpkg')).length, 2);
  const store = (await readdir(join(cache, 'unpacked'))).filter((name) => !name.includes('.tmp-'));
  assert.equal(store.length, 2, 'one store entry per package');

  const [one, two] = prefixes as [string, string];
  const inode = async (path: string) => (await lstat(path)).ino;
  assert.equal(
    await inode(join(one, 'lib/libx.so.1')),
    await inode(join(two, 'lib/libx.so.1')),
    'a plain file is one inode in both prefixes',
  );
  assert.equal(await inode(join(one, 'bin/app')), await inode(join(two, 'bin/app')));
  assert.equal(
    await inode(join(two, 'share/lib/b')),
    await inode(join(two, 'share/lib/a')),
    'a hard link of the package stays one',
  );
  assert.notEqual(
    await inode(join(one, 'etc/app.conf')),
    await inode(join(two, 'etc/app.conf')),
    'configuration files are copies',
  );
  assert.notEqual(
    await inode(join(one, 'bin/where')),
    await inode(join(two, 'bin/where')),
    'relocated files are written per prefix',
  );
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
  await fails(['remote', 'list'], 'E_CONFIG', /cache must be an absolute path/, {
    cwd: dir,
    env: { KILN_PREFIX: three },
  });
  await writeFile(config, (await readFile(config, 'utf8')).replace('cache = "relative/dir"', `cache = "${cache}"`));
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], {
    cwd: dir,
    env: { KILN_PREFIX: three },
  });
  await ok(['sync'], { cwd: dir, env: { KILN_PREFIX: three } });
  await ok(['install', 'app', '-y'], { cwd: dir, env: { KILN_PREFIX: three } });
  assert.equal(await inode(join(three, 'bin/app')), await inode(join(two, 'bin/app')));
  assert.match(await readFile(config, 'utf8'), /cache = /, 'Kiln keeps the setting when it rewrites the file');
  assert.deepEqual(await readdir(join(cache, 'packages')), [], 'nothing was downloaded: the store had both packages');
  await ok(['verify'], { cwd: dir, env: { KILN_PREFIX: three } });
});

/** A process that claims the shared store as an install does, makes a half-made entry (HASH.tmp-OWNER-THREAD), and stays until killed. */
async function storeWriter(
  t: TestContext,
  cache: string,
  hash: string,
): Promise<{ temporary: string; kill: () => Promise<void> }> {
  const module = fileURLToPath(new URL('../src/install/unpackedStore.js', import.meta.url));
  const source = `import { mkdirSync, writeFileSync } from 'node:fs';
import { claimStore, storeEntry } from ${JSON.stringify(module)};
const owner = await claimStore(${JSON.stringify(cache)});
const temporary = storeEntry(${JSON.stringify(join(cache, 'unpacked'))}, ${JSON.stringify(hash)}) + '.tmp-' + owner + '-0';
mkdirSync(temporary + '/tree/bin', { recursive: true });
writeFileSync(temporary + '/tree/bin/half', 'half-made');
console.log(temporary);
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.after(() => child.kill('SIGKILL'));
  const temporary = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    void exited.then(() => reject(new Error('the store writer exited early')));
  });
  return {
    temporary,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

test("a shared store: what a killed process was unpacking is removed by the next install, a live one's is not; two prefixes install from one cache at once", async (t) => {
  const dir = await tempDir(t);
  await publish(
    dir,
    await packAll(dir, [
      { name: 'lib', version: '1.0', tree: { 'lib/libx.so.1': 'binary-ish\n'.repeat(100) } },
      {
        name: 'app',
        version: '1.0',
        depends: ['lib >=1.0'],
        tree: { 'bin/app': { content: '#!/bin/sh\necho app\n', mode: 0o755 } },
      },
    ]),
  );
  const cache = join(dir, 'shared-cache');
  const dead = await storeWriter(t, cache, 'a'.repeat(64));
  const live = await storeWriter(t, cache, 'b'.repeat(64));
  await dead.kill();
  const prefixes = [join(dir, 'one'), join(dir, 'two')];
  for (const prefix of prefixes) await syncedWithCache(dir, prefix, cache);
  // Both at once: one downloads into the cache at a time, both fill or use the same store entries.
  const results = await Promise.all(
    prefixes.map((prefix) =>
      kiln(['install', 'app', '-y'], { cwd: dir, env: { KILN_PREFIX: prefix, KILN_CACHE: cache } }),
    ),
  );
  for (const result of results) assert.equal(result.code, 0, result.stderr);
  for (const prefix of prefixes) await ok(['verify'], { cwd: dir, env: { KILN_PREFIX: prefix, KILN_CACHE: cache } });
  assert.equal(existsSync(dead.temporary), false, "the dead process's half-made entry is gone");
  assert.equal(existsSync(live.temporary), true, "a live process's is left alone");
  const owners = await readdir(join(cache, 'owners'));
  assert.ok(
    !owners.some((name) => dead.temporary.includes(name.replace(/\.lock$/, ''))),
    `the dead owner's lock file is gone too (${owners.join(', ')})`,
  );
  assert.deepEqual(
    (await readdir(join(cache, 'unpacked'))).filter((name) => !name.includes('.tmp-')).length,
    2,
    'one complete entry per package, used under its final name',
  );
  await live.kill();
  // The next writer to claim the store removes what the second one left.
  await ok(['remove', 'app', '-y'], { cwd: dir, env: { KILN_PREFIX: prefixes[0]!, KILN_CACHE: cache } });
  await ok(['install', 'app', '-y'], { cwd: dir, env: { KILN_PREFIX: prefixes[0]!, KILN_CACHE: cache } });
  assert.equal(existsSync(live.temporary), false);
});
