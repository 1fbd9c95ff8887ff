/**
 * A throw-away OpenSSH server on a loopback port, for the tests of rsync
 * mirrors: its own host key and one user key (made with ssh-keygen), key
 * authentication only. Stopped when the test ends. `ssh` is the client
 * command for rsync's -e: that key, that port, and a known-hosts file that
 * holds the server's real host key (strict checking).
 *
 * As root (CI), the account pushed to is `kiln-mirror`, a system account with
 * /bin/sh and no home, as a real push account is: root's own shell start-up
 * may be anything. Otherwise it is the user the tests run as. `mirrors` is a
 * directory that account writes, removed when the test ends.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { run } from './kiln.js';

export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  port: number;
  user: string;
  /** A directory the account can write: mirrors go under it. */
  mirrors: string;
  /** The remote shell command for rsync -e. */
  ssh: string;
  /** A known-hosts file naming another host key, for the test of a changed host key. */
  wrongKnownHosts: string;
  userKey: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function keygen(path: string): Promise<string> {
  const result = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kiln-test', '-f', path]);
  assert.equal(result.code, 0, result.stderr);
  return (await readFile(`${path}.pub`, 'utf8')).trim();
}

/** The push account when the tests run as root; unlocked (`*`: no password, keys only). */
function mirrorAccount(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = 'kiln-mirror';
  if (spawnSync('id', ['-u', name]).status !== 0) {
    const added = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/bin/sh', name], {
      encoding: 'utf8',
    });
    if (added.status !== 0 && !added.stderr.includes('already exists'))
      throw new Error(`useradd ${name}: ${added.stderr}`);
  }
  spawnSync('usermod', ['-p', '*', name]);
  const id = (flag: string) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  return { name, uid: id('-u'), gid: id('-g') };
}

export async function startSshd(t: TestContext): Promise<Sshd> {
  // Outside the test's private directory: the account reads its keys and writes its mirrors here.
  const base = await mkdtemp(join(tmpdir(), 'kiln-sshd-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  await chmod(base, 0o755);
  const account = mirrorAccount();
  const mirrors = join(base, 'mirrors');
  await mkdir(mirrors);
  if (account !== undefined) await chown(mirrors, account.uid, account.gid);
  const hostPublic = await keygen(join(base, 'host_key'));
  const otherHost = await keygen(join(base, 'other_host_key'));
  const userPublic = await keygen(join(base, 'user_key'));
  await writeFile(join(base, 'authorized_keys'), `${userPublic}\n`, { mode: 0o644 });
  const port = await freePort();
  const hostEntry = (key: string) => `[127.0.0.1]:${port} ${key.split(' ').slice(0, 2).join(' ')}\n`;
  await writeFile(join(base, 'known_hosts'), hostEntry(hostPublic));
  await writeFile(join(base, 'wrong_known_hosts'), hostEntry(otherHost));
  const user = account?.name ?? userInfo().username;
  await writeFile(
    join(base, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(base, 'host_key')}`,
      `PidFile ${join(base, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(base, 'authorized_keys')}`,
      'AuthenticationMethods publickey',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      // The test's temporary directories are not root-owned 0755 all the way up.
      'StrictModes no',
      'UsePAM no',
      '',
    ].join('\n'),
  );
  // Privilege separation needs this directory when sshd starts as root.
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn(SSHD, ['-D', '-e', '-f', join(base, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  t.after(() => child.kill('SIGTERM'));
  // Up when it accepts a connection.
  for (let tries = 0; ; tries++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    assert.ok(tries < 100 && child.exitCode === null, `sshd did not start:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const ssh = (knownHosts: string) =>
    `ssh -p ${port} -i ${join(base, 'user_key')} -o IdentitiesOnly=yes -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes`;
  return {
    port,
    user,
    mirrors,
    ssh: ssh(join(base, 'known_hosts')),
    wrongKnownHosts: join(base, 'wrong_known_hosts'),
    userKey: join(base, 'user_key'),
  };
}
