/**
 * What pacman and uv users do daily: mark packages as requested or as
 * dependencies, list orphans, hold a package at its version, clean the cache,
 * and install a package file.
 */
import * as assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PackageSpec } from './helpers/client.js';
import { fails, ok, packAll, publish, syncedPrefix } from './helpers/client.js';
import { kiln, parseJson, tempDir } from './helpers/kiln.js';

const lib = (version: string): PackageSpec => ({ name: 'lib', version, tree: { 'share/lib/v': `${version}\n` } });
const app = (version: string, range: string): PackageSpec => ({
  name: 'app',
  version,
  depends: [`lib ${range}`],
  tree: { 'share/app/v': `${version}\n` },
});

async function prefixWith(dir: string, specs: PackageSpec[]): Promise<string> {
  await publish(dir, await packAll(dir, specs));
  return syncedPrefix(dir);
}

test('mark --dependency and --requested change what autoremove takes; list --orphans shows it first', async (t) => {
  const dir = await tempDir(t);
  const prefix = await prefixWith(dir, [lib('1.0'), app('1.0', '>=1')]);
  const run = (...args: string[]): Promise<string> => ok(['--prefix', prefix, ...args], { cwd: dir });
  await run('install', 'app', '-y');
  assert.equal((await kiln(['--prefix', prefix, 'list', '--orphans'], { cwd: dir })).stderr.trim(), 'no orphans');
  assert.match(await run('mark', '--dependency', 'app'), /mark app as dependency[\s\S]*done \(transaction /);
  assert.equal((await run('list', '--orphans', '-q')).trim().split('\n').sort().join(' '), 'app lib');
  const orphans = parseJson(await run('list', '--orphans', '--json')) as { name: string; reason: string }[];
  assert.deepEqual(orphans.map((row) => [row.name, row.reason]).sort(), [
    ['app', 'dependency'],
    ['lib', 'dependency'],
  ]);
  assert.match(await run('autoremove', '--dry-run'), /remove +app[\s\S]*remove +lib/);
  await run('mark', '--requested', 'app');
  assert.equal((await run('list', '--orphans', '-q')).trim(), '');
  // Marked already: nothing to do, no transaction.
  const again = await kiln(['--prefix', prefix, 'mark', '--requested', 'app'], { cwd: dir });
  assert.equal(again.code, 0);
  assert.match(again.stderr, /already marked as requested/);
  const history = parseJson(await run('history', '--json')) as { summary: string }[];
  assert.equal(history.filter((row) => row.summary === 'reasons changed').length, 2);
  await fails(['--prefix', prefix, 'mark', '--requested', 'nosuch'], 'E_NOT_INSTALLED', /cannot mark nosuch/, {
    cwd: dir,
  });
  await fails(['--prefix', prefix, 'mark', 'app'], 'E_USAGE', /give one of --requested, --dependency/, { cwd: dir });
});

test('hold keeps a package, and what needs it newer, at its version; unhold lets upgrade take them', async (t) => {
  const dir = await tempDir(t);
  const prefix = await prefixWith(dir, [lib('1.0'), app('1.0', '>=1')]);
  const run = (...args: string[]): Promise<string> => ok(['--prefix', prefix, ...args], { cwd: dir });
  await run('install', 'app', '-y');
  assert.match(await run('hold', 'lib'), /held: lib/);
  assert.equal((await run('hold')).trim(), 'lib');
  await publish(dir, await packAll(dir, [lib('2.0'), app('2.0', '>=2')]));
  await run('sync');
  // app 2.0 needs lib 2.0: both stay back.
  assert.equal((await run('list', '--upgradable', '-q')).trim(), '');
  const nothing = await kiln(['--prefix', prefix, 'upgrade', '-y'], { cwd: dir });
  assert.equal(nothing.code, 0, nothing.stderr);
  assert.match(nothing.stderr, /nothing to do/);
  await fails(['--prefix', prefix, 'upgrade', 'lib', '-y'], 'E_HELD', /cannot upgrade lib: it is held/, { cwd: dir });
  await fails(['--prefix', prefix, 'hold', 'nosuch'], 'E_NOT_INSTALLED', /cannot hold nosuch/, { cwd: dir });
  await fails(['--prefix', prefix, 'unhold', 'app'], 'E_USAGE', /app: it is not held/, { cwd: dir });
  assert.match(await run('unhold', 'lib'), /no package is held/);
  assert.match(await run('upgrade', '-y'), /upgrade +lib +1\.0 -> 2\.0[\s\S]*upgrade +app +1\.0 -> 2\.0/);
});

test('cache info, clean and prune: what no installed version needs goes, the installed one and the newest stay', async (t) => {
  const dir = await tempDir(t);
  const prefix = await prefixWith(dir, [lib('1.0'), app('1.0', '>=1')]);
  const run = (...args: string[]): Promise<string> => ok(['--prefix', prefix, ...args], { cwd: dir });
  await run('install', 'app', '-y');
  for (const version of ['2.0', '3.0']) {
    await publish(dir, await packAll(dir, [lib(version)]));
    await run('sync');
    await run('upgrade', 'lib', '-y');
  }
  // lib 1.0, 2.0, 3.0 and app 1.0 are cached; lib 3.0 and app 1.0 are installed. A partial download too.
  const cacheDir = (parseJson(await run('cache', 'info', '--json')) as { dir: string }).dir;
  await writeFile(join(cacheDir, `${'0'.repeat(64)}.kpkg.part`), 'partial');
  const info = await run('cache', 'info');
  assert.match(info, /packages +4 files, [\d.]+ KiB; 2 installed here/);
  assert.match(info, /clean frees +[\d.]+ KiB in 3 files no installed version needs/);
  const pruned = await run('cache', 'prune', '--keep', '2', '--dry-run');
  assert.match(pruned, /^ {2}lib 1\.0 /m);
  assert.doesNotMatch(pruned, /lib 2\.0|lib 3\.0|app/);
  assert.match(pruned, /would remove 2 files/);
  assert.equal((await readdir(cacheDir)).length, 5, 'a dry run removes nothing');
  assert.match(await run('cache', 'prune', '--keep', '2'), /removed 2 files, freed/);
  const left = parseJson(await run('cache', 'info', '--json')) as { files: { name: string; version: string }[] };
  assert.deepEqual(left.files.map((file) => `${file.name} ${file.version}`).sort(), ['app 1.0', 'lib 2.0', 'lib 3.0']);
  assert.match(await run('cache', 'clean'), /^ {2}lib 2\.0 [\s\S]*removed 1 file, freed/m);
  const cleaned = parseJson(await run('cache', 'info', '--json')) as { files: { name: string; installed: boolean }[] };
  assert.deepEqual(cleaned.files.map((file) => [file.name, file.installed]).sort(), [
    ['app', true],
    ['lib', true],
  ]);
  assert.match(await run('cache', 'clean'), /nothing to remove/);
  await fails(['--prefix', prefix, 'cache', 'prune'], 'E_USAGE', /missing --keep N/, { cwd: dir });
  // What was cleaned is downloaded again when needed.
  await run('remove', 'app', '-y');
  await run('cache', 'clean');
  await run('install', 'app', '-y');
});

test('install a package file: checked as a download is (signature by a trusted key, unless --allow-unsigned), dependencies from the remotes', async (t) => {
  const dir = await tempDir(t);
  const prefix = await prefixWith(dir, [lib('1.0')]);
  const run = (...args: string[]): Promise<string> => ok(['--prefix', prefix, ...args], { cwd: dir });
  // Packed and signed with the repository's key, but not published.
  const [file] = await packAll(dir, [app('1.5', '>=1')]);
  assert.match(
    await run('install', file!, '--dry-run'),
    /install +lib +1\.0 +\(main\)[\s\S]*install +app +1\.5 +\(file\)/,
  );
  await run('install', file!, '-y');
  const installed = parseJson(await run('list', '--json')) as {
    name: string;
    version: string;
    remote: string | null;
  }[];
  assert.deepEqual(
    installed.map((pkg) => [pkg.name, pkg.version, pkg.remote]),
    [
      ['app', '1.5', null],
      ['lib', '1.0', 'main'],
    ],
  );
  assert.match(await run('info', 'app'), /from +a file/);
  const verbose = await run('list', '-v');
  assert.match(verbose, /^NAME +VERSION +REASON +VARIANT +FROM +INSTALLED +SIZE +SUMMARY$/m);
  assert.match(verbose, /^app +1\.5 +requested +[0-9a-f]{12} +a file +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d+ B /m);
  assert.match(verbose, /^lib +1\.0 +dependency +[0-9a-f]{12} +main /m);
  await run('verify');

  // Signed by a key no remote trusts: refused, unless --allow-unsigned.
  await ok(['key', 'generate', '--out', 'stranger'], { cwd: dir });
  const stage = join(dir, 'stages', 'app-1.5');
  const meta = join(dir, 'stages', 'app-1.5.json');
  const strange = (
    parseJson(
      await ok(['pack', stage, '--meta', meta, '--out', 'strange', '--key', 'stranger/kiln.key', '--json'], {
        cwd: dir,
      }),
    ) as { path: string }
  ).path;
  const refused = await fails(
    ['--prefix', prefix, 'install', strange, '--reinstall', '-y'],
    'E_SIGNATURE_UNTRUSTED',
    /not trusted here/,
    {
      cwd: dir,
    },
  );
  assert.match(refused.stderr, /--allow-unsigned installs it unchecked/);
  const unsigned = (
    parseJson(await ok(['pack', stage, '--meta', meta, '--out', 'unsigned', '--json'], { cwd: dir })) as {
      path: string;
    }
  ).path;
  await fails(
    ['--prefix', prefix, 'install', unsigned, '--reinstall', '-y'],
    'E_PACKAGE_UNSIGNED',
    /carries no signature/,
    {
      cwd: dir,
    },
  );
  await run('install', strange, '--reinstall', '--allow-unsigned', '-y');

  // A damaged file is refused and nothing changes; a missing one is E_IO.
  const damaged = join(dir, 'damaged.kpkg');
  const bytes = await readFile(join(dir, file!));
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 0xff, bytes.length - 100);
  await writeFile(damaged, bytes);
  const before = await run('list', '--json');
  const broken = await kiln(['--prefix', prefix, 'install', damaged, '--reinstall', '-y'], { cwd: dir });
  assert.equal(broken.code, 1, broken.stderr);
  assert.match(broken.stderr, /error\[E_(PACKAGE_HASH|PACKAGE_FORMAT|PACKAGE_TRUNCATED|SIGNATURE_INVALID)\]/);
  assert.equal(await run('list', '--json'), before);
  await fails(['--prefix', prefix, 'install', './missing.kpkg', '-y'], 'E_IO', /no such file/, { cwd: dir });
});
