/**
 * Installing on worker threads (installWorkers.ts), end to end. Small
 * transactions extract in the calling thread, so KILN_TEST_THREADS=2 forces
 * the threads here: an install of several packages with files, symbolic and
 * hard links, modes and a relocated script; an upgrade that replaces files
 * (staged and renamed) while adding new ones (written in place); an
 * extraction failure injected on one thread (KILN_TEST_FAIL_EXTRACT), after
 * which the prefix is exactly as before; and a tampered cached package, which
 * is downloaded again.
 */
import * as assert from 'node:assert/strict';
import { lstat, readFile, readdir, readlink, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fails, ok, packAll, publish } from './helpers/client.js';
import { tempDir, parseJson } from './helpers/kiln.js';

const THREADS = { KILN_TEST_THREADS: '2' };

function tree(
  name: string,
  version: string,
): Record<string, string | { content: string; mode: number } | { symlink: string } | { hardlink: string }> {
  const files: Record<string, string | { content: string; mode: number } | { symlink: string } | { hardlink: string }> =
    {
      [`bin/${name}`]: { content: `#!/bin/sh\necho ${name} ${version}\n`, mode: 0o755 },
      [`bin/${name}-link`]: { symlink: name },
      [`bin/${name}-hard`]: { hardlink: `bin/${name}` },
      [`share/${name}/readme`]: { content: `${name} ${version}\n`, mode: 0o444 },
      [`etc/${name}.conf`]: `setting=${version}\n`,
    };
  for (let i = 0; i < 40; i++)
    files[`share/${name}/data/${i % 4}/f${i}.txt`] = `${name} ${version} ${i}\n`.repeat(i + 1);
  if (version === '2.0') files[`share/${name}/new-in-2`] = 'new\n';
  return files;
}

const NAMES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];

async function setUp(t: TestContext): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await tempDir(t);
  const specs = NAMES.flatMap((name, i) =>
    ['1.0', '2.0'].map((version) => ({
      name,
      version,
      tree: tree(name, version),
      extra: { configFiles: [`etc/${name}.conf`] },
      ...(i > 0 ? { depends: [`${NAMES[i - 1]} >=${version}`] } : {}),
    })),
  );
  await publish(dir, await packAll(dir, specs));
  const env = { KILN_PREFIX: join(dir, 'prefix') };
  await ok(['init'], { cwd: dir, env });
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], {
    cwd: dir,
    env,
  });
  await ok(['sync'], { cwd: dir, env });
  return { dir, env };
}

/** Every path under the prefix (Kiln's own state left out) with its type, mode and content. */
async function snapshot(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(join(root, relative))).sort()) {
      const path = relative === '' ? name : `${relative}/${name}`;
      if (path === 'var/lib/kiln' || path === 'var/cache/kiln' || path === 'etc/kiln') continue;
      const info = await lstat(join(root, path));
      if (info.isDirectory()) {
        out.push(`${path}/ ${(info.mode & 0o7777).toString(8)}`);
        await walk(path);
      } else if (info.isSymbolicLink()) out.push(`${path} -> ${await readlink(join(root, path))}`);
      else
        out.push(
          `${path} ${(info.mode & 0o7777).toString(8)} ${info.nlink} ${(await readFile(join(root, path), 'utf8')).length}`,
        );
    }
  };
  await walk('');
  return out;
}

test('install and upgrade on worker threads: every file, link and mode as packed; verify is clean', async (t) => {
  const { dir, env } = await setUp(t);
  await ok(['install', 'epsilon=1.0', 'delta=1.0', 'gamma=1.0', 'beta=1.0', 'alpha=1.0', '-y'], {
    cwd: dir,
    env: { ...env, ...THREADS },
  });
  const root = env['KILN_PREFIX']!;
  for (const name of NAMES) {
    assert.equal(await readFile(join(root, `bin/${name}`), 'utf8'), `#!/bin/sh\necho ${name} 1.0\n`);
    assert.equal((await stat(join(root, `bin/${name}`))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(root, `share/${name}/readme`))).mode & 0o7777, 0o444);
    assert.equal(await readlink(join(root, `bin/${name}-link`)), name);
    assert.equal((await stat(join(root, `bin/${name}-hard`))).ino, (await stat(join(root, `bin/${name}`))).ino);
  }
  await ok(['verify'], { cwd: dir, env });
  // The same set installed in the calling thread gives the same tree.
  const serial = { KILN_PREFIX: join(dir, 'serial') };
  await ok(['init'], { cwd: dir, env: serial });
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], {
    cwd: dir,
    env: serial,
  });
  await ok(['sync'], { cwd: dir, env: serial });
  await ok(['install', 'epsilon=1.0', 'delta=1.0', 'gamma=1.0', 'beta=1.0', 'alpha=1.0', '-y'], {
    cwd: dir,
    env: { ...serial, KILN_TEST_THREADS: '1' },
  });
  assert.deepEqual(await snapshot(root), await snapshot(serial.KILN_PREFIX));

  await writeFile(join(root, 'etc/alpha.conf'), 'mine\n');
  await ok(['upgrade', '-y'], { cwd: dir, env: { ...env, ...THREADS } });
  for (const name of NAMES) {
    assert.equal(await readFile(join(root, `bin/${name}`), 'utf8'), `#!/bin/sh\necho ${name} 2.0\n`);
    assert.equal(await readFile(join(root, `share/${name}/new-in-2`), 'utf8'), 'new\n');
  }
  assert.equal(await readFile(join(root, 'etc/alpha.conf'), 'utf8'), 'mine\n', 'a changed configuration file is kept');
  assert.equal(await readFile(join(root, 'etc/alpha.conf.kiln-new'), 'utf8'), 'setting=2.0\n');
  // Take the new configuration, as a user would, so that verify has nothing to report.
  await rename(join(root, 'etc/alpha.conf.kiln-new'), join(root, 'etc/alpha.conf'));
  await ok(['verify'], { cwd: dir, env });
  assert.deepEqual(
    await readdir(join(root, 'var/lib/kiln')).then((names) => names.filter((name) => name === 'transaction')),
    [],
  );
});

