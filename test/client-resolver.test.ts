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
import { kiln, tempDir } from './helpers/kiln.js';

interface Listed { name: string; version: string; variant: string; reason: string }

test('kiln install NAME[+OPTION], autoremove, protected and [solver] settings in a prefix', async (t) => {
  const dir = await tempDir(t);
  const packages = await packAll(dir, [
    { name: 'web', version: '1.0', tree: { 'bin/web': 'plain\n' }, extra: { options: { uwsgi: false } } },
    { name: 'web', version: '1.0', depends: ['libuwsgi'], tree: { 'bin/web': 'uwsgi\n' }, extra: { options: { uwsgi: true } } },
    { name: 'libuwsgi', version: '1.0', tree: { 'lib/libuwsgi.txt': 'u\n' } },
    { name: 'app', version: '1.0', depends: ['libold'], tree: { 'bin/app': 'app\n' } },
    { name: 'libold', version: '1.0', tree: { 'lib/libold.txt': 'old\n' } },
  ]);
  await publish(dir, packages);
  const prefix = join(dir, 'root');
  const env = { KILN_PREFIX: prefix };
  await ok(['init'], { cwd: dir, env });
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], { cwd: dir, env });
  await ok(['sync'], { cwd: dir, env });
  const installed = async (): Promise<Map<string, Listed>> => new Map((JSON.parse(await ok(['list', '--installed', '--json'], { cwd: dir, env })) as Listed[]).map((p) => [p.name, p]));

  // The request's option picks the variant that has it, and that variant's dependency comes with it, first.
  const plan = await ok(['install', 'web[+uwsgi]', '-y'], { cwd: dir, env });
  assert.match(plan, /install\s+libuwsgi[\s\S]*install\s+web/, plan);
  assert.equal(await readFile(join(prefix, 'bin/web'), 'utf8'), 'uwsgi\n');
  assert.equal((await installed()).get('libuwsgi')?.reason, 'dependency');

  // Asking for the other setting replaces the variant; an option no variant has is explained.
  await ok(['install', 'web[-uwsgi]', '-y'], { cwd: dir, env });
  assert.equal(await readFile(join(prefix, 'bin/web'), 'utf8'), 'plain\n');
  await fails(['install', 'web[+http3]', '-y'], 'E_NO_CANDIDATE', /left out: web 1\.0.*built with no option http3[\s\S]*hint: ask for the options the binaries of web have/, { cwd: dir, env });

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
  await fails(['install', 'app', '-y'], 'E_NO_CANDIDATE', /binaries of libold are denied \(binary deny list: lib\*\)/, { cwd: dir, env });
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
  await writeFile(join(src, 'hello.c'), '#include <stdio.h>\nint main(void) {\n#ifdef SHOUT\n  puts("HELLO");\n#else\n  puts("hello");\n#endif\n  return 0;\n}\n');
  execFileSync('tar', ['-czf', join(distfiles, 'hello-1.0.tar.gz'), '-C', join(distfiles, 'src'), 'hello-1.0']);
  return createHash('sha256').update(await readFile(join(distfiles, 'hello-1.0.tar.gz'))).digest('hex');
}

test('kiln install builds what no binary offers from a ports tree, into the prefix\'s own repository, and installs it with the binaries it needs', async (t) => {
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, [{ name: 'greet', version: '1.0', tree: { 'share/greet/words': 'hi\n' } }]));
  const sha = await helloTarball(join(dir, 'distfiles'));
  const recipe = join(dir, 'ports', 'test', 'hello');
  await mkdir(recipe, { recursive: true });
  await writeFile(join(dir, 'ports', 'ports.toml'), '');
  await writeFile(join(recipe, 'recipe.toml'), `name = "hello"\nversion = "1.0"\nsummary = "says hello"\nlicense = "MIT"\ndepends = ["greet"]\n\n[[source]]\nurl = "https://example.invalid/hello-1.0.tar.gz"\nsha256 = "${sha}"\n\n[options]\nshout = { default = false, description = "shout" }\n`);
  await writeFile(join(recipe, 'build.sh'), 'mkdir -p "$DESTDIR$KILN_PREFIX/bin"\nextra=""\nif [ "$KILN_OPTION_SHOUT" = 1 ]; then extra=-DSHOUT; fi\ngcc $CFLAGS $LDFLAGS $extra -o "$DESTDIR$KILN_PREFIX/bin/hello" hello.c\n');
  const prefix = join(dir, 'root');
  const env = { KILN_PREFIX: prefix, KILN_WORK: join(dir, 'work'), HOME: dir };
  await ok(['init'], { cwd: dir, env });
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], { cwd: dir, env });
  await ok(['sync'], { cwd: dir, env });
  const building = ['--recipes', 'ports', '--distfiles', 'distfiles'];

  // Without a ports tree there is nothing to take.
  await fails(['install', 'hello', '-y'], 'E_NO_CANDIDATE', /cannot find package hello/, { cwd: dir, env });
  // With one, the plan says what it builds and why, and a dry run changes nothing.
  const dry = await ok(['install', 'hello[+shout]', ...building, '--dry-run'], { cwd: dir, env });
  assert.match(dry, /build\s+hello\s+1\.0\s+\(recipe test\/hello \+shout\)\s+you asked for it/, dry);
  assert.match(dry, /install\s+greet\s+1\.0\s+\(main\)/, dry);
  assert.equal(existsSync(join(prefix, 'bin')), false);
  // --build never: the recipe is not built, and the explanation says so.
  await fails(['install', 'hello', ...building, '--build', 'never', '-y'], 'E_NO_CANDIDATE', /cannot find package hello/, { cwd: dir, env });

  const out = await kiln(['install', 'hello[+shout]', ...building, '-y'], { cwd: dir, env });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stderr, /building test\/hello 1\.0 \[\+shout\]/);
  assert.match(out.stdout, /install\s+greet\s+1\.0\s+\(main\)[\s\S]*install\s+hello\s+1\.0\s+\(local\)/, out.stdout);
  assert.equal(execFileSync(join(prefix, 'bin', 'hello'), { encoding: 'utf8' }), 'HELLO\n');
  const remotes = JSON.parse(await ok(['remote', 'list', '--json'], { cwd: dir, env })) as { name: string; priority: number }[];
  assert.deepEqual(remotes.map((r) => [r.name, r.priority]), [['main', 0], ['local', 1000]]);

  // The other variant is built too when asked for; the one built before stays published beside it.
  await ok(['install', 'hello[-shout]', ...building, '-y'], { cwd: dir, env });
  assert.equal(execFileSync(join(prefix, 'bin', 'hello'), { encoding: 'utf8' }), 'hello\n');
  const again = await ok(['install', 'hello[+shout]', ...building, '--dry-run'], { cwd: dir, env });
  assert.match(again, /reinstall\s+hello\s+1\.0 -> 1\.0\s+\(local\)/, again);
  assert.doesNotMatch(again, /build\s+hello/, 'the +shout binary built before is taken, not built again');
});
