/**
 * Paths that the package format allows but a file system does not take as
 * they are: a directory of one package over a file of another, paths longer
 * than the operating system allows once the prefix is in front, and package
 * files that share a base name in different directories of a repository.
 */
import * as assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fails, ok, packAll, publish } from './helpers/client.js';
import type { PackageSpec } from './helpers/client.js';
import { tempDir, parseJson } from './helpers/kiln.js';
import { resignIndex } from './helpers/resign.js';

/** A repository of `specs` and a prefix synced to it. */
async function synced(dir: string, specs: readonly PackageSpec[], prefixName = 'prefix'): Promise<string> {
  await publish(dir, await packAll(dir, specs));
  const prefix = join(dir, prefixName);
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'repo/public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  return prefix;
}

test('package files with the same name in different directories of a repository are cached apart and both install', async (t) => {
  const dir = await tempDir(t);
  const prefix = await synced(dir, [
    { name: 'alpha', version: '1.0', tree: { 'share/alpha.txt': 'a\n' } },
    { name: 'beta', version: '1.0', tree: { 'share/beta.txt': 'b\n' } },
    { name: 'gamma', version: '1.0', tree: { 'share/gamma.txt': 'c\n' } },
  ]);
  const published = join(dir, 'repo/public');
  // The repository moves each file to a directory of its own, all under one base name.
  await resignIndex(published, join(dir, 'keys/kiln.key'), async (index) => {
    for (const [i, entry] of index.packages.entries()) {
      const moved = `packages/${String.fromCharCode(97 + i)}/x/same.kpkg`;
      await mkdir(dirname(join(published, moved)), { recursive: true });
      await rename(join(published, entry.path), join(published, moved));
      entry.path = moved;
    }
  });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  await ok(['--prefix', prefix, 'install', 'alpha', 'beta', '-y'], { cwd: dir });
  await ok(['--prefix', prefix, 'install', 'gamma', '-y'], { cwd: dir });
  for (const [name, content] of [
    ['alpha', 'a'],
    ['beta', 'b'],
    ['gamma', 'c'],
  ])
    assert.equal(await readFile(join(prefix, `share/${name}.txt`), 'utf8'), `${content}\n`);
  const cached = (await readdir(join(prefix, 'var/cache/kiln/packages'))).sort();
  assert.equal(cached.length, 3);
  for (const name of cached) assert.match(name, /^[0-9a-f]{64}\.kpkg$/);
  // Reinstalling from the cache takes each package's own file.
  await ok(['--prefix', prefix, 'install', 'alpha', 'beta', 'gamma', '--reinstall', '-y'], { cwd: dir });
  assert.match(await ok(['--prefix', prefix, 'verify'], { cwd: dir }), /^ok:/m);
});

test('a directory of one package over a file of another is a file conflict naming both, at install, in one transaction, and over what is on disk', async (t) => {
  const dir = await tempDir(t);
  const prefix = await synced(dir, [
    {
      name: 'base',
      version: '1.0',
      tree: { 'bin/base': 'base\n', 'lib/link': { symlink: 'libfile' }, 'lib/libfile': 'f\n' },
    },
    { name: 'evil', version: '1.0', tree: { 'bin/base/evil': 'evil\n' } },
    { name: 'deep', version: '1.0', tree: { 'bin/base/a/b/c': 'deep\n' } },
    { name: 'linked', version: '1.0', tree: { 'lib/link/inside': 'x\n' } },
    { name: 'other', version: '1.0', tree: { 'etc/thing/conf': 'x\n' } },
  ]);
  // In one transaction: both packages at once.
  await fails(['--prefix', prefix, 'install', 'base', 'evil', '-y'], 'E_FILE_CONFLICT', /bin\/base.*(base|evil)/, {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'install', 'base', '-y'], { cwd: dir });
  // Downloads may stay in the cache; the prefix itself must not change.
  const tree = async (): Promise<string[]> =>
    (await readdir(prefix, { recursive: true })).filter((path) => !path.startsWith('var/cache')).sort();
  const before = await tree();
  // Over an installed package's file, and below it, and through its symbolic link to a file.
  for (const [name, path] of [
    ['evil', 'bin/base'],
    ['deep', 'bin/base'],
    ['linked', 'lib/link'],
  ] as const) {
    const result = await fails(
      ['--prefix', prefix, 'install', name, '-y'],
      'E_FILE_CONFLICT',
      new RegExp(`${path.replace('/', '\\/')}`),
      { cwd: dir },
    );
    assert.match(result.stderr, /\bbase\b/, `${name}: the owner is named`);
    assert.match(result.stderr, new RegExp(`\\b${name}\\b`), `${name}: the newcomer is named`);
  }
  // Over a file no package owns.
  await writeFile(join(prefix, 'etc/thing'), 'mine\n');
  await fails(['--prefix', prefix, 'install', 'other', '-y'], 'E_FILE_CONFLICT', /etc\/thing/, { cwd: dir });
  assert.equal(await readFile(join(prefix, 'etc/thing'), 'utf8'), 'mine\n');
  await rm(join(prefix, 'etc/thing'));
  assert.deepEqual(await tree(), before, 'nothing was written');
  assert.match(await ok(['--prefix', prefix, 'verify'], { cwd: dir }), /^ok:/m);
});