test('a failure on one extraction thread rolls the whole transaction back, in-place files included', async (t) => {
  const { dir, env } = await setUp(t);
  const root = env['KILN_PREFIX']!;
  await ok(['install', 'alpha=1.0', '-y'], { cwd: dir, env });
  const before = await snapshot(root);
  const list = await ok(['list', '--json'], { cwd: dir, env });
  // gamma fails after its first file is written; the others run on the other thread meanwhile.
  await fails(['install', 'epsilon=1.0', '-y'], 'E_IO', /failure injected by KILN_TEST_FAIL_EXTRACT/, {
    cwd: dir,
    env: { ...env, ...THREADS, KILN_TEST_FAIL_EXTRACT: 'gamma' },
  });
  assert.deepEqual(await snapshot(root), before, 'nothing of the failed transaction is left');
  assert.equal(await ok(['list', '--json'], { cwd: dir, env }), list);
  assert.ok(!(await readdir(join(root, 'var/lib/kiln'))).includes('transaction'));
  // The same failure on an upgrade (staged replacements and in-place new files).
  await fails(['upgrade', '-y'], 'E_IO', /KILN_TEST_FAIL_EXTRACT/, {
    cwd: dir,
    env: { ...env, ...THREADS, KILN_TEST_FAIL_EXTRACT: 'alpha' },
  });
  assert.deepEqual(await snapshot(root), before);
  await ok(['verify'], { cwd: dir, env });
  await ok(['install', 'epsilon', '-y'], { cwd: dir, env: { ...env, ...THREADS } });
  await ok(['verify'], { cwd: dir, env });
});

test('a cached package that changed since it was downloaded is downloaded again', async (t) => {
  const { dir, env } = await setUp(t);
  const root = env['KILN_PREFIX']!;
  await ok(['install', 'beta=1.0', '-y', '--dry-run'], { cwd: dir, env });
  await ok(['install', 'beta=1.0', '-y'], { cwd: dir, env: { ...env, ...THREADS } });
  await ok(['remove', 'beta', 'alpha', '-y'], { cwd: dir, env });
  const cache = join(root, 'var/cache/kiln/packages');
  // The cache names a package by the sha256 its index pins.
  const index = parseJson(await readFile(join(dir, 'repo/public/index.json'), 'utf8')) as {
    packages: { name: string; version: string; sha256: string }[];
  };
  const beta = index.packages.find((entry) => entry.name === 'beta' && entry.version === '1.0')!;
  const cached = (await readdir(cache)).filter((name) => name === `${beta.sha256}.kpkg`);
  assert.equal(cached.length, 1);
  const path = join(cache, cached[0]!);
  const bytes = await readFile(path);
  const at = bytes.length - 700;
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
  await writeFile(path, bytes);
  await ok(['install', 'beta=1.0', '-y'], { cwd: dir, env: { ...env, ...THREADS } });
  await ok(['verify'], { cwd: dir, env });
  assert.notDeepEqual(await readFile(path), bytes, 'the cached copy was replaced');
  // Its metadata altered (the signature no longer matches): found when it is opened, and downloaded again too.
  await ok(['remove', 'beta', 'alpha', '-y'], { cwd: dir, env });
  const good = await readFile(path);
  const summary = good.indexOf('The beta test package');
  assert.ok(summary > 0);
  const altered = Buffer.from(good);
  altered.write('The BETA', summary, 'latin1');
  await writeFile(path, altered);
  await ok(['install', 'beta=1.0', '-y'], { cwd: dir, env: { ...env, ...THREADS } });
  await ok(['verify'], { cwd: dir, env });
  assert.deepEqual(await readFile(path), good, 'the cached copy was downloaded again');
});
