/**
 * The resolver in a prefix, end to end through the CLI: option requests pick
 * the matching binary variant (respect-options), an option no variant has is
 * explained, `kiln autoremove` removes dependencies nothing needs and leaves
 * protected ones, and `[solver]` settings (binary-deny, respect-options) take
 * effect; with a ports tree, what no binary offers is built into the
 * prefix's own repository (the remote `local`) and installed from there.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fails, ok, packAll, publish } from './helpers/client.js';
import type { PackageSpec } from './helpers/client.js';
import { computeVariantId } from '../src/format/index.js';
import { kiln, tempDir, parseJson } from './helpers/kiln.js';

interface Listed {
  name: string;
  version: string;
  variant: string;
  reason: string;
}

/** Make the prefix of `env`, trust dir/repo as the remote main, sync it. */
async function syncWithMain(dir: string, env: Record<string, string>): Promise<void> {
  await ok(['init'], { cwd: dir, env });
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], {
    cwd: dir,
    env,
  });
  await ok(['sync'], { cwd: dir, env });
}

test('kiln install NAME[+OPTION], autoremove, protected and [solver] settings in a prefix', async (t) => {
  const dir = await tempDir(t);
  const packages = await packAll(dir, [
    { name: 'web', version: '1.0', tree: { 'bin/web': 'plain\n' }, extra: { options: { uwsgi: false } } },
    {
      name: 'web',
      version: '1.0',
      depends: ['libuwsgi'],
      tree: { 'bin/web': 'uwsgi\n' },
      extra: { options: { uwsgi: true }, defaults: { uwsgi: false } },
    },
    { name: 'libuwsgi', version: '1.0', tree: { 'lib/libuwsgi.txt': 'u\n' } },
    { name: 'app', version: '1.0', depends: ['libold'], tree: { 'bin/app': 'app\n' } },
    { name: 'libold', version: '1.0', tree: { 'lib/libold.txt': 'old\n' } },
  ]);
  await publish(dir, packages);
  const prefix = join(dir, 'root');
  const env = { KILN_PREFIX: prefix };
  await syncWithMain(dir, env);
  const installed = async (): Promise<Map<string, Listed>> =>
    new Map(
      (parseJson(await ok(['list', '--installed', '--json'], { cwd: dir, env })) as Listed[]).map((p) => [p.name, p]),
    );

  // The request's option picks the variant that has it, and that variant's dependency comes with it, first.
  const plan = await ok(['install', 'web[+uwsgi]', '-y'], { cwd: dir, env });
  assert.match(plan, /install\s+libuwsgi[\s\S]*install\s+web/, plan);
  assert.equal(await readFile(join(prefix, 'bin/web'), 'utf8'), 'uwsgi\n');
  assert.equal((await installed()).get('libuwsgi')?.reason, 'dependency');

  // Asking for the other setting replaces the variant; an option no variant has is explained.
  await ok(['install', 'web[-uwsgi]', '-y'], { cwd: dir, env });
  assert.equal(await readFile(join(prefix, 'bin/web'), 'utf8'), 'plain\n');
  await fails(
    ['install', 'web[+http3]', '-y'],
    'E_NO_CANDIDATE',
    /left out: web 1\.0.*built with [^;]*no option http3[\s\S]*hint: ask for the options the binaries of web have/,
    { cwd: dir, env },
  );

  // autoremove: libuwsgi is no longer needed by the plain variant.
  const dry = await ok(['autoremove', '--dry-run'], { cwd: dir, env });
  assert.match(dry, /remove\s+libuwsgi/);
  assert.equal((await installed()).has('libuwsgi'), true, 'a dry run changes nothing');
  // Protected packages stay.
  const config = join(prefix, 'etc/kiln/config.toml');
  const original = await readFile(config, 'utf8');
  await appendFile(config, '\n[solver]\nprotected = ["libuwsgi"]\n');
  await ok(['autoremove', '-y'], { cwd: dir, env });
  assert.equal((await installed()).has('libuwsgi'), true, 'protected');
  await writeFile(config, original);
  await ok(['autoremove', '-y'], { cwd: dir, env });
  assert.equal((await installed()).has('libuwsgi'), false);
  assert.equal((await installed()).has('web'), true, 'requested packages stay');

  // A dependency installed with its consumer goes once the consumer is removed.
  await ok(['install', 'app', '-y'], { cwd: dir, env });
  await ok(['remove', 'app', '-y'], { cwd: dir, env });
  await ok(['autoremove', '-y'], { cwd: dir, env });
  assert.deepEqual([...(await installed()).keys()].sort(), ['web']);

  // [solver] binary-deny: the explanation names the list.
  await writeFile(config, `${original}\n[solver]\nbinary-deny = ["lib*"]\n`);
  await fails(['install', 'app', '-y'], 'E_NO_CANDIDATE', /binaries of libold are denied \(binary deny list: lib\*\)/, {
    cwd: dir,
    env,
  });
  // A bad setting is a configuration error naming the key.
  await writeFile(config, `${original}\n[solver]\nbinary-deny = ["lib/*"]\n`);
  await fails(['install', 'app', '-y'], 'E_CONFIG', /solver\.binary-deny\[0\]/, { cwd: dir, env });
  // respect-options off: any variant of the right version will do, the matching one first.
  await writeFile(config, `${original}\n[solver]\nrespect-options = false\n`);
  await ok(['install', 'web[+http3]', '-y'], { cwd: dir, env });
  assert.equal((await installed()).get('web')?.version, '1.0');
});

