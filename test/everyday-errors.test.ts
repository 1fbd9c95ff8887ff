/**
 * What the machine or the user did is said as a KilnError with its code, what
 * was (not) changed and what to do — never an internal error with a stack:
 * a prefix that is a file, permission denied, a full file system (checked
 * before, and met during extraction), Ctrl-C or Ctrl-D at the question and
 * Ctrl-C during a download.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fails, failsAs, handTo, ok, packAll, publish, syncedPrefix, testUser } from './helpers/client.js';
import { KILN_BIN, kiln, tempDir, parseJson } from './helpers/kiln.js';
import { holdLock } from './helpers/lockHolder.js';
import { kilnOnTerminal } from './helpers/terminal.js';

const NOT_A_BUG = /internal error|at .*\.js:\d+/;

async function repository(dir: string): Promise<void> {
  await publish(
    dir,
    await packAll(dir, [
      { name: 'hello', version: '1.0', tree: { 'share/hello/readme.txt': 'hello\n' } },
      // 6 MiB installed, a few KiB to download: a full file system is met while extracting, not downloading.
      { name: 'big', version: '1.0', tree: { 'share/big/zeros': Buffer.alloc(6 * 1024 * 1024) } },
    ]),
  );
}

test('a prefix that is a file, or runs through one: E_IO naming the path, no stack', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'file'), 'x');
  for (const prefix of [join(dir, 'file'), join(dir, 'file/sub')]) {
    const result = await fails(['--prefix', prefix, 'init'], 'E_IO', new RegExp(`cannot create directory ${prefix}`), {
      cwd: dir,
    });
    assert.doesNotMatch(result.stderr, NOT_A_BUG);
    assert.match(result.stderr, /hint: /);
  }
  assert.equal(await readFile(join(dir, 'file'), 'utf8'), 'x');
});

test('init where the user may not write: E_IO permission denied with what to do', async (t) => {
  const dir = await tempDir(t);
  const user = testUser();
  const locked = join(dir, 'locked');
  await mkdir(locked);
  // As root, the directory belongs to root and the command runs as an ordinary user; otherwise it is read-only.
  if (user === undefined) await chmod(locked, 0o555);
  else await handTo(undefined, locked);
  const result = await failsAs(
    user,
    ['--prefix', join(locked, 'stack'), 'init'],
    'E_IO',
    /permission denied \(EACCES\)/,
    {
      cwd: dir,
    },
  );
  assert.doesNotMatch(result.stderr, NOT_A_BUG);
  assert.match(result.stderr, /hint: run the command as the owner of that path, or choose a prefix you can write/);
  assert.equal(existsSync(join(locked, 'stack')), false);
});

test('a full file system: refused with the numbers before anything is done, and met during extraction it rolls back', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('mounting a small file system needs root (CI runs as root)');
    return;
  }
  const dir = await tempDir(t);
  await repository(dir);
  const small = join(dir, 'small');
  await mkdir(small);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', small], { encoding: 'utf8' });
  assert.equal(mounted.status, 0, mounted.stderr);
  try {
    await fullFileSystem(dir, small);
  } finally {
    spawnSync('umount', ['-l', small]);
  }
});

async function fullFileSystem(dir: string, small: string): Promise<void> {
  const prefix = await syncedPrefix(dir, join(small, 'prefix'));

  // The check: the plan's installed size does not fit, and nothing is downloaded.
  const refused = await fails(
    ['--prefix', prefix, 'install', 'big', '-y'],
    'E_NO_SPACE',
    /the file system of .* has [\d.]+ [KM]iB free and the change needs [\d.]+ MiB \(installed 6\.0 MiB/,
    { cwd: dir },
  );
  assert.match(refused.stderr, /check-space = false/);
  assert.doesNotMatch(refused.stderr, NOT_A_BUG);

  // Without the check (check-space = false), the extraction meets ENOSPC: E_IO, rolled back, the prefix sound.
  const config = join(prefix, 'etc/kiln/config.toml');
  await writeFile(
    config,
    (await readFile(config, 'utf8')).replace('fsync = true', 'fsync = true\ncheck-space = false'),
  );
  const full = await fails(
    ['--prefix', prefix, 'install', 'big', '-y'],
    'E_IO',
    /no space left on the device \(ENOSPC\)/,
    {
      cwd: dir,
    },
  );
  assert.doesNotMatch(full.stderr, NOT_A_BUG);
  assert.match(full.stderr, /nothing was changed/);
  assert.equal(existsSync(join(prefix, 'share/big')), false);
  await ok(['--prefix', prefix, 'verify'], { cwd: dir });
  // Space it has: the next install goes ahead.
  await ok(['--prefix', prefix, 'install', 'hello', '-y'], { cwd: dir });
  assert.deepEqual((await ok(['--prefix', prefix, 'list', '-q'], { cwd: dir })).trim(), 'hello');
}

test('Ctrl-C and Ctrl-D at the question: E_ABORTED, nothing changed; exit 130 for Ctrl-C', async (t) => {
  const dir = await tempDir(t);
  await repository(dir);
  const prefix = await syncedPrefix(dir);
  const interrupted = await kilnOnTerminal(['--prefix', prefix, 'install', 'hello'], {
    cwd: dir,
    when: 'Proceed?',
    keys: '\x03',
  });
  assert.equal(interrupted.code, 130, interrupted.screen);
  assert.match(
    interrupted.screen,
    /error\[E_ABORTED\]: cannot go on: interrupted \(Ctrl-C\) at the question "Proceed\?"/,
  );
  assert.doesNotMatch(interrupted.screen, NOT_A_BUG);
  const ended = await kilnOnTerminal(['--prefix', prefix, 'install', 'hello'], {
    cwd: dir,
    when: 'Proceed?',
    keys: '\x04',
  });
  assert.equal(ended.code, 1, ended.screen);
  assert.match(ended.screen, /error\[E_ABORTED\]: cannot go on: the input ended \(Ctrl-D\)/);
  assert.match(ended.screen, /hint: nothing was changed/);
  assert.equal((await ok(['--prefix', prefix, 'list', '-q'], { cwd: dir })).trim(), '');
  // "n" declines, "y" goes ahead; the plan is shown once, before the question.
  const yes = await kilnOnTerminal(['--prefix', prefix, 'install', 'hello'], {
    cwd: dir,
    when: 'Proceed?',
    keys: 'y\r',
  });
  assert.equal(yes.code, 0, yes.screen);
  assert.equal(yes.screen.match(/ {2}install +hello/g)?.length, 1, yes.screen);
  assert.match(yes.screen, /done \(transaction /);
});

test('Ctrl-C during a download: E_ABORTED and exit 130, the progress line cleared, and the next run completes', async (t) => {
  const dir = await tempDir(t);
  await repository(dir);
  // A server that answers the index but holds every package download open, until released.
  const published = join(dir, 'repo/public');
  let release = false;
  const stalled: (() => void)[] = [];
  const server = createServer((request, response) => {
    const path = join(published, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    const send = (): void => {
      readFile(path).then(
        (data) => response.writeHead(200, { 'content-length': data.length }).end(data),
        () => response.writeHead(404).end(),
      );
    };
    if (path.endsWith('.kpkg') && !release) {
      void stat(path).then((info) => {
        response.writeHead(200, { 'content-length': info.size });
        response.write(randomBytes(10));
        stalled.push(() => response.destroy());
      });
      return;
    }
    send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const stop of stalled) stop();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', url, '--key', 'keys/kiln.pub'], { cwd: dir });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  const result = await kilnOnTerminal(['--prefix', prefix, 'install', 'hello', '-y'], {
    cwd: dir,
    when: 'downloading',
    keys: '\x03',
  });
  assert.equal(result.code, 130, result.screen);
  assert.match(result.screen, /\r\x1b\[Kkiln: error\[E_ABORTED\]: cannot go on: interrupted \(Ctrl-C\)/);
  assert.match(result.screen, /the next kiln command rolls back/);
  assert.doesNotMatch(result.screen, NOT_A_BUG);
  release = true;
  for (const stop of stalled) stop();
  await ok(['--prefix', prefix, 'install', 'hello', '-y'], { cwd: dir });
  await ok(['--prefix', prefix, 'verify'], { cwd: dir });
});

test('off a terminal, the same interruption (SIGINT) is reported the same way', async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  // A lock held by another writer keeps the command waiting; SIGINT then stops it.
  const holder = await holdLock(t, join(prefix, 'var/lib/kiln/writer.lock'));
  const child = spawn(process.execPath, [KILN_BIN, '--prefix', prefix, 'remote', 'remove', 'x', '--json'], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin', HOME: dir, NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (stderr.includes('waiting')) child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await holder.kill();
  assert.equal(code, 130, stderr);
  const error = parseJson(stderr.trim().split('\n').at(-1)!) as { error: { code: string; message: string } };
  assert.equal(error.error.code, 'E_ABORTED');
  assert.match(error.error.message, /interrupted \(Ctrl-C\)/);
  await kiln(['--prefix', prefix, 'list'], { cwd: dir });
});
