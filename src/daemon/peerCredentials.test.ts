import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { peerCredentials } from './peerCredentials.js';

const dir = await mkdtemp(join(tmpdir(), 'kiln-peercred-'));
after(() => rm(dir, { recursive: true, force: true }));
let n = 0;

/** A Unix socket server that hands each accepted socket to `check`. */
async function listen(check: (socket: Socket) => void): Promise<{ path: string; close: () => void }> {
  const path = join(dir, `s${n++}.sock`);
  const server = createServer((socket) => {
    check(socket);
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, close: () => server.close() };
}

describe('peer credentials (SO_PEERCRED)', () => {
  it('names this process when it connects to itself', async () => {
    let seen: ReturnType<typeof peerCredentials> | undefined;
    const server = await listen((socket) => (seen = peerCredentials(socket)));
    await new Promise<void>((resolve) => createConnection(server.path).on('close', () => resolve()));
    server.close();
    assert.deepEqual(seen, { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
  });

  it('names another process, as another user when run as root, whatever it says', async (t) => {
    const asRoot = process.getuid!() === 0;
    let seen: ReturnType<typeof peerCredentials> | undefined;
    const server = await listen((socket) => (seen = peerCredentials(socket)));
    t.after(() => server.close());
    // Another user connects: it needs to reach the directory and write to the socket.
    if (asRoot) {
      await chmod(dir, 0o755);
      await chmod(server.path, 0o666);
    }
    const connect = `require('net').createConnection(process.argv[1]).on('connect', function () { this.write('{"uid":0}'); }).on('close', () => process.exit(0))`;
    const program = asRoot
      ? [
          'setpriv',
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          '--',
          process.execPath,
          '-e',
          connect,
          server.path,
        ]
      : [process.execPath, '-e', connect, server.path];
    const child = spawn(program[0]!, program.slice(1), { stdio: 'inherit' });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    assert.equal(seen?.pid, child.pid, 'the pid of the process that connected (setpriv execs in place)');
    assert.equal(seen?.uid, asRoot ? 65534 : process.getuid!());
    assert.equal(seen?.gid, asRoot ? 65534 : process.getgid!());
  });

  it('refuses what is not a connected Unix socket', () => {
    assert.throws(() => peerCredentials({} as Socket), /without a descriptor/);
  });
});