/** DIR/distfiles/hello-1.0.tar.gz holding hello-1.0/hello.c; returns its sha256. */
async function helloTarball(distfiles: string): Promise<string> {
  const src = join(distfiles, 'src', 'hello-1.0');
  await mkdir(src, { recursive: true });
  await writeFile(
    join(src, 'hello.c'),
    '#include <stdio.h>\nint main(void) {\n#ifdef SHOUT\n  puts("HELLO");\n#else\n  puts("hello");\n#endif\n  return 0;\n}\n',
  );
  execFileSync('tar', ['-czf', join(distfiles, 'hello-1.0.tar.gz'), '-C', join(distfiles, 'src'), 'hello-1.0']);
  return createHash('sha256')
    .update(await readFile(join(distfiles, 'hello-1.0.tar.gz')))
    .digest('hex');
}

test("kiln install builds what no binary offers from a ports tree, into the prefix's own repository, and installs it with the binaries it needs", async (t) => {
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, [{ name: 'greet', version: '1.0', tree: { 'share/greet/words': 'hi\n' } }]));
  const sha = await helloTarball(join(dir, 'distfiles'));
  const recipe = join(dir, 'ports', 'test', 'hello');
  await mkdir(recipe, { recursive: true });
  await writeFile(join(dir, 'ports', 'ports.toml'), '');
  await writeFile(
    join(recipe, 'recipe.toml'),
    `name = "hello"\nversion = "1.0"\nsummary = "says hello"\nlicense = "MIT"\ndepends = ["greet"]\n\n[[source]]\nurl = "https://example.invalid/hello-1.0.tar.gz"\nsha256 = "${sha}"\n\n[options]\nshout = { default = false, description = "shout" }\n`,
  );
  await writeFile(
    join(recipe, 'build.sh'),
    'mkdir -p "$DESTDIR$KILN_PREFIX/bin"\nextra=""\nif [ "$KILN_OPTION_SHOUT" = 1 ]; then extra=-DSHOUT; fi\ngcc $CFLAGS $LDFLAGS $extra -o "$DESTDIR$KILN_PREFIX/bin/hello" hello.c\n',
  );
  const prefix = join(dir, 'root');
  const env = { KILN_PREFIX: prefix, KILN_WORK: join(dir, 'work'), HOME: dir };
  await syncWithMain(dir, env);
  const building = ['--recipes', 'ports', '--distfiles', 'distfiles'];

  // Without a ports tree there is nothing to take.
  await fails(['install', 'hello', '-y'], 'E_NO_CANDIDATE', /cannot find package hello/, { cwd: dir, env });
  // With one, the plan says what it builds and why, and a dry run changes nothing.
  const dry = await ok(['install', 'hello[+shout]', ...building, '--dry-run'], { cwd: dir, env });
  assert.match(dry, /build\s+hello\s+1\.0\s+\[\+shout\]\s+\(recipe test\/hello\)\s+you asked for it/, dry);
  assert.match(dry, /install\s+greet\s+1\.0\s+\(main\)/, dry);
  assert.equal(existsSync(join(prefix, 'bin')), false);
  // --build never: the recipe is not built, and the explanation says so.
  await fails(
    ['install', 'hello', ...building, '--build', 'never', '-y'],
    'E_NO_CANDIDATE',
    /cannot find package hello/,
    { cwd: dir, env },
  );

  const out = await kiln(['install', 'hello[+shout]', ...building, '-y'], { cwd: dir, env });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stderr, /building test\/hello 1\.0 \[\+shout\]/);
  assert.match(
    out.stdout,
    /install\s+greet\s+1\.0\s+\(main\)[\s\S]*install\s+hello\s+1\.0\s+\[\+shout\]\s+\(local\)/,
    out.stdout,
  );
  assert.equal(execFileSync(join(prefix, 'bin', 'hello'), { encoding: 'utf8' }), 'HELLO\n');
  const remotes = parseJson(await ok(['remote', 'list', '--json'], { cwd: dir, env })) as {
    name: string;
    priority: number;
  }[];
  assert.deepEqual(
    remotes.map((r) => [r.name, r.priority]),
    [
      ['main', 0],
      ['local', 1000],
    ],
  );

  // The other variant is built too when asked for; the one built before stays published beside it.
  await ok(['install', 'hello[-shout]', ...building, '-y'], { cwd: dir, env });
  assert.equal(execFileSync(join(prefix, 'bin', 'hello'), { encoding: 'utf8' }), 'hello\n');
  const again = await ok(['install', 'hello[+shout]', ...building, '--dry-run'], { cwd: dir, env });
  assert.match(again, /reinstall\s+hello\s+1\.0 -> 1\.0\s+\[-shout -> \+shout\] options change\s+\(local\)/, again);
  assert.doesNotMatch(again, /build\s+hello/, 'the +shout binary built before is taken, not built again');
});

