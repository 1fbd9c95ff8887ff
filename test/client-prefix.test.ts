/**
 * The rest of the client's behaviour end to end: a system prefix (a
 * throw-away root directory) with users and groups created by name, owners,
 * setuid and declared directories; file conflicts found before anything is
 * written; the writer lock; relocation; sync refusals; and the library API.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { lstat, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fails, ok, packAll, publish } from './helpers/client.js';
import { kiln, run, tempDir, parseJson } from './helpers/kiln.js';
import { holdLock } from './helpers/lockHolder.js';
import { openPrefix, initPrefix } from '../src/index.js';

async function syncedPrefix(
  t: TestContext,
  specs: Parameters<typeof packAll>[1],
  options: { system?: boolean; prefixName?: string } = {},
): Promise<{ dir: string; prefix: string; env: Record<string, string> }> {
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, specs));
  const prefix = join(dir, options.prefixName ?? 'root');
  const env = { KILN_PREFIX: prefix };
  await ok(['init', ...(options.system === true ? ['--system'] : [])], { cwd: dir, env });
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], {
    cwd: dir,
    env,
  });
  await ok(['sync'], { cwd: dir, env });
  return { dir, prefix, env };
}

const mailer = {
  name: 'mailer',
  version: '1.0',
  tree: {
    'bin/mailer-queue': { content: '#!/bin/sh\necho queue\n', mode: 0o755 },
    'etc/mailer/control': 'me=localhost\n',
  },
  extra: {
    users: [
      { name: 'mailq', group: 'mailer', home: 'var/spool/mailer', system: true },
      { name: 'maild', system: true },
    ],
    groups: [{ name: 'mailer', system: true }],
    directories: [{ path: 'var/spool/mailer/queue', owner: 'mailq', group: 'mailer', mode: '0750' }],
    permissions: [
      { path: 'bin/mailer-queue', owner: 'mailq', group: 'mailer', mode: '04711' },
      { path: 'etc/mailer/control', owner: 'root', group: 'mailer', mode: '0640' },
    ],
    configFiles: ['etc/mailer/control'],
  },
};

test('system prefix as root: users and groups by name in its own etc/passwd, owners, setuid, declared directories', {
  skip: process.getuid?.() !== 0 ? 'needs root (CI runs as root)' : false,
}, async (t) => {
  const { dir, prefix, env } = await syncedPrefix(t, [mailer], { system: true });
  // A throw-away root that already has accounts, so ids are allocated around them.
  await mkdir(join(prefix, 'etc'), { recursive: true });
  await writeFile(
    join(prefix, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nold:x:100:100::/nonexistent:/usr/sbin/nologin\n',
  );
  await writeFile(join(prefix, 'etc/group'), 'root:x:0:\ndaemon:x:1:\nold:x:100:\n');
  const hostPasswd = await readFile('/etc/passwd', 'utf8');

  const out = await kiln(['install', 'mailer', '-y'], { cwd: dir, env });
  assert.equal(out.code, 0, out.stderr);
  assert.doesNotMatch(out.stderr, /mapped to/, 'owners are applied, not mapped');
  const passwd = await readFile(join(prefix, 'etc/passwd'), 'utf8');
  const group = await readFile(join(prefix, 'etc/group'), 'utf8');
  const mailerGid = Number(/^mailer:x:(\d+):/m.exec(group)?.[1]);
  const mailq = /^mailq:x:(\d+):(\d+):[^:]*:([^:]*):/m.exec(passwd);
  assert.ok(
    mailq !== null && mailerGid >= 101 && mailerGid <= 999,
    `system ids allocated in the root's own files:\n${passwd}${group}`,
  );
  assert.equal(Number(mailq[2]), mailerGid, "mailq's primary group is mailer");
  assert.equal(mailq[3], '/var/spool/mailer');
  assert.match(passwd, /^maild:x:\d+:\d+:/m);
  assert.match(group, /^maild:x:\d+:/m, 'a user without a group gets its own');
  assert.equal(await readFile('/etc/passwd', 'utf8'), hostPasswd, "the host's accounts are untouched");

  const queue = await stat(join(prefix, 'bin/mailer-queue'));
  assert.equal(queue.uid, Number(mailq[1]));
  assert.equal(queue.gid, mailerGid);
  assert.equal(queue.mode & 0o7777, 0o4711, 'setuid applied as root in a system prefix');
  const control = await stat(join(prefix, 'etc/mailer/control'));
  assert.equal(control.gid, mailerGid);
  assert.equal(control.mode & 0o777, 0o640);
  const spool = await stat(join(prefix, 'var/spool/mailer/queue'));
  assert.ok(spool.isDirectory());
  assert.equal(spool.uid, Number(mailq[1]));
  assert.equal(spool.mode & 0o7777, 0o750);
  assert.match(await ok(['verify'], { cwd: dir, env }), /^ok:/m);

  // Reinstalling allocates nothing new; removing keeps a declared directory that is not empty.
  await ok(['install', 'mailer', '--reinstall', '-y'], { cwd: dir, env });
  assert.equal(await readFile(join(prefix, 'etc/passwd'), 'utf8'), passwd);
  await writeFile(join(prefix, 'var/spool/mailer/queue/msg1'), 'a queued message\n');
  await ok(['remove', 'mailer', '-y'], { cwd: dir, env });
  assert.equal(await lstat(join(prefix, 'bin/mailer-queue')).catch(() => undefined), undefined);
  assert.ok(
    (await stat(join(prefix, 'var/spool/mailer/queue'))).isDirectory(),
    'a declared directory with content stays',
  );
  assert.match(
    await readFile(join(prefix, 'etc/passwd'), 'utf8'),
    /^mailq:/m,
    'accounts stay, as with other package managers',
  );
});

test('file conflicts are found before anything is written, naming both owners', async (t) => {
  const { dir, prefix, env } = await syncedPrefix(t, [
    { name: 'one', version: '1.0', tree: { 'bin/tool': 'one\n', 'share/one/a': 'a\n' } },
    { name: 'two', version: '1.0', tree: { 'bin/tool': 'two\n', 'share/two/b': 'b\n' } },
    { name: 'three', version: '1.0', tree: { 'share/three/c': 'c\n', 'lib/x': 'x\n' } },
    { name: 'sneaky', version: '1.0', tree: { 'var/lib/kiln/kiln.db': 'not a database\n' } },
  ]);
  await fails(
    ['install', 'sneaky', '-y'],
    'E_FILE_CONFLICT',
    /var\/lib\/kiln\/kiln\.db of sneaky-1\.0 is inside Kiln's own directories/,
    { cwd: dir, env },
  );
  await fails(['install', 'one', 'two', '-y'], 'E_FILE_CONFLICT', /bin\/tool is in both one-1\.0 and two-1\.0/, {
    cwd: dir,
    env,
  });
  assert.deepEqual((await readdir(prefix)).sort(), ['etc', 'var'], 'nothing was written');
  await ok(['install', 'one', '-y'], { cwd: dir, env });
  await fails(
    ['install', 'two', '-y'],
    'E_FILE_CONFLICT',
    /bin\/tool of two-1\.0 is already owned by one-1\.0 \(installed\)/,
    { cwd: dir, env },
  );
  assert.equal(await lstat(join(prefix, 'share/two')).catch(() => undefined), undefined, 'nothing of two was written');
  // A file nobody owns is never overwritten, and a directory on the way that is a symlink is never followed.
  await mkdir(join(prefix, 'share/three'), { recursive: true });
  await writeFile(join(prefix, 'share/three/c'), 'mine\n');
  const { symlink } = await import('node:fs/promises');
  await symlink('/tmp', join(prefix, 'lib'));
  const conflict = await fails(
    ['install', 'three', '-y'],
    'E_FILE_CONFLICT',
    /share\/three\/c of three-1\.0 exists on disk and no package owns it/,
    { cwd: dir, env },
  );
  assert.match(
    conflict.stderr,
    /lib exists on disk as a symbolic link that leads out of the prefix \(to \/tmp\) \(on the way to lib of three-1\.0\); Kiln never writes through it/,
  );
  assert.equal(await readFile(join(prefix, 'share/three/c'), 'utf8'), 'mine\n');
  const check = await kiln(['verify', '--json'], { cwd: dir, env });
  const report = parseJson(check.stdout) as { problems: { path: string; problem: string }[] };
  assert.deepEqual(report.problems.map((p) => `${p.problem} ${p.path}`).sort(), ['unowned lib', 'unowned share/three']);
});

test('one writer at a time: --no-wait fails naming the holder, a waiting writer says whom it waits for', async (t) => {
  const { dir, prefix, env } = await syncedPrefix(t, [{ name: 'one', version: '1.0', tree: { 'bin/one': 'one\n' } }]);
  const lockPath = join(prefix, 'var/lib/kiln/writer.lock');
  const holder = await holdLock(t, lockPath);
  await fails(
    ['install', 'one', '-y', '--no-wait'],
    'E_LOCKED',
    new RegExp(`process ${holder.pid} on ${hostname()} holds ${lockPath}`),
    { cwd: dir, env },
  );
  // Readers are not blocked.
  assert.match(await ok(['list', '--available'], { cwd: dir, env }), /one\s+1\.0/);
  const waiting = kiln(['install', 'one', '-y'], { cwd: dir, env });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  // The holder dies without a word: the kernel releases its lock, and the waiter goes on.
  await holder.kill();
  const result = await waiting;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stderr.match(new RegExp(`waiting for process ${holder.pid}, which holds`, 'g'))?.length,
    1,
    result.stderr,
  );
  assert.deepEqual(
    (await readdir(join(prefix, 'var/lib/kiln'))).filter((name) => name.startsWith('writer.')),
    ['writer.lock'],
    "the holder's note went with the lock",
  );
});

test('a lock note left by a dead writer (or naming a live process that holds nothing) holds nobody back', async (t) => {
  const { dir, prefix, env } = await syncedPrefix(t, [{ name: 'one', version: '1.0', tree: { 'bin/one': 'one\n' } }]);
  // What a kill -9 leaves: the note naming a process, which may even be running (pid reuse); nobody holds the kernel lock.
  const unrelated = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => unrelated.kill('SIGKILL'));
  await writeFile(join(prefix, 'var/lib/kiln/writer.holder'), `${unrelated.pid} ${hostname()}\n`);
  await ok(['install', 'one', '-y', '--no-wait'], { cwd: dir, env });
});

test('relocation: a text file built with the placeholder prefix names the real prefix', async (t) => {
  const placeholder = `/opt/kiln-placeholder-${'x'.repeat(64)}`;
  const { dir, prefix, env } = await syncedPrefix(t, [
    {
      name: 'reloc',
      version: '1.0',
      tree: {
        'bin/reloc-config': {
          content: `#!/bin/sh\necho ${placeholder}/lib\necho ${placeholder}/include\n`,
          mode: 0o755,
        },
        'lib/data.bin': Buffer.concat([
          Buffer.from('\0\x01'),
          Buffer.from(`${placeholder}/etc/reloc.conf\0`),
          Buffer.from('tail'),
        ]),
      },
      extra: { placeholder },
    },
  ]);
  await ok(['install', 'reloc', '-y'], { cwd: dir, env });
  assert.equal(
    await readFile(join(prefix, 'bin/reloc-config'), 'utf8'),
    `#!/bin/sh\necho ${prefix}/lib\necho ${prefix}/include\n`,
  );
  const binary = await readFile(join(prefix, 'lib/data.bin'));
  assert.equal(
    binary.length,
    2 + placeholder.length + '/etc/reloc.conf'.length + 1 + 4,
    'a binary file keeps its length',
  );
  assert.equal(
    binary.subarray(2, binary.indexOf(0, 2)).toString(),
    `${prefix}${'/'.repeat(placeholder.length - prefix.length)}/etc/reloc.conf`,
    'padded with "/", so no byte moves',
  );
  assert.match(await ok(['verify'], { cwd: dir, env }), /^ok:/m, 'the database records the relocated content');
});

test('relocation: a script whose interpreter is in a prefix with a blank (or too deep for old kernels) still runs', async (t) => {
  const placeholder = `/opt/kiln-placeholder-${'x'.repeat(150)}`;
  const { dir, prefix, env } = await syncedPrefix(
    t,
    [
      {
        name: 'scripts',
        version: '1.0',
        tree: {
          // The package's own shell: an interpreter inside the prefix, as python3 is for its scripts.
          'bin/sh': { content: await readFile('/bin/dash').catch(() => readFile('/bin/sh')), mode: 0o755 },
          'bin/hello': { content: `#!${placeholder}/bin/sh\necho "hello $1 from \${0##*/}"\n`, mode: 0o755 },
        },
        extra: { placeholder },
      },
    ],
    { prefixName: 'my prefix' },
  );
  await ok(['install', 'scripts', '-y'], { cwd: dir, env });
  assert.ok(prefix.includes(' '));
  const script = await readFile(join(prefix, 'bin/hello'), 'utf8');
  assert.match(
    script,
    /^#!\/bin\/sh\n/,
    'the kernel could not run the original line: the interpreter path has a blank',
  );
  const result = await run(join(prefix, 'bin/hello'), ['world'], { cwd: dir });
  assert.equal(result.stdout, 'hello world from hello\n', result.stderr);
  assert.match(await ok(['verify'], { cwd: dir, env }), /^ok:/m, 'the database records the rewritten script');
});

