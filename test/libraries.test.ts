/**
 * The libraries a package needs, end to end with programs and shared
 * libraries compiled by the real gcc: `kiln pack` records what the ELF files
 * need and provide and their glibc floor (as readelf shows them), and an
 * install or removal after which a program would not find a library it needs
 * — "cannot open shared object file" — is refused before anything is written,
 * naming the file, the library and the package that provides it.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, lstatSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { PackageMetadata } from '../src/format/index.js';
import { compareVersions } from '../src/version/index.js';
import { fails, ok, packAll, publish } from './helpers/client.js';
import type { PackageSpec } from './helpers/client.js';
import { tempDir, parseJson } from './helpers/kiln.js';

const work = mkdtempSync(join(tmpdir(), 'kiln-libraries-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Compile C `source` with gcc; `args` come after the source file. */
function compile(name: string, source: string, args: readonly string[]): Buffer {
  const file = join(work, `${name}.c`);
  writeFileSync(file, source);
  execFileSync('gcc', ['-O1', '-o', join(work, name), file, ...args]);
  return readFileSync(join(work, name));
}

// libfoo.so.1 and a program that needs it (found through its run path $ORIGIN/../lib, as kiln build makes them);
// getrandom needs GLIBC_2.25, so the program's glibc floor is above the pack input's 2.17.
const libfoo = compile('libfoo.so.1', '#include <stdio.h>\nint foo(void) { puts("foo here"); return 42; }\n', [
  '-shared',
  '-fPIC',
  '-Wl,-soname,libfoo.so.1',
]);
// libbar.so.1 is linked against but packed by no package.
compile('libbar.so.1', 'int bar(void) { return 7; }\n', ['-shared', '-fPIC', '-Wl,-soname,libbar.so.1']);
const app = compile(
  'app',
  '#include <stdio.h>\n#include <sys/random.h>\nint foo(void);\nint main(void) { char b[2]; if (getrandom(b, 2, 0) < 0) return 1; printf("app %d\\n", foo()); return 0; }\n',
  [`-L${work}`, '-l:libfoo.so.1', '-Wl,-rpath,$ORIGIN/../lib'],
);
const appbar = compile(
  'appbar',
  '#include <stdio.h>\nint bar(void);\nint main(void) { printf("appbar %d\\n", bar()); return 0; }\n',
  [`-L${work}`, '-l:libbar.so.1', '-Wl,-rpath,$ORIGIN/../lib'],
);
const hello = compile('hello', '#include <stdio.h>\nint main(void) { puts("hello from libc"); return 0; }\n', []);

const exe = (content: Buffer): { content: Buffer; mode: number } => ({ content, mode: 0o755 });
const PACKAGES: PackageSpec[] = [
  { name: 'libfoo', version: '1.0', tree: { 'lib/libfoo.so.1': exe(libfoo) } },
  // No declared dependency on libfoo: packed by hand, the way that slips through.
  { name: 'app', version: '1.0', tree: { 'bin/app': exe(app), 'share/app/README': 'app\n' } },
  { name: 'appbar', version: '1.0', tree: { 'bin/appbar': exe(appbar) } },
  // Says libbar.so.1 may come from the host, which has none.
  {
    name: 'hostbar',
    version: '1.0',
    tree: { 'bin/hostbar': exe(appbar) },
    extra: { needs: { system: ['libbar.so.1'] } },
  },
  { name: 'hello', version: '1.0', tree: { 'bin/hello': exe(hello) } },
];

/** A repository of PACKAGES and a prefix synced with it. */
async function setUp(dir: string): Promise<{ prefix: string; env: Record<string, string>; packages: string[] }> {
  const packages = await packAll(dir, PACKAGES);
  await publish(dir, packages);
  const prefix = join(dir, 'prefix');
  const env = { KILN_PREFIX: prefix };
  await ok(['init'], { cwd: dir, env });
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], {
    cwd: dir,
    env,
  });
  await ok(['sync'], { cwd: dir, env });
  return { prefix, env, packages };
}

