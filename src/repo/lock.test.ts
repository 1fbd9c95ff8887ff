import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKilnError } from '../errors/index.js';
import { acquireLock } from './lock.js';

test('lock: exclusive while held, free after release', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'lock');
  const lock = await acquireLock(path, 'the test');
  assert.equal(await readFile(path, 'utf8'), `${process.pid} ${hostname()}\n`);
  await assert.rejects(acquireLock(path, 'the test'), (error: unknown) => isKilnError(error, 'E_LOCKED') && error.message.includes(String(process.pid)));
  await lock.release();
  const again = await acquireLock(path, 'the test');
  await again.release();
});

test('lock: a lock left by a dead process is taken over', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'lock');
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const deadPid = Number(child.stdout.trim());
  await writeFile(path, `${deadPid} ${hostname()}\n`);
  const lock = await acquireLock(path, 'the test');
  assert.equal(await readFile(path, 'utf8'), `${process.pid} ${hostname()}\n`);
  await lock.release();
});

test('lock: a lock held on another host is never taken over', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'lock');
  await writeFile(path, '1 some-other-host\n');
  await assert.rejects(acquireLock(path, 'the test'), (error: unknown) => isKilnError(error, 'E_LOCKED') && error.message.includes('some-other-host'));
});
