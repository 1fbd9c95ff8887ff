import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isKilnError } from '../errors/index.js';
import { acquireLock, holderPathOf, readHolder, tryLockFile } from './fileLock.js';
import { claimOwner, probeOwner } from './ownerLock.js';

const FILE_LOCK = fileURLToPath(new URL('./fileLock.js', import.meta.url));

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A child process running `body` (an ES module; `acquireLock` and `tryLockFile` in scope); resolves with it once it prints "ready". Killed when the test ends. */
function child(
  t: TestContext,
  body: string,
): Promise<{ pid: number; exited: Promise<number | null>; kill: () => void }> {
  const source = `import { acquireLock, tryLockFile } from ${JSON.stringify(FILE_LOCK)};\n${body}`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => proc.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) resolve({ pid: proc.pid!, exited, kill: () => proc.kill('SIGKILL') });
    });
    proc.on('error', reject);
    void exited.then((code) => reject(new Error(`the child exited (${code}) before it was ready: ${out}`)));
  });
}

test('fileLock: one holder at a time, in this process too; free after release', async (t) => {
  const path = join(await tempDir(t), 'writer.lock');
  const lock = tryLockFile(path);
  assert.ok(lock !== undefined);
  assert.equal(tryLockFile(path), undefined, 'a second connection of the same process is refused');
  lock.release();
  lock.release();
  const again = tryLockFile(path);
  assert.ok(again !== undefined);
  again.release();
  assert.ok(!existsSync(`${path}-journal`), 'taking the lock writes nothing beside it');
});

test('fileLock: acquireLock names the holder beside the lock, and --no-wait names it in E_LOCKED', async (t) => {
  const path = join(await tempDir(t), 'writer.lock');
  const lock = await acquireLock(path, 'the test');
  assert.equal(readFileSync(holderPathOf(path), 'utf8'), `${process.pid} ${hostname()}\n`);
  assert.deepEqual(await readHolder(path), { pid: process.pid, host: hostname() });
  await assert.rejects(
    acquireLock(path, 'the test', { wait: false }),
    (error: unknown) =>
      isKilnError(error, 'E_LOCKED') &&
      error.message === `cannot lock the test: process ${process.pid} on ${hostname()} holds ${path}`,
  );
  await assert.rejects(acquireLock(path, 'the test', { timeoutMs: 100 }), (error: unknown) =>
    isKilnError(error, 'E_LOCKED'),
  );
  lock.release();
  assert.equal(existsSync(holderPathOf(path)), false, 'the note goes with the lock');
});

test("fileLock: the kernel releases a killed holder's lock; a stale note decides nothing", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'writer.lock');
  const holder = await child(
    t,
    `const lock = await acquireLock(${JSON.stringify(path)}, 'the child'); console.log('ready'); setInterval(() => {}, 1000);`,
  );
  let waitedFor: number | undefined;
  const waiting = acquireLock(path, 'the test', { onWait: (who) => (waitedFor = who?.pid) });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(waitedFor, holder.pid, 'the waiter says whom it waits for');
  holder.kill();
  await holder.exited;
  const lock = await waiting;
  assert.deepEqual(await readHolder(path), { pid: process.pid, host: hostname() });
  lock.release();
  // A note naming a process that does not exist, with nobody holding the lock: the lock is free.
  await writeFile(holderPathOf(path), `${holder.pid} ${hostname()}\n`);
  const free = await acquireLock(path, 'the test', { wait: false });
  free.release();
  // A note naming this live process, with nobody holding the lock: free too. The note is only a name.
  await writeFile(holderPathOf(path), `${process.pid} ${hostname()}\n`);
  (await acquireLock(path, 'the test', { wait: false })).release();
});

