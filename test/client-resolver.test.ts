/**
 * The resolver in a prefix, end to end through the CLI: option requests pick
 * the matching binary variant (respect-options), an option no variant has is
 * explained, `kiln autoremove` removes dependencies nothing needs and leaves
 * protected ones, and `[solver]` settings (binary-deny, respect-options) take
 * effect.
 */
import * as assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fails, ok, packAll, publish } from './helpers/client.js';
import { tempDir } from './helpers/kiln.js';

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
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo')}`, '--key', 'keys/kiln.pub'], { cwd: dir, env });
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