test('sync refuses an expired index (freeze) and an index signed by another key', async (t) => {
  const { dir, env } = await syncedPrefix(t, [{ name: 'one', version: '1.0', tree: { 'bin/one': 'one\n' } }]);
  await fails(['sync'], 'E_INDEX_EXPIRED', /remote main .*expired at/, {
    cwd: dir,
    env: { ...env, KILN_NOW: '2099-01-01T00:00:00Z' },
  });
  await fails(['install', 'one', '-y'], 'E_INDEX_EXPIRED', /synced index \(serial 2\) expired/, {
    cwd: dir,
    env: { ...env, KILN_NOW: '2099-01-01T00:00:00Z' },
  });
  await ok(['key', 'generate', '--out', 'other'], { cwd: dir });
  await ok(['remote', 'add', 'evil', join(dir, 'repo', 'public'), '--key', 'other/kiln.pub'], { cwd: dir, env });
  await fails(['sync', 'evil'], 'E_SIGNATURE_UNTRUSTED', /index/, { cwd: dir, env });
  await fails(['remote', 'add', 'bad', 'ftp://example.org/repo', '--key', 'other/kiln.pub'], 'E_REMOTE_URL', /ftp/, {
    cwd: dir,
    env,
  });
  await fails(
    ['remote', 'add', 'bad', 'no-such-dir', '--key', 'other/kiln.pub'],
    'E_REMOTE_URL',
    /neither a URL nor an absolute path/,
    { cwd: dir, env },
  );
  assert.match(
    await ok(['remote', 'add', 'relative', 'repo/public', '--key', 'other/kiln.pub'], { cwd: dir, env }),
    new RegExp(`added remote relative \\(file://${join(dir, 'repo', 'public')}\\)`),
    'a relative path to a directory is taken from the current directory',
  );
  await fails(['install', 'nosuch', '-y'], 'E_NO_CANDIDATE', /cannot find package nosuch/, { cwd: dir, env });
  await fails(
    ['install', 'one>=2', '-y'],
    'E_NO_CANDIDATE',
    /you asked for one >=2 \(no version of one satisfies >=2; one has 1\.0 from main/,
    { cwd: dir, env },
  );
});

/** A repository of base and top (which depends on base), and a prefix opened by the library that trusts it. */
async function libraryPrefix(t: TestContext, options: Parameters<typeof openPrefix>[1] = {}) {
  const dir = await tempDir(t);
  await publish(
    dir,
    await packAll(dir, [
      { name: 'base', version: '1.0', tree: { 'lib/libbase.so': 'base\n' } },
      { name: 'top', version: '1.0', depends: ['base'], tree: { 'bin/top': 'top\n' } },
    ]),
  );
  await initPrefix(join(dir, 'p'));
  const prefix = await openPrefix(join(dir, 'p'), options);
  t.after(() => prefix.close());
  await prefix.addRemote('main', join(dir, 'repo', 'public'), [await readFile(join(dir, 'keys/kiln.pub'), 'utf8')]);
  return { dir, prefix };
}

test('library API: openPrefix, sync, plan, install, queries, remove', async (t) => {
  const { prefix } = await libraryPrefix(t);
  const [synced] = await prefix.sync();
  assert.equal(synced?.packages, 2);
  const plan = prefix.describePlan(await prefix.planFor({ install: [{ name: 'top', range: '' }] }));
  assert.deepEqual(
    plan.actions.map((a) => `${a.kind} ${a.name}`),
    ['install base', 'install top'],
  );
  let asked = false;
  const result = await prefix.install([{ name: 'top', range: '' }], { confirm: () => (asked = true) });
  assert.ok(asked && result.applied);
  assert.deepEqual(
    prefix.owns('bin/top').owners.map((o) => o.package),
    ['top'],
  );
  assert.deepEqual(
    prefix.rdeps('base').map((r) => r.name),
    ['top'],
  );
  assert.deepEqual(prefix.verify().problems, []);
  await assert.rejects(prefix.remove(['base']), (error: Error & { code?: string }) => error.code === 'E_REMOVE_NEEDED');
  await prefix.remove(['top', 'base']);
  assert.deepEqual(prefix.installed(), []);
});

test('library API: a change cancelled by its signal before its commit is rolled back; once committing, it completes', async (t) => {
  let cancelOn: string | undefined;
  let controller = new AbortController();
  const { dir, prefix } = await libraryPrefix(t, {
    reporter: (event) => {
      if (event.kind === cancelOn) controller.abort();
    },
  });
  await prefix.sync();
  const top = [{ name: 'top', range: '' }];
  // Cancelled while asking, while downloading, and while extracting: E_ABORTED, and the prefix as it was.
  for (const moment of ['confirm', 'download', 'stage']) {
    controller = new AbortController();
    cancelOn = moment;
    const confirm = () => {
      if (moment === 'confirm') controller.abort();
      return true;
    };
    await assert.rejects(
      prefix.install(top, { confirm, signal: controller.signal }),
      (error: Error & { code?: string }) => error.code === 'E_ABORTED' && /was cancelled/.test(error.message),
      moment,
    );
    assert.deepEqual(prefix.installed(), [], moment);
    assert.deepEqual(prefix.verify(undefined, { unowned: true }).problems, [], moment);
    assert.deepEqual(
      await readdir(join(dir, 'p')).then((names) => names.filter((n) => n === 'bin' || n === 'lib')),
      [],
      moment,
    );
  }
  // Cancelled once the commit has begun: it completes.
  controller = new AbortController();
  cancelOn = 'commit';
  const result = await prefix.install(top, { signal: controller.signal });
  assert.ok(result.applied && controller.signal.aborted);
  assert.deepEqual(
    prefix.installed().map((p) => p.name),
    ['base', 'top'],
  );
});