test('fileLock: processes that take turns, some killed while holding, are never inside at once', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'writer.lock');
  const log = join(dir, 'log');
  // Each: take the lock, log "enter PID", stay a moment, log "exit PID", release; ten times.
  const body = `import { appendFileSync } from 'node:fs';
console.log('ready');
for (let i = 0; i < 10; i++) {
  const lock = await acquireLock(${JSON.stringify(path)}, 'the log');
  appendFileSync(${JSON.stringify(log)}, 'enter ' + process.pid + '\\n');
  await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
  appendFileSync(${JSON.stringify(log)}, 'exit ' + process.pid + '\\n');
  lock.release();
}`;
  const children = await Promise.all(Array.from({ length: 6 }, () => child(t, body)));
  const killed = new Set<number>();
  // Kill whoever holds the lock, now and then, until all are done.
  let running = children.length;
  for (const each of children) void each.exited.then(() => running--);
  while (running > 0) {
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 60));
    const holder = await readHolder(path);
    const victim = children.find((each) => each.pid === holder?.pid);
    // At most three: the other three take all their turns, however slow the machine.
    if (victim !== undefined && !killed.has(victim.pid) && killed.size < 3) {
      killed.add(victim.pid);
      victim.kill();
    }
  }
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.ok(lines.length >= 60, `the children not killed took their ten turns each (${lines.length} lines)`);
  for (let i = 0; i < lines.length; i++) {
    const [what, pid] = lines[i]!.split(' ');
    if (what !== 'enter') continue;
    const next = lines[i + 1];
    // After "enter X": "exit X", or (X was killed inside) the next "enter", or the end.
    assert.ok(
      next === `exit ${pid}` || ((next === undefined || next.startsWith('enter ')) && killed.has(Number(pid))),
      `line ${i + 1}: ${lines.slice(Math.max(0, i - 2), i + 3).join(' | ')}`,
    );
  }
  assert.ok(killed.size > 0, 'some holders were killed');
});

test('ownerLock: an owner is live while its process holds the lock, gone once it died, missing when its file is', async (t) => {
  const dir = await tempDir(t);
  const registry = join(dir, 'registry.lock');
  const file = join(dir, 'owners', 'a.lock');
  assert.equal(probeOwner(file).state, 'missing');
  const owner = await child(
    t,
    `import { claimOwner } from ${JSON.stringify(fileURLToPath(new URL('./ownerLock.js', import.meta.url)))};
const lock = await claimOwner(${JSON.stringify(registry)}, ${JSON.stringify(file)}); console.log('ready'); setInterval(() => {}, 1000);`,
  );
  assert.equal(probeOwner(file).state, 'live');
  owner.kill();
  await owner.exited;
  const gone = probeOwner(file);
  assert.equal(gone.state, 'gone');
  if (gone.state === 'gone') gone.lock.release();
  const mine = await claimOwner(registry, join(dir, 'owners', 'b.lock'));
  assert.equal(
    probeOwner(join(dir, 'owners', 'b.lock')).state,
    'live',
    "this process's own claim is live to itself too",
  );
  mine.release();
});

test('fileLock: a symbolic link in place of the lock or of its note is refused, and nothing is written through it', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'writer.lock');
  const victim = join(dir, 'victim');
  await writeFile(victim, '');
  await symlink(victim, path);
  assert.throws(
    () => tryLockFile(path),
    (error: unknown) => isKilnError(error, 'E_IO') && /is a symbolic link/.test(error.message),
  );
  assert.equal(readFileSync(victim, 'utf8'), '', 'nothing was written through the link');
  await rm(path);
  await writeFile(victim, 'keep\n');
  await symlink(victim, holderPathOf(path));
  await assert.rejects(
    acquireLock(path, 'the test'),
    (error: unknown) => isKilnError(error, 'E_IO') && /writer\.holder is a symbolic link/.test(error.message),
  );
  assert.equal(readFileSync(victim, 'utf8'), 'keep\n');
  const lock = tryLockFile(path);
  assert.ok(lock !== undefined, 'the refused attempt released the lock');
  lock.release();
});
