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
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ok, packAll, publish } from './helpers/client.js';
import type { TestUser } from './helpers/client.js';
import { kilnAs } from './helpers/client.js';
import { KILN_BIN, kiln, parseJson, tempDir } from './helpers/kiln.js';
import { openPrefix } from '../src/index.js';

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

const KILND_BIN = join(dirname(KILN_BIN), 'kilnd.cjs');
let started = 0;

async function startDaemon(t: TestContext, prefix: string): Promise<Daemon> {
  // `kilnd` is `kiln daemon` under its own name (package.json "bin"); both are used, alternately.
  const args = started++ % 2 === 0 ? [KILND_BIN, '--prefix', prefix] : [KILN_BIN, '--prefix', prefix, 'daemon'];
  const child = spawn(process.execPath, args, {
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

/** One raw request on the socket (and what `onData` writes as answers arrive); every line the daemon answers. */
function raw(
  socket: string,
  payload: string | Buffer,
  onData?: (chunk: string, connection: Socket) => void,
): Promise<Record<string, unknown>[]> {
  return new Promise((resolve) => {
    const connection = createConnection(socket);
    let text = '';
    connection.setEncoding('utf8');
    connection.on('connect', () => connection.write(payload));
    connection.on('data', (chunk: string) => {
      text += chunk;
      onData?.(chunk, connection);
    });
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
  const { dir, prefix, daemon } = await systemPrefix(t);
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

  // Every read-only query works for a user who does not own the prefix, without kilnd.
  for (const query of [
    ['info', 'hello'],
    ['info', 'extra'],
    ['files', 'hello'],
    ['owns', 'bin/hello'],
    ['search', 'hel'],
    ['verify'],
    ['history'],
    ['remote', 'list'],
    ['list', '--json'],
    ['deps', 'hello'],
    ['rdeps', 'hello'],
    ['list', '--available'],
    ['list', '--upgradable'],
    ['files', '--available', 'tool'],
    ['audit'],
    ['hold'],
    ['cache', 'info'],
  ]) {
    const result = await as(bob, query);
    assert.equal(result.code, 0, `kiln ${query.join(' ')} as a non-owner: ${result.stderr}`);
  }

  // --json through kilnd is the direct run's, with the activity's number beside it.
  const direct = parseJson((await kiln(['--prefix', prefix, 'remove', 'tool', '--dry-run', '--json'])).stdout);
  const { activity, ...through } = parseJson((await as(alice, ['remove', 'tool', '--dry-run', '--json'])).stdout) as {
    activity: number;
  };
  assert.equal(typeof activity, 'number');
  assert.deepEqual(through, direct);
  const syncedDirectly = parseJson((await kiln(['--prefix', prefix, 'sync', '--json'])).stdout) as object[];
  const syncedThrough = parseJson((await as(bob, ['sync', '--json'])).stdout) as object[];
  assert.deepEqual(
    syncedThrough.map((result) => Object.keys(result).sort()),
    syncedDirectly.map((result) => Object.keys(result).sort()),
  );

  // add-remote: refused by the policy's deny rule, then allowed by a rule put before it (the policy is read per
  // request); a path or file:// URL is refused whatever the policy says: kilnd reads remotes over HTTP only.
  const key = (await readFile(join(dir, 'keys/kiln.pub'), 'utf8')).trim().split('\n').at(-1)!;
  const refused = await as(alice, ['remote', 'add', 'mirror1', 'http://127.0.0.1:9/repo', '--key', key]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /error\[E_DENIED\]: .*may not add-remote.*rule 3/);
  const policy = join(prefix, 'etc/kiln/policy.toml');
  await writeFile(
    policy,
    `[[rule]]\ngroups = ["kiln-staff"]\nverbs = ["add-remote"]\nremotes = ["mirror*"]\n${await readFile(policy, 'utf8')}`,
  );
  const path = await as(alice, ['remote', 'add', 'mirror2', join(dir, 'repo/public'), '--key', key]);
  assert.equal(path.code, 1, path.stderr);
  assert.match(path.stderr, /error\[E_REMOTE_URL\]: kilnd adds remotes by http:\/\/ or https:\/\/ URL, not \/tmp\//);
  const added = await as(alice, ['remote', 'add', 'mirror1', 'http://127.0.0.1:9/repo', '--key', key]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(
    added.stdout,
    /added remote mirror1 \(http:\/\/127\.0\.0\.1:9\/repo\), priority 0 \(kilnd activity \d+\)/,
  );
  const notHers = await as(alice, ['remote', 'add', 'evil', 'http://127.0.0.1:9/repo', '--key', key]);
  assert.match(notHers.stderr, /E_DENIED/, 'the rule names remotes mirror*');
  assert.deepEqual(
    (parseJson((await as(bob, ['remote', 'list', '--json'])).stdout) as { name: string }[]).map((r) => r.name),
    ['main', 'other', 'mirror1'],
  );
  await ok(['--prefix', prefix, 'verify']);
});

test('kilnd: hostile clients get an error and are cut off; 100 at once are all answered', {
  skip: !asRoot && 'kilnd is tested as root, with real users',
}, async (t) => {
  const { prefix } = await systemPrefix(t);
  const socket = join(prefix, 'run/kiln/kilnd.sock');
  // A second kilnd on the same prefix is refused, and leaves the first one's socket alone.
  const second = await kiln(['--prefix', prefix, 'daemon']);
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, /error\[E_LOCKED\]: cannot lock kilnd of prefix .*: process \d+ on .* holds/);
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
  // Option strings and other shapes where a package name belongs: each refused before the policy is asked.
  for (const packages of [
    ['--allow-unsigned'],
    ['hello --reinstall'],
    ['hello;rm -rf /'],
    [{ name: 'hello' }],
    'hello',
  ])
    assert.equal(
      (await raw(socket, `${JSON.stringify({ op: 'submit', verb: 'install', packages })}\n`))[0]?.['code'],
      'E_USAGE',
      JSON.stringify(packages),
    );
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

test('kilnd killed with SIGKILL during activities, 50 times: each time the prefix recovers and verifies; every activity ends completed exactly once, or failed, never lost or run twice', {
  skip: !asRoot && 'kilnd is tested as root, with real users',
}, async (t) => {
  const { prefix, daemon: first } = await systemPrefix(t);
  const socket = join(prefix, 'run/kiln/kilnd.sock');
  let daemon = first;
  const ids: number[] = [];
  const trials = 50;
  for (let trial = 0; trial < trials; trial++) {
    // Installs and removals of a 1 MiB package and a small one, queued detached as the CLI's --detach does.
    const verb = trial % 2 === 0 ? 'install' : 'remove';
    const answer = await raw(
      socket,
      `${JSON.stringify({ op: 'submit', verb, packages: ['slow', 'hello'], yes: true, detach: true })}\n`,
    );
    if (answer[0]?.['type'] === 'accepted') ids.push(Number(answer[0]['activity']));
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 120));
    daemon.child.kill('SIGKILL');
    await new Promise((resolve) => daemon.child.once('exit', resolve));
    // The crash checks of every other writer: opening the prefix recovers what the kill interrupted; then it verifies.
    const opened = await openPrefix(prefix);
    try {
      assert.deepEqual(opened.verify().problems, [], `trial ${trial}`);
    } finally {
      opened.close();
    }
    daemon = await startDaemon(t, prefix);
  }
  assert.ok(ids.length >= trials - 2, `${ids.length} of ${trials} submissions accepted`);
  // Once the queue has run, every activity is completed, failed or cancelled, and the prefix's history holds
  // exactly one transaction for each completed one (of those that had anything to do) and none for the others.
  const states = new Map<number, string>();
  for (const id of ids) {
    const [done] = await raw(socket, `${JSON.stringify({ op: 'attach', activity: id })}\n`);
    const activity = done?.['activity'] as
      | { state?: string; error?: string | null; result?: { applied?: boolean } | null }
      | undefined;
    const state = activity?.state;
    assert.ok(state === 'completed' || state === 'failed' || state === 'cancelled', `activity ${id}: ${state}`);
    const interrupted = state === 'failed' && /kilnd stopped during it/.test(activity?.error ?? '');
    states.set(id, activity?.result?.applied === false ? 'nothing to do' : interrupted ? 'interrupted' : state);
  }
  const opened = await openPrefix(prefix);
  const history = opened.history(10_000);
  opened.close();
  for (const [id, state] of states) {
    const runs = history.filter((entry) => entry.command === `kilnd activity ${id}`).length;
    assert.equal(runs, state === 'completed' ? 1 : 0, `activity ${id} (${state}) has ${runs} transactions`);
  }
  t.diagnostic(
    `${trials} kills, ${ids.length} activities: ${[...new Set(states.values())].map((s) => `${[...states.values()].filter((v) => v === s).length} ${s}`).join(', ')}`,
  );
  await ok(['--prefix', prefix, 'verify']);
});

/**
 * Python as root: a child that becomes `connector` connects to kilnd and, unless `exitAtOnce`, passes the
 * connected socket (SCM_RIGHTS) to its parent, which becomes `sender` and sends `request` on it. With
 * `exitAtOnce`, the child sends `request` itself and exits without reading. Prints what kilnd answered.
 */
function passedSocket(socket: string, connector: TestUser, sender: TestUser, request: object, exitAtOnce = false) {
  const script = `
import os, socket, sys, json
path, cuid, cgid, suid, sgid, request, at_once = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6], sys.argv[7] == '1'
parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if pid == 0:
    os.setgroups([]); os.setgid(cgid); os.setuid(cuid)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    if at_once:
        s.sendall((request + '\\n').encode())
        os._exit(0)
    socket.send_fds(child, [b'x'], [s.fileno()])
    os._exit(0)
os.waitpid(pid, 0)
if at_once:
    print('sent'); sys.exit(0)
_, fds, _, _ = socket.recv_fds(parent, 1, 1)
os.setgroups([]); os.setgid(sgid); os.setuid(suid)
s = socket.socket(fileno=fds[0])
s.sendall((request + '\\n').encode())
answer = b''
while True:
    chunk = s.recv(65536)
    if not chunk: break
    answer += chunk
print(answer.decode())
`;
  const result = spawnSync(
    'python3',
    [
      '-c',
      script,
      socket,
      String(connector.uid),
      String(connector.gid),
      String(sender.uid),
      String(sender.gid),
      JSON.stringify(request),
      exitAtOnce ? '1' : '0',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('kilnd: a socket passed to another process keeps the identity of the process that connected; a client that exits at once changes nothing of who asked', {
  skip: !asRoot && 'kilnd is tested as root, with real users',
}, async (t) => {
  const { prefix, daemon } = await systemPrefix(t);
  const socket = join(prefix, 'run/kiln/kilnd.sock');
  const alice = user('kiln-alice', ['kiln-staff']);
  const bob = user('kiln-bob');
  const install = { op: 'submit', verb: 'install', packages: ['tool'], yes: true };
  // Bob connects and hands his connection to a process of alice's: kilnd still sees bob, and refuses.
  const handed = passedSocket(socket, bob, alice, install);
  assert.match(handed, /"type":"denied".*kiln-bob \(uid \d+\) may not install tool/);
  // Alice connects and hands it to bob: still alice's request, and allowed.
  const handedBack = passedSocket(socket, alice, bob, install);
  assert.match(handedBack, /"type":"accepted"/);
  const id = Number(/"activity":(\d+)/.exec(handedBack)?.[1]);
  const shown = await kilnAs(alice, ['--prefix', prefix, 'activity', 'wait', String(id), '--json']);
  assert.equal((parseJson(shown.stdout) as { user: string; state: string }).user, 'kiln-alice');
  assert.equal((await kilnAs(bob, ['--prefix', prefix, 'activity', 'show', String(id)])).code, 2, "not bob's");
  // A client that sends and exits at once: its pid may be anyone's by the time kilnd looks, and kilnd never
  // looks (the uid was read at accept). Bob's request is refused; alice's runs to its end as hers.
  passedSocket(socket, bob, bob, { ...install, packages: ['hello'] }, true);
  passedSocket(socket, alice, alice, { op: 'submit', verb: 'remove', packages: ['tool'], yes: true }, true);
  const queued = /activity (\d+) queued: kiln-alice remove tool/;
  for (let tries = 0; !queued.test(daemon.log()); tries++) {
    assert.ok(tries < 400, daemon.log());
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const removal = queued.exec(daemon.log())![1]!;
  const removed = await kilnAs(alice, ['--prefix', prefix, 'activity', 'wait', removal, '--json']);
  assert.equal((parseJson(removed.stdout) as { state: string }).state, 'completed', removed.stderr);
  assert.match(daemon.log(), /kilnd: denied: kiln-bob \(uid \d+\) may not install hello/);
  assert.equal((await kilnAs(bob, ['--prefix', prefix, 'list', '-q'])).stdout, '', 'tool installed, then removed');
});

test('kilnd: cancelling a running activity stops it before its commit; only its owner or root may', {
  skip: !asRoot && 'kilnd is tested as root, with real users',
}, async (t) => {
  const { prefix } = await systemPrefix(t);
  const socket = join(prefix, 'run/kiln/kilnd.sock');
  const bob = user('kiln-bob');
  // Root submits without an answer to its plan: the activity runs and waits for one.
  const connection = createConnection(socket);
  let text = '';
  connection.setEncoding('utf8');
  connection.on('data', (chunk: string) => (text += chunk));
  const closed = new Promise((resolve) => connection.on('close', resolve));
  connection.write(`${JSON.stringify({ op: 'submit', verb: 'install', packages: ['hello'] })}\n`);
  for (let tries = 0; !text.includes('"type":"plan"'); tries++) {
    assert.ok(tries < 400, `no plan: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const id = Number(/"activity":(\d+)/.exec(text)?.[1]);
  const notHis = await kilnAs(bob, ['--prefix', prefix, 'activity', 'cancel', String(id)]);
  assert.equal(notHis.code, 2, notHis.stderr);
  assert.match(notHis.stderr, /no activity \d+ of yours/);
  const cancelled = await kiln(['--prefix', prefix, 'activity', 'cancel', String(id), '--json']);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  const activity = parseJson(cancelled.stdout) as { state: string; error: string };
  assert.equal(activity.state, 'cancelled');
  assert.match(activity.error, /cancelled by root/);
  await closed;
  assert.match(text, /"type":"done".*"state":"cancelled"/);
  assert.equal((await kiln(['--prefix', prefix, 'list', '-q'])).stdout, '');
  await ok(['--prefix', prefix, 'verify']);
});

/** Sends a submission that declares `files`, then `bytes` as file-data when kilnd asks; every line it answers. */
function sendBytes(socket: string, files: object[], bytes: Buffer): Promise<Record<string, unknown>[]> {
  return raw(
    socket,
    `${JSON.stringify({ op: 'submit', verb: 'install', files, yes: true })}\n`,
    (chunk, connection) => {
      if (chunk.includes('"send-files"'))
        for (let at = 0; at < bytes.length; at += 30_000)
          connection.write(
            `${JSON.stringify({ op: 'file-data', data: bytes.subarray(at, at + 30_000).toString('base64') })}\n`,
          );
    },
  );
}

test('kilnd: a package file is sent as bytes and checked as a download is: its signer decides its remote, its metadata must be what was declared, and nothing is left behind', {
  skip: !asRoot && 'kilnd is tested as root, with real users',
}, async (t) => {
  const { dir, prefix } = await systemPrefix(t);
  const socket = join(prefix, 'run/kiln/kilnd.sock');
  const alice = user('kiln-alice', ['kiln-staff']);
  const bob = user('kiln-bob');
  // A package signed by the key both remotes trust, one signed by a key nobody trusts yet, and an unsigned one.
  // `big`: 4 MiB that do not compress: about 120 chunks of file data, reassembled by kilnd in order.
  const [local, big] = await packAll(dir, [
    { name: 'local', version: '2.0', tree: { 'share/local': 'local\n' } },
    { name: 'big', version: '1.0', tree: { 'share/big': randomBytes(4 << 20) } },
  ]);
  const elsewhere = await tempDir(t);
  const [foreign] = await packAll(elsewhere, [{ name: 'foreign', version: '1.0', tree: { 'share/foreign': 'x\n' } }]);
  const files = join(await tempDir(t), 'files');
  await mkdir(files, { recursive: true });
  await chmod(dirname(files), 0o755);
  const placed = async (from: string, name: string) => {
    const to = join(files, name);
    await writeFile(to, await readFile(from));
    await chmod(to, 0o644);
    return to;
  };
  const localFile = await placed(join(dir, local!), 'local.kpkg');
  const bigFile = await placed(join(dir, big!), 'big.kpkg');
  const foreignFile = await placed(join(elsewhere, foreign!), 'foreign.kpkg');
  const as = (who: TestUser, args: string[]) => kilnAs(who, ['--prefix', prefix, ...args]);

  // A client that declares a file, sends half of it and goes quiet is cut off; its bytes are deleted.
  const localBytes = await readFile(localFile);
  const stalled = sendBytes(socket, [{ name: 'local', size: localBytes.length }], localBytes.subarray(0, 100));

  // Allowed: signed by a key of remote main, which the policy lets kiln-staff install from.
  const installed = await as(alice, ['install', localFile, '-y']);
  assert.equal(installed.code, 0, installed.stderr);
  assert.match(installed.stdout, /install\s+local\s+2\.0/);
  const large = await as(alice, ['install', bigFile, '-y']);
  assert.equal(large.code, 0, large.stderr);
  assert.doesNotMatch(large.stderr, /Warning/);
  // Signed by a key no remote trusts: refused as a download would be.
  const untrusted = await as(alice, ['install', foreignFile, '-y']);
  assert.equal(untrusted.code, 1, untrusted.stderr);
  assert.match(untrusted.stderr, /error\[E_SIGNATURE_UNTRUSTED\]/);
  // Once only remote other trusts that key, the file counts as from other, which alice may not install from.
  const foreignKey = (await readFile(join(elsewhere, 'keys/kiln.pub'), 'utf8')).trim().split('\n').at(-1)!;
  await ok(['--prefix', prefix, 'remote', 'key', 'add', 'other', foreignKey]);
  const fromOther = await as(alice, ['install', foreignFile, '-y']);
  assert.equal(fromOther.code, 1, fromOther.stderr);
  assert.match(fromOther.stderr, /error\[E_DENIED\]: kilnd refused: .*may not install foreign from other/);
  // Bob may install nothing: refused before a byte is sent.
  const denied = await as(bob, ['install', localFile, '-y']);
  assert.match(denied.stderr, /error\[E_DENIED\]: kilnd refused: kiln-bob .* may not install local/);
  assert.equal((await as(alice, ['install', localFile, '--allow-unsigned', '-y'])).code, 2, 'never unsigned');

  // A file whose metadata names another package than declared, and a file longer than declared.
  const mislabelled = await sendBytes(socket, [{ name: 'hello', size: localBytes.length }], localBytes);
  assert.equal(mislabelled.at(-1)?.['code'], 'E_DENIED');
  assert.match(String(mislabelled.at(-1)?.['message']), /declared as hello holds local 2\.0/);
  const longer = await sendBytes(socket, [{ name: 'local', size: 100 }], localBytes);
  assert.match(String(longer.at(-1)?.['message']), /longer than the size it declared/);
  const huge = await raw(
    socket,
    `${JSON.stringify({ op: 'submit', verb: 'install', files: [{ name: 'local', size: 2 ** 40 }] })}\n`,
  );
  assert.match(String(huge[0]?.['message']), /at most 16 package files/);

  const cut = await stalled;
  assert.equal(cut.at(-1)?.['type'], 'send-files', 'cut off without an answer');
  assert.deepEqual(
    (parseJson((await as(bob, ['list', '--json'])).stdout) as { name: string }[]).map((p) => p.name),
    ['big', 'local'],
  );
  assert.deepEqual(await readdir(join(prefix, 'var/lib/kiln/kilnd-files')), [], 'every received file is deleted');
  await ok(['--prefix', prefix, 'verify']);
});

test('kilnd: one user may have at most 16 activities queued or running; more are refused until they end', {
  skip: !asRoot && 'kilnd is tested as root, with real users',
}, async (t) => {
  const { prefix } = await systemPrefix(t);
  const alice = user('kiln-alice', ['kiln-staff']);
  // Python as alice: 20 connections, each an install that waits for an answer to its plan (the first runs and
  // waits; the rest queue behind it), kept open while kilnd answers each; then all closed.
  const script = `
import os, socket, sys, json
os.setgroups([]); os.setgid(int(sys.argv[3])); os.setuid(int(sys.argv[2]))
answers = []
connections = []
for _ in range(20):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(json.dumps({'op': 'submit', 'verb': 'install', 'packages': ['hello']}).encode() + b'\\n')
    answers.append(json.loads(s.makefile().readline()))
    connections.append(s)
for s in connections: s.close()
print(json.dumps(answers))
`;
  const socket = join(prefix, 'run/kiln/kilnd.sock');
  const result = spawnSync('python3', ['-c', script, socket, String(alice.uid), String(alice.gid)], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stderr);
  const answers = JSON.parse(result.stdout) as { type: string; code?: string; message?: string }[];
  assert.deepEqual(
    answers.map((answer) => answer.type),
    [...Array(16).fill('accepted'), ...Array(4).fill('error')],
  );
  assert.match(answers[16]!.message!, /16 activities of kiln-alice queued or running/);
  // With their clients gone, none is confirmed: each ends cancelled, and alice may ask again.
  for (let tries = 0; ; tries++) {
    const again = await kilnAs(alice, ['--prefix', prefix, 'install', 'hello', '-y']);
    if (again.code === 0) break;
    assert.ok(tries < 100 && /E_LOCKED/.test(again.stderr), again.stderr);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal((await kiln(['--prefix', prefix, 'list', '-q'])).stdout, 'hello\n');
});
