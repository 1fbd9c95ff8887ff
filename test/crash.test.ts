/**
 * Crash safety: kill -9 at every step of install, upgrade and remove (the
 * KILN_TEST_KILL_AT_STEP hook makes the process SIGKILL itself at the Nth
 * step), plus kills from outside at random moments. After each, the next
 * kiln command must repair or roll back so that (a) every installed
 * package's files match the database, (b) nothing of a package that is not
 * installed remains, (c) staging and temporary files are gone, and (d) the
 * database passes its integrity check — and the prefix is either exactly
 * as before or exactly as after.
 *
 * KILN_CRASH_RANDOM_TRIALS raises the number of random-moment kills (default 8)
 * for a longer run: KILN_CRASH_RANDOM_TRIALS=200 npm test.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cp, lstat, open, readFile, readdir } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ok, packAll, publish } from './helpers/client.js';
import type { RunResult } from './helpers/kiln.js';
import { KILN_BIN, kiln, tempDir, parseJson } from './helpers/kiln.js';
import { seededRandom } from '../src/util/seededRandom.js';

const require = createRequire(import.meta.url);

interface Fixture {
  dir: string;
  /** Synced, nothing installed. */
  empty: string;
  /** greet 1.0 and libgreet 1.0 installed; 2.0 of both available. */
  old: string;
}

function tree(
  version: string,
  extra: Record<string, string>,
): Record<string, string | { content: string; mode: number } | { symlink: string } | { hardlink: string }> {
  return {
    'bin/greet': { content: `#!/bin/sh\necho ${version}\n`, mode: 0o755 },
    'bin/hi': { symlink: 'greet' },
    'share/greet/a.txt': `a ${version}\n`,
    'share/greet/b.txt': `b ${version}\n`,
    'share/greet/same.txt': 'the same in every version\n',
    'etc/greet.conf': `conf ${version}\n`,
    ...extra,
  };
}

async function makeFixture(t: TestContext): Promise<Fixture> {
  const dir = await tempDir(t);
  const packages = await packAll(dir, [
    {
      name: 'libgreet',
      version: '1.0',
      tree: { 'lib/libgreet.so.1': 'lib 1\n', 'lib/libgreet.so': { symlink: 'libgreet.so.1' } },
    },
    {
      name: 'libgreet',
      version: '2.0',
      tree: {
        'lib/libgreet.so.1': 'lib 2\n',
        'lib/libgreet.so': { symlink: 'libgreet.so.1' },
        'lib/libgreet-extra.so': 'new in 2\n',
      },
    },
    {
      name: 'greet',
      version: '1.0',
      depends: ['libgreet >=1.0'],
      tree: tree('1.0', { 'share/greet/old/only-1.txt': 'old\n' }),
      extra: { configFiles: ['etc/greet.conf'], directories: [{ path: 'var/spool/greet', mode: '0750' }] },
    },
    {
      name: 'greet',
      version: '2.0',
      depends: ['libgreet >=2.0'],
      tree: { ...tree('2.0', { 'share/greet/new/only-2.txt': 'new\n' }), 'bin/greet2': { hardlink: 'bin/greet' } },
      extra: { configFiles: ['etc/greet.conf'], directories: [{ path: 'var/spool/greet', mode: '0750' }] },
    },
  ]);
  await publish(dir, packages);
  const empty = join(dir, 'template-empty');
  const env = { KILN_PREFIX: empty };
  await ok(['init'], { cwd: dir, env });
  await ok(['remote', 'add', 'main', join(dir, 'repo', 'public'), '--key', 'keys/kiln.pub'], { cwd: dir, env });
  await ok(['sync'], { cwd: dir, env });
  const old = join(dir, 'template-old');
  await cp(empty, old, { recursive: true, verbatimSymlinks: true });
  await ok(['install', 'greet=1.0', 'libgreet=1.0', '-y'], { cwd: dir, env: { KILN_PREFIX: old } });
  return { dir, empty, old };
}

async function installedSet(dir: string, prefix: string): Promise<string> {
  const list = parseJson(await ok(['list', '--json'], { cwd: dir, env: { KILN_PREFIX: prefix } })) as {
    name: string;
    version: string;
  }[];
  return list.map((p) => `${p.name}-${p.version}`).join(' ');
}