test('verify, remove and upgrade when a directory a package expects has become a file on disk', async (t) => {
  const dir = await tempDir(t);
  const prefix = await synced(dir, [
    { name: 'tree', version: '1.0', tree: { 'share/tree/a/file': 'a\n', 'share/tree/b': 'b\n' } },
    { name: 'tree', version: '2.0', tree: { 'share/tree/a/file': 'a2\n', 'share/tree/b/now-a-dir': 'b2\n' } },
  ]);
  await ok(['--prefix', prefix, 'install', 'tree=1.0', '-y'], { cwd: dir });
  // Someone replaces the directory share/tree/a by a file.
  await rm(join(prefix, 'share/tree/a'), { recursive: true });
  await writeFile(join(prefix, 'share/tree/a'), 'not a directory\n');
  const verify = await ok(['--prefix', prefix, 'verify', '--json'], { cwd: dir }).catch(() => undefined);
  assert.equal(verify, undefined, 'verify reports a problem (exit 1)');
  const { kiln } = await import('./helpers/kiln.js');
  const report = await kiln(['--prefix', prefix, 'verify', '--json'], { cwd: dir });
  assert.equal(report.code, 1, report.stderr);
  const problems = (parseJson(report.stdout) as { problems: { path: string; problem: string }[] }).problems
    .map((p) => `${p.problem} ${p.path}`)
    .sort();
  assert.ok(
    problems.some((p) => p.endsWith(' share/tree/a')),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.endsWith(' share/tree/a/file')),
    problems.join('\n'),
  );
  assert.doesNotMatch(report.stderr, /internal error|ENOTDIR/);
  // The upgrade turns the file share/tree/b into a directory; the blocked share/tree/a is a conflict, not a crash.
  const upgrade = await kiln(['--prefix', prefix, 'upgrade', '-y'], { cwd: dir });
  assert.notEqual(upgrade.code, 70, upgrade.stderr);
  assert.doesNotMatch(upgrade.stderr, /internal error|ENOTDIR/);
  // Removing works and leaves the stranger's file alone.
  const removed = await kiln(['--prefix', prefix, 'remove', 'tree', '-y'], { cwd: dir });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(await readFile(join(prefix, 'share/tree/a'), 'utf8'), 'not a directory\n');
});

test("a path too long for the prefix is refused before anything is written, with the prefix's length in the reason; a shorter prefix takes it", async (t) => {
  const dir = await tempDir(t);
  // 16 components of 250 bytes: 4,015 bytes, within the format's 4,094 but not under a long prefix.
  const deep = `${Array.from({ length: 16 }, (_, i) => String.fromCharCode(97 + i).repeat(250)).join('/')}/f`;
  const short = await synced(dir, [{ name: 'deep', version: '1.0', tree: { [deep]: 'deep\n' } }], 'p');
  const long = join(dir, 'x'.repeat(120), 'y'.repeat(120));
  await ok(['--prefix', long, 'init'], { cwd: dir });
  await ok(['--prefix', long, 'remote', 'add', 'main', join(dir, 'repo/public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', long, 'sync'], { cwd: dir });
  const before = (await readdir(long, { recursive: true })).filter((path) => !path.startsWith('var/cache')).sort();
  const refused = await fails(
    ['--prefix', long, 'install', 'deep', '-y'],
    'E_PATH_TOO_LONG',
    /\d+ paths? (is|are) too long for it, nothing was written/,
    { cwd: dir },
  );
  assert.match(
    refused.stderr,
    /would be \d{4} bytes long under .*, more than the 4095 the system allows \(deep-1\.0\)/,
  );
  assert.match(refused.stderr, new RegExp(`hint: the prefix itself takes ${Buffer.byteLength(long)} bytes`));
  assert.doesNotMatch(refused.stderr, /ENAMETOOLONG|internal error/);
  assert.deepEqual(
    (await readdir(long, { recursive: true })).filter((path) => !path.startsWith('var/cache')).sort(),
    before,
  );
  await ok(['--prefix', short, 'install', 'deep', '-y'], { cwd: dir });
  assert.equal(await readFile(join(short, deep), 'utf8'), 'deep\n');
  assert.match(await ok(['--prefix', short, 'verify'], { cwd: dir }), /^ok:/m);
});
