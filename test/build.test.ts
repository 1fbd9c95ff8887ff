/**
 * Building from source, end to end with the real upstream tarballs (from the
 * distfiles directory that scripts/distfiles.sh fills; `npm test` fills it):
 * zlib, pcre2 and nginx +uwsgi are built into a signed repository, then an
 * unprivileged user installs nginx into two prefixes of different lengths
 * (one with a space), starts each on its own loopback port and fetches a page
 * — without LD_LIBRARY_PATH. Also: a prefix too long for the placeholder is
 * refused with nothing written, a build that links a host library fails
 * naming both, and a failing build script shows its log. nginx is also
 * bundled (kiln bundle) and served from a bare host with no Kiln and no node,
 * before and after its directory moves.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { PLACEHOLDER_LENGTH } from '../src/build/index.js';
import { openPackage } from '../src/format/index.js';
import { isKilnError } from '../src/errors/index.js';
import { initPrefix, openPrefix } from '../src/install/index.js';
import { satisfies } from '../src/version/index.js';
import { fails, ok } from './helpers/client.js';
import type { TestUser } from './helpers/client.js';
import { failsAs, handTo, okAs, testUser } from './helpers/client.js';
import { run, tempDir, parseJson } from './helpers/kiln.js';
import { holdLock } from './helpers/lockHolder.js';
import type { BareHost } from './helpers/bareHost.js';
import { bareHost } from './helpers/bareHost.js';
import { newRepository, sourceTarball, writeRecipe } from './helpers/ports.js';

const PROJECT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const RECIPES = join(PROJECT, 'recipes');
const DISTFILES = process.env['KILN_TEST_DISTFILES'] ?? join(PROJECT, '.cache', 'distfiles');
/** The fill text of every placeholder prefix (buildEnvironment.ts). */
const PLACEHOLDER_MARK = '_kiln_placeholder';