/** The four properties, and before-or-after. Running verify is itself "the next kiln command". */
async function checkConsistent(dir: string, prefix: string, allowed: readonly string[], what: string): Promise<void> {
  const verify = await kiln(['verify', '--json'], { cwd: dir, env: { KILN_PREFIX: prefix } });
  const report = parseJson(verify.stdout || '{}') as { problems?: unknown[]; database?: string[] };
  assert.equal(verify.code, 0, `${what}: verify after the crash\n${verify.stdout}${verify.stderr}`);
  assert.deepEqual(report.problems, [], what);
  assert.deepEqual(report.database, [], what);
  const state = await readdir(join(prefix, 'var/lib/kiln'));
  assert.ok(!state.includes('transaction'), `${what}: the transaction directory is gone (${state.join(', ')})`);
  assert.deepEqual(
    state.filter((name) => name.endsWith('.tmp')),
    [],
    `${what}: no temporary files`,
  );
  const set = await installedSet(dir, prefix);
  assert.ok(
    allowed.includes(set),
    `${what}: installed set "${set}" is neither ${allowed.map((s) => `"${s}"`).join(' nor ')}`,
  );
}

const SCENARIOS = [
  { name: 'install', from: 'empty', args: ['install', 'greet', '-y'], before: '', after: 'greet-2.0 libgreet-2.0' },
  {
    name: 'upgrade',
    from: 'old',
    args: ['upgrade', '-y'],
    before: 'greet-1.0 libgreet-1.0',
    after: 'greet-2.0 libgreet-2.0',
  },
  {
    name: 'remove',
    from: 'old',
    args: ['remove', 'greet', 'libgreet', '-y'],
    before: 'greet-1.0 libgreet-1.0',
    after: '',
  },
] as const;

test('kill -9 at every step of install, upgrade and remove; the next command repairs or rolls back', async (t) => {
  const fixture = await makeFixture(t);
  let trials = 0;
  for (const scenario of SCENARIOS) {
    const template = scenario.from === 'empty' ? fixture.empty : fixture.old;
    let finished = false;
    for (let step = 1; !finished; step++) {
      assert.ok(step < 500, 'the scenario ends');
      const prefix = join(fixture.dir, `trial-${scenario.name}-${step}`);
      await cp(template, prefix, { recursive: true, verbatimSymlinks: true });
      const result = await kiln(scenario.args, {
        cwd: fixture.dir,
        env: { KILN_PREFIX: prefix, KILN_TEST_KILL_AT_STEP: String(step) },
      });
      if (result.code === 0) finished = true;
      else assert.equal(result.code, null, `${scenario.name} step ${step}: killed, or finished\n${result.stderr}`);
      if (!finished) trials++;
      await checkConsistent(
        fixture.dir,
        prefix,
        finished ? [scenario.after] : [scenario.before, scenario.after],
        `${scenario.name}, killed at step ${step}`,
      );
    }
  }
  t.diagnostic(`${trials} kill trials, each followed by a consistency check`);
  assert.ok(trials >= 50, `at least 50 kill trials (ran ${trials})`);
});