test('a binary-only client gets the default variant, keeps the installed options on reinstall and upgrade, and the plan shows options and their changes', async (t) => {
  const dir = await tempDir(t);
  // An option whose non-default variant comes first in the index: taking the first variant would be wrong.
  const target = { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' };
  const option = ['opt', 'extra', 'feature', 'module', 'plugin', 'gui', 'http3', 'lua'].find(
    (name) => computeVariantId({ [name]: true }, target) < computeVariantId({ [name]: false }, target),
  )!;
  const variant = (version: string, on: boolean): PackageSpec => ({
    name: 'srv',
    version,
    tree: { 'bin/srv': `${version} ${on ? '+' : '-'}${option}\n` },
    extra: { options: { [option]: on }, defaults: { [option]: false } },
  });
  await publish(
    dir,
    await packAll(dir, [variant('1.0', true), variant('1.0', false), variant('1.1', true), variant('1.1', false)]),
  );
  const prefix = join(dir, 'root');
  const env = { KILN_PREFIX: prefix };
  await syncWithMain(dir, env);
  const srv = async (): Promise<string> => readFile(join(prefix, 'bin/srv'), 'utf8');

  // No options asked: the defaults the index carries.
  const first = await ok(['install', 'srv=1.0', '-y'], { cwd: dir, env });
  assert.match(first, new RegExp(`install\\s+srv\\s+1\\.0\\s+\\[-${option}\\]`), first);
  assert.equal(await srv(), `1.0 -${option}\n`);
  // A reinstall keeps them.
  await ok(['install', '--reinstall', 'srv', '-y'], { cwd: dir, env });
  assert.equal(await srv(), `1.0 -${option}\n`);
  // Asking for the other variant: the plan says the options change, in text and JSON.
  const asked = parseJson(await ok(['install', `srv[+${option}]=1.0`, '--dry-run', '--json'], { cwd: dir, env })) as {
    plan: {
      actions: { kind: string; options: Record<string, boolean>; optionsBefore: Record<string, boolean> | null }[];
    };
  };
  assert.deepEqual(
    asked.plan.actions.map((a) => [a.kind, a.options, a.optionsBefore]),
    [['reinstall', { [option]: true }, { [option]: false }]],
  );
  const changed = await ok(['install', `srv[+${option}]=1.0`, '-y'], { cwd: dir, env });
  assert.match(
    changed,
    new RegExp(`reinstall\\s+srv\\s+1\\.0 -> 1\\.0\\s+\\[-${option} -> \\+${option}\\] options change`),
    changed,
  );
  assert.equal(await srv(), `1.0 +${option}\n`);
  // An upgrade and a plain reinstall keep what was asked for, not the defaults.
  await ok(['upgrade', '-y'], { cwd: dir, env });
  assert.equal(await srv(), `1.1 +${option}\n`);
  await ok(['install', '--reinstall', 'srv', '-y'], { cwd: dir, env });
  assert.equal(await srv(), `1.1 +${option}\n`);
});

test('a C library (role libc) and a program built against it, upgraded in one transaction: the C library is placed first', async (t) => {
  const dir = await tempDir(t);
  // Names that sort the other way, and no declared dependency between them (a binary needs its C library by symbol versions, not by name).
  const specs = ['1.0', '2.0'].flatMap((version): PackageSpec[] => [
    { name: 'alpha-tool', version, tree: { 'bin/alpha-tool': `tool ${version}\n` } },
    { name: 'mylibc', version, tree: { 'lib/libmyc.so.6': `libc ${version}\n` }, extra: { role: 'libc' } },
  ]);
  await publish(dir, await packAll(dir, specs));
  const prefix = join(dir, 'root');
  const env = { KILN_PREFIX: prefix };
  await syncWithMain(dir, env);
  const first = parseJson(await ok(['install', 'alpha-tool=1.0', 'mylibc=1.0', '-y', '--json'], { cwd: dir, env })) as {
    plan: { actions: { name: string }[] };
  };
  assert.deepEqual(
    first.plan.actions.map((a) => a.name),
    ['mylibc', 'alpha-tool'],
  );
  const upgrade = parseJson(await ok(['upgrade', '-y', '--json'], { cwd: dir, env })) as {
    plan: { actions: { kind: string; name: string; to: string }[] };
  };
  assert.deepEqual(
    upgrade.plan.actions.map((a) => `${a.kind} ${a.name} ${a.to}`),
    ['upgrade mylibc 2.0', 'upgrade alpha-tool 2.0'],
  );
  const index = parseJson(await readFile(join(dir, 'repo/public/index.json'), 'utf8')) as {
    packages: { name: string; role?: string }[];
  };
  assert.ok(
    index.packages.filter((p) => p.name === 'mylibc').every((p) => p.role === 'libc'),
    'the index carries the role',
  );
});

test('the plan shows every build it will run: a build dependency no repository has comes first, with why', async (t) => {
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, [{ name: 'greet', version: '1.0', tree: { 'share/greet/words': 'hi\n' } }]));
  const sha = await helloTarball(join(dir, 'distfiles'));
  await mkdir(join(dir, 'ports'), { recursive: true });
  await writeFile(join(dir, 'ports', 'ports.toml'), '');
  const recipe = async (name: string, extra: string, script: string): Promise<void> => {
    await mkdir(join(dir, 'ports', 'test', name), { recursive: true });
    await writeFile(
      join(dir, 'ports', 'test', name, 'recipe.toml'),
      `name = "${name}"\nversion = "1.0"\nsummary = "${name}"\nlicense = "MIT"\n${extra}\n[[source]]\nurl = "https://example.invalid/hello-1.0.tar.gz"\nsha256 = "${sha}"\n`,
    );
    await writeFile(join(dir, 'ports', 'test', name, 'build.sh'), script);
  };
  // hello needs helper to build (a program it runs while building), helper needs gen; no repository has either.
  await recipe(
    'gen',
    '',
    'mkdir -p "$DESTDIR$KILN_PREFIX/share/gen"\necho gen > "$DESTDIR$KILN_PREFIX/share/gen/data"\n',
  );
  await recipe(
    'helper',
    'build-depends = ["gen"]\n',
    'test -f "$KILN_PREFIX/share/gen/data"\nmkdir -p "$DESTDIR$KILN_PREFIX/share/helper"\necho helper > "$DESTDIR$KILN_PREFIX/share/helper/data"\n',
  );
  await recipe(
    'hello',
    'build-depends = ["helper"]\ndepends = ["greet"]\n',
    'test -f "$KILN_PREFIX/share/helper/data"\nmkdir -p "$DESTDIR$KILN_PREFIX/bin"\nprintf "#!/bin/sh\\necho built\\n" > "$DESTDIR$KILN_PREFIX/bin/hello"\nchmod 755 "$DESTDIR$KILN_PREFIX/bin/hello"\n',
  );
  const prefix = join(dir, 'root');
  const env = { KILN_PREFIX: prefix, KILN_WORK: join(dir, 'work'), HOME: dir };
  await syncWithMain(dir, env);
  const building = ['--recipes', 'ports', '--distfiles', 'distfiles'];
  const dry = await ok(['install', 'hello', ...building, '--dry-run'], { cwd: dir, env });
  assert.match(
    dry,
    /build\s+gen\s+1\.0\s+\(recipe test\/gen\)\s+build dependency of helper[\s\S]*build\s+helper\s+1\.0\s+\(recipe test\/helper\)\s+build dependency of hello[\s\S]*build\s+hello\s+1\.0/,
    dry,
  );
  assert.match(dry, /3 to build, 1 to install/, dry);
  const done = await kiln(['install', 'hello', ...building, '-y'], { cwd: dir, env });
  assert.equal(done.code, 0, done.stderr);
  assert.equal(execFileSync(join(prefix, 'bin', 'hello'), { encoding: 'utf8' }), 'built\n');
  // Built once: the next plan needs none of them built again.
  const again = await ok(['install', '--reinstall', 'hello', ...building, '--dry-run'], { cwd: dir, env });
  assert.doesNotMatch(again, /build\s/, again);
});