/**
 * Every path of the prefix with its size. Left out: the download cache (a refused install keeps what it
 * fetched), the writer lock's note and the database's files (SQLite may tidy its log); the database is
 * compared through `kiln list` and `kiln history`.
 */
function snapshot(prefix: string, under = ''): string[] {
  const rows: string[] = [];
  for (const name of readdirSync(join(prefix, under)).sort()) {
    const path = under === '' ? name : `${under}/${name}`;
    if (
      path === 'var/cache/kiln/packages' ||
      path === 'var/cache/kiln/shards' ||
      path === 'var/lib/kiln/writer.holder' ||
      path.startsWith('var/lib/kiln/kiln.db')
    )
      continue;
    const stats = lstatSync(join(prefix, path));
    rows.push(`${path} ${stats.isDirectory() ? 'dir' : stats.size}`);
    if (stats.isDirectory()) rows.push(...snapshot(prefix, path));
  }
  return rows;
}

/** The needed libraries and soname of an ELF file, and its newest GLIBC_ version, as binutils' readelf reads them. */
function readelf(path: string): { needed: string[]; soname: string | undefined; glibc: string } {
  const dynamic = execFileSync('readelf', ['-d', path], { encoding: 'utf8' });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!).sort();
  const soname = /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(dynamic)?.[1];
  const versions = [
    ...execFileSync('readelf', ['-V', path], { encoding: 'utf8' }).matchAll(/Name: GLIBC_([0-9.]+)/g),
  ].map((m) => m[1]!);
  const glibc = versions.reduce((newest, version) => (compareVersions(version, newest) > 0 ? version : newest), '0');
  return { needed, soname, glibc };
}

async function inspect(dir: string, path: string): Promise<PackageMetadata> {
  return (parseJson(await ok(['inspect', path, '--json'], { cwd: dir })) as { metadata: PackageMetadata }).metadata;
}

test('kiln pack records what the ELF files need and provide and their glibc floor, as readelf reads them', async (t) => {
  const dir = await tempDir(t);
  const [libfooPath, appPath, , hostbarPath, helloPath] = await packAll(dir, PACKAGES);
  const appElf = readelf(join(work, 'app'));
  assert.deepEqual(appElf.needed, ['libc.so.6', 'libfoo.so.1']);
  const appMeta = await inspect(dir, appPath!);
  assert.deepEqual(appMeta.needs, {
    sonames: appElf.needed,
    system: ['libc.so.6'],
    files: { 'libc.so.6': ['bin/app'], 'libfoo.so.1': ['bin/app'] },
  });
  assert.deepEqual(appMeta.provides, { sonames: [] });
  assert.equal(
    appMeta.target.libcVersion,
    appElf.glibc,
    'the newest GLIBC_ version the program needs, not the 2.17 the pack input states',
  );
  assert.ok(compareVersions(appElf.glibc, '2.25') >= 0, appElf.glibc);

  const fooElf = readelf(join(work, 'libfoo.so.1'));
  const fooMeta = await inspect(dir, libfooPath!);
  assert.deepEqual(fooMeta.provides, { sonames: [fooElf.soname!] });
  assert.deepEqual(fooMeta.needs, {
    sonames: fooElf.needed,
    system: fooElf.needed,
    files: Object.fromEntries(fooElf.needed.map((soname) => [soname, ['lib/libfoo.so.1']])),
  });
  // The floor never goes below what the pack input states.
  assert.equal(fooMeta.target.libcVersion, compareVersions(fooElf.glibc, '2.17') > 0 ? fooElf.glibc : '2.17');

  // A pack input may allow more host libraries; what the files need of them is recorded.
  const hostbarMeta = await inspect(dir, hostbarPath!);
  assert.deepEqual(hostbarMeta.needs.system, ['libbar.so.1', 'libc.so.6']);
  assert.deepEqual((await inspect(dir, helloPath!)).needs, {
    sonames: ['libc.so.6'],
    system: ['libc.so.6'],
    files: { 'libc.so.6': ['bin/hello'] },
  });
});

