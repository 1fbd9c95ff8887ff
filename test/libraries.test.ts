/**
 * The libraries a package needs, end to end with programs and shared
 * libraries compiled by the real gcc: `kiln pack` records what the ELF files
 * need and provide and their glibc floor (as readelf shows them).
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { PackageMetadata } from '../src/format/index.js';
import { compareVersions } from '../src/version/index.js';
import { ok, packAll } from './helpers/client.js';
import type { PackageSpec } from './helpers/client.js';
import { tempDir } from './helpers/kiln.js';

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
const libfoo = compile('libfoo.so.1', '#include <stdio.h>\nint foo(void) { puts("foo here"); return 42; }\n', ['-shared', '-fPIC', '-Wl,-soname,libfoo.so.1']);
// libbar.so.1 is linked against but packed by no package.
compile('libbar.so.1', 'int bar(void) { return 7; }\n', ['-shared', '-fPIC', '-Wl,-soname,libbar.so.1']);
const app = compile('app', '#include <stdio.h>\n#include <sys/random.h>\nint foo(void);\nint main(void) { char b[2]; if (getrandom(b, 2, 0) < 0) return 1; printf("app %d\\n", foo()); return 0; }\n', [`-L${work}`, '-l:libfoo.so.1', '-Wl,-rpath,$ORIGIN/../lib']);
const appbar = compile('appbar', '#include <stdio.h>\nint bar(void);\nint main(void) { printf("appbar %d\\n", bar()); return 0; }\n', [`-L${work}`, '-l:libbar.so.1', '-Wl,-rpath,$ORIGIN/../lib']);
const hello = compile('hello', '#include <stdio.h>\nint main(void) { puts("hello from libc"); return 0; }\n', []);

const exe = (content: Buffer): { content: Buffer; mode: number } => ({ content, mode: 0o755 });
const PACKAGES: PackageSpec[] = [
  { name: 'libfoo', version: '1.0', tree: { 'lib/libfoo.so.1': exe(libfoo) } },
  // No declared dependency on libfoo: packed by hand, the way that slips through.
  { name: 'app', version: '1.0', tree: { 'bin/app': exe(app), 'share/app/README': 'app\n' } },
  { name: 'appbar', version: '1.0', tree: { 'bin/appbar': exe(appbar) } },
  // Says libbar.so.1 may come from the host, which has none.
  { name: 'hostbar', version: '1.0', tree: { 'bin/hostbar': exe(appbar) }, extra: { needs: { system: ['libbar.so.1'] } } },
  { name: 'hello', version: '1.0', tree: { 'bin/hello': exe(hello) } },
];

/** The needed libraries and soname of an ELF file, and its newest GLIBC_ version, as binutils' readelf reads them. */
function readelf(path: string): { needed: string[]; soname: string | undefined; glibc: string } {
  const dynamic = execFileSync('readelf', ['-d', path], { encoding: 'utf8' });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!).sort();
  const soname = /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(dynamic)?.[1];
  const versions = [...execFileSync('readelf', ['-V', path], { encoding: 'utf8' }).matchAll(/Name: GLIBC_([0-9.]+)/g)].map((m) => m[1]!);
  const glibc = versions.reduce((newest, version) => (compareVersions(version, newest) > 0 ? version : newest), '0');
  return { needed, soname, glibc };
}

async function inspect(dir: string, path: string): Promise<PackageMetadata> {
  return (JSON.parse(await ok(['inspect', path, '--json'], { cwd: dir })) as { metadata: PackageMetadata }).metadata;
}

test('kiln pack records what the ELF files need and provide and their glibc floor, as readelf reads them', async (t) => {
  const dir = await tempDir(t);
  const [libfooPath, appPath, , hostbarPath, helloPath] = await packAll(dir, PACKAGES);
  const appElf = readelf(join(work, 'app'));
  assert.deepEqual(appElf.needed, ['libc.so.6', 'libfoo.so.1']);
  const appMeta = await inspect(dir, appPath!);
  assert.deepEqual(appMeta.needs, { sonames: appElf.needed, system: ['libc.so.6'], files: { 'libc.so.6': ['bin/app'], 'libfoo.so.1': ['bin/app'] } });
  assert.deepEqual(appMeta.provides, { sonames: [] });
  assert.equal(appMeta.target.libcVersion, appElf.glibc, 'the newest GLIBC_ version the program needs, not the 2.17 the pack input states');
  assert.ok(compareVersions(appElf.glibc, '2.25') >= 0, appElf.glibc);

  const fooElf = readelf(join(work, 'libfoo.so.1'));
  const fooMeta = await inspect(dir, libfooPath!);
  assert.deepEqual(fooMeta.provides, { sonames: [fooElf.soname!] });
  assert.deepEqual(fooMeta.needs, { sonames: fooElf.needed, system: fooElf.needed, files: Object.fromEntries(fooElf.needed.map((soname) => [soname, ['lib/libfoo.so.1']])) });
  // The floor never goes below what the pack input states.
  assert.equal(fooMeta.target.libcVersion, compareVersions(fooElf.glibc, '2.17') > 0 ? fooElf.glibc : '2.17');

  // A pack input may allow more host libraries; what the files need of them is recorded.
  const hostbarMeta = await inspect(dir, hostbarPath!);
  assert.deepEqual(hostbarMeta.needs.system, ['libbar.so.1', 'libc.so.6']);
  assert.deepEqual((await inspect(dir, helloPath!)).needs, { sonames: ['libc.so.6'], system: ['libc.so.6'], files: { 'libc.so.6': ['bin/hello'] } });
});