test('build zlib, pcre2 and nginx +uwsgi; an unprivileged user installs nginx into two prefixes and it serves pages', async (t) => {
  for (const file of ['zlib-1.2.13.dfsg.tar.bz2', 'pcre2-10.42.tar.gz', 'nginx-1.22.1.tar.gz']) {
    assert.ok(
      existsSync(join(DISTFILES, file)),
      `${join(DISTFILES, file)} is missing: run "bash scripts/distfiles.sh" (npm test does)`,
    );
  }
  const dir = await tempDir(t);
  const user = testUser();
  await handTo(user, dir);
  await newRepository(dir, 'ports');

  const lint = await run(process.execPath, [join(PROJECT, 'dist/src/cli/kiln.cjs'), 'lint', '--recipes', RECIPES]);
  assert.equal(lint.code, 0, `kiln lint of the shipped ports tree\n${lint.stdout}${lint.stderr}`);

  const build = await run(
    process.execPath,
    [
      join(PROJECT, 'dist/src/cli/kiln.cjs'),
      'build',
      'www-servers/nginx',
      '--with',
      'uwsgi',
      '--repo',
      'repo',
      '--recipes',
      RECIPES,
      '--distfiles',
      DISTFILES,
      '--work',
      join(dir, 'work'),
      '--json',
    ],
    { cwd: dir },
  );
  assert.equal(build.code, 0, `kiln build nginx\n${build.stdout}${build.stderr}`);
  const results = parseJson(build.stdout) as {
    name: string;
    package: string;
    log: string;
    options: Record<string, boolean>;
    sandbox: string;
  }[];
  assert.deepEqual(
    results.map((result) => result.sandbox),
    ['bubblewrap', 'bubblewrap', 'bubblewrap'],
    'real upstream builds run in the sandbox, seeing only the toolchain and their build dependencies',
  );
  assert.deepEqual(results.map((result) => result.name).sort(), ['nginx', 'pcre2', 'zlib']);
  assert.equal(results.at(-1)!.name, 'nginx', 'the requested package is built after its build dependencies');
  assert.equal(results.at(-1)!.options['uwsgi'], true);
  for (const result of results) assert.ok(statSync(result.log).size > 0, `the log ${result.log} is kept`);

  const nginx = await openPackage(join(dir, results.at(-1)!.package));
  const meta = nginx.metadata;
  assert.deepEqual(
    meta.depends.map((dep) => dep.name),
    ['pcre2', 'zlib'],
    'the libraries nginx links become dependencies',
  );
  assert.deepEqual(
    meta.depends.map((dep) => dep.range),
    ['>=10.42', '>=1.2.13'],
    'at the version built against',
  );
  assert.ok(
    meta.needs.sonames.includes('libpcre2-8.so.0') && meta.needs.sonames.includes('libz.so.1'),
    meta.needs.sonames.join(' '),
  );
  assert.match(meta.target.libcVersion, /^2\.\d+$/, 'the newest glibc symbol version needed is recorded');
  const nginxRow = meta.relocation?.files.find((row) => row.path === 'bin/nginx');
  assert.equal(nginxRow?.kind, 'binary', 'nginx has its compiled-in paths in the relocation table');
  assert.equal(Buffer.byteLength(meta.relocation!.placeholder), PLACEHOLDER_LENGTH);

  await handTo(user, join(dir, 'home'));
  const repoKey = join(dir, 'repo', 'public', 'keys', readdirSync(join(dir, 'repo', 'public', 'keys'))[0]!);
  const prefixes = [join(dir, 'home', 'a'), join(dir, 'home', 'a much longer prefix with spaces', 'for nginx')];
  for (const [i, prefix] of prefixes.entries()) {
    await t.test(`installs and serves from ${prefix}`, async () => {
      const as = (args: string[]): Promise<string> => okAs(user, ['--prefix', prefix, ...args], { cwd: dir });
      await as(['init']);
      await as(['remote', 'add', 'ports', join(dir, 'repo', 'public'), '--key', repoKey]);
      await as(['sync']);
      await as(['install', 'nginx[+uwsgi]', '-y']);
      const dynamic = execFileSync('readelf', ['-d', join(prefix, 'bin', 'nginx')], { encoding: 'utf8' });
      assert.match(dynamic, /\(RPATH\)\s+Library rpath: \[\$ORIGIN\/\.\.\/lib\]/, dynamic);
      assert.deepEqual(filesHolding(prefix, PLACEHOLDER_MARK), [], 'no installed file holds the placeholder');
      await serveAndFetch(user, prefix, 18_000 + i);
    });
  }

  await t.test(
    'nginx bundled from the prefix with blanks serves on a bare host, from a path with blanks, before and after a move',
    async () => {
      const from = prefixes[1]!;
      const tarball = join(dir, 'home', 'nginx-bundle.tar.gz');
      await okAs(user, ['--prefix', from, 'bundle', 'nginx', '--out', tarball], { cwd: dir });
      const host = bareHost(join(dir, 'bare'), user, { programs: [join(from, 'bin', 'nginx')], prefix: from });
      const home = host.root === undefined ? join(dir, 'home') : `/home/${user!.name}`;
      copyFileSync(tarball, host.outside('/tmp/nginx.tar.gz'));
      chmodSync(host.outside('/tmp/nginx.tar.gz'), 0o644);
      const inside = `${home}/shipped stack/nginx`;
      const unpack = host.sh(
        `mkdir -p '${inside}' && tar -xzf /tmp/nginx.tar.gz -C '${inside}' && '${inside}/bin/kiln-relocate'`,
      );
      assert.equal(unpack.status, 0, unpack.stderr);
      await serveOnBareHost(host, inside, 18_100);
      const moved = `${home}/moved`;
      const move = host.sh(`mv '${inside}' ${moved} && ${moved}/bin/kiln-relocate`);
      assert.equal(move.status, 0, move.stdout + move.stderr);
      // The configuration was edited for the port, and --verify says so; every other file is as bundled.
      const verify = host.sh(`${moved}/bin/kiln-relocate --verify`);
      assert.equal(verify.stdout, `changed: etc/nginx/nginx.conf\nkiln-relocate: 1 problem(s) in ${moved}\n`);
      await serveOnBareHost(host, moved, 18_101);
    },
  );

  await t.test('a prefix longer than the placeholder is refused and nothing is written', async () => {
    const long = join(dir, 'home', 'l'.repeat(PLACEHOLDER_LENGTH - join(dir, 'home').length + 8));
    assert.ok(Buffer.byteLength(long) > PLACEHOLDER_LENGTH);
    const as = (args: string[]): Promise<string> => okAs(user, ['--prefix', long, ...args], { cwd: dir });
    await as(['init']);
    await as(['remote', 'add', 'ports', join(dir, 'repo', 'public'), '--key', repoKey]);
    await as(['sync']);
    // The index shards the plan fetches (format v2) are metadata, not downloads.
    const tree = () => listTree(long, []).filter((path) => !path.startsWith('var/cache/kiln/shards'));
    const before = tree();
    await failsAs(
      user,
      ['--prefix', long, 'install', 'nginx[+uwsgi]', '-y'],
      'E_RELOCATE',
      new RegExp(
        `cannot install nginx into .*: the prefix is ${Buffer.byteLength(long)} bytes long, but nginx has paths compiled into its binary files with room for ${PLACEHOLDER_LENGTH} bytes`,
      ),
      { cwd: dir },
    );
    assert.deepEqual(tree(), before, 'the prefix is as it was: not even a download in the cache');
    await failsAs(
      user,
      ['--prefix', long, 'install', 'nginx[+uwsgi]', '--dry-run'],
      'E_RELOCATE',
      /the prefix is \d+ bytes long/,
      { cwd: dir },
    );
    assert.deepEqual(parseJson(await as(['list', '--installed', '--json'])), []);
  });
});

