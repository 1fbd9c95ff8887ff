/**
 * kilnd end to end, as root with real users (CI runs as root): a system
 * prefix owned by root, a policy, `kiln daemon` in the foreground, and the CLI
 * run as throw-away users with setpriv.
 *
 * - An allowed install goes through kilnd and shows the plan; a denied one is
 *   refused with the rule named and nothing changes; a package from a remote
 *   the policy does not allow is refused at its plan.
 * - Read-only queries work for users who do not own the prefix.
 * - Detaching, then `kiln activity wait`; `show` of another user's activity.
 * - Hostile clients: a line past the limit, malformed JSON, a path for a
 *   package name, a verb that does not exist, 100 clients at once.
 * - `kill -9` of kilnd during activities: after a restart the prefix
 *   verifies and every activity is completed or failed, none left running.
 */
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ok, packAll, publish } from './helpers/client.js';
import type { TestUser } from './helpers/client.js';
import { kilnAs } from './helpers/client.js';
import { KILN_BIN, parseJson, tempDir } from './helpers/kiln.js';

const asRoot = process.getuid?.() === 0;

/**
 * Runs an account tool, again while another test file holds /etc/passwd's lock
 * ("cannot lock"), up to a few seconds.
 */
function accountTool(program: string, args: string[]): void {
  for (let tries = 0; ; tries++) {
    const result = spawnSync(program, args, { encoding: 'utf8' });
    if (result.status === 0 || result.stderr.includes('already exists')) return;
    if (tries >= 20) throw new Error(`${program} ${args.join(' ')}: ${result.stderr}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
  }
}

/** A throw-away user, in `groups` (created when missing). */
function user(name: string, groups: string[] = []): TestUser {
  for (const group of groups)
    if (spawnSync('getent', ['group', group]).status !== 0) accountTool('groupadd', ['--system', group]);
  if (spawnSync('id', ['-u', name]).status !== 0)
    accountTool('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  for (const group of groups) accountTool('usermod', ['-a', '-G', group, name]);
  const id = (flag: string) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  return { name, uid: id('-u'), gid: id('-g') };
}

const POLICY = `
[[rule]]
groups = ["kiln-staff"]
verbs = ["install", "remove"]
remotes = ["main"]

[[rule]]
users = ["*"]
verbs = ["sync", "upgrade"]

[[rule]]
effect = "deny"
users = ["*"]
verbs = ["add-remote"]
`;

interface Daemon {
  child: ChildProcess;
  log: () => string;
}

async function startDaemon(t: TestContext, prefix: string): Promise<Daemon> {
  const child = spawn(process.execPath, [KILN_BIN, '--prefix', prefix, 'daemon'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C', NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  t.after(() => child.kill('SIGKILL'));
  for (let tries = 0; !/kilnd: serving/.test(log); tries++) {
    if (tries > 200 || child.exitCode !== null) throw new Error(`kilnd did not start:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, log: () => log };
}

/** A system prefix owned by root with remotes main and other, its policy, and kilnd serving it. */
async function systemPrefix(t: TestContext) {
  const dir = await tempDir(t);
  await chmod(dir, 0o755);
  const packages = await packAll(dir, [
    { name: 'hello', version: '1.0', tree: { 'bin/hello': { content: '#!/bin/sh\necho hello\n', mode: 0o755 } } },
    { name: 'tool', version: '1.0', tree: { 'bin/tool': { content: '#!/bin/sh\necho tool\n', mode: 0o755 } } },
    { name: 'slow', version: '1.0', tree: { 'share/slow/data': 'x'.repeat(1 << 20) } },
  ]);
  await publish(dir, packages);
  const other = join(dir, 'other');
  await mkdir(other);
  await ok(['repo', 'init', 'repo', '--key', '../keys/kiln.key', '--name', 'other'], { cwd: other });
  const [extra] = await packAll(dir, [{ name: 'extra', version: '1.0', tree: { 'share/extra': 'extra\n' } }]);
  await ok(['repo', 'add', 'repo', join(dir, extra!)], { cwd: other });
  await ok(['repo', 'commit', 'repo'], { cwd: other });
  const prefix = join(dir, 'system');
  await ok(['--prefix', prefix, 'init', '--system'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'repo/public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'remote', 'add', 'other', join(other, 'repo/public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  await mkdir(join(prefix, 'etc', 'kiln'), { recursive: true });
  await writeFile(join(prefix, 'etc', 'kiln', 'policy.toml'), POLICY);
  return { dir, prefix, daemon: await startDaemon(t, prefix) };
}

/** One raw request on the socket; every line the daemon answers. */
function raw(socket: string, payload: string | Buffer): Promise<Record<string, unknown>[]> {
  return new Promise((resolve) => {
    const connection = createConnection(socket);
    let text = '';
    connection.setEncoding('utf8');
    connection.on('connect', () => connection.write(payload));
    connection.on('data', (chunk: string) => (text += chunk));
    connection.on('error', () => undefined);
    connection.on('close', () =>
      resolve(
        text
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      ),
    );
  });
}

test('kilnd: allowed changes go through it, denied ones name the rule and change nothing', {
  skip: !asRoot && 'kilnd is tested as root, with real users',
}, async (t) => {
  const { prefix, daemon } = await systemPrefix(t);
  const alice = user('kiln-alice', ['kiln-staff']);
  const bob = user('kiln-bob');
  const as = (who: TestUser, args: string[]) => kilnAs(who, ['--prefix', prefix, ...args]);

  const installed = await as(alice, ['install', 'hello', '-y']);
  assert.equal(installed.code, 0, installed.stderr);
  assert.match(installed.stderr, /kilnd: activity \d+/);
  assert.match(installed.stdout, /install\s+hello\s+1\.0/);
  // Read-only queries work for a user who does not own the prefix.
  const listed = await as(bob, ['list', '-q']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stdout, 'hello\n');

  const denied = await as(bob, ['install', 'tool', '-y']);
  assert.equal(denied.code, 1, denied.stderr);
  assert.match(
    denied.stderr,
    /error\[E_DENIED\]: kilnd refused: kiln-bob \(uid \d+\) may not install tool: no rule of .*policy\.toml allows it/,
  );
  assert.match(daemon.log(), /kilnd: denied: kiln-bob/);
  const fromOther = await as(alice, ['install', 'extra', '-y']);
  assert.equal(fromOther.code, 1, fromOther.stderr);
  assert.match(fromOther.stderr, /may not install extra from other/);
  const addRemote = await as(alice, ['sync']);
  assert.equal(addRemote.code, 0, `everyone may sync\n${addRemote.stderr}`);
  assert.equal((await as(bob, ['list', '-q'])).stdout, 'hello\n', 'nothing else was installed');

  // Detached: the client goes at once, the activity goes on; wait re-attaches.
  const detached = await as(alice, ['install', 'tool', '--detach', '--json']);
  assert.equal(detached.code, 0, detached.stderr);
  const id = (parseJson(detached.stdout) as { activity: number }).activity;
  const waited = await as(alice, ['activity', 'wait', String(id), '--json']);
  assert.equal(waited.code, 0, waited.stderr);
  assert.equal((parseJson(waited.stdout) as { state: string }).state, 'completed');
  const someoneElse = await as(bob, ['activity', 'show', String(id)]);
  assert.equal(someoneElse.code, 2, 'another user does not see it');
  assert.match(someoneElse.stderr, /no activity \d+ of yours/);
  assert.equal((await as(bob, ['list', '-q'])).stdout, 'hello\ntool\n');
  await ok(['--prefix', prefix, 'verify']);
});

test('kilnd: hostile clients get an error and are cut off; 100 at once are all answered', {
  skip: !asRoot && 'kilnd is tested as root, with real users',
}, async (t) => {
  const { prefix } = await systemPrefix(t);
  const socket = join(prefix, 'run/kiln/kilnd.sock');
  const long = await raw(socket, `${'x'.repeat(100 * 1024)}\n`);
  assert.match(String(long[0]?.['message']), /longer than 65536 bytes/);
  const endless = await raw(socket, Buffer.alloc(200 * 1024, 0x61));
  assert.match(String(endless[0]?.['message']), /longer than/, 'a line that never ends');
  assert.match(String((await raw(socket, 'not json\n'))[0]?.['message']), /not a JSON object/);
  const path = await raw(
    socket,
    `${JSON.stringify({ op: 'submit', verb: 'install', packages: ['../../etc/passwd'] })}\n`,
  );
  assert.equal(path[0]?.['code'], 'E_USAGE');
  assert.match(String(path[0]?.['message']), /takes package names/);
  const verb = await raw(socket, `${JSON.stringify({ op: 'submit', verb: 'format-disk' })}\n`);
  assert.match(String(verb[0]?.['message']), /does not know the verb/);
  const answers = await Promise.all(
    Array.from({ length: 100 }, () => raw(socket, `${JSON.stringify({ op: 'show', activity: 999999 })}\n`)),
  );
  for (const answer of answers) assert.match(String(answer[0]?.['code']), /^E_(USAGE|LOCKED)$/);
  // A client that connects and says nothing is cut off.
  const silent = await new Promise<number>((resolve) => {
    const started = performance.now();
    const connection = createConnection(socket);
    connection.on('close', () => resolve(performance.now() - started));
    connection.on('error', () => undefined);
  });
  assert.ok(silent < 30_000, 'a silent client is closed');
});

test('kilnd killed with SIGKILL during activities: the prefix verifies and no activity is left running', {
  skip: !asRoot && 'kilnd is tested as root, with real users',
}, async (t) => {
  const { prefix } = await systemPrefix(t);
  const alice = user('kiln-alice', ['kiln-staff']);
  let daemon = await startDaemon(t, prefix);
  const ids: number[] = [];
  for (let trial = 0; trial < 8; trial++) {
    const verb = trial % 2 === 0 ? 'install' : 'remove';
    const asked = await kilnAs(alice, ['--prefix', prefix, verb, 'slow', 'hello', '--detach', '--json']);
    if (asked.code === 0) ids.push((parseJson(asked.stdout) as { activity: number }).activity);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
    daemon.child.kill('SIGKILL');
    await new Promise((resolve) => daemon.child.once('exit', resolve));
    daemon = await startDaemon(t, prefix);
  }
  // Once the queue has run, every activity is completed, failed or cancelled.
  for (const id of ids) {
    const shown = await kilnAs(alice, ['--prefix', prefix, 'activity', 'wait', String(id), '--json']);
    assert.equal([0, 1].includes(shown.code ?? -1), true, shown.stderr);
    const state = (parseJson(shown.stdout || '{}') as { state?: string }).state;
    assert.ok(state === 'completed' || state === 'failed' || state === 'cancelled', `activity ${id}: ${state}`);
  }
  await ok(['--prefix', prefix, 'verify']);
});