test('an install after which a program would not find a library is refused before anything is written; with the provider it installs and runs', async (t) => {
  const dir = await tempDir(t);
  const { prefix, env } = await setUp(dir);
  const before = snapshot(prefix);
  const history = await ok(['history', '--json'], { cwd: dir, env });

  // The dry run knows it from the index; the real run names the file, once the package is downloaded.
  await fails(
    ['install', 'app', '--dry-run'],
    'E_MISSING_LIBRARY',
    /app-1\.0 needs libfoo\.so\.1: no package of the prefix provides it; libfoo 1\.0 \(remote main\) provides it/,
    { cwd: dir, env },
  );
  const refused = await fails(
    ['install', 'app', '-y'],
    'E_MISSING_LIBRARY',
    /bin\/app of app-1\.0 needs libfoo\.so\.1: no package of the prefix provides it; libfoo 1\.0 \(remote main\) provides it/,
    { cwd: dir, env },
  );
  assert.match(refused.stderr, /nothing was written/);
  assert.match(
    refused.stderr,
    /hint: install what provides the library along with what needs it \("kiln install app libfoo"\)/,
  );
  await fails(
    ['install', 'appbar', '-y'],
    'E_MISSING_LIBRARY',
    /bin\/appbar of appbar-1\.0 needs libbar\.so\.1: no package of the prefix provides it; no package of the synced remotes provides it/,
    { cwd: dir, env },
  );
  const host = await fails(
    ['install', 'hostbar', '-y'],
    'E_MISSING_LIBRARY',
    /bin\/hostbar of hostbar-1\.0 needs libbar\.so\.1: no package of the prefix provides it, and the host's library directories do not have it/,
    { cwd: dir, env },
  );
  assert.match(host.stderr, /ldconfig -p/);
  assert.deepEqual(snapshot(prefix), before, 'nothing in the prefix changed');
  assert.deepEqual(parseJson(await ok(['list', '--installed', '--json'], { cwd: dir, env })), []);
  assert.equal(await ok(['history', '--json'], { cwd: dir, env }), history);

  // With the provider in the plan, the program installs and starts (its run path leads to lib/, no LD_LIBRARY_PATH).
  await ok(['install', 'app', 'libfoo', '-y'], { cwd: dir, env });
  assert.equal(execFileSync(join(prefix, 'bin/app'), { encoding: 'utf8', env: {} }), 'foo here\napp 42\n');
  // A program that needs only the C library takes it from the host.
  await ok(['install', 'hello', '-y'], { cwd: dir, env });
  assert.equal(execFileSync(join(prefix, 'bin/hello'), { encoding: 'utf8', env: {} }), 'hello from libc\n');
});

test('removing the only provider of a library an installed program needs is refused; removing both goes ahead', async (t) => {
  const dir = await tempDir(t);
  const { prefix, env } = await setUp(dir);
  await ok(['install', 'app', 'libfoo', '-y'], { cwd: dir, env });
  const before = snapshot(prefix);
  const history = await ok(['history', '--json'], { cwd: dir, env });
  // app declares no dependency on libfoo, so the solver lets libfoo go; the library check does not.
  const pattern =
    /bin\/app of app-1\.0 \(installed\) needs libfoo\.so\.1: libfoo-1\.0 provided it, and this change takes it away/;
  await fails(['remove', 'libfoo', '--dry-run'], 'E_MISSING_LIBRARY', pattern, { cwd: dir, env });
  const refused = await fails(['remove', 'libfoo', '-y'], 'E_MISSING_LIBRARY', pattern, { cwd: dir, env });
  assert.match(refused.stderr, /hint: keep libfoo-1\.0, or remove what needs it too/);
  assert.deepEqual(snapshot(prefix), before, 'nothing in the prefix changed');
  assert.equal(await ok(['history', '--json'], { cwd: dir, env }), history);
  assert.equal(execFileSync(join(prefix, 'bin/app'), { encoding: 'utf8', env: {} }), 'foo here\napp 42\n');

  await ok(['remove', 'libfoo', 'app', '-y'], { cwd: dir, env });
  assert.deepEqual(parseJson(await ok(['list', '--installed', '--json'], { cwd: dir, env })), []);
});
