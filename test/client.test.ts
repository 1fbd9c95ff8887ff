/**
 * The client end to end, through the real CLI, as an unprivileged user when
 * the tests run as root: init, remote add (file:// and HTTP on loopback),
 * sync, install with dependencies, files, owns, verify, upgrade, remove, and
 * a rollback refused at the next sync.
 */
import * as assert from 'node:assert/strict';
import { cp, lstat, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { failsAs, handTo, kilnAs, okAs, packAll, publish, testUser } from './helpers/client.js';
import { tempDir, parseJson } from './helpers/kiln.js';
import { serveDirectory } from './helpers/staticServer.js';

const lib1 = {
  name: 'libgreet',
  version: '1.0',
  tree: { 'lib/libgreet.so.1': 'greet library 1\n', 'share/doc/libgreet/README': 'libgreet\n' },
};
const lib2 = {
  name: 'libgreet',
  version: '2.0',
  tree: { 'lib/libgreet.so.1': 'greet library 2\n', 'share/doc/libgreet/README': 'libgreet two\n' },
};
const app = (version: string, extraFile?: string): Parameters<typeof packAll>[1][number] => ({
  name: 'greet',
  version,
  depends: [`libgreet >=${version}`],
  tree: {
    'bin/greet': { content: `#!/bin/sh\necho greet ${version}\n`, mode: 0o755 },
    'bin/greet-admin': { content: '#!/bin/sh\necho admin\n', mode: 0o755 },
    'etc/greet.conf': `greeting=hello ${version}\n`,
    ...(extraFile === undefined ? {} : { [extraFile]: 'only in this version\n' }),
  },
  extra: { configFiles: ['etc/greet.conf'], permissions: [{ path: 'bin/greet-admin', owner: 'root', mode: '04755' }] },
});

for (const transport of ['file', 'http'] as const) {
  test(`acceptance over ${transport}: an unprivileged user installs, upgrades and removes; a rollback is refused`, async (t) => {
    const dir = await tempDir(t);
    const user = testUser();
    await handTo(user, dir);
    const [l1, a1] = await packAll(dir, [lib1, app('1.0', 'share/greet/old.txt')]);
    await publish(dir, [l1!, a1!]);
    const server = transport === 'http' ? await serveDirectory(join(dir, 'repo', 'public')) : undefined;
    t.after(() => server?.close());
    const url = server?.url ?? `file://${join(dir, 'repo', 'public')}`;
    const prefix = join(dir, 'home/stack');
    const env = { KILN_PREFIX: prefix };
    await handTo(user, join(dir, 'home'));
    const as = (args: string[]): Promise<string> => okAs(user, args, { cwd: dir, env });

    assert.match(await as(['init']), /created prefix/);
    // The user takes the key from the repository's keys/ directory (a private copy would do as well).
    const keyFile = join('repo/public/keys', (await readdir(join(dir, 'repo/public/keys')))[0]!);
    assert.match(await as(['remote', 'add', 'main', url, '--key', keyFile]), /added remote main/);
    assert.match(await as(['sync']), /main\s+updated\s+serial 2\s+2 packages/);
    assert.match(await as(['search', 'greet']), /greet\s+1\.0\s+\(main\)/);

    const dry = await as(['install', 'greet', '--dry-run']);
    assert.match(dry, /install\s+libgreet\s+1\.0\s+\(main\)/);
    assert.match(dry, /dry run: nothing was changed/);
    assert.equal(await lstat(join(prefix, 'bin')).catch(() => undefined), undefined, 'a dry run writes nothing');
    const refused = await kilnAs(user, ['install', 'greet'], { cwd: dir, env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error\[E_CONFIRM\]/);

    const installed = await kilnAs(user, ['install', 'greet>=1.0', '-y'], { cwd: dir, env });
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, /install\s+libgreet[\s\S]*install\s+greet/, 'providers first');
    if (user !== undefined) {
      assert.equal(
        installed.stderr.match(/mapped to kiln-test/g)?.length,
        1,
        `owners mapped, said once:\n${installed.stderr}`,
      );
      assert.match(installed.stderr, /setuid and setgid bits were dropped/);
      const admin = await stat(join(prefix, 'bin/greet-admin'));
      assert.equal(admin.uid, user.uid);
      assert.equal(admin.mode & 0o7777, 0o755, 'no setuid without root');
    }
    assert.equal((await readFile(join(prefix, 'bin/greet'), 'utf8')).trim(), '#!/bin/sh\necho greet 1.0');

    const list = parseJson(await as(['list', '--installed', '--json'])) as {
      name: string;
      version: string;
      reason: string;
    }[];
    assert.deepEqual(
      list.map((p) => [p.name, p.version, p.reason]),
      [
        ['greet', '1.0', 'requested'],
        ['libgreet', '1.0', 'dependency'],
      ],
    );
    assert.equal(await as(['list', '-q']), 'greet\nlibgreet\n');
    assert.equal(await as(['list', '--available', '--quiet']), 'greet\nlibgreet\n');
    const files = parseJson(await as(['files', 'greet', '--json'])) as { path: string }[];
    assert.ok(files.some((f) => f.path === 'bin/greet') && files.some((f) => f.path === 'etc/greet.conf'));
    assert.match(
      await as(['owns', join(prefix, 'lib/libgreet.so.1')]),
      /lib\/libgreet\.so\.1 is owned by libgreet 1\.0/,
    );
    assert.match(await as(['owns', 'bin/greet']), /owned by greet 1\.0/);
    assert.match(await as(['deps', 'greet']), /libgreet\s+>=1\.0\s+installed 1\.0/);
    assert.match(await as(['rdeps', 'libgreet']), /greet\s+1\.0\s+needs libgreet >=1\.0/);
    // A mistyped name: the same error from every command, with the name that was meant.
    for (const [args, code] of [
      [['install', 'gerrt'], 'E_NO_CANDIDATE'],
      [['info', 'libgret'], 'E_NO_CANDIDATE'],
      [['deps', 'gret'], 'E_NO_CANDIDATE'],
      [['rdeps', 'libgret'], 'E_NO_CANDIDATE'],
      [['remove', 'gret'], 'E_NOT_INSTALLED'],
      [['files', 'gret'], 'E_NOT_INSTALLED'],
    ] as const) {
      await failsAs(user, args, code, /hint: did you mean (lib)?greet\?/, { cwd: dir, env });
    }
    await failsAs(
      user,
      ['rdeps', 'nosuchthing'],
      'E_NO_CANDIDATE',
      /neither installed nor available\nhint: check the name with "kiln search"/,
      { cwd: dir, env },
    );
    assert.match(await as(['verify']), /^ok: \d+ entries match the database$/m);

    // The user edits the config file and breaks another one: verify reports both, with exit 1.
    await writeFile(join(prefix, 'etc/greet.conf'), 'greeting=mine\n');
    await writeFile(join(prefix, 'share/doc/libgreet/README'), 'changed\n');
    const broken = await kilnAs(user, ['verify', '--json'], { cwd: dir, env });
    assert.equal(broken.code, 1);
    const report = parseJson(broken.stdout) as { problems: { path: string; problem: string; config?: boolean }[] };
    assert.deepEqual(report.problems.map((p) => [p.path, p.problem, p.config === true]).sort(), [
      ['etc/greet.conf', 'size', true],
      ['share/doc/libgreet/README', 'size', false],
    ]);
    await writeFile(join(prefix, 'share/doc/libgreet/README'), 'libgreet\n');

    // A new version is published; an older copy of the repository is kept for the rollback attempt.
    await cp(join(dir, 'repo'), join(dir, 'repo-serial2'), { recursive: true });
    const [l2, a2] = await packAll(dir, [lib2, app('2.0')]);
    await publish(dir, [l2!, a2!]);
    assert.match(await as(['sync']), /serial 2 -> 3/);
    assert.match(await as(['list', '--upgradable']), /greet\s+1\.0 -> 2\.0/);
    const upgraded = await kilnAs(user, ['upgrade', '-y'], { cwd: dir, env });
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.match(upgraded.stdout, /upgrade\s+libgreet\s+1\.0 -> 2\.0[\s\S]*upgrade\s+greet\s+1\.0 -> 2\.0/);
    assert.match(
      upgraded.stderr,
      /etc\/greet\.conf: kept your version; the new one from greet-2\.0 is etc\/greet\.conf\.kiln-new/,
    );
    // How this prefix maps owners was said at the first install: not again.
    assert.doesNotMatch(upgraded.stderr, /mapped to|setuid and setgid bits were dropped/);
    assert.equal(await readFile(join(prefix, 'etc/greet.conf'), 'utf8'), 'greeting=mine\n');
    assert.equal(await readFile(join(prefix, 'etc/greet.conf.kiln-new'), 'utf8'), 'greeting=hello 2.0\n');
    assert.equal(await readFile(join(prefix, 'lib/libgreet.so.1'), 'utf8'), 'greet library 2\n');
    assert.equal(
      await lstat(join(prefix, 'share/greet')).catch(() => undefined),
      undefined,
      'a file and directory only the old version had are gone',
    );
    const afterUpgrade = parseJson((await kilnAs(user, ['verify', '--json'], { cwd: dir, env })).stdout) as {
      problems: { path: string; problem: string }[];
    };
    assert.deepEqual(afterUpgrade.problems.map((p) => `${p.problem} ${p.path}`).sort(), [
      'size etc/greet.conf',
      'unowned etc/greet.conf.kiln-new',
    ]);

    // Rollback: the server now offers the older index (serial 2).
    await rename(join(dir, 'repo'), join(dir, 'repo-serial3'));
    await rename(join(dir, 'repo-serial2'), join(dir, 'repo'));
    await failsAs(user, ['sync'], 'E_INDEX_ROLLBACK', /remote main .*serial 2 is older than serial 3/, {
      cwd: dir,
      env,
    });
    assert.match(await as(['remote', 'list']), /serial 3/, 'the accepted serial stays');

    // Remove: refused while needed, then consumers first.
    await failsAs(user, ['remove', 'libgreet', '-y'], 'E_REMOVE_NEEDED', /cannot remove libgreet: greet needs it/, {
      cwd: dir,
      env,
    });
    const removed = await as(['remove', 'libgreet', '--cascade', '-y']);
    assert.match(removed, /remove\s+greet[\s\S]*remove\s+libgreet/, 'consumers first');
    const none = await kilnAs(user, ['list'], { cwd: dir, env });
    assert.equal(none.stdout, '', 'stdout is data only');
    assert.match(none.stderr, /no installed packages/);
    // History: newest first, with ids, versions from and to, and each command line as typed (quoted to run again).
    const history = (await as(['history'])).trimEnd().split('\n');
    assert.match(history[0]!, /^ID +DATE +CHANGES +COMMAND$/);
    assert.match(
      history[1]!,
      /^\d{8}T\S+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +remove greet 2\.0, remove libgreet 2\.0 +kiln remove libgreet --cascade -y$/,
    );
    assert.match(history[2]!, / upgrade libgreet 1\.0 -> 2\.0, upgrade greet 1\.0 -> 2\.0 +kiln upgrade -y$/);
    assert.match(history[3]!, / install libgreet 1\.0, install greet 1\.0 +kiln install 'greet>=1\.0' -y$/);
    assert.equal(history.length, 4);
    for (const gone of ['bin/greet', 'lib/libgreet.so.1', 'share/doc'])
      assert.equal(await lstat(join(prefix, gone)).catch(() => undefined), undefined, gone);
    assert.equal(
      await readFile(join(prefix, 'etc/greet.conf'), 'utf8'),
      'greeting=mine\n',
      'a changed config file is kept',
    );
    await rm(join(dir, 'repo-serial3'), { recursive: true, force: true });
  });
}