test('a build that links a host library no dependency provides fails naming the file and the library; a failing script shows its log', async (t) => {
  const dir = await tempDir(t);
  await newRepository(dir, 'bad');
  const distfiles = join(dir, 'distfiles');
  const sha = await sourceTarball(distfiles, {
    'main.c':
      '#include <stdio.h>\nextern const char *zlibVersion(void);\nint main(void) { puts(zlibVersion()); return 0; }\n',
  });
  const recipe = (name: string, script: string): Promise<void> =>
    writeRecipe(join(dir, 'ports', 'test', name), name, sha, script);
  // libz.so.1 is on every Debian host, and no dependency of this recipe provides it.
  await recipe(
    'hostlib',
    'mkdir -p "$DESTDIR$KILN_PREFIX/bin"\ngcc $CFLAGS $LDFLAGS -o "$DESTDIR$KILN_PREFIX/bin/prog" main.c -l:libz.so.1\n',
  );
  await recipe('broken', 'echo "compiling the thing"\necho "boom: the marker line" >&2\nexit 3\n');
  await recipe('outside', 'mkdir -p "$DESTDIR/etc"\necho x > "$DESTDIR/etc/escaped"\n');
  // Patches are applied in order with patch -p1 before the script runs; one that does not apply fails the build.
  await recipe(
    'patched',
    'grep -q "patched by the recipe" main.c\nmkdir -p "$DESTDIR$KILN_PREFIX/share"\ncp main.c "$DESTDIR$KILN_PREFIX/share/"\n',
  );
  const patchedDir = join(dir, 'ports', 'test', 'patched');
  await mkdir(join(patchedDir, 'patches'), { recursive: true });
  await writeFile(
    join(patchedDir, 'patches', 'greeting.patch'),
    '--- a/main.c\n+++ b/main.c\n@@ -1,3 +1,4 @@\n #include <stdio.h>\n+/* patched by the recipe */\n extern const char *zlibVersion(void);\n int main(void) { puts(zlibVersion()); return 0; }\n',
  );
  await writeFile(
    join(patchedDir, 'recipe.toml'),
    (await readFile(join(patchedDir, 'recipe.toml'), 'utf8')).replace(
      'license = "MIT"\n',
      'license = "MIT"\npatches = ["patches/greeting.patch"]\n',
    ),
  );
  await recipe('badpatch', 'true\n');
  await mkdir(join(dir, 'ports', 'test', 'badpatch', 'patches'), { recursive: true });
  await writeFile(
    join(dir, 'ports', 'test', 'badpatch', 'patches', 'wrong.patch'),
    '--- a/main.c\n+++ b/main.c\n@@ -1,1 +1,1 @@\n-#include <nothing-like-this.h>\n+#include <stdlib.h>\n',
  );
  await writeFile(
    join(dir, 'ports', 'test', 'badpatch', 'recipe.toml'),
    (await readFile(join(dir, 'ports', 'test', 'badpatch', 'recipe.toml'), 'utf8')).replace(
      'license = "MIT"\n',
      'license = "MIT"\npatches = ["patches/wrong.patch"]\n',
    ),
  );
  const common = [
    '--repo',
    'repo',
    '--recipes',
    join(dir, 'ports'),
    '--distfiles',
    distfiles,
    '--work',
    join(dir, 'work'),
  ];

  await fails(
    ['build', 'test/patched', ...common.slice(2), '--repo', 'no-such-repo'],
    'E_REPO_NOT_FOUND',
    /no-such-repo/,
    { cwd: dir },
  );
  assert.equal(existsSync(join(dir, 'work')), false, 'a missing repository is found before any work is done');
  // A work tree whose builder died (nobody holds its lock any more) is removed by the next build; one whose builder runs is not.
  await mkdir(join(dir, 'work', 'ghost-1.0-deadbeef', 'src'), { recursive: true });
  await (await holdLock(t, join(dir, 'work', 'ghost-1.0-deadbeef', 'kiln-build.lock'))).kill();
  await mkdir(join(dir, 'work', 'p-deadbeef-_kiln_placeholder', 'lib'), { recursive: true });
  await mkdir(join(dir, 'work', 'alive-1.0-0badcafe', 'src'), { recursive: true });
  const alive = await holdLock(t, join(dir, 'work', 'alive-1.0-0badcafe', 'kiln-build.lock'));
  await mkdir(join(dir, 'work', 'p-0badcafe-_kiln_placeholder', 'lib'), { recursive: true });
  const patchedRun = await run(
    process.execPath,
    [join(PROJECT, 'dist/src/cli/kiln.cjs'), 'build', 'test/patched', ...common, '--json'],
    { cwd: dir },
  );
  assert.equal(patchedRun.code, 0, patchedRun.stderr);
  assert.match(patchedRun.stderr, /removed 1 work tree\(s\) of interrupted builds/);
  assert.equal(existsSync(join(dir, 'work', 'ghost-1.0-deadbeef')), false);
  assert.equal(existsSync(join(dir, 'work', 'p-deadbeef-_kiln_placeholder')), false);
  assert.ok(
    existsSync(join(dir, 'work', 'alive-1.0-0badcafe', 'src')) &&
      existsSync(join(dir, 'work', 'p-0badcafe-_kiln_placeholder')),
    "a running build's tree stays",
  );
  await alive.kill();
  const patched = parseJson(patchedRun.stdout) as { package: string }[];
  const patchedPkg = await openPackage(join(dir, patched[0]!.package));
  assert.ok(patchedPkg.metadata.files.some((entry) => entry.path === 'share/main.c'));
  await fails(
    ['build', 'test/badpatch', ...common],
    'E_BUILD',
    /cannot build test\/badpatch: patch patches\/wrong\.patch exited with status 1/,
    { cwd: dir },
  );

  await fails(
    ['build', 'test/hostlib', ...common],
    'E_HOST_LIBRARY',
    /cannot package test\/hostlib: a built file needs a library .*\n\s+bin\/prog needs libz\.so\.1 \(the host has it in /,
    { cwd: dir },
  );
  const broken = await fails(
    ['build', 'test/broken', ...common],
    'E_BUILD',
    /cannot build test\/broken: the build script exited with status 3; the log is \S+build\.log/,
    { cwd: dir },
  );
  assert.match(broken.stderr, /boom: the marker line/, 'the last lines of the log are shown');
  const logPath = /the log is (\S+build\.log)/.exec(broken.stderr)![1]!;
  assert.match(await readFile(logPath, 'utf8'), /compiling the thing/, 'the log is kept');
  await fails(['build', 'test/outside', ...common], 'E_BUILD', /the build installed outside the prefix: \/etc/, {
    cwd: dir,
  });
  assert.ok(
    readdirSync(join(dir, 'work')).some((entry) => entry.startsWith('broken-1.0-')),
    "a failed build's tree is kept by later builds",
  );
  const status = await ok(['repo', 'status', 'repo', '--json'], { cwd: dir });
  assert.equal(
    (parseJson(status) as { published: { packages: number } | null }).published?.packages ?? 0,
    1,
    'only the patched package was published',
  );
});

test('kiln bulk builds in dependency order, keeps going past a failure, skips an unaccepted license and reports what each blocks', async (t) => {
  const dir = await tempDir(t);
  await newRepository(dir, 'bulk');
  const distfiles = join(dir, 'distfiles');
  const sha = await sourceTarball(distfiles, { README: 'nothing to compile\n' });
  const install =
    'mkdir -p "$DESTDIR$KILN_PREFIX/share/$KILN_NAME"\ncp README "$DESTDIR$KILN_PREFIX/share/$KILN_NAME/"\n';
  const ports = join(dir, 'ports', 'test');
  await writeRecipe(join(ports, 'base'), 'base', sha, install);
  await writeRecipe(join(ports, 'app'), 'app', sha, install, { buildDepends: ['base'] });
  await writeRecipe(join(ports, 'bad'), 'bad', sha, 'echo "this build breaks" >&2\nexit 1\n');
  await writeRecipe(join(ports, 'needsbad'), 'needsbad', sha, install, { buildDepends: ['bad'] });
  await writeRecipe(join(ports, 'closed'), 'closed', sha, install, { license: 'LicenseRef-proprietary' });
  await writeRecipe(join(ports, 'needsclosed'), 'needsclosed', sha, install, { buildDepends: ['closed'] });
  const args = [
    'bulk',
    'app',
    'needsbad',
    'needsclosed',
    '--repo',
    'repo',
    '--recipes',
    join(dir, 'ports'),
    '--distfiles',
    distfiles,
    '--work',
    join(dir, 'work'),
    '--accept-licenses',
    'MIT',
    '--json',
  ];
  const first = await run(process.execPath, [join(PROJECT, 'dist/src/cli/kiln.cjs'), ...args], { cwd: dir });
  assert.equal(first.code, 1, `a bulk run with a failure exits 1\n${first.stdout}${first.stderr}`);
  const report = parseJson(first.stdout) as {
    entries: { recipe: string; status: string; reason?: string; log?: string }[];
    files: { json: string; text: string };
  };
  const status = Object.fromEntries(report.entries.map((entry) => [entry.recipe, entry.status]));
  assert.deepEqual(
    report.entries.map((entry) => entry.recipe),
    ['test/base', 'test/app', 'test/bad', 'test/needsbad', 'test/closed', 'test/needsclosed'],
    'providers first, in request order',
  );
  assert.deepEqual(status, {
    'test/base': 'built',
    'test/app': 'built',
    'test/bad': 'failed',
    'test/needsbad': 'blocked',
    'test/closed': 'skipped-license',
    'test/needsclosed': 'blocked',
  });
  const byRecipe = new Map(report.entries.map((entry) => [entry.recipe, entry]));
  assert.match(byRecipe.get('test/needsbad')!.reason!, /build dependency test\/bad was not built: it failed to build/);
  assert.match(
    byRecipe.get('test/needsclosed')!.reason!,
    /build dependency test\/closed was not built: its license is not accepted/,
  );
  assert.match(await readFile(byRecipe.get('test/bad')!.log!, 'utf8'), /this build breaks/);
  assert.match(await readFile(report.files.text, 'utf8'), /test\/needsbad\s+1\.0\s+blocked/);
  assert.deepEqual((JSON.parse(await readFile(report.files.json, 'utf8')) as { entries: unknown[] }).entries.length, 6);

  const again = await run(
    process.execPath,
    [
      join(PROJECT, 'dist/src/cli/kiln.cjs'),
      'bulk',
      'app',
      '--repo',
      'repo',
      '--recipes',
      join(dir, 'ports'),
      '--distfiles',
      distfiles,
      '--work',
      join(dir, 'work'),
      '--json',
    ],
    { cwd: dir },
  );
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(
    (parseJson(again.stdout) as { entries: { status: string }[] }).entries.map((entry) => entry.status),
    ['up-to-date', 'up-to-date'],
    'published variants are not built again',
  );
});

test('variants of one version live side by side; the CPU level reaches the compiler; the glibc floor is enforced by the client', async (t) => {
  const dir = await tempDir(t);
  await newRepository(dir, 'variants');
  const distfiles = join(dir, 'distfiles');
  // getrandom() needs GLIBC_2.25; any program built on this host needs at least that.
  const sha = await sourceTarball(distfiles, {
    'main.c':
      '#include <stdio.h>\n#include <sys/random.h>\nint main(void) { char b[4]; printf("%ld\\n", (long)getrandom(b, 4, 0)); return 0; }\n',
  });
  const recipeDir = join(dir, 'ports', 'test', 'prog');
  await writeRecipe(
    recipeDir,
    'prog',
    sha,
    'mkdir -p "$DESTDIR$KILN_PREFIX/bin" "$DESTDIR$KILN_PREFIX/share/prog"\ngcc $CFLAGS $LDFLAGS -o "$DESTDIR$KILN_PREFIX/bin/prog" main.c\necho "$CFLAGS fast=$KILN_OPTION_FAST" > "$DESTDIR$KILN_PREFIX/share/prog/flags"\n',
  );
  await writeFile(
    join(recipeDir, 'recipe.toml'),
    `${await readFile(join(recipeDir, 'recipe.toml'), 'utf8')}\n[options]\nfast = { default = false, description = "a build option" }\n`,
  );
  const common = [
    '--repo',
    'repo',
    '--recipes',
    join(dir, 'ports'),
    '--distfiles',
    distfiles,
    '--work',
    join(dir, 'work'),
    '--json',
  ];
  const built: {
    variant: string;
    cpu: string;
    libcVersion: string;
    options: Record<string, boolean>;
    package: string;
  }[] = [];
  for (const extra of [[], ['--with', 'fast'], ['--cpu', 'x86-64-v2']]) {
    built.push(...(parseJson(await ok(['build', 'test/prog', ...extra, ...common], { cwd: dir })) as typeof built));
  }
  assert.equal(new Set(built.map((result) => result.variant)).size, 3, 'three variant ids');
  assert.deepEqual(
    built.map((result) => [result.options['fast'], result.cpu]),
    [
      [false, 'x86-64'],
      [true, 'x86-64'],
      [false, 'x86-64-v2'],
    ],
  );
  const index = parseJson(await readFile(join(dir, 'repo', 'public', 'index.json'), 'utf8')) as {
    packages: { name: string; variant: string }[];
  };
  assert.deepEqual(
    index.packages
      .filter((entry) => entry.name === 'prog')
      .map((entry) => entry.variant)
      .sort(),
    built.map((result) => result.variant).sort(),
    'all three are published side by side',
  );
  const v2 = await openPackage(join(dir, built[2]!.package));
  const flags = v2.metadata.files.find((entry) => entry.path === 'share/prog/flags');
  assert.ok(flags !== undefined);
  const floor = built[0]!.libcVersion;
  assert.ok(satisfies(floor, '>=2.25'), `the glibc floor ${floor} covers getrandom (GLIBC_2.25)`);

  // The client: a host with an older glibc gets an explanation instead of a binary it cannot run.
  const prefix = join(dir, 'old-host');
  await initPrefix(prefix, { mode: 'user' });
  const keyFile = join(dir, 'repo', 'public', 'keys', readdirSync(join(dir, 'repo', 'public', 'keys'))[0]!);
  const oldHost = await openPrefix(prefix, {
    host: {
      arch: process.arch === 'x64' ? 'x86_64' : process.arch,
      libc: 'glibc',
      libcVersion: '2.17',
      cpuLevels: ['x86-64'],
    },
  });
  try {
    await oldHost.addRemote('variants', join(dir, 'repo', 'public'), [await readFile(keyFile, 'utf8')]);
    await oldHost.sync();
    await assert.rejects(
      oldHost.install([{ name: 'prog', range: '' }]),
      (error: unknown) =>
        isKilnError(error, 'E_NO_CANDIDATE') &&
        new RegExp(
          `prog [^ ]+ \\(x86-64\\) from variants needs glibc ${floor.replace('.', '\\.')}, and this host has 2\\.17`,
        ).test(error.message),
    );
  } finally {
    oldHost.close();
  }
  const thisHost = await openPrefix(prefix, {
    host: {
      arch: process.arch === 'x64' ? 'x86_64' : process.arch,
      libc: 'glibc',
      libcVersion: floor,
      cpuLevels: ['x86-64'],
    },
  });
  try {
    await thisHost.install([{ name: 'prog', range: '' }]);
  } finally {
    thisHost.close();
  }
  // Which option set a client prefers is the resolver's business (respect-options); the CPU level is not.
  assert.match(
    await readFile(join(prefix, 'share', 'prog', 'flags'), 'utf8'),
    /-march=x86-64 /,
    'a host without x86-64-v2 gets a baseline build',
  );
});

/** Every file under `root` (Kiln's own state and cache aside) whose content holds `mark`. */
function filesHolding(root: string, mark: string): string[] {
  return listTree(root, ['var/lib/kiln', 'var/cache/kiln']).filter((path) => {
    const absolute = join(root, path);
    return statSync(absolute).isFile() && readFileSync(absolute).includes(mark);
  });
}

function listTree(root: string, skip: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(join(root, relative), { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (skip.includes(path)) continue;
      out.push(path);
      if (entry.isDirectory()) walk(path);
    }
  };
  if (existsSync(root)) walk('');
  return out.sort();
}

/** Point nginx at a free loopback port, start it as `user` (no LD_LIBRARY_PATH), fetch the welcome page, stop it. */
async function serveAndFetch(user: TestUser | undefined, prefix: string, fallbackPort: number): Promise<void> {
  const port = await freePort().catch(() => fallbackPort);
  const conf = join(prefix, 'etc', 'nginx', 'nginx.conf');
  let text = await readFile(conf, 'utf8');
  text = text.replace(/listen\s+80;/, `listen 127.0.0.1:${port};`);
  // Accepted only when nginx was built with the uwsgi module (+uwsgi).
  text = text.replace(
    /location \/ \{/,
    'location /app { include uwsgi_params; uwsgi_pass 127.0.0.1:9; }\n        location / {',
  );
  await writeFile(conf, text);
  const asUser = (args: string[]): ReturnType<typeof spawnSync> => {
    const command =
      user === undefined
        ? args
        : ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', ...args];
    return spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  };
  const nginx = join(prefix, 'bin', 'nginx');
  const check = asUser([nginx, '-t']);
  assert.equal(check.status, 0, `nginx -t\n${String(check.stderr)}`);
  const start = asUser([nginx]);
  assert.equal(start.status, 0, `nginx start\n${String(start.stderr)}`);
  try {
    const body = await fetchText(`http://127.0.0.1:${port}/`);
    assert.match(body, /Welcome to nginx!/);
  } finally {
    const stop = asUser([nginx, '-s', 'stop']);
    assert.equal(
      stop.status,
      0,
      `nginx -s stop (finds its pid file through the relocated path)\n${String(stop.stderr)}`,
    );
  }
}

/** Point the bundle's nginx at a free loopback port, start it on the bare host, fetch the welcome page, stop it. */
async function serveOnBareHost(host: BareHost, inside: string, fallbackPort: number): Promise<void> {
  const port = await freePort().catch(() => fallbackPort);
  const conf = host.outside(`${inside}/etc/nginx/nginx.conf`);
  // The installed configuration was edited (serveAndFetch): the bundle carries it as it was.
  await writeFile(conf, (await readFile(conf, 'utf8')).replace(/listen\s+[^;]+;/, `listen 127.0.0.1:${port};`));
  const nginx = `'${inside}/bin/nginx'`;
  const start = host.sh(`${nginx} -t && ${nginx}`);
  assert.equal(start.status, 0, `nginx on the bare host\n${start.stderr}`);
  try {
    assert.match(await fetchText(`http://127.0.0.1:${port}/`), /Welcome to nginx!/);
  } finally {
    const stop = host.sh(`${nginx} -s stop`);
    assert.equal(stop.status, 0, `nginx -s stop\n${stop.stderr}`);
  }
}

async function fetchText(url: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<string>((resolveBody, reject) => {
        get(url, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            response.statusCode === 200
              ? resolveBody(Buffer.concat(chunks).toString('utf8'))
              : reject(new Error(`HTTP ${response.statusCode}`)),
          );
        }).on('error', reject);
      });
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((done) => setTimeout(done, 100));
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}