function killAfter(
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  delayMs: number,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KILN_BIN, ...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: cwd, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdout.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: '', stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

test('kill -9 from outside at random moments of an upgrade', async (t) => {
  const fixture = await makeFixture(t);
  const trials = Number(process.env['KILN_CRASH_RANDOM_TRIALS'] ?? 8);
  const random = seededRandom(20261122);
  for (let i = 0; i < trials; i++) {
    const prefix = join(fixture.dir, `random-${i}`);
    await cp(fixture.old, prefix, { recursive: true, verbatimSymlinks: true });
    // Node starts in about 150-300 ms here; spread kills across start-up and the transaction.
    const delay = Math.floor(150 + random() * 500);
    // Every other trial extracts on worker threads (small transactions otherwise stay in one thread).
    const threads: Record<string, string> = i % 2 === 1 ? { KILN_TEST_THREADS: '2' } : {};
    const result = await killAfter(['upgrade', '-y'], { KILN_PREFIX: prefix, ...threads }, fixture.dir, delay);
    const what = `upgrade${i % 2 === 1 ? ' on threads' : ''} killed after ${delay} ms`;
    assert.ok(result.code === null || result.code === 0, `${what}, or finished\n${result.stderr}`);
    await checkConsistent(fixture.dir, prefix, ['greet-1.0 libgreet-1.0', 'greet-2.0 libgreet-2.0'], what);
  }
});

test('list and owns, the first commands after a kill, repair the prefix before answering', async (t) => {
  const fixture = await makeFixture(t);
  // An upgrade killed mid-transaction: the first of these steps that leaves a transaction behind.
  let killed: string | undefined;
  for (const step of [12, 9, 6, 4, 2]) {
    const prefix = join(fixture.dir, `killed-${step}`);
    await cp(fixture.old, prefix, { recursive: true, verbatimSymlinks: true });
    const result = await kiln(['upgrade', '-y'], {
      cwd: fixture.dir,
      env: { KILN_PREFIX: prefix, KILN_TEST_KILL_AT_STEP: String(step) },
    });
    assert.equal(result.code, null, `upgrade killed at step ${step}\n${result.stderr}`);
    if (
      await lstat(join(prefix, 'var/lib/kiln/transaction')).then(
        () => true,
        () => false,
      )
    ) {
      killed = prefix;
      break;
    }
  }
  assert.ok(killed !== undefined, 'one of the kills leaves an interrupted transaction');
  const recovered = /interrupted transaction|removed what an interrupted transaction had staged/;
  for (const args of [
    ['list', '--json'],
    ['owns', 'bin/greet'],
  ]) {
    const prefix = `${killed}-${args[0]}`;
    await cp(killed, prefix, { recursive: true, verbatimSymlinks: true });
    const result = await kiln(args, { cwd: fixture.dir, env: { KILN_PREFIX: prefix } });
    assert.equal(result.code, 0, `${args[0]} after the kill\n${result.stderr}`);
    assert.match(result.stderr, recovered, `${args[0]} repaired the prefix first`);
    await checkConsistent(
      fixture.dir,
      prefix,
      ['greet-1.0 libgreet-1.0', 'greet-2.0 libgreet-2.0'],
      `${args[0]} after a kill`,
    );
    const set = await installedSet(fixture.dir, prefix);
    if (args[0] === 'list') {
      const listed = (parseJson(result.stdout) as { name: string; version: string }[])
        .map((p) => `${p.name}-${p.version}`)
        .join(' ');
      assert.equal(listed, set, 'list answered with the repaired state');
    } else {
      assert.match(
        result.stdout,
        new RegExp(`owned by greet ${set.startsWith('greet-2.0') ? '2\\.0' : '1\\.0'}`),
        'owns answered with the repaired state',
      );
    }
  }
});

/** A process that keeps the prefix's database open (as waiting writers and readers do), so SQLite keeps its shared log index. */
function holdDatabase(t: TestContext, database: string): Promise<{ kill: () => Promise<void> }> {
  const source = `const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
const db = new Database(${JSON.stringify(database)});
db.prepare('SELECT count(*) FROM transactions').get();
console.log('open');
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.after(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', () =>
      resolve({
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      }),
    );
    void exited.then(() => reject(new Error('the database holder exited early')));
  });
}

test('a commit SQLite had not yet made visible when its writer was killed never comes back after the rollback', async (t) => {
  const fixture = await makeFixture(t);
  const committedRow = (prefix: string): boolean => {
    const db = new Database(join(prefix, 'var/lib/kiln/kiln.db'), { readonly: true });
    try {
      return (
        (db.prepare("SELECT count(*) AS n FROM transactions WHERE command LIKE '%upgrade%'").get() as { n: number }).n >
        0
      );
    } finally {
      db.close();
    }
  };
  // The first step after the commit point: the database has the row, the transaction directory is still there.
  let step = 1;
  for (; step < 200; step++) {
    const prefix = join(fixture.dir, `find-${step}`);
    await cp(fixture.old, prefix, { recursive: true, verbatimSymlinks: true });
    const result = await kiln(['upgrade', '-y'], {
      cwd: fixture.dir,
      env: { KILN_PREFIX: prefix, KILN_TEST_KILL_AT_STEP: String(step) },
    });
    assert.equal(result.code, null, `step ${step} kills the upgrade before it ends\n${result.stderr}`);
    if (
      committedRow(prefix) &&
      (await lstat(join(prefix, 'var/lib/kiln/transaction')).then(
        () => true,
        () => false,
      ))
    )
      break;
  }
  const prefix = join(fixture.dir, 'ghost');
  await cp(fixture.old, prefix, { recursive: true, verbatimSymlinks: true });
  const database = join(prefix, 'var/lib/kiln/kiln.db');
  const holder = await holdDatabase(t, database);
  const indexBefore = await readFile(`${database}-shm`);
  const killed = await kiln(['upgrade', '-y'], {
    cwd: fixture.dir,
    env: { KILN_PREFIX: prefix, KILN_TEST_KILL_AT_STEP: String(step) },
  });
  assert.equal(killed.code, null);
  // As if the writer had died after appending its commit to the log and before updating the shared index's
  // header (SQLite does the one, then the other): the header as it was, while a connection keeps the index alive.
  const shm = await open(`${database}-shm`, 'r+');
  await shm.write(indexBefore, 0, 136, 0);
  await shm.close();
  // The next command sees no commit and rolls back; then every process with the database open goes away.
  const next = await kiln(['list', '--json'], { cwd: fixture.dir, env: { KILN_PREFIX: prefix } });
  assert.match(next.stderr, /was rolled back/);
  await holder.kill();
  // The first connection after that rebuilds the index from the log: the commit must not come back.
  await checkConsistent(fixture.dir, prefix, ['greet-1.0 libgreet-1.0'], 'after the unseen commit');
});
